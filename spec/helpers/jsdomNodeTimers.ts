/**
 * The integration project runs the real server inside jest's jsdom environment (so the shim gets a
 * browser-like window beside it). jsdom has no setImmediate, which the server's WebSocket library uses to
 * hand one message per socket per turn of the event loop: give it Node's, as the server has in production.
 */
import { clearImmediate, setImmediate } from 'node:timers';

Object.assign(globalThis, { setImmediate, clearImmediate });
