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
  MAX_EXTRA_INFO_BYTES,
  MAX_FRAME_BYTES,
  MAX_MESSAGE_BYTES,
} from '../protocol/constants';
import { addressList } from './addresses';
import { parseAppSign } from './auth/loginToken';
import { bool, ConfigError, int, section } from './configCheck';
import { PROXY_DEFAULTS, resolveProxy } from './proxy/proxyConfig';
import { resolveTurn, TURN_DEFAULTS } from './turn/turnConfig';
import { BRIDGE_DEFAULTS, checkBridge, type BridgeConfig } from './bridgeConfig';
import { resolveLiveConfig, type LiveConfig } from './liveConfig';
import {
  adminSecretOf,
  resolveOpsConfig,
  webhookEventsOf,
  type OpsConfig,
  type WebhookEventType,
} from './opsConfig';
import { resolveRedis, type RedisConfig } from './redis/redisConfig';

export interface AppConfig {
  appid: number;
  /** 64 lower-case hex characters once resolved. */
  appSign: string;
  thirdTokenUrl?: string;
  relayUrl?: string;
  /** Require streamParams (zg_expired/zg_nonce/zg_token) to publish and play. */
  streamAuth?: boolean;
  /** The 32-character ServerSecret that signs this app's `04` login tokens (token04, AES-GCM); '' = none. */
  serverSecret?: string;
  /** Accept legacy version-1 login tokens (default true: business servers already mint them). */
  allowV1Token?: boolean;
  /** loginWithAuthor only: a login without a third token is refused (needs thirdTokenUrl). */
  requireThirdToken?: boolean;
  /** A user may play streams published in another room of the app (legacy: true). */
  crossRoomPlay?: boolean;
  /**
   * Shims of this app send media only through TURN (`iceTransportPolicy: 'relay'`); default
   * `turn.relayOnly`. The original SDK is relay-only whatever this says.
   */
  relayOnly?: boolean;
  /**
   * Players that offer (the original SDK) play through the bridge (default false; dev mode: every app).
   * Off, they are answered CreateSessionRsp result 7.
   */
  clientOfferPlay?: boolean;
  /** Relay every stream of this app to the origin (stream lists carry urls_*); default `relay.all`. */
  relayAll?: boolean;
  /** Signs this app's admin API requests (docs/admin.md); '' = no admin access for the app. */
  adminSecret?: string;
  /** Where this app's webhooks are POSTed (docs/deployment.md, "Webhooks"); absent = none. */
  webhookUrl?: string;
  /** Signs this app's webhooks; '' = the adminSecret. */
  webhookSecret?: string;
  /** The webhook event types sent (default all). */
  webhookEvents?: WebhookEventType[];
}

/** A TURN server run by someone else (`turn.servers`): its URLs and its TURN REST shared secret. */
export interface ExternalTurnServer {
  /** `turn:` / `turns:` URLs, in the order a browser should prefer them. */
  urls: string[];
  /** The server's `static-auth-secret`. */
  secret: string;
}

/** The transports a TURN URL can name: UDP and TCP on `turn.port`, TLS on `turn.tlsPort`. */
export type TurnTransport = 'udp' | 'tcp' | 'tls';

