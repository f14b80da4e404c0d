/**
 * The configuration of live production: the embedded origin (`origin`), mixing (`mix`) and CDN relay
 * (`relay`). Kept apart from config.ts, which only calls resolveLiveConfig; the fields are documented in
 * README.md and docs/deployment.md.
 */
export interface OriginConfig {
  /** false: no origin (mix outputs still reach rooms through Janus; outputUrl / external pushes still work). */
  enabled: boolean;
  nginxBinary: string;
  /** The nginx RTMP module (Debian: libnginx-mod-rtmp). */
  rtmpModule: string;
  /** Interface the origin's public ports bind to ('' = the server's host). */
  bind: string;
  /** RTMP port (0 = a free one at start: fine on a laptop, set fixed ports in production). */
  rtmpPort: number;
  /** HTTP port of HLS and HTTP-FLV (0 = a free one at start). */
  httpPort: number;
  /** Host name put in URLs ('' = the host the page reached this server by, from its Host header). */
  publicHost: string;
  /** https:// base of a TLS front for the HTTP port ('' = no urls_https_*). */
  httpsBaseUrl: string;
  hlsFragmentS: number;
  hlsPlaylistS: number;
  startTimeoutMs: number;
  restartDelayMs: number;
}

export interface MixConfig {
  ffmpegBinary: string;
  maxTasksPerApp: number;
  maxInputs: number;
  /** UDP ports ffmpeg receives forwarded RTP on, "min-max" (two per input: audio, video; RTCP beside). */
  rtpPortRange: string;
  /** A task whose inputs have all stopped for this long ends, ms. */
  idleStopMs: number;
  /** `preset-id://NAME` -> an image file (outputBgImage). */
  bgImages: Record<string, string>;
  /** x264 preset of mix outputs and transcoding relays. */
  x264Preset: string;
  /**
   * The address Janus sends this node's mix and relay inputs to (rtp_forward): this node's own Janus when it
   * runs on another machine, and (many nodes) the other nodes' Janus, as they reach this machine ('' =
   * 127.0.0.1: every Janus on this machine).
   */
  forwardHost: string;
}

export interface RelayConfig {
  /** Relay every published stream to the origin (stream lists carry urls_*); default: on in dev mode. */
  all: boolean;
  /** RTMP hosts pages may push to besides our origin (`host` or `host:port`). */
  allowHosts: string[];
  /** A business-server URL that approves other push URLs (POST {appid, stream_id, push_url}; 2xx = yes). */
  approveUrl: string;
  approveTimeoutMs: number;
  maxTargetsPerStream: number;
  /** Relays (stream x target) on the server at once. */
  maxRelays: number;
}

export interface LiveConfig {
  origin: OriginConfig;
  mix: MixConfig;
  relay: RelayConfig;
}

export const LIVE_DEFAULTS: LiveConfig = {
  origin: {
    enabled: true,
    nginxBinary: 'nginx',
    rtmpModule: '/usr/lib/nginx/modules/ngx_rtmp_module.so',
    bind: '',
    rtmpPort: 0,
    httpPort: 0,
    publicHost: '',
    httpsBaseUrl: '',
    hlsFragmentS: 1,
    hlsPlaylistS: 4,
    startTimeoutMs: 5000,
    restartDelayMs: 500,
  },
  mix: {
    ffmpegBinary: 'ffmpeg',
    maxTasksPerApp: 4,
    maxInputs: 9,
    rtpPortRange: '30000-30999',
    idleStopMs: 30_000,
    bgImages: {},
    x264Preset: 'ultrafast',
    forwardHost: '',
  },
  relay: {
    all: false,
    allowHosts: [],
    approveUrl: '',
    approveTimeoutMs: 3000,
    maxTargetsPerStream: 4,
    maxRelays: 64,
  },
};

type Fail = (field: string, problem: string) => never;

function sectionOf<T extends object>(name: string, given: unknown, defaults: T, fail: Fail): T {
  if (given === undefined) return { ...defaults };
  if (!given || typeof given !== 'object' || Array.isArray(given)) fail(name, 'must be an object');
  for (const k of Object.keys(given as object))
    if (!(k in defaults)) fail(`${name}.${k}`, 'is not a known setting');
  return { ...defaults, ...(given as Partial<T>) };
}

