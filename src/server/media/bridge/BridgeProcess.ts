/**
 * The bridge worker as the server sees it: a Node child (dist/server/bridge.js) under the one Supervisor
 * (ready when it prints its ready line; restarted at once when it dies, then with backoff; killed with
 * the server), and a request/reply channel over Node IPC where every request settles exactly once: its
 * reply, its timeout, or the worker's death (all pending requests are rejected).
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  BRIDGE_CONFIG_ENV,
  BRIDGE_READY_LINE,
  type BridgeErrorCode,
  type BridgeEventMsg,
  type BridgeReplies,
  type BridgeReply,
  type BridgeReqBody,
  type BridgeRequest,
  type BridgeWorkerConfig,
} from '../../bridge/ipc';
import { Supervisor } from '../../process/Supervisor';

const REQUEST_TIMEOUT_MS = 10_000;

export class BridgeCallError extends Error {
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The built worker: beside the built server (tsup puts both in dist/server). */
export function workerPath(): string {
  const candidates = [
    join(__dirname, 'bridge.js'),
    join(__dirname, '..', '..', '..', '..', 'dist', 'server', 'bridge.js'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`bridge worker not found (${candidates[0]}): run "npm run build"`);
  return found;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class BridgeProcess extends EventEmitter<{ up: []; down: []; event: [BridgeEventMsg] }> {
  private readonly supervisor: Supervisor;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    worker: BridgeWorkerConfig,
    timing: { startTimeoutMs: number; restartDelayMs: number },
    log: Logger,
  ) {
    super();
    const script = workerPath();
    this.supervisor = new Supervisor(
      {
        name: 'bridge',
        prepare: () => ({
          binary: process.execPath,
          args: [script],
          env: { ...process.env, [BRIDGE_CONFIG_ENV]: JSON.stringify(worker) },
          ipc: true,
        }),
        ready: (out) => out.includes(BRIDGE_READY_LINE),
        startTimeoutMs: timing.startTimeoutMs,
        restartDelayMs: timing.restartDelayMs,
        warnOn: /^bridge: /,
      },
      log.child({ child: 'bridge' }),
    );
    this.supervisor.on('message', (m) => this.onMessage(m));
    this.supervisor.on('exit', () => this.failPending('the bridge worker died'));
    this.supervisor.on('down', () => this.emit('down'));
    this.supervisor.on('up', () => this.emit('up'));
  }

  get up(): boolean {
    return this.supervisor.up;
  }

  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  /** How many times the worker was started (1 = never restarted). */
  get starts(): number {
    return this.supervisor.starts;
  }

  start(): Promise<void> {
    return this.supervisor.start();
  }

  /** Resolves once the worker is up (at once if it is), rejects after `ms`. */
  whenUp(ms: number): Promise<void> {
    if (this.up) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('up', onUp);
        reject(new BridgeCallError('internal', 'the bridge worker is not up'));
      }, ms);
      const onUp = () => {
        clearTimeout(t);
        resolve();
      };
      this.once('up', onUp);
    });
  }

  request<K extends BridgeRequest>(
    cmd: K,
    body: BridgeReqBody<K>,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<BridgeReplies[K]> {
    const id = this.nextId++;
    return new Promise<BridgeReplies[K]>((resolve, reject) => {
      if (!this.up || !this.supervisor.send({ id, cmd, body }))
        return reject(new BridgeCallError('internal', 'the bridge worker is not up'));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new BridgeCallError('internal', `bridge ${cmd} timed out`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  private onMessage(m: unknown): void {
    if (typeof m !== 'object' || m === null) return;
    if ('event' in m) {
      this.emit('event', m as BridgeEventMsg);
      return;
    }
    const r = m as BridgeReply;
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r.body);
    else p.reject(new BridgeCallError(r.code, r.message));
  }

  private failPending(why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new BridgeCallError('internal', why));
    }
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
    this.failPending('the bridge stopped');
  }
}
