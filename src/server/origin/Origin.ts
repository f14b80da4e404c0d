/**
 * The embedded origin players use for CDN URLs: nginx with the RTMP module (RTMP ingest and playback,
 * HLS files, the HTTP port) and the HTTP-FLV hub (FlvHub.ts, our own Node process, behind nginx's HTTP
 * port), both children of the one supervisor. Our ffmpeg children publish each stream to both: RTMP to
 * nginx, FLV to the hub. Why this pair: Debian's nginx + libnginx-mod-rtmp is a C RTMP server and HLS
 * segmenter that costs next to nothing per viewer, but it has no HTTP-FLV, which legacy CDN pages play
 * with flv.js; the hub adds exactly that (a GOP cache and timestamps that continue across a mix restart)
 * in ~200 lines, outside the signalling process.
 *
 * Missing nginx or its RTMP module leaves the origin off (logged once, /healthz says why); the room plane,
 * Janus, mixing into rooms and pushes to external URLs are not affected.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { StreamUrls } from '../LiveStreams';
import type { OriginConfig } from '../liveConfig';
import { findExecutable } from '../process/children';
import { freePort, portOpen, Supervisor } from '../process/Supervisor';
import { nginxConf } from './nginxConf';

/** Stream names on the origin: `<appid>_<stream id>` with anything outside [A-Za-z0-9_-] hex-escaped. */
export function originName(appid: number, streamId: string): string {
  const safe = streamId.replace(/[^A-Za-z0-9_-]/g, (c) =>
    [...Buffer.from(c)].map((b) => '.' + b.toString(16).padStart(2, '0')).join(''),
  );
  return `${appid}_${safe}`.slice(0, 200);
}

export class Origin {
  private readonly nginx: Supervisor | null = null;
  private readonly hub: Supervisor | null = null;
  private dir = '';
  private ports = { rtmp: 0, http: 0, flv: 0 };
  private readonly key = randomBytes(16).toString('hex');
  /** Why the origin is off ('' when on). */
  off = '';

  constructor(
    private readonly cfg: OriginConfig,
    private readonly serverHost: string,
    private readonly hubScript: string,
    private readonly log: Logger,
  ) {
    if (!cfg.enabled) this.off = 'origin.enabled is false';
    else if (!findExecutable(cfg.nginxBinary, process.env.PATH))
      this.off = `${cfg.nginxBinary} not found (Debian packages nginx and libnginx-mod-rtmp)`;
    else if (!existsSync(cfg.rtmpModule))
      this.off = `nginx RTMP module ${cfg.rtmpModule} not found (Debian package libnginx-mod-rtmp)`;
    else if (!existsSync(hubScript)) this.off = `HTTP-FLV hub ${hubScript} not built (npm run build)`;
    if (this.off) return;
    const spec = { startTimeoutMs: cfg.startTimeoutMs, restartDelayMs: cfg.restartDelayMs };
    this.hub = new Supervisor(
      {
        ...spec,
        name: 'flv hub',
        prepare: () => ({
          binary: process.execPath,
          args: [hubScript, String(this.ports.flv)],
          env: { ...process.env, FLV_PUBLISH_KEY: this.key },
        }),
        ready: () => portOpen('127.0.0.1', this.ports.flv),
      },
      log.child({ child: 'flv-hub' }),
    );
    this.nginx = new Supervisor(
      {
        ...spec,
        name: 'nginx',
        prepare: () => ({
          binary: cfg.nginxBinary,
          args: ['-p', this.dir, '-c', join(this.dir, 'nginx.conf'), '-e', 'stderr'],
        }),
        ready: () => portOpen(this.loopbackOf(this.bind), this.ports.http),
        warnOn: /\[(emerg|alert|crit)\]/,
        cleanup: () => {
          if (this.dir) rmSync(this.dir, { recursive: true, force: true });
        },
      },
      log.child({ child: 'nginx' }),
    );
  }

  private get bind(): string {
    return this.cfg.bind || this.serverHost;
  }

  private loopbackOf(bind: string): string {
    return bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
  }

  get up(): boolean {
    return !!this.nginx?.up && !!this.hub?.up;
  }

  /** Starts the hub and nginx; a failure leaves the origin off (logged), never fails the server. */
  async start(): Promise<void> {
    if (!this.nginx || !this.hub) {
      this.log.warn(`origin off: ${this.off}; stream URLs and CDN relay to the origin are unavailable`);
      return;
    }
    try {
      this.dir = mkdtempSync(join(tmpdir(), 'zegoclient-origin-'));
      // nginx's worker runs as nobody when we are root: it must reach and write the HLS directory.
      chmodSync(this.dir, 0o755);
      for (const sub of ['hls', 'tmp']) {
        mkdirSync(join(this.dir, sub));
        chmodSync(join(this.dir, sub), 0o777);
      }
      this.ports = {
        rtmp: this.cfg.rtmpPort || (await freePort(this.loopbackOf(this.bind))),
        http: this.cfg.httpPort || (await freePort(this.loopbackOf(this.bind))),
        flv: await freePort('127.0.0.1'),
      };
      writeFileSync(
        join(this.dir, 'nginx.conf'),
        nginxConf(this.dir, { bind: this.bind, ...this.ports }, this.cfg),
      );
      await this.hub.start();
      await this.nginx.start();
      this.log.info(
        { rtmpPort: this.ports.rtmp, httpPort: this.ports.http },
        'origin ready (RTMP, HLS and HTTP-FLV)',
      );
    } catch (e) {
      this.off = `origin failed to start: ${(e as Error).message.split('\n')[0]}`;
      this.log.error(this.off);
      await this.stop();
    }
  }

