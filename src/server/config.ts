/**
 * Server configuration: embedded defaults < config file (`--config` or ZEGO_CONFIG) < environment
 * (PORT, HOST) < command line (--port, --host). The whole result is validated at start; a bad field is
 * named in the error. No apps configured = dev mode (any appid; tokens from GET /token).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_BIGIM_TIME_WINDOW_MS,
  DEFAULT_DATI_TIME_WINDOW_MS,
  DEFAULT_USERLIST_MERGE_MS,
  DEFAULT_HEARTBEAT_MS,
  MAX_FRAME_BYTES,
} from '../protocol/constants';
import { parseAppSign } from './auth/loginToken';

export interface AppConfig {
  appid: number;
  /** 64 lower-case hex characters once resolved. */
  appSign: string;
  thirdTokenUrl?: string;
  relayUrl?: string;
  /** Require streamParams (zg_expired/zg_nonce/zg_token) to publish and play. */
  streamAuth?: boolean;
}

export interface ResolvedConfig {
  host: string;
  port: number;
  apps: AppConfig[];
  devMode: boolean;
  /** Signs and verifies tokens in dev mode (random per start unless configured). */
  devAppSign: string;
  room: {
    heartbeatMs: number;
    bigimTimeWindowMs: number;
    datiTimeWindowMs: number;
    maxUsersPerRoom: number;
    loginDeadlineMs: number;
    imChatIntervalMs: number;
    /** User-list actions within this window go out as one push_userlist_update (0: at once). */
    userlistMergeMs: number;
  };
  limits: { maxFrameBytes: number; messagesPerSecond: number; burst: number; maxRooms: number };
  http: { thirdTokenTimeoutMs: number; relayTimeoutMs: number };
  log: { level: string };
  /** The SFU. Spawned and supervised by default; `urls` uses running Janus instances instead. */
  janus: {
    /** false: no media plane (room signalling only). */
    enabled: boolean;
    /** The Janus executable. */
    binary: string;
    /** Janus's plugins/transports parent dir; '' = look in the usual install locations. */
    libDir: string;
    /** Janus `interface`: the IP put in SDP c= lines ('' = Janus autodetects). */
    interface: string;
    /** Janus `ice_enforce_list`: only these interfaces/IPs (prefixes) gather candidates. */
    iceEnforceList: string;
    /** Janus `nat_1_1_mapping`: the public IP of a server behind 1:1 NAT ('' = none). */
    publicIp: string;
    /** Janus `rtp_port_range`, "min-max" (one port per PeerConnection). */
    rtpPortRange: string;
    /** WebSocket URLs of running Janus instances: if set, nothing is spawned. */
    urls: string[];
    /** Port of the spawned Janus's WebSocket on 127.0.0.1 (0 = a free one). */
    wsPort: number;
    startTimeoutMs: number;
    restartDelayMs: number;
    debugLevel: number;
  };
  media: {
    /** The media signalling URL handed out by dispatch ('' = ws(s)://<Host header>/media). */
    publicUrl: string;
    /** Media-socket heartbeat interval handed to clients, ms (legacy 10 s). */
    heartbeatMs: number;
  };
}

/** Everything optional: what a config file or `startServer(options)` may give. */
export type ServerOptions = {
  [K in keyof ResolvedConfig]?: ResolvedConfig[K] extends object
    ? ResolvedConfig[K] extends unknown[]
      ? Partial<AppConfig>[]
      : Partial<ResolvedConfig[K]>
    : ResolvedConfig[K];
};

