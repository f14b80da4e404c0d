/**
 * The one supervisor for every child process the server runs (Janus, coturn, the origin, ffmpeg, the
 * bridge): it starts the child through `spawnChild` (so it dies with the server on every exit path),
 * waits for it to be ready within a bound, restarts it with backoff when it dies, and stops it with
 * SIGTERM then SIGKILL. What differs between children (its config files, ports, arguments and how to
 * tell it is ready) is the `ChildSpec` a caller gives; nothing here knows Janus or coturn.
 *
 * Restart policy (learned on Janus, issue 10): the first restart after a death is immediate, because
 * every page waits on it; a child that keeps dying backs off (restartDelayMs doubling, capped); a child
 * that ran for `healthyRunMs` before it died counts as a fresh failure again (restarted at once).
 *
 * Events: `up` every time the child is ready (first start and each restart), `down` when a child that was
 * up dies, `exit` on every exit of a child (ready or not) with its code and signal, `failed` when
 * `maxRestarts` is reached (the supervisor then stops trying).
 *
 * @example
 *   const sup = new Supervisor({ name: 'coturn', startTimeoutMs: 5000, restartDelayMs: 500,
 *     prepare: () => ({ binary: 'turnserver', args: ['-c', cfgFile] }), ready: () => portOpen(host, port) }, log);
 *   sup.on('up', () => ...); await sup.start(); ... await sup.stop();
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { connect, createServer } from 'node:net';
import { spawnChild, type RunAs } from './children';

/** What one run of a child is: looked up on PATH unless it has a slash. */
export interface ChildLaunch {
  binary: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Open a Node IPC channel to the child (a Node script): `send()` and `message` events. */
  ipc?: boolean;
  /** Give the child a stdin pipe (see Supervisor.write); default: no stdin. */
  stdin?: boolean;
  /** Run as this user and group (the server is root): see children.ts. */
  runAs?: RunAs;
}

export interface ChildSpec {
  /** For logs and errors ("janus", "coturn", "ffmpeg mix 3"). */
  name: string;
  /** Before every run (the first and each restart): write config files, pick ports; what to run. */
  prepare(): ChildLaunch | Promise<ChildLaunch>;
  /**
   * Polled every `readyPollMs` after the spawn until it resolves true (default: ready once spawned).
   * `output` is the child's output so far (its last 4,000 characters), for children that say when ready.
   */
  ready?(output: string): boolean | Promise<boolean>;
  /** A child not ready within this is killed and the start fails, ms. */
  startTimeoutMs: number;
  /** The base of the restart backoff, ms (doubling per quick death, capped at maxRestartDelayMs). */
  restartDelayMs: number;
  /** Default 10,000 ms. */
  maxRestartDelayMs?: number;
  /** A child up this long before it died is restarted at once, ms (default 30,000). */
  healthyRunMs?: number;
  /** SIGTERM, then SIGKILL after this, ms (default 400). */
  stopKillMs?: number;
  /** How often `ready` is polled, ms (default 50). */
  readyPollMs?: number;
  /** Give up after this many restarts in a row without a healthy run (default: never). */
  maxRestarts?: number;
  /** Output lines logged as warnings (default: none). */
  warnOn?: RegExp;
  /** Called once by stop(), after the child is gone (remove a temp dir...). */
  cleanup?(): void;
}

export interface SupervisorLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SupervisorEvents {
  up: [];
  down: [];
  exit: [code: number | null, signal: string | null];
  failed: [reason: string];
  /** A message from a child started with `ipc` (any run: listeners check what they get). */
  message: [msg: unknown];
}

const TAIL_CHARS = 4000;

