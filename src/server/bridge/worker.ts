/**
 * The bridge worker's entry (dist/server/bridge.js): a child process of the server, started and restarted
 * by its Supervisor, talking to it over the Node IPC channel (ipc.ts). Every message is checked by type
 * before it is acted on; requests are answered exactly once; the worker exits when its parent's channel
 * closes (and the kernel kills it when the server dies: process/children.ts).
 *
 * It holds all media of the client-offer play path (werift: ICE, DTLS-SRTP, RTP and RTCP), so none of it
 * runs on the server's signalling event loop.
 */
import { Bridge, BridgeError } from './Bridge';
import {
  BRIDGE_CONFIG_ENV,
  BRIDGE_READY_LINE,
  checkRequest,
  type BridgeEventMsg,
  type BridgeReply,
  type BridgeRequest,
  type BridgeWorkerConfig,
} from './ipc';

function readConfig(): BridgeWorkerConfig {
  const raw = process.env[BRIDGE_CONFIG_ENV];
  if (!raw) throw new Error(`${BRIDGE_CONFIG_ENV} is not set: the bridge worker is started by the server`);
  return JSON.parse(raw) as BridgeWorkerConfig;
}

function main(): void {
  if (!process.send) {
    console.error('the bridge worker needs an IPC channel: it is started by zegoclient-server');
    process.exit(2);
  }
  const send = (m: BridgeReply | BridgeEventMsg) => {
    if (process.connected) process.send!(m);
  };
  const bridge = new Bridge(readConfig(), send);
  const handlers: { [K in BridgeRequest]: (b: never) => Promise<unknown> | unknown } = {
    feedOpen: (b) => bridge.feedOpen(b),
    feedClose: (b) => bridge.feedClose(b),
    viewerOpen: (b) => bridge.viewerOpen(b),
    viewerCandidate: (b) => bridge.viewerCandidate(b),
    viewerClose: (b) => bridge.viewerClose(b),
    stats: () => bridge.stats(),
  };
  process.on('message', (msg: unknown) => {
    const bad = checkRequest(msg);
    const id = (msg as { id?: unknown })?.id;
    if (bad) {
      if (typeof id === 'number') send({ id, ok: false, code: 'bad', message: bad });
      return;
    }
    const { cmd, body } = msg as { id: number; cmd: BridgeRequest; body: never };
    Promise.resolve()
      .then(() => handlers[cmd](body))
      .then(
        (r) => send({ id: id as number, ok: true, body: r ?? {} }),
        (e: unknown) =>
          send(
            e instanceof BridgeError
              ? { id: id as number, ok: false, code: e.code, message: e.message }
              : {
                  id: id as number,
                  ok: false,
                  code: 'internal',
                  message: String((e as Error)?.message ?? e),
                },
          ),
      );
  });
  // The server is gone (or stopped us): nothing to serve.
  process.on('disconnect', () => process.exit(0));
  // werift rejects some promises nobody awaits (closing transports): logged, never fatal.
  process.on('unhandledRejection', (e) =>
    console.error(`bridge: unhandled rejection: ${String((e as Error)?.message ?? e)}`),
  );
  console.log(BRIDGE_READY_LINE);
}

main();
