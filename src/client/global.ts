/** Entry of the global script (dist/ZegoClient.js, also dist/jZego-rtc.js): sets window.ZegoClient. */
import 'webrtc-adapter';
import { ZegoClient } from './compat/ZegoClient';

(globalThis as unknown as { ZegoClient: typeof ZegoClient }).ZegoClient = ZegoClient;