export interface ResolvedConfig extends LiveConfig, OpsConfig {
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
    /** Streams one user may list at once, across the app's rooms (ServerCode.TooManyStreams beyond). */
    maxStreamsPerUser: number;
    /** Streams one room may list at once (ServerCode.TooManyStreams beyond). */
    maxStreamsPerRoom: number;
    /** A stream's extra_info, UTF-8 bytes (ServerCode.TooLarge beyond). */
    maxExtraInfoBytes: number;
    /**
     * How long a user's streams and media outlive a lost connection (room socket, media socket, media
     * server) before they end: the time a reconnecting page has to come back unnoticed, ms.
     */
    graceMs: number;
  };
  limits: {
    /** A message over this is refused unparsed (TooLarge / result 2); the socket stays. */
    maxFrameBytes: number;
    /** A message over this closes its socket 1009 at once (ws maxPayload: it is not even received). */
    maxMessageBytes: number;
    /** Frames one socket's unfinished message may have (close 1009 beyond). */
    maxFragments: number;
    /** Frames all sockets' unfinished messages may hold together (the socket that passes it: 1009). */
    maxUnfinishedFragments: number;
    /** Bytes all sockets' unfinished messages may hold together (the socket that passes it: 1009). */
    maxUnfinishedBytes: number;
    messagesPerSecond: number;
    burst: number;
    maxRooms: number;
    /** Refusals (over the rate) a socket may collect before it is closed 4001; they decay over time. */
    floodStrikes: number;
    /** Strikes forgiven per second. */
    strikeDecayPerSecond: number;
    /** Outbound bytes queued to one socket before it is closed 4007 as a slow reader. */
    maxOutboundBytes: number;
    /** Open TCP connections in total (HTTP and WebSocket); new ones beyond are dropped. */
    maxConnections: number;
    /** Open TCP connections from one remote address. */
    maxConnectionsPerIp: number;
    /** Calls to business servers (relay, third token, ...) one socket may have in flight. */
    callsInFlightPerSocket: number;
    /** ... one user (appid + idName) across its sockets. */
    callsInFlightPerUser: number;
    /** ... one app: what its business server sees at most from this node. */
    callsInFlightPerApp: number;
    /** Logged-in sockets (room and media) of one user (appid + idName), across planes and nodes. */
    maxSocketsPerUser: number;
    /** Logged-in sockets of one app. */
    maxSocketsPerApp: number;
    /** Streams one app may list across its rooms (ServerCode.TooManyStreams beyond). */
    maxStreamsPerApp: number;
    /** Media sessions (publishing and playing) of one user, across its media sockets. */
    maxSessionsPerUser: number;
    /** Media sessions of one app. */
    maxSessionsPerApp: number;
    /** Publishing media sessions (SFU publishers) of one user. */
    maxPublishersPerUser: number;
    /** Publishing media sessions of one app. */
    maxPublishersPerApp: number;
  };
  http: {
    thirdTokenTimeoutMs: number;
    relayTimeoutMs: number;
    /** A connection must complete its request headers within this, ms. */
    headersTimeoutMs: number;
    /** A whole request (headers and body) within this, ms. */
    requestTimeoutMs: number;
    /** An idle keep-alive connection is closed after this, ms. */
    keepAliveTimeoutMs: number;
    /** Request header bytes at most. */
    maxHeaderBytes: number;
    /** Addresses (IPs or CIDRs) that see /healthz details; others get a plain "ok". */
    healthAllow: string[];
    /** Origins allowed to read /token and the built files cross-origin ("*" any). Dev mode default: ["*"]. */
    corsOrigins: string[];
  };
  auth: {
    /** Longest lifetime a login token may claim (expired - now), s; older-looking or longer ones fail. */
    maxTokenLifetimeS: number;
  };
  log: { level: string };
  /**
   * Log lines shipped by shims whose page set remoteLogLevel / logUrl (`client_log`, our extension):
   * written to this server's log with the appid, room and user. Off by default.
   */
  clientLogs: {
    enabled: boolean;
    /** Lines one room socket may ship per minute; more are dropped (and counted in the log). */
    maxLinesPerMinute: number;
  };
  /**
   * The SFU. Spawned and supervised by default; `urls` (one running Janus) or `pool` (several) uses running
   * Janus instead.
   */
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
    /**
     * One running Janus, by its WebSocket URLs (failover addresses of the same Janus: the first, on loss the
     * next): if set, nothing is spawned.
     */
    urls: string[];
    /**
     * Running Janus servers, one entry each (a URL, or a list of failover URLs of that one Janus); resolved,
     * it is the external Janus in use: `[urls]` when `urls` is set, [] when Janus is spawned. Two or more:
     * a pool (a new publisher to the least loaded that is up, as with `instances`).
     */
    pool: string[][];
    /**
     * Where this node sends RTP to each Janus of `pool` (the mix output into its remote publisher, the
     * overflow relay's `publish_remotely`), one per entry: the entry's `rtpHost`, or `janus.rtpHost` for
     * `urls`; '' = the host name of the URL connected at the time. A spawned Janus: 127.0.0.1.
     */
    rtpHosts: string[];
    /** `urls` only: the address this node reaches that Janus's RTP ports at ('' = its URL's host). */
    rtpHost: string;
    /**
     * Spawned Janus processes (default 1). Over 1: a pool; a new publisher goes to the least loaded one, its
     * viewers to the same one, and `rtpPortRange` is split between them.
     */
    instances: number;
    /**
     * Viewers of one stream on one Janus of a pool (0 = no limit): past it, the stream is relayed to another
     * Janus of the pool (VideoRoom `publish_remotely` into `add_remote_publisher`) and new viewers go there.
     */
    maxViewersPerFeed: number;
    /** Port of the spawned Janus's WebSocket on 127.0.0.1 (0 = a free one). */
    wsPort: number;
    startTimeoutMs: number;
    restartDelayMs: number;
    debugLevel: number;
  };
  /**
   * TURN (docs/deployment.md, "TURN"): coturn spawned and supervised with its own config (default), or
   * the TURN servers of `servers`. Credentials are the TURN REST scheme, handed out per media session.
   */
  turn: {
    /** false: no TURN (pages whose network blocks UDP cannot publish or play; the original SDK cannot). */
    enabled: boolean;
    /** The coturn executable. */
    binary: string;
    /** Addresses coturn listens on; [] = the server's `host` (all addresses when that is 0.0.0.0 or ::). */
    listenIps: string[];
    /**
     * The host (name or IP) written in the TURN URLs; '' = the host the page used to reach this server
     * (the Host header of its media socket). A name must resolve, for browsers, to a `listenIps` address.
     */
    publicHost: string;
    /** UDP and TCP port (0 = a free one, chosen once at start). */
    port: number;
    /** TLS port (0 = a free one, chosen once at start). */
    tlsPort: number;
    /** The URLs handed out, in order of preference (the original SDK takes the first two). */
    transports: TurnTransport[];
    /** coturn `relay-ip`: the address relayed media leaves from ('' = coturn's choice). */
    relayIp: string;
    /** coturn `external-ip`: the public address of a server behind 1:1 NAT ('' = none). */
    externalIp: string;
    /** coturn `min-port`-`max-port`: relay ports, one per allocation, between coturn and the SFU. */
    relayPortRange: string;
    /**
     * The only peers the relay may reach (IPs or ranges `a-b`); [] = derived from `janus` (its
     * `interface`, `publicIp` and `iceEnforceList` IPs, else this host's own addresses).
     */
    allowedPeerIps: string[];
    /** The TURN REST shared secret ('' = random per start). */
    secret: string;
    realm: string;
    /** How long handed-out credentials stay valid, s. */
    credentialTtlS: number;
    /** PEM files for the TLS listener; '' and '' = a self-signed certificate made at start (dev only). */
    tlsCert: string;
    tlsKey: string;
    /** coturn `user-quota`: allocations one user may hold at once (a PeerConnection holds one per URL). */
    userQuota: number;
    /** coturn `total-quota`: allocations in all. */
    totalQuota: number;
    /** coturn `max-bps`: bytes per second one allocation may relay, each way (0 = no limit). */
    maxBps: number;
    /** coturn `bps-capacity`: bytes per second all allocations may relay together (0 = no limit). */
    bpsCapacity: number;
    /** Relay-only for apps that do not say (`apps[].relayOnly`), and for every app in dev mode. */
    relayOnly: boolean;
    /** TURN servers run elsewhere: if set, nothing is spawned. */
    servers: ExternalTurnServer[];
    startTimeoutMs: number;
    restartDelayMs: number;
  };
  /**
   * The cloud proxy (docs/deployment.md, "Cloud proxy"): nginx, supervised, on one TLS port that carries
   * the signalling sockets (token-checked) and TURN over TLS, for pages that call setCloudProxyConfig.
   */
  proxy: {
    /** false (default): no proxy. */
    enabled: boolean;
    /** The nginx executable (Debian nginx with libnginx-mod-stream). */
    binary: string;
    /** Addresses the proxy listens on; [] = the server's `host`. */
    listenIps: string[];
    /** The one public port (0 = a free one, chosen once at start). */
    port: number;
    /** The name in the TURN URLs handed out through the proxy ('' = the host the page used). */
    publicHost: string;
    /** The port browsers reach the proxy on, when it differs from `port` (port mapping); 0 = `port`. */
    publicPort: number;
    /** PEM files (certificate chain, key) for the proxy's name; '' = self-signed at start (dev only). */
    tlsCert: string;
    tlsKey: string;
    /** When the server runs as root, nginx runs as this user (with only the right to bind low ports). */
    user: string;
    /** nginx's stream module ('' = Debian's /usr/lib/nginx/modules/ngx_stream_module.so if present). */
    streamModule: string;
    /** nginx `worker_connections` (a proxied socket holds two: the client's and the upstream). */
    workerConnections: number;
    startTimeoutMs: number;
    restartDelayMs: number;
  };
  media: {
    /** The media signalling URL handed out by dispatch ('' = ws(s)://<Host header>/media). */
    publicUrl: string;
    /** Media-socket heartbeat interval handed to clients, ms (legacy 10 s). */
    heartbeatMs: number;
    /** A logged-in media socket with no session is closed after this, ms. */
    idleTimeoutMs: number;
  };
  /** The client-offer play bridge (a worker process): src/server/bridgeConfig.ts. */
  bridge: BridgeConfig;
  /** Many nodes: the shared room state (redis/redisConfig.ts); off by default (one node, in memory). */
  redis: RedisConfig;
}