/** "min-max" with 1 <= min < max <= 65535; the two bounds. */
export function portRange(s: string): [number, number] | null {
  const m = /^(\d+)-(\d+)$/.exec(s);
  const [a, b] = [Number(m?.[1]), Number(m?.[2])];
  return m && a >= 1 && a < b && b <= 65535 ? [a, b] : null;
}

/** Validates the three sections over their defaults (relay.all defaults to dev mode). */
export function resolveLiveConfig(
  o: { origin?: unknown; mix?: unknown; relay?: unknown },
  devMode: boolean,
  fail: Fail,
): LiveConfig {
  const int = (f: string, v: unknown, min: number, max: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      fail(f, `must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  };
  const str = (f: string, v: unknown) => typeof v === 'string' || fail(f, 'must be a string');
  const bool = (f: string, v: unknown) => typeof v === 'boolean' || fail(f, 'must be true or false');
  const origin = sectionOf('origin', o.origin, LIVE_DEFAULTS.origin, fail);
  bool('origin.enabled', origin.enabled);
  for (const k of ['nginxBinary', 'rtmpModule', 'bind', 'publicHost', 'httpsBaseUrl'] as const)
    str(`origin.${k}`, origin[k]);
  if (origin.httpsBaseUrl && !/^https:\/\/[^/]+/.test(origin.httpsBaseUrl))
    fail('origin.httpsBaseUrl', 'must be empty or an https:// URL');
  if (origin.publicHost && !/^[\w.-]{1,253}$|^\[[\da-fA-F:]+\]$/.test(origin.publicHost))
    fail('origin.publicHost', 'must be a host name or address (no scheme, no port)');
  int('origin.rtmpPort', origin.rtmpPort, 0, 65535);
  int('origin.httpPort', origin.httpPort, 0, 65535);
  int('origin.hlsFragmentS', origin.hlsFragmentS, 1, 10);
  int('origin.hlsPlaylistS', origin.hlsPlaylistS, 2, 60);
  int('origin.startTimeoutMs', origin.startTimeoutMs, 100, 60_000);
  int('origin.restartDelayMs', origin.restartDelayMs, 10, 60_000);
  const mix = sectionOf('mix', o.mix, LIVE_DEFAULTS.mix, fail);
  str('mix.ffmpegBinary', mix.ffmpegBinary);
  int('mix.maxTasksPerApp', mix.maxTasksPerApp, 0, 1000);
  int('mix.maxInputs', mix.maxInputs, 1, 16);
  if (!portRange(String(mix.rtpPortRange)))
    fail('mix.rtpPortRange', 'must be "min-max" with 1 <= min < max <= 65535');
  int('mix.idleStopMs', mix.idleStopMs, 1000, 3_600_000);
  if (
    !mix.bgImages ||
    typeof mix.bgImages !== 'object' ||
    !Object.entries(mix.bgImages).every(([k, v]) => /^[\w.-]{1,64}$/.test(k) && typeof v === 'string')
  )
    fail('mix.bgImages', 'must map preset names to image file paths');
  if (!/^(ultrafast|superfast|veryfast|faster|fast|medium)$/.test(String(mix.x264Preset)))
    fail('mix.x264Preset', 'must be an x264 preset from ultrafast to medium');
  if (
    typeof mix.forwardHost !== 'string' ||
    (mix.forwardHost && !/^[\w.-]{1,253}$|^[\da-fA-F:]+$/.test(mix.forwardHost))
  )
    fail('mix.forwardHost', 'must be empty or a host name or address (no scheme, no port)');
  const given = o.relay as { all?: unknown } | undefined;
  const relay = sectionOf('relay', o.relay, { ...LIVE_DEFAULTS.relay, all: devMode }, fail);
  if (given?.all === undefined) relay.all = devMode;
  bool('relay.all', relay.all);
  if (
    !Array.isArray(relay.allowHosts) ||
    !relay.allowHosts.every((h) => typeof h === 'string' && /^[\w.-]{1,253}(:\d{1,5})?$/.test(h))
  )
    fail('relay.allowHosts', 'must be a list of host or host:port');
  str('relay.approveUrl', relay.approveUrl);
  if (relay.approveUrl && !/^https?:\/\//.test(relay.approveUrl))
    fail('relay.approveUrl', 'must be empty or an http(s) URL');
  int('relay.approveTimeoutMs', relay.approveTimeoutMs, 1, 60_000);
  int('relay.maxTargetsPerStream', relay.maxTargetsPerStream, 1, 32);
  int('relay.maxRelays', relay.maxRelays, 0, 10_000);
  return { origin, mix, relay };
}