const DEFAULTS: Omit<ResolvedConfig, 'apps' | 'devMode' | 'devAppSign'> = {
  host: '127.0.0.1',
  port: 8080,
  room: {
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    bigimTimeWindowMs: DEFAULT_BIGIM_TIME_WINDOW_MS,
    datiTimeWindowMs: DEFAULT_DATI_TIME_WINDOW_MS,
    maxUsersPerRoom: 10_000,
    loginDeadlineMs: 10_000,
    imChatIntervalMs: 500,
    userlistMergeMs: DEFAULT_USERLIST_MERGE_MS,
  },
  limits: { maxFrameBytes: MAX_FRAME_BYTES, messagesPerSecond: 50, burst: 100, maxRooms: 10_000 },
  http: { thirdTokenTimeoutMs: 5_000, relayTimeoutMs: 5_000 },
  log: { level: 'info' },
  janus: {
    enabled: true,
    binary: 'janus',
    libDir: '',
    interface: '',
    iceEnforceList: '',
    publicIp: '',
    rtpPortRange: '20000-20100',
    urls: [],
    wsPort: 0,
    startTimeoutMs: 10_000,
    restartDelayMs: 500,
    debugLevel: 4,
  },
  media: { publicUrl: '', heartbeatMs: 10_000 },
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

class ConfigError extends Error {
  constructor(field: string, problem: string) {
    super(`config: ${field} ${problem}`);
    this.name = 'ConfigError';
  }
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(field, `must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  }
  return v;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(field, 'must be true or false');
  return v;
}

function url(field: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^https?:\/\//.test(v))
    throw new ConfigError(field, 'must be an http(s) URL');
  try {
    new URL(v);
  } catch {
    throw new ConfigError(field, 'must be an http(s) URL');
  }
  return v;
}

function section<T extends object>(name: string, given: unknown, defaults: T): T {
  if (given === undefined) return { ...defaults };
  if (!given || typeof given !== 'object' || Array.isArray(given))
    throw new ConfigError(name, 'must be an object');
  for (const k of Object.keys(given)) {
    if (!(k in defaults)) throw new ConfigError(`${name}.${k}`, 'is not a known setting');
  }
  return { ...defaults, ...(given as Partial<T>) };
}

/** Validates options over the embedded defaults. Throws a ConfigError naming the bad field. */
export function resolveConfig(options: ServerOptions = {}): ResolvedConfig {
  const known = ['host', 'port', 'apps', 'devAppSign', 'room', 'limits', 'http', 'log', 'janus', 'media'];
  for (const k of Object.keys(options))
    if (!known.includes(k)) throw new ConfigError(k, 'is not a known setting');

  const host = options.host ?? DEFAULTS.host;
  if (typeof host !== 'string' || host.length === 0)
    throw new ConfigError('host', 'must be a non-empty string');
  const port = int('port', options.port ?? DEFAULTS.port, 0, 65535);

  const rawApps = options.apps ?? [];
  if (!Array.isArray(rawApps)) throw new ConfigError('apps', 'must be an array');
  const seen = new Set<number>();
  const apps = rawApps.map((a, i): AppConfig => {
    const f = `apps[${i}]`;
    if (!a || typeof a !== 'object') throw new ConfigError(f, 'must be an object');
    const appid = int(`${f}.appid`, a.appid, 1, 2 ** 32 - 1);
    if (seen.has(appid)) throw new ConfigError(`${f}.appid`, `duplicates appid ${appid}`);
    seen.add(appid);
    let appSign: string;
    try {
      appSign = parseAppSign(a.appSign as string);
    } catch (e) {
      throw new ConfigError(`${f}.appSign`, (e as Error).message.replace(/^appSign /, ''));
    }
    return {
      appid,
      appSign,
      thirdTokenUrl: url(`${f}.thirdTokenUrl`, a.thirdTokenUrl),
      relayUrl: url(`${f}.relayUrl`, a.relayUrl),
      streamAuth: a.streamAuth === undefined ? false : bool(`${f}.streamAuth`, a.streamAuth),
    };
  });

  let devAppSign: string;
  try {
    devAppSign = options.devAppSign ? parseAppSign(options.devAppSign) : randomBytes(32).toString('hex');
  } catch (e) {
    throw new ConfigError('devAppSign', (e as Error).message.replace(/^appSign /, ''));
  }

  const room = section('room', options.room, DEFAULTS.room);
  int('room.heartbeatMs', room.heartbeatMs, 100, 600_000);
  int('room.bigimTimeWindowMs', room.bigimTimeWindowMs, 0, 60_000);
  int('room.datiTimeWindowMs', room.datiTimeWindowMs, 0, 60_000);
  int('room.maxUsersPerRoom', room.maxUsersPerRoom, 1, 1_000_000);
  int('room.loginDeadlineMs', room.loginDeadlineMs, 100, 600_000);
  int('room.imChatIntervalMs', room.imChatIntervalMs, 0, 60_000);
  int('room.userlistMergeMs', room.userlistMergeMs, 0, 60_000);
  const limits = section('limits', options.limits, DEFAULTS.limits);
  int('limits.maxFrameBytes', limits.maxFrameBytes, 1024, 16 * 1024 * 1024);
  int('limits.messagesPerSecond', limits.messagesPerSecond, 1, 1_000_000);
  int('limits.burst', limits.burst, 1, 1_000_000);
  int('limits.maxRooms', limits.maxRooms, 1, 10_000_000);
  const http = section('http', options.http, DEFAULTS.http);
  int('http.thirdTokenTimeoutMs', http.thirdTokenTimeoutMs, 1, 120_000);
  int('http.relayTimeoutMs', http.relayTimeoutMs, 1, 120_000);
  const log = section('log', options.log, DEFAULTS.log);
  if (!LOG_LEVELS.includes(log.level))
    throw new ConfigError('log.level', `must be one of ${LOG_LEVELS.join(', ')}`);

  const janus = section('janus', options.janus, DEFAULTS.janus);
  if (typeof janus.enabled !== 'boolean') throw new ConfigError('janus.enabled', 'must be true or false');
  for (const k of ['binary', 'libDir', 'interface', 'iceEnforceList', 'publicIp'] as const)
    if (typeof janus[k] !== 'string') throw new ConfigError(`janus.${k}`, 'must be a string');
  if (!janus.binary) throw new ConfigError('janus.binary', 'must not be empty');
  const range = /^(\d+)-(\d+)$/.exec(String(janus.rtpPortRange));
  if (!range || Number(range[1]) < 1 || Number(range[1]) >= Number(range[2]) || Number(range[2]) > 65535)
    throw new ConfigError('janus.rtpPortRange', 'must be "min-max" with 1 <= min < max <= 65535');
  if (!Array.isArray(janus.urls) || !janus.urls.every((u) => typeof u === 'string' && /^wss?:\/\//.test(u)))
    throw new ConfigError('janus.urls', 'must be a list of ws:// or wss:// URLs');
  int('janus.wsPort', janus.wsPort, 0, 65535);
  int('janus.startTimeoutMs', janus.startTimeoutMs, 100, 600_000);
  int('janus.restartDelayMs', janus.restartDelayMs, 10, 600_000);
  int('janus.debugLevel', janus.debugLevel, 0, 7);
  const media = section('media', options.media, DEFAULTS.media);
  if (typeof media.publicUrl !== 'string' || (media.publicUrl && !/^wss?:\/\//.test(media.publicUrl)))
    throw new ConfigError('media.publicUrl', 'must be empty or a ws:// or wss:// URL');
  int('media.heartbeatMs', media.heartbeatMs, 1000, 600_000);

  return { host, port, apps, devMode: apps.length === 0, devAppSign, room, limits, http, log, janus, media };
}

/** The AppSign that signs an app's tokens (dev mode: the dev sign for any appid); undefined if unknown. */
export function appSignOf(config: ResolvedConfig, appid: number): string | undefined {
  if (config.devMode) return config.devAppSign;
  return config.apps.find((a) => a.appid === appid)?.appSign;
}

/**
 * Reads `zegoclient-server [--config file.json] [--port N] [--host H]` and the environment
 * (ZEGO_CONFIG, PORT, HOST), then resolves. CLI beats env beats file beats defaults.
 */
export function loadConfig(argv: string[], env: Record<string, string | undefined>): ResolvedConfig {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--(config|port|host)(?:=(.*))?$/.exec(a);
    if (!m) throw new ConfigError(`argument ${a}`, 'is not known (use --config FILE, --port N, --host H)');
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new ConfigError(`--${m[1]}`, 'needs a value');
    flags[m[1]!] = value;
  }
  const file = flags.config ?? env.ZEGO_CONFIG;
  let options: ServerOptions = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`file ${file}`, `cannot be read: ${(e as Error).message}`);
    }
    try {
      options = JSON.parse(text) as ServerOptions;
    } catch (e) {
      throw new ConfigError(`file ${file}`, `is not valid JSON: ${(e as Error).message}`);
    }
  }
  const port = flags.port ?? env.PORT;
  const host = flags.host ?? env.HOST;
  if (port !== undefined) {
    if (!/^\d+$/.test(port)) throw new ConfigError('port', `must be a number (got ${JSON.stringify(port)})`);
    options.port = Number(port);
  }
  if (host !== undefined) options.host = host;
  return resolveConfig(options);
}