/** Everything optional: what a config file or `startServer(options)` may give. */
export type ServerOptions = {
  [K in Exclude<keyof ResolvedConfig, 'janus'>]?: ResolvedConfig[K] extends object
    ? ResolvedConfig[K] extends unknown[]
      ? Partial<AppConfig>[]
      : Partial<ResolvedConfig[K]>
    : ResolvedConfig[K];
} & {
  /**
   * `pool` entries: a Janus's URL, the list of its failover URLs, or `{ urls, rtpHost }` (the address
   * this node sends RTP to that Janus at).
   */
  janus?: Partial<Omit<ResolvedConfig['janus'], 'pool' | 'rtpHosts'>> & {
    pool?: (string | string[] | { urls: string | string[]; rtpHost?: string })[];
  };
};

const DEFAULTS: Omit<
  ResolvedConfig,
  'apps' | 'devMode' | 'devAppSign' | 'redis' | keyof LiveConfig | keyof OpsConfig
> = {
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
    maxStreamsPerUser: 10,
    maxStreamsPerRoom: 50,
    maxExtraInfoBytes: MAX_EXTRA_INFO_BYTES,
    graceMs: 15_000,
  },
  limits: {
    maxFrameBytes: MAX_FRAME_BYTES,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    maxFragments: 128,
    maxUnfinishedFragments: 32_768,
    maxUnfinishedBytes: 32 * 1024 * 1024,
    messagesPerSecond: 50,
    burst: 100,
    maxRooms: 10_000,
    floodStrikes: 50,
    strikeDecayPerSecond: 5,
    maxOutboundBytes: 2 * 1024 * 1024,
    maxConnections: 20_000,
    maxConnectionsPerIp: 1024,
    callsInFlightPerSocket: 8,
    callsInFlightPerUser: 16,
    callsInFlightPerApp: 128,
    maxSocketsPerUser: 16,
    maxSocketsPerApp: 20_000,
    maxStreamsPerApp: 10_000,
    maxSessionsPerUser: 64,
    maxSessionsPerApp: 10_000,
    maxPublishersPerUser: 10,
    maxPublishersPerApp: 1000,
  },
  http: {
    thirdTokenTimeoutMs: 5_000,
    relayTimeoutMs: 5_000,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    maxHeaderBytes: 16 * 1024,
    healthAllow: ['127.0.0.0/8', '::1'],
    corsOrigins: [],
  },
  auth: { maxTokenLifetimeS: 7 * 24 * 3600 },
  log: { level: 'info' },
  clientLogs: { enabled: false, maxLinesPerMinute: 600 },
  janus: {
    enabled: true,
    binary: 'janus',
    libDir: '',
    interface: '',
    iceEnforceList: '',
    publicIp: '',
    rtpPortRange: '20000-20100',
    urls: [],
    pool: [],
    rtpHosts: [],
    rtpHost: '',
    instances: 1,
    maxViewersPerFeed: 0,
    wsPort: 0,
    startTimeoutMs: 10_000,
    restartDelayMs: 500,
    debugLevel: 4,
  },
  turn: TURN_DEFAULTS,
  proxy: PROXY_DEFAULTS,
  media: { publicUrl: '', heartbeatMs: 10_000, idleTimeoutMs: 60_000 },
  bridge: BRIDGE_DEFAULTS,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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

