/**
 * Runs and supervises our own Janus: a private config set written to a temporary directory (never
 * /etc/janus) with only the VideoRoom plugin and the WebSocket transport, a readiness wait that is
 * bounded, and a restart with backoff if Janus dies. Emits `down` when it dies and `up` (with the
 * WebSocket URL) every time it is ready.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config';
import { spawnChild } from '../process/children';

/** A Janus that ran this long before it died is restarted at once (its backoff starts over), ms. */
const HEALTHY_RUN_MS = 30_000;
/** SIGTERM, then SIGKILL after this, ms. */
const STOP_KILL_MS = 400;

/** Where distributions install Janus's plugins and transports (Debian's multiarch dirs first). */
const LIB_DIR_CANDIDATES = [
  `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/janus`,
  '/usr/lib/janus',
  '/usr/local/lib/janus',
  '/opt/janus/lib/janus',
];

export function findJanusLibDir(configured: string): string {
  const dirs = configured ? [configured] : LIB_DIR_CANDIDATES;
  for (const d of dirs)
    if (
      existsSync(join(d, 'plugins', 'libjanus_videoroom.so')) &&
      existsSync(join(d, 'transports', 'libjanus_websockets.so'))
    )
      return d;
  throw new Error(
    `Janus plugins not found in ${dirs.join(', ')}: install the Debian package "janus" ` +
      '(apt-get install -y janus), set janus.libDir, or point janus.urls at a running Janus',
  );
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The jcfg files for one run. Exported for tests. */
export function janusConfigFiles(
  dir: string,
  j: ResolvedConfig['janus'],
  wsPort: number,
): Record<string, string> {
  const q = (s: string) => JSON.stringify(s);
  const general = [
    `configs_folder = ${q(join(dir, 'conf'))}`,
    `plugins_folder = ${q(join(dir, 'plugins'))}`,
    `transports_folder = ${q(join(dir, 'transports'))}`,
    `events_folder = ${q(join(dir, 'empty'))}`,
    `loggers_folder = ${q(join(dir, 'empty'))}`,
    `debug_level = ${j.debugLevel}`,
    'debug_timestamps = true',
    'session_timeout = 60',
    j.interface ? `interface = ${q(j.interface)}` : '',
  ].filter(Boolean);
  const nat = [
    j.iceEnforceList ? `ice_enforce_list = ${q(j.iceEnforceList)}` : '',
    j.publicIp ? `nat_1_1_mapping = ${q(j.publicIp)}` : '',
    'ignore_mdns = true',
    'full_trickle = false',
    'ice_lite = false',
  ].filter(Boolean);
  return {
    'janus.jcfg': [
      `general: {\n\t${general.join('\n\t')}\n}`,
      `media: {\n\tipv6 = false\n\trtp_port_range = ${q(j.rtpPortRange)}\n\tno_media_timer = 2\n}`,
      `nat: {\n\t${nat.join('\n\t')}\n}`,
      '',
    ].join('\n'),
    'janus.transport.websockets.jcfg':
      `general: {\n\tjson = "compact"\n\tws = true\n\tws_port = ${wsPort}\n\tws_ip = "127.0.0.1"\n\twss = false\n}\n` +
      'admin: {\n\tadmin_ws = false\n\tadmin_wss = false\n}\n',
    'janus.plugin.videoroom.jcfg': 'general: {\n}\n',
  };
}

export class JanusProcess extends EventEmitter {
  private child: ChildProcess | null = null;
  private dir = '';
  private stopping = false;
  private restarts = 0;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  /** ws://127.0.0.1:port of the running Janus, or '' while it is down. */
  url = '';
  /** When the running Janus became ready (ms). */
  private upSince = 0;
  /** How many times Janus was started (1 = never restarted). */
  starts = 0;

  constructor(
    private readonly cfg: ResolvedConfig['janus'],
    private readonly log: Logger,
  ) {
    super();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Writes the config set, starts Janus and resolves with its WebSocket URL once it accepts connections. */
  async start(): Promise<string> {
    const libDir = findJanusLibDir(this.cfg.libDir);
    this.dir = mkdtempSync(join(tmpdir(), 'zegoclient-janus-'));
    for (const sub of ['conf', 'plugins', 'transports', 'empty']) mkdirSync(join(this.dir, sub));
    symlinkSync(
      join(libDir, 'plugins', 'libjanus_videoroom.so'),
      join(this.dir, 'plugins', 'libjanus_videoroom.so'),
    );
    symlinkSync(
      join(libDir, 'transports', 'libjanus_websockets.so'),
      join(this.dir, 'transports', 'libjanus_websockets.so'),
    );
    return this.launch();
  }

  private async launch(): Promise<string> {
    const port = this.cfg.wsPort || (await freePort('127.0.0.1'));
    for (const [name, text] of Object.entries(janusConfigFiles(this.dir, this.cfg, port)))
      writeFileSync(join(this.dir, 'conf', name), text);
    // Dies with the server on every exit path, SIGKILL of node included (process/children.ts).
    const child = spawnChild(
      this.cfg.binary,
      ['-C', join(this.dir, 'conf', 'janus.jcfg'), '-F', join(this.dir, 'conf'), '-o'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
      this.log,
    );
    this.child = child;
    this.starts++;
    let tail = '';
    const onOutput = (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n'))
        if (/\[(ERR|FATAL)\]/.test(line)) this.log.warn({ janus: line.trim() });
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    const exited = new Promise<string>((resolve) => {
      child.once('error', (e) => resolve(`cannot run ${this.cfg.binary}: ${e.message}`));
      child.once('exit', (code, sig) => resolve(`exited (${sig ?? code})`));
    });
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    const deadline = Date.now() + this.cfg.startTimeoutMs;
    let early: string | null = null;
    void exited.then((why) => (early = why));
    for (;;) {
      if (early !== null)
        throw new Error(`Janus ${early} before it was ready. Last output:\n${tail.slice(-1500)}`);
      if (await portOpen('127.0.0.1', port)) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `Janus not ready within ${this.cfg.startTimeoutMs} ms. Last output:\n${tail.slice(-1500)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.url = `ws://127.0.0.1:${port}`;
    this.upSince = Date.now();
    this.log.info({ pid: child.pid, url: this.url }, 'janus ready');
    this.emit('up', this.url);
    return this.url;
  }

  private onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.child !== child) return;
    this.child = null;
    const wasUp = this.url !== '';
    this.url = '';
    if (this.stopping) return;
    this.log.error({ code, signal }, 'janus died; restarting');
    // Up for a while before it died: a fresh failure, restarted at once; else the backoff grows.
    if (wasUp && Date.now() - this.upSince > HEALTHY_RUN_MS) this.restarts = 0;
    if (wasUp) this.emit('down');
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopping || this.restartTimer) return;
    // The first restart is immediate (every viewer waits on it); a Janus that keeps dying backs off.
    const delay =
      this.restarts === 0
        ? 0
        : Math.min(10_000, this.cfg.restartDelayMs * 2 ** Math.min(this.restarts - 1, 4));
    this.restarts++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.launch().then(
        () => {},
        (e: Error) => {
          this.log.error({ err: e.message }, 'janus restart failed');
          if (this.child === null) this.scheduleRestart();
        },
      );
    }, delay);
  }

  /** Stops Janus (SIGTERM, SIGKILL after 3 s) and removes the config set. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        // Janus exits on SIGTERM in well under a second; a server shutdown does not wait longer.
        const t = setTimeout(() => child.kill('SIGKILL'), STOP_KILL_MS);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