  /** Where our ffmpeg children publish a stream: RTMP to nginx, FLV to the hub. */
  publishUrls(name: string): { rtmp: string; flv: string } {
    return {
      rtmp: `rtmp://${this.loopbackOf(this.bind)}:${this.ports.rtmp}/live/${name}`,
      flv: `http://127.0.0.1:${this.ports.flv}/publish/${name}?key=${this.key}`,
    };
  }

  /** The player URLs of a stream, naming `host` (the page's Host header, or origin.publicHost). */
  urls(name: string, host: string): StreamUrls {
    const h = this.cfg.publicHost || host.replace(/:\d+$/, '') || this.loopbackOf(this.bind);
    const http = `http://${h}:${this.ports.http}`;
    const https = this.cfg.httpsBaseUrl.replace(/\/$/, '');
    return {
      urls_rtmp: [`rtmp://${h}:${this.ports.rtmp}/live/${name}`],
      urls_flv: [`${http}/live/${name}.flv`],
      urls_m3u8: [`${http}/hls/${name}/index.m3u8`],
      urls_https_flv: https ? [`${https}/live/${name}.flv`] : [],
      urls_https_m3u8: https ? [`${https}/hls/${name}/index.m3u8`] : [],
    };
  }

  /** The stream name if `url` is an RTMP URL of this origin (a page pushing to our own origin), else null. */
  ownName(url: URL, pageHost: string): string | null {
    if (!this.up || url.protocol !== 'rtmp:') return null;
    const hosts = new Set([
      '127.0.0.1',
      'localhost',
      this.bind,
      this.cfg.publicHost,
      pageHost.replace(/:\d+$/, ''),
    ]);
    const port = Number(url.port || 1935);
    const m = /^\/live\/([\w.-]{1,200})$/.exec(url.pathname);
    return hosts.has(url.hostname) && port === this.ports.rtmp && m ? m[1]! : null;
  }

  health(): Record<string, unknown> {
    return this.off
      ? { origin: 'off', why: this.off }
      : {
          origin: this.up ? 'up' : 'down',
          rtmpPort: this.ports.rtmp,
          httpPort: this.ports.http,
          nginxPid: this.nginx?.pid ?? null,
          flvHubPid: this.hub?.pid ?? null,
        };
  }

  /**
   * Where a mix's ffmpeg sends its RTP for the Janus remote publisher `to`: a local port that passes it on
   * to `to.host`:`to.port` with sequence numbers and timestamps continuous across sender restarts
   * (RtpStitcher, in the hub's process), and one that passes its RTCP on to `to.rtcpPort`; `to` itself
   * when the origin is off.
   */
  async rtpVia(to: { host: string; port: number; rtcpPort: number }): Promise<{
    host: string;
    port: number;
    rtcpPort: number;
    close: () => Promise<void>;
  }> {
    if (!this.up) return { host: to.host, port: to.port, rtcpPort: to.rtcpPort, close: async () => {} };
    const base = `http://127.0.0.1:${this.ports.flv}/rtp`;
    const q = new URLSearchParams({
      target: String(to.port),
      rtcp: String(to.rtcpPort),
      host: to.host,
      key: this.key,
    });
    const r = await fetch(`${base}/open?${q}`, { method: 'POST' });
    if (!r.ok) throw new Error(`rtp stitcher: HTTP ${r.status}`);
    const { port, rtcpPort } = (await r.json()) as { port: number; rtcpPort: number };
    return {
      host: '127.0.0.1',
      port,
      rtcpPort: rtcpPort || to.rtcpPort,
      close: async () => {
        await fetch(`${base}/close?port=${port}&key=${this.key}`, { method: 'POST' }).catch(() => undefined);
      },
    };
  }

  /** The HTTP-FLV hub's per-stream players (tests, bench). */
  async hubStats(): Promise<Record<string, { players: number; live: boolean }>> {
    const r = await fetch(`http://127.0.0.1:${this.ports.flv}/stats`);
    return (await r.json()) as Record<string, { players: number; live: boolean }>;
  }

  async stop(): Promise<void> {
    await Promise.all([this.nginx?.stop(), this.hub?.stop()]);
  }
}