const JANUS_URL = /^wss?:\/\/[^/\s]+/;

/** A host name or an IP address, no scheme, no port (as `mix.forwardHost`). */
const RTP_HOST = /^[\w.-]{1,253}$|^[\da-fA-F:]+$/;

/**
 * `janus.pool`: one entry per running Janus, a URL, a non-empty list of its failover URLs, or
 * `{ "urls": URL or list, "rtpHost": address }`; no URL twice (two members on one Janus would each number
 * its VideoRoom rooms from the same start and collide). Returns the URLs and the rtpHost ('' = from the
 * connected URL) of each entry.
 */
function janusPool(v: unknown): { urls: string[]; rtpHost: string }[] {
  if (v === undefined) return [];
  if (!Array.isArray(v))
    throw new ConfigError(
      'janus.pool',
      'must be a list of Janus servers (a URL, a list of failover URLs, or { "urls", "rtpHost" } each)',
    );
  if (v.length > 64) throw new ConfigError('janus.pool', 'must list at most 64 Janus servers');
  const seen = new Set<string>();
  return v.map((raw: unknown, i) => {
    const f = `janus.pool[${i}]`;
    let entry = raw;
    let rtpHost = '';
    let base = f;
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
      const o = raw as Record<string, unknown>;
      const extra = Object.keys(o).filter((k) => k !== 'urls' && k !== 'rtpHost');
      if (extra.length)
        throw new ConfigError(f, `has unknown key ${extra[0]} (an entry object takes "urls" and "rtpHost")`);
      if (o.rtpHost !== undefined) {
        if (typeof o.rtpHost !== 'string' || !RTP_HOST.test(o.rtpHost))
          throw new ConfigError(
            `${f}.rtpHost`,
            'must be a host name or IP address of that Janus as this node reaches it (no scheme, no port)',
          );
        rtpHost = o.rtpHost;
      }
      if (o.urls === undefined) throw new ConfigError(`${f}.urls`, 'is required (a URL or a list of them)');
      entry = o.urls;
      base = `${f}.urls`;
    }
    const urls: unknown[] = Array.isArray(entry) ? entry : [entry];
    if (!urls.length)
      throw new ConfigError(base, 'must not be empty (a URL, or a list of failover URLs of one Janus)');
    return {
      rtpHost,
      urls: urls.map((u, j) => {
        const at = Array.isArray(entry) ? `${base}[${j}]` : base;
        if (typeof u !== 'string' || !JANUS_URL.test(u))
          throw new ConfigError(at, `must be a ws:// or wss:// URL (got ${JSON.stringify(u)})`);
        try {
          new URL(u);
        } catch {
          throw new ConfigError(at, `must be a ws:// or wss:// URL (got ${JSON.stringify(u)})`);
        }
        if (seen.has(u)) throw new ConfigError(at, `repeats ${u}: each Janus is one entry of the pool`);
        seen.add(u);
        return u;
      }),
    };
  });
}