/** True once something accepts TCP connections on host:port (a readiness check for most servers). */
export function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A TCP port free on `host` right now (the OS picks it). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  private child: ChildProcess | null = null;
  private stopping = false;
  private restarts = 0;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private upSince = 0;
  private ready = false;
  private tail = '';
  /** How many times the child was spawned (1 = never restarted). */
  starts = 0;

  constructor(
    readonly spec: ChildSpec,
    private readonly log: SupervisorLog,
  ) {
    super();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Sends a message to the running child (started with `ipc`); false when there is none or its channel is
   * closed (the message is dropped: callers bound their waits and hear `down`).
   */
  send(msg: object): boolean {
    const c = this.child;
    if (!c?.connected) return false;
    try {
      return c.send(msg);
    } catch {
      return false;
    }
  }

  /** True while a child runs and has passed its readiness check. */
  get up(): boolean {
    return this.ready;
  }

  /** The child's last output (for error messages). */
  get output(): string {
    return this.tail;
  }

  /**
   * Writes to the running child's stdin (a launch with `stdin: true`); false when there is no child or
   * no stdin (commands to a child that restarts in between are lost, never queued for the next run).
   */
  write(text: string): boolean {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return false;
    stdin.on('error', () => {}); // a child that just died: EPIPE is expected
    stdin.write(text);
    return true;
  }

  /** Starts the child and resolves once it is ready; rejects (child killed) if it is not in time. */
  start(): Promise<void> {
    this.stopping = false;
    return this.launch();
  }

  private async launch(): Promise<void> {
    const { spec } = this;
    const run = await spec.prepare();
    if (this.stopping) return;
    // Dies with the server on every exit path, SIGKILL of node included (children.ts).
    const child = spawnChild(
      run.binary,
      run.args,
      {
        stdio: [run.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(run.ipc ? (['ipc'] as const) : [])],
        env: run.env,
        cwd: run.cwd,
      },
      this.log,
      run.runAs,
    );
    this.child = child;
    this.ready = false;
    this.starts++;
    this.tail = '';
    const onOutput = (d: Buffer) => {
      const text = d.toString();
      this.tail = (this.tail + text).slice(-TAIL_CHARS);
      if (spec.warnOn)
        for (const line of text.split('\n'))
          if (spec.warnOn.test(line)) this.log.warn({ [spec.name]: line.trim() });
    };
    if (run.ipc) child.on('message', (m) => this.child === child && this.emit('message', m));
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    let early: string | null = null;
    child.once('error', (e) => {
      early ??= `cannot run ${run.binary}: ${e.message}`;
      // A failed spawn (no such binary) never emits 'exit' and is not retried: start() says why.
      if (child.pid === undefined && this.child === child) this.child = null;
    });
    let exited: string | null = null;
    child.once('exit', (code, sig) => {
      exited = `exited (${sig ?? code})`;
      this.onExit(child, code, sig);
    });
    // 'exit' can come before the child's last output is read: a failed start waits for its pipes to close
    // (bounded) so that its error says why.
    const drained = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const failed = async (what: string): Promise<Error> => {
      await Promise.race([drained, new Promise((r) => setTimeout(r, 250))]);
      return new Error(`${spec.name} ${what} before it was ready. Last output:\n${this.tail.slice(-1500)}`);
    };
    // Spawned, or failed to spawn (ENOENT comes as an event, after this tick).
    await new Promise<void>((resolve) => {
      child.once('spawn', resolve);
      child.once('error', () => resolve());
    });
    const deadline = Date.now() + spec.startTimeoutMs;
    const poll = spec.readyPollMs ?? 50;
    for (;;) {
      if (early !== null) throw await failed(early);
      if (exited !== null && !this.stopping) throw await failed(exited);
      if (this.stopping || this.child !== child) throw new Error(`${spec.name} stopped while starting`);
      if (!spec.ready || (await spec.ready(this.tail))) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `${spec.name} not ready within ${spec.startTimeoutMs} ms. Last output:\n${this.tail.slice(-1500)}`,
        );
      }
      await new Promise((r) => setTimeout(r, poll));
    }
    // The last check may have raced a death.
    if (early !== null || exited !== null || this.child !== child)
      throw await failed(early ?? exited ?? 'stopped');
    this.ready = true;
    this.upSince = Date.now();
    this.log.info({ pid: child.pid }, `${spec.name} ready`);
    this.emit('up');
  }

  private onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.child !== child) return;
    this.child = null;
    const wasUp = this.ready;
    this.ready = false;
    this.emit('exit', code, signal);
    if (this.stopping) return;
    this.log.error({ code, signal }, `${this.spec.name} died; restarting`);
    // Up for a while before it died: a fresh failure, restarted at once; else the backoff grows.
    if (wasUp && Date.now() - this.upSince > (this.spec.healthyRunMs ?? 30_000)) this.restarts = 0;
    if (wasUp) this.emit('down');
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopping || this.restartTimer) return;
    const { spec } = this;
    if (spec.maxRestarts !== undefined && this.restarts >= spec.maxRestarts) {
      const why = `${spec.name} died ${this.restarts + 1} times in a row; not restarted`;
      this.log.error({}, why);
      this.emit('failed', why);
      return;
    }
    // The first restart is immediate (everyone waits on it); a child that keeps dying backs off.
    const delay =
      this.restarts === 0
        ? 0
        : Math.min(
            spec.maxRestartDelayMs ?? 10_000,
            spec.restartDelayMs * 2 ** Math.min(this.restarts - 1, 10),
          );
    this.restarts++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.launch().then(
        () => {},
        (e: Error) => {
          this.log.error({ err: e.message }, `${spec.name} restart failed`);
          if (this.child === null) this.scheduleRestart();
        },
      );
    }, delay);
  }

  /** Stops the child (SIGTERM, SIGKILL after stopKillMs) and cleans up; no restart after this. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    this.child = null;
    this.ready = false;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => child.kill('SIGKILL'), this.spec.stopKillMs ?? 400);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    this.spec.cleanup?.();
  }
}
