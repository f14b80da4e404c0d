/**
 * Runs our own Janus under the one child supervisor (process/Supervisor.ts): a private config set written
 * to a temporary directory (never /etc/janus) with only the VideoRoom plugin and the WebSocket transport,
 * ready once its WebSocket port accepts connections. Emits `down` when it dies and `up` (with the WebSocket
 * URL) every time it is ready; the supervisor restarts it (at once, then with backoff if it keeps dying).
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config';
import { freePort, portOpen, Supervisor } from '../process/Supervisor';

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

export class JanusProcess extends EventEmitter<{ up: [url: string]; down: [] }> {
  private readonly supervisor: Supervisor;
  private dir = '';
  private port = 0;
  /** ws://127.0.0.1:port of the running Janus, or '' while it is down. */
  url = '';

  constructor(
    private readonly cfg: ResolvedConfig['janus'],
    log: Logger,
  ) {
    super();
    this.supervisor = new Supervisor(
      {
        name: 'janus',
        prepare: () => this.prepare(),
        ready: () => portOpen('127.0.0.1', this.port),
        startTimeoutMs: cfg.startTimeoutMs,
        restartDelayMs: cfg.restartDelayMs,
        warnOn: /\[(ERR|FATAL)\]/,
        cleanup: () => {
          if (this.dir) rmSync(this.dir, { recursive: true, force: true });
        },
      },
      log.child({ child: 'janus' }),
    );
    this.supervisor.on('up', () => {
      this.url = `ws://127.0.0.1:${this.port}`;
      this.emit('up', this.url);
    });
    this.supervisor.on('exit', () => (this.url = ''));
    this.supervisor.on('down', () => this.emit('down'));
  }

  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  /** How many times Janus was started (1 = never restarted). */
  get starts(): number {
    return this.supervisor.starts;
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
    await this.supervisor.start();
    return this.url;
  }

  /** Each run: a port (the configured one or a free one) and the config files naming it. */
  private async prepare() {
    this.port = this.cfg.wsPort || (await freePort('127.0.0.1'));
    for (const [name, text] of Object.entries(janusConfigFiles(this.dir, this.cfg, this.port)))
      writeFileSync(join(this.dir, 'conf', name), text);
    const conf = join(this.dir, 'conf');
    return { binary: this.cfg.binary, args: ['-C', join(conf, 'janus.jcfg'), '-F', conf, '-o'] };
  }

  /** Stops Janus (SIGTERM, SIGKILL shortly after) and removes the config set. */
  stop(): Promise<void> {
    return this.supervisor.stop();
  }
}