function secret(field: string, v: unknown): string {
  if (v === undefined || v === '') return '';
  // The AES-256 key is the secret's bytes: 32 printable ASCII characters (as the vendor's consoles issue).
  if (typeof v !== 'string' || !/^[\x21-\x7e]{32}$/.test(v))
    throw new ConfigError(field, 'must be the 32-character ServerSecret (printable ASCII)');
  return v;
}

/** An app's admin secret and webhook settings (a webhook needs a secret to be signed with). */
function webhookOf(
  f: string,
  a: Partial<AppConfig>,
): Pick<AppConfig, 'adminSecret' | 'webhookUrl' | 'webhookSecret' | 'webhookEvents'> {
  const adminSecret = adminSecretOf(`${f}.adminSecret`, a.adminSecret);
  const webhookUrl = url(`${f}.webhookUrl`, a.webhookUrl);
  const webhookSecret = adminSecretOf(`${f}.webhookSecret`, a.webhookSecret);
  if (webhookUrl && !webhookSecret && !adminSecret)
    throw new ConfigError(`${f}.webhookUrl`, 'needs webhookSecret (or adminSecret) to sign the webhooks');
  // Only what is set: an app without operator tools looks as it did before them.
  const events = webhookEventsOf(`${f}.webhookEvents`, a.webhookEvents);
  return {
    ...(adminSecret ? { adminSecret } : {}),
    ...(webhookUrl ? { webhookUrl, webhookSecret: webhookSecret || adminSecret, webhookEvents: events } : {}),
  };
}

