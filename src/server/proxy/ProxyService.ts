/**
 * The cloud proxy: nginx under the one child supervisor (process/Supervisor.ts), with its own config in a
 * temporary prefix directory (never /etc/nginx, never the Debian service), on one public TLS port that
 * carries the signalling sockets and TURN over TLS (./nginxConfig.ts says how it splits them).
 *
 * Before nginx starts, the server opens its side: a unix socket in the prefix directory that nginx
 * forwards proxied HTTP and WebSockets to (`openFeed`; ./proxyFeed.ts). When the server runs as root,
 * nginx runs as `proxy.user` (setpriv, keeping only the right to bind ports below 1024): the prefix
 * directory, the copied certificate and key, the temp paths are that user's, and the server's socket
 * is writable by it. Off, failed or not installed, it never stops the server: the log says why and
 * `/healthz` shows `proxy.state` "down".
 */
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config';
import { findExecutable, type RunAs } from '../process/children';
import { freePort, portOpen, Supervisor } from '../process/Supervisor';
import { selfSignedCert, spkiHash } from '../turn/tlsCert';
import { nginxConfig } from './nginxConfig';

/** Debian's libnginx-mod-stream. */
const DEBIAN_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export type ProxyState = 'up' | 'down' | 'off';

/** uid and gid of a user, from /etc/passwd (null if there is no such user). */
export function userIds(user: string, passwd = '/etc/passwd'): { uid: number; gid: number } | null {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const e of readdirSync(path, { withFileTypes: true }))
    if (e.isDirectory()) chownTree(join(path, e.name), uid, gid);
    else chownSync(join(path, e.name), uid, gid);
}

const anyIp = (ip: string) => ip === '0.0.0.0' || ip === '::';

