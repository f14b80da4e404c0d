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
