/** ESM entry of the shim. */
import { ZegoClient } from './compat/ZegoClient';

export { ZegoClient };
export type { ZegoConfig } from './compat/ZegoClient';
export type { LegacyError } from '../protocol/errors';
export default ZegoClient;
