/**
 * "External" Janus for the media suites: Janus processes the test itself runs (through the server's own
 * JanusProcess: its config writer and the one supervisor), in the suite's network namespace but outside
 * the server, which is only told their URLs (`janus.pool`). Each has a fixed WebSocket port, so that once
 * killed and started again it is the same Janus to the server (same URL).
 */
import pino from 'pino';
import { resolveConfig } from '../../src/server/config';
import { JanusProcess } from '../../src/server/media/JanusProcess';
import { freePort } from '../../src/server/process/Supervisor';
import { JANUS_IP } from './mediaServer';

export interface ExternalJanus {
  /** ws://127.0.0.1:port, the same across kill() and start(). */
  readonly url: string;
  /** The running Janus's pid (undefined while it is down). */
  readonly pid: number | undefined;
  /** SIGKILL, and no restart (the supervisor is stopped in the same turn, before it hears the exit). */
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it (SIGTERM), if it runs. */
  stop(): Promise<void>;
}

/** Starts one Janus on `rtpPortRange` (a slice of its own, as two Janus on one host need). */
export async function startExternalJanus(rtpPortRange: string): Promise<ExternalJanus> {
  const wsPort = await freePort('127.0.0.1');
  const cfg = resolveConfig({
    janus: { interface: JANUS_IP, iceEnforceList: JANUS_IP, rtpPortRange, wsPort },
  }).janus;
  const log = pino({ level: 'error' });
  let proc: JanusProcess | null = null;
  const start = async () => {
    const p = new JanusProcess(cfg, log);
    proc = p;
    await p.start();
  };
  const stop = async () => {
    const p = proc;
    proc = null;
    await p?.stop();
  };
  await start();
  return {
    url: `ws://127.0.0.1:${wsPort}`,
    get pid() {
      return proc?.pid;
    },
    start,
    stop,
    async kill() {
      const pid = proc?.pid;
      if (pid === undefined) throw new Error('this Janus is not running');
      process.kill(pid, 'SIGKILL');
      await stop();
    },
  };
}

/**
 * Makes sure VideoRoom rooms `ids` exist on the Janus at `url` (created over its plain WebSocket API, as
 * rooms left by an earlier process of the server, or made by another node, would be), then closes the
 * session (the rooms stay: a VideoRoom room outlives the session that made it).
 */
export async function createRooms(url: string, ids: number[]): Promise<void> {
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(url, 'janus-protocol');
  const waiting = new Map<string, (m: Record<string, unknown>) => void>();
  let n = 0;
  const timer = setTimeout(() => ws.terminate(), 10_000);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as Record<string, unknown>;
      // Acks come first for plugin messages; wait for the answer itself.
      if (m.janus === 'ack') return;
      waiting.get(String(m.transaction))?.(m);
    });
    const ask = (msg: Record<string, unknown>) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const transaction = `t${++n}`;
        waiting.set(transaction, resolve);
        ws.once('close', () => reject(new Error(`janus ${url} closed the connection (10 s bound)`)));
        ws.send(JSON.stringify({ ...msg, transaction }));
      });
    const session = ((await ask({ janus: 'create' })).data as { id: number }).id;
    const handle = (
      (await ask({ janus: 'attach', session_id: session, plugin: 'janus.plugin.videoroom' })).data as {
        id: number;
      }
    ).id;
    for (const room of ids) {
      const r = await ask({
        janus: 'message',
        session_id: session,
        handle_id: handle,
        body: { request: 'create', room },
      });
      const data = (r.plugindata as { data: Record<string, unknown> } | undefined)?.data;
      // 427: the id exists already (made by the server under test): taken, which is all we want.
      if (data?.videoroom !== 'created' && data?.error_code !== 427)
        throw new Error(`room ${room} not created on ${url}: ${JSON.stringify(r)}`);
    }
    await ask({ janus: 'destroy', session_id: session });
  } finally {
    clearTimeout(timer);
    ws.close();
  }
}