function requireThird(f: string, a: Partial<AppConfig>): boolean {
  if (a.requireThirdToken === undefined) return false;
  const on = bool(`${f}.requireThirdToken`, a.requireThirdToken);
  if (on && !a.thirdTokenUrl) throw new ConfigError(`${f}.requireThirdToken`, 'needs thirdTokenUrl');
  return on;
}

/** Validates options over the embedded defaults. Throws a ConfigError naming the bad field. */
export function resolveConfig(options: ServerOptions = {}): ResolvedConfig {
  const known = [
    'host',
    'port',
    'apps',
    'devAppSign',
    'room',
    'limits',
    'http',
    'auth',
    'log',
    'clientLogs',
    'janus',
    'turn',
    'proxy',
    'media',
    'bridge',
    'origin',
    'mix',
    'relay',
    'admin',
    'webhooks',
    'metrics',
    'redis',
  ];
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
      serverSecret: secret(`${f}.serverSecret`, a.serverSecret),
      allowV1Token: a.allowV1Token === undefined ? true : bool(`${f}.allowV1Token`, a.allowV1Token),
      requireThirdToken: requireThird(f, a),
      crossRoomPlay: a.crossRoomPlay === undefined ? true : bool(`${f}.crossRoomPlay`, a.crossRoomPlay),
      relayOnly: a.relayOnly === undefined ? undefined : bool(`${f}.relayOnly`, a.relayOnly),
      clientOfferPlay:
        a.clientOfferPlay === undefined ? false : bool(`${f}.clientOfferPlay`, a.clientOfferPlay),
      relayAll: a.relayAll === undefined ? undefined : bool(`${f}.relayAll`, a.relayAll),
      ...webhookOf(f, a),
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
  int('room.maxStreamsPerUser', room.maxStreamsPerUser, 1, 1000);
  int('room.maxStreamsPerRoom', room.maxStreamsPerRoom, 1, 10_000);
  int('room.maxExtraInfoBytes', room.maxExtraInfoBytes, 0, 16 * 1024);
  int('room.graceMs', room.graceMs, 100, 600_000);
  const limits = section('limits', options.limits, DEFAULTS.limits);
  int('limits.maxFrameBytes', limits.maxFrameBytes, 1024, 16 * 1024 * 1024);
  if (options.limits?.maxMessageBytes === undefined)
    limits.maxMessageBytes = Math.max(MAX_MESSAGE_BYTES, limits.maxFrameBytes);
  int('limits.maxMessageBytes', limits.maxMessageBytes, limits.maxFrameBytes, 64 * 1024 * 1024);
  int('limits.maxFragments', limits.maxFragments, 1, 1_000_000);
  int('limits.maxUnfinishedFragments', limits.maxUnfinishedFragments, limits.maxFragments, 100_000_000);
  int('limits.maxUnfinishedBytes', limits.maxUnfinishedBytes, limits.maxMessageBytes, 16 * 1024 ** 3);
  int('limits.messagesPerSecond', limits.messagesPerSecond, 1, 1_000_000);
  int('limits.burst', limits.burst, 1, 1_000_000);
  int('limits.maxRooms', limits.maxRooms, 1, 10_000_000);
  int('limits.floodStrikes', limits.floodStrikes, 1, 1_000_000);
  int('limits.strikeDecayPerSecond', limits.strikeDecayPerSecond, 0, 1_000_000);
  int('limits.maxOutboundBytes', limits.maxOutboundBytes, 64 * 1024, 1024 * 1024 * 1024);
  int('limits.maxConnections', limits.maxConnections, 1, 10_000_000);
  int('limits.maxConnectionsPerIp', limits.maxConnectionsPerIp, 1, 10_000_000);
  int('limits.callsInFlightPerSocket', limits.callsInFlightPerSocket, 1, 100_000);
  int('limits.callsInFlightPerUser', limits.callsInFlightPerUser, 1, 100_000);
  int('limits.callsInFlightPerApp', limits.callsInFlightPerApp, 1, 1_000_000);
  for (const k of [
    'maxSocketsPerUser',
    'maxSocketsPerApp',
    'maxStreamsPerApp',
    'maxSessionsPerUser',
    'maxSessionsPerApp',
    'maxPublishersPerUser',
    'maxPublishersPerApp',
  ] as const)
    int(`limits.${k}`, limits[k], 1, 10_000_000);
  const http = section('http', options.http, DEFAULTS.http);
  int('http.thirdTokenTimeoutMs', http.thirdTokenTimeoutMs, 1, 120_000);
  int('http.relayTimeoutMs', http.relayTimeoutMs, 1, 120_000);
  int('http.headersTimeoutMs', http.headersTimeoutMs, 100, 600_000);
  int('http.requestTimeoutMs', http.requestTimeoutMs, 100, 3_600_000);
  int('http.keepAliveTimeoutMs', http.keepAliveTimeoutMs, 100, 600_000);
  int('http.maxHeaderBytes', http.maxHeaderBytes, 1024, 1024 * 1024);
  for (const k of ['healthAllow', 'corsOrigins'] as const)
    if (
      !Array.isArray(http[k]) ||
      !http[k].every((v) => typeof v === 'string' && v.length > 0 && v.length <= 256)
    )
      throw new ConfigError(`http.${k}`, 'must be a list of non-empty strings');
  if (options.http?.corsOrigins === undefined && apps.length === 0) http.corsOrigins = ['*'];
  try {
    addressList('http.healthAllow', http.healthAllow);
  } catch (e) {
    throw new ConfigError(
      'http.healthAllow',
      (e as Error).message.replace(/^config: http\.healthAllow /, ''),
    );
  }
  if (http.headersTimeoutMs > http.requestTimeoutMs)
    throw new ConfigError('http.headersTimeoutMs', 'must not exceed http.requestTimeoutMs');
  const auth = section('auth', options.auth, DEFAULTS.auth);
  int('auth.maxTokenLifetimeS', auth.maxTokenLifetimeS, 60, 10 * 365 * 24 * 3600);
  const log = section('log', options.log, DEFAULTS.log);
  if (!LOG_LEVELS.includes(log.level))
    throw new ConfigError('log.level', `must be one of ${LOG_LEVELS.join(', ')}`);

  const clientLogs = section('clientLogs', options.clientLogs, DEFAULTS.clientLogs);
  bool('clientLogs.enabled', clientLogs.enabled);
  int('clientLogs.maxLinesPerMinute', clientLogs.maxLinesPerMinute, 1, 1_000_000);

  const janus = section('janus', options.janus, DEFAULTS.janus);
  if (typeof janus.enabled !== 'boolean') throw new ConfigError('janus.enabled', 'must be true or false');
  for (const k of ['binary', 'libDir', 'interface', 'iceEnforceList', 'publicIp', 'rtpHost'] as const)
    if (typeof janus[k] !== 'string') throw new ConfigError(`janus.${k}`, 'must be a string');
  if (!janus.binary) throw new ConfigError('janus.binary', 'must not be empty');
  const range = /^(\d+)-(\d+)$/.exec(String(janus.rtpPortRange));
  if (!range || Number(range[1]) < 1 || Number(range[1]) >= Number(range[2]) || Number(range[2]) > 65535)
    throw new ConfigError('janus.rtpPortRange', 'must be "min-max" with 1 <= min < max <= 65535');
  if (!Array.isArray(janus.urls) || !janus.urls.every((u) => typeof u === 'string' && /^wss?:\/\//.test(u)))
    throw new ConfigError('janus.urls', 'must be a list of ws:// or wss:// URLs');
  const pool = janusPool(janus.pool);
  if (pool.length && janus.urls.length)
    throw new ConfigError(
      'janus.pool',
      'cannot go with janus.urls (urls is one Janus with failover addresses: put it in the pool as one entry)',
    );
  if (janus.rtpHost && !RTP_HOST.test(janus.rtpHost))
    throw new ConfigError(
      'janus.rtpHost',
      'must be a host name or IP address of the Janus as this node reaches it (no scheme, no port)',
    );
  if (janus.rtpHost && !janus.urls.length)
    throw new ConfigError(
      'janus.rtpHost',
      pool.length
        ? 'goes with janus.urls; a pool entry gives its own: { "urls": [...], "rtpHost": "..." }'
        : 'is for an external Janus (janus.urls): a spawned one is reached at 127.0.0.1',
    );
  int('janus.wsPort', janus.wsPort, 0, 65535);
  int('janus.instances', janus.instances, 1, 16);
  int('janus.maxViewersPerFeed', janus.maxViewersPerFeed, 0, 100_000);
  if (janus.maxViewersPerFeed > 0 && janus.instances < 2 && pool.length < 2)
    throw new ConfigError(
      'janus.maxViewersPerFeed',
      'relays to another Janus of a pool: it needs janus.instances > 1 or two or more janus.pool entries',
    );
  if (janus.instances > 1 && janus.urls.length)
    throw new ConfigError('janus.instances', 'spawns Janus: it cannot go with janus.urls');
  if (janus.instances > 1 && pool.length)
    throw new ConfigError('janus.instances', 'spawns Janus: it cannot go with janus.pool');
  const entries = pool.length
    ? pool
    : janus.urls.length
      ? [{ urls: [...janus.urls], rtpHost: janus.rtpHost }]
      : [];
  janus.pool = entries.map((e) => e.urls);
  janus.rtpHosts = entries.map((e) => e.rtpHost);
  if (janus.instances > 1 && Number(range[2]) - Number(range[1]) + 1 < janus.instances * 2)
    throw new ConfigError('janus.instances', 'needs at least 2 ports of janus.rtpPortRange per instance');
  int('janus.startTimeoutMs', janus.startTimeoutMs, 100, 600_000);
  int('janus.restartDelayMs', janus.restartDelayMs, 10, 600_000);
  int('janus.debugLevel', janus.debugLevel, 0, 7);
  const turn = resolveTurn(options.turn, janus);
  const proxy = resolveProxy(options.proxy, { port, janus, turn });
  const media = section('media', options.media, DEFAULTS.media);
  if (typeof media.publicUrl !== 'string' || (media.publicUrl && !/^wss?:\/\//.test(media.publicUrl)))
    throw new ConfigError('media.publicUrl', 'must be empty or a ws:// or wss:// URL');
  int('media.heartbeatMs', media.heartbeatMs, 1000, 600_000);
  int('media.idleTimeoutMs', media.idleTimeoutMs, 1000, 3_600_000);
  const bridge = checkBridge(section('bridge', options.bridge, DEFAULTS.bridge), (f, p) => {
    throw new ConfigError(f, p);
  });

  const live = resolveLiveConfig(options, apps.length === 0, (f, p) => {
    throw new ConfigError(f, p);
  });
  const ops = resolveOpsConfig(options);

  return {
    ...live,
    ...ops,
    host,
    port,
    apps,
    devMode: apps.length === 0,
    devAppSign,
    room,
    limits,
    http,
    auth,
    log,
    clientLogs,
    janus,
    turn,
    proxy,
    media,
    bridge,
    redis: resolveRedis(options.redis),
  };
}

/** Players of this app that offer play through the bridge (its config; dev mode: every app). */
export function clientOfferPlayOf(config: ResolvedConfig, appid: number): boolean {
  if (!config.bridge.enabled) return false;
  if (config.devMode) return true;
  return config.apps.find((a) => a.appid === appid)?.clientOfferPlay === true;
}

/** The AppSign that signs an app's tokens (dev mode: the dev sign for any appid); undefined if unknown. */
export function appSignOf(config: ResolvedConfig, appid: number): string | undefined {
  if (config.devMode) return config.devAppSign;
  return config.apps.find((a) => a.appid === appid)?.appSign;
}

/** The options of a JSON config file (not yet validated). Throws a ConfigError naming the file. */
export function readConfigFile(file: string): ServerOptions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`file ${file}`, `cannot be read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as ServerOptions;
  } catch (e) {
    throw new ConfigError(`file ${file}`, `is not valid JSON: ${(e as Error).message}`);
  }
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
  const options: ServerOptions = file ? readConfigFile(file) : {};
  const port = flags.port ?? env.PORT;
  const host = flags.host ?? env.HOST;
  if (port !== undefined) {
    if (!/^\d+$/.test(port)) throw new ConfigError('port', `must be a number (got ${JSON.stringify(port)})`);
    options.port = Number(port);
  }
  if (host !== undefined) options.host = host;
  return resolveConfig(options);
}
