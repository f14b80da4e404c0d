/**
 * Entry of the global script (dist/ZegoClient.js, also dist/jZego-rtc.js): sets window.ZegoClient and,
 * as the original's bundled adapter did, the legacy callback navigator.getUserMedia where it is missing.
 */
import 'webrtc-adapter';
import { installLegacyGetUserMedia } from './compat/legacyGetUserMedia';
import { ZegoClient } from './compat/ZegoClient';

(globalThis as unknown as { ZegoClient: typeof ZegoClient }).ZegoClient = ZegoClient;
installLegacyGetUserMedia(typeof navigator === 'undefined' ? undefined : navigator);