export class ProxyService {
  private supervisor: Supervisor | null = null;
  private dir = '';
  private port = 0;
  /** Why the proxy is down, for /healthz and the log. */
  reason = '';

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    /** coturn's TCP listener (null: no TURN), asked when nginx's config is written. */
    private readonly turnAddress: () => { host: string; port: number } | null,
  ) {}

  get state(): ProxyState {
    if (!this.config.proxy.enabled) return 'off';
    return this.supervisor?.up ? 'up' : 'down';
  }

  get pid(): number | undefined {
    return this.supervisor?.pid;
  }

  get starts(): number {
    return this.supervisor?.starts ?? 0;
  }

  /** The public port (after start; 0 = none). */
  get publicPort(): number {
    return this.port;
  }

  /**
   * Starts nginx once `openFeed(path)` has the server listening on its unix socket. Never throws: a
   * failure leaves the proxy down and says why.
   */
  async start(openFeed: (socketPath: string) => Promise<void>): Promise<void> {
    if (!this.config.proxy.enabled) return;
    try {
      await this.spawn(openFeed);
    } catch (e) {
      this.reason = (e as Error).message;
      this.log.warn(
        `\n*** The cloud proxy is OFF: ${this.reason}` +
          '\n*** Pages that call setCloudProxyConfig cannot connect.' +
          '\n*** Install nginx and libnginx-mod-stream, free the port, or set proxy.enabled false.',
      );
      if (this.supervisor) await this.supervisor.stop();
      else if (this.dir) rmSync(this.dir, { recursive: true, force: true });
      this.supervisor = null;
    }
  }

  private async spawn(openFeed: (socketPath: string) => Promise<void>): Promise<void> {
    const p = this.config.proxy;
    if (!findExecutable(p.binary, process.env.PATH))
      throw new Error(`nginx (${p.binary}) not found (Debian packages "nginx" and "libnginx-mod-stream")`);
    const streamModule = p.streamModule || (existsSync(DEBIAN_STREAM_MODULE) ? DEBIAN_STREAM_MODULE : '');
    const ips = p.listenIps.length ? p.listenIps : [this.config.host];
    this.port = p.port || (await freePort(anyIp(ips[0]!) ? '127.0.0.1' : ips[0]!));
    let runAs: RunAs | undefined;
    let owner: { uid: number; gid: number } | null = null;
    if (process.getuid?.() === 0) {
      owner = userIds(p.user);
      if (!owner) throw new Error(`proxy.user ${p.user} is not a user of this system (/etc/passwd)`);
      runAs = { user: String(owner.uid), group: String(owner.gid) };
    }
    this.dir = mkdtempSync(join(tmpdir(), 'zegoclient-proxy-'));
    for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
      mkdirSync(join(this.dir, 'tmp', t), { recursive: true });
    const certFile = join(this.dir, 'cert.pem');
    const keyFile = join(this.dir, 'key.pem');
    let selfSigned: { cert: string; key: string } | null = null;
    if (!p.tlsCert) {
      selfSigned = await selfSignedCert([p.publicHost, ...ips.filter((ip) => !anyIp(ip))].filter(Boolean));
      this.log.warn(
        { proxySpki: spkiHash(selfSigned.cert) },
        'the cloud proxy uses a self-signed certificate (development only): browsers refuse it unless ' +
          'started with --ignore-certificate-errors-spki-list=<proxySpki>; set proxy.tlsCert and proxy.tlsKey',
      );
    }
    const nodeSocket = join(this.dir, 'node.sock');
    await openFeed(nodeSocket);
    // nginx (as proxy.user) must connect to it; the directory (0700, that user's) keeps others out.
    chmodSync(nodeSocket, 0o666);
    const conf = join(this.dir, 'nginx.conf');
    const readyIps = ips.map((ip) => (ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip));
    this.supervisor = new Supervisor(
      {
        name: 'nginx',
        prepare: () => {
          // Copied at every (re)start: a renewed certificate is picked up by the next restart, and the
          // copies are readable by proxy.user whoever owns the originals.
          if (selfSigned) {
            writeFileSync(certFile, selfSigned.cert);
            writeFileSync(keyFile, selfSigned.key, { mode: 0o600 });
          } else {
            copyFileSync(p.tlsCert, certFile);
            copyFileSync(p.tlsKey, keyFile);
            chmodSync(keyFile, 0o600);
          }
          writeFileSync(
            conf,
            nginxConfig({
              dir: this.dir,
              streamModule,
              listen: ips.map((ip) => ({ ip, port: this.port })),
              certFile,
              keyFile,
              nodeSocket,
              turn: this.turnAddress(),
              workerConnections: p.workerConnections,
              maxConnectionsPerIp: this.config.limits.maxConnectionsPerIp,
            }),
            { mode: 0o600 },
          );
          if (owner) chownTree(this.dir, owner.uid, owner.gid);
          return { binary: p.binary, args: ['-p', `${this.dir}/`, '-c', conf, '-g', 'daemon off;'], runAs };
        },
        ready: async () => (await Promise.all(readyIps.map((ip) => portOpen(ip, this.port)))).every(Boolean),
        startTimeoutMs: p.startTimeoutMs,
        restartDelayMs: p.restartDelayMs,
        warnOn: /\[(emerg|alert|crit)\]/,
        cleanup: () => {
          if (this.dir) rmSync(this.dir, { recursive: true, force: true });
        },
      },
      this.log.child({ child: 'nginx' }),
    );
    try {
      await this.supervisor.start();
    } catch (e) {
      const out = this.supervisor.output;
      if (/unknown directive "(stream|map)"|dlopen\(\)/.test(out))
        throw new Error(
          `nginx has no stream module: install libnginx-mod-stream or set proxy.streamModule\n${(e as Error).message}`,
        );
      throw e;
    }
    this.log.info(
      { listen: ips, port: this.port, user: runAs ? p.user : undefined },
      'cloud proxy: nginx ready',
    );
  }

  async stop(): Promise<void> {
    await this.supervisor?.stop();
  }
}
