/**
 * The zegoclient-shim server: HTTP (demo, dist, health, dev tokens) and the legacy room protocol at /ws.
 *
 * @example
 *   const server = await startServer({ port: 0, log: { level: 'silent' } });
 *   console.log(server.url); await server.close();
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { CloseCode } from '../protocol/errors';
import { resolveConfig, type ResolvedConfig, type ServerOptions } from './config';
import { Connection } from './gateway/Connection';
import { FragmentMeter, UnfinishedPool } from './gateway/FragmentMeter';
import type { FrameSocket } from './gateway/FrameSocket';
import {
  httpHandler,
  httpServerOptions,
  onClientError,
  onWsClientError,
  refuseRaw,
  upgradePath,
} from './http';
import type { Member } from './room/Member';
import { RoomService } from './room/RoomService';
import { StaticFiles } from './StaticFiles';
import { QuietCollector } from './QuietCollector';
import { ConnectionLimits, type ConnectionStats } from './connectionLimits';
import { systemClock, type Clock } from './clock';
import type { MediaBackend, MediaBackendHealth } from './media/MediaBackend';
import { BackendPool } from './media/BackendPool';
import { JanusBackend } from './media/JanusBackend';
import { MediaService } from './media/MediaService';
import { startBridge } from './media/bridge/startBridge';
import type { BridgeService } from './media/bridge/BridgeService';
import { LiveService } from './mix/LiveService';
import { streamRefOf } from './NodeCalls';
import { RemoteInputs } from './mix/RemoteInputs';
import { Origin } from './origin/Origin';
import { CallLimiter, callBoundsFrom } from './outbound/CallLimiter';
import { Caps, capLimitsFrom } from './caps/Caps';
import { MemoryCapCounters } from './caps/CapCounters';
import { Presence } from './presence/Presence';
import { redisOn } from './redis/redisConfig';
import { RedisRoomStore } from './redis/RedisRoomStore';
import { RedisWebhookQueue } from './redis/RedisWebhookQueue';
import { startRedisState, type RedisState } from './redis/redisState';
import { TurnService } from './turn/TurnService';
import { ProxyService } from './proxy/ProxyService';
import { cameThroughProxy, openProxyFeed, proxyTurnUrl, proxyVerdictOf } from './proxy/proxyFeed';
import { guarded, unref } from './timers';
import { startOps } from './startOps';
import type { Metrics } from './metrics/Metrics';

export { loadConfig, resolveConfig, type ResolvedConfig, type ServerOptions } from './config';
export { mintLoginToken, verifyLoginToken, parseAppSign } from './auth/loginToken';
export { mintToken04 } from './auth/token04';
export { verifyRoomToken } from './auth/roomToken';
export { mintStreamParams, checkStreamParams } from './auth/streamToken';
export { mintProxyToken, verifyProxyToken } from './auth/proxyToken';
// A business server written in Node can sign admin calls and check webhooks with the server's own code.
export { signAdminRequest } from './admin/signature';
export { webhookSignature } from './webhooks/sign';

export interface RunningServer {
  port: number;
  host: string;
  /** http://host:port */
  url: string;
  config: ResolvedConfig;
  /** Closes every room and media socket (as on a network cut); the server keeps running. */
  dropAllConnections(): void;
  /** The spawned Janus's pid (undefined with external Janus or none). */
  janusPid(): number | undefined;
  /** Open Janus handles (for leak checks). */
  janusHandles(): number;
  /** The spawned redis-server's pid (redis.spawn), and this node's id with Redis. */
  redisPid(): number | undefined;
  node(): string | undefined;
  /** The spawned coturn's pid (undefined with external TURN or none). */
  turnPid(): number | undefined;
  /** The cloud proxy's nginx pid and public port (undefined / 0 when it is off or down). */
  proxyPid(): number | undefined;
  proxyPort(): number;
  /**
   * The Prometheus metrics (null when `metrics.enabled` is false); `observeRedis(op, seconds)` is the hook
   * a Redis store and bus feed.
   */
  metrics: Metrics | null;
  close(): Promise<void>;
}

/** Process memory in MiB, two decimals (/healthz details). */
function memoryMiB(): Record<string, number> {
  const m = process.memoryUsage();
  const mib = (b: number) => Math.round(b / 10485.76) / 100;
  return {
    rssMiB: mib(m.rss),
    heapTotalMiB: mib(m.heapTotal),
    heapUsedMiB: mib(m.heapUsed),
    externalMiB: mib(m.external),
  };
}

/** The files every page loads, read and compressed at start (the ESM build waits for its first request). */
const PRELOADED = ['ZegoClient.js', 'ZegoClient.js.map', 'jZego-rtc.js', 'jZego-rtc.js.map', 'index.html'];

/** Connections waiting to be accepted (the kernel caps it at net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;

/** On shutdown, close frames get this long to leave before the sockets are cut, ms. */
const SHUTDOWN_FLUSH_MS = 150;
/** The rest of a shutdown (the SFU stopping) is not waited for longer than this, ms. */
const SHUTDOWN_MS = 600;

/** The package root, whether running from src/server (ts) or dist/server (built). */
const PACKAGE_ROOT = join(__dirname, '..', '..');

/**
 * `logStream`: where the JSON log goes instead of stdout (tests read the server's log from it).
 */
/** What an embedder or a test may put in place of the defaults. */
export interface ServerSeams {
  /** Where the JSON log goes instead of stdout (tests read the server's log from it). */
  logStream?: pino.DestinationStream;
  /** The SFU instead of the Janus the config describes (tests: spec/fakes/FakeBackend.ts). */
  backend?: MediaBackend;
  /** Time for grace periods (tests: a fake clock). */
  clock?: Clock;
}

export async function startServer(
  options: ServerOptions | ResolvedConfig = {},
  seams: ServerSeams | pino.DestinationStream = {},
): Promise<RunningServer> {
  const {
    logStream,
    backend: givenBackend,
    clock = systemClock,
  } = 'write' in seams ? { logStream: seams as pino.DestinationStream } : (seams as ServerSeams);
  const config: ResolvedConfig =
    'devMode' in options ? (options as ResolvedConfig) : resolveConfig(options as ServerOptions);
  const log = pino({ level: config.log.level, base: undefined }, logStream);
  if (config.devMode) {
    log.warn(
      '\n*** DEV MODE: no apps configured. Any appid is accepted and GET /token hands out valid login tokens.' +
        '\n*** Configure "apps" with their appSign before exposing this server.',
    );
  }
  // Before anything is spawned: a bad http setting fails the start with nothing to clean up.
  const httpOptions = httpServerOptions(config.http);
  const presence = new Presence(clock, config.room.graceMs);
  const backend: MediaBackend | null = givenBackend ?? (await startBackend(config, log));
  // TURN serves the media plane: started with it, never fatal (TurnService says why it is off).
  const turn = new TurnService(config, log);
  await turn.start();
  // One bound on calls to business servers for the whole process: every plane that calls one shares it.
  const calls = new CallLimiter(callBoundsFrom(config.limits));
  // Many nodes: the room state, the bus and the caps in Redis (without `redis` in the config: this node's,
  // in memory). A Redis that cannot be reached at start fails the start (nothing half-shared).
  let shared: RedisState | null = null;
  try {
    shared = redisOn(config) ? await startRedisState(config, log) : null;
  } catch (e) {
    presence.dispose();
    await Promise.all([backend?.close(), turn.stop()]);
    throw e;
  }
  // The per-user and per-app caps, one set for both planes (this node's, or every node's through Redis).
  const caps = new Caps(shared?.counters ?? new MemoryCapCounters(), capLimitsFrom(config));
  const rooms = new RoomService(
    config,
    log,
    presence,
    async (c, streamId, ptype) => {
      if (!backend?.up) return '';
      // Many nodes: a viewer is sent to the node whose media plane holds the stream's publisher.
      if (shared && ptype === 'pull' && c.session) {
        const there = await shared.mediaNodeUrl(c.session.appid, streamId).catch(() => undefined);
        if (there) return there;
      }
      // Through the cloud proxy, media signalling goes through it too (the Host the page used).
      if (config.media.publicUrl && !c.proxy) return config.media.publicUrl;
      return c.host ? `${c.secure ? 'wss' : 'ws'}://${c.host}/media` : '';
    },
    { calls, caps, state: shared?.state },
  );
  // Many nodes: the webhook queue in Redis (made by startOps below when an app has a webhook).
  let hookQueue: RedisWebhookQueue | null = null;
  if (shared) {
    const lease = shared.lease;
    lease.onDeadMembers = (_node, members, replaced) => {
      for (const [appid, roomId, idName, sessionId] of members)
        void rooms.memberLost(Number(appid), roomId, idName, sessionId);
      for (const [appid, roomId, idName, sessionId, nickName, role] of replaced)
        rooms.replacedLost(Number(appid), roomId, { idName, nickName, role: Number(role), sessionId });
    };
    // Redis lost what this node wrote: the room state is written back, and the webhook events this node
    // queued and has not seen delivered (once per loss: the room's write-back may be retried).
    let rewritten = false;
    lease.onLost = async () => {
      if (!rewritten) hookQueue?.rewrite();
      rewritten = true;
      const ok = await rooms.stateLost();
      if (ok) rewritten = false;
      return ok;
    };
    shared.onReconnect = () => lease.checkNow();
  }
  // The cloud proxy (nginx): it forwards to the server's unix socket (proxy/proxyFeed.ts).
  const proxy = new ProxyService(config, log, () => turn.localAddress());
  // The client-offer play bridge runs beside our own Janus backend only (a test's fake SFU has none).
  const bridge: BridgeService | null = backend && !givenBackend ? startBridge(config, backend, log) : null;
  const media = backend
    ? new MediaService(
        config,
        log,
        backend,
        rooms,
        presence,
        clock,
        (appid, idName, host, viaProxy) =>
          turn.grant(
            appid,
            idName,
            host,
            viaProxy && host ? [proxyTurnUrl(config.proxy, proxy.publicPort, host)] : undefined,
          ),
        bridge,
        caps,
      )
    : null;
  // Live production (mixing, CDN relay, the origin) needs the media plane: it forwards publishers' RTP.
  const live = backend && media ? startLive(config, log, backend, media, rooms, calls) : null;
  rooms.live = live;
  // Many nodes: a mix here may take inputs published on other nodes (their Janus forward to this mixer).
  if (shared && live && media)
    live.setRemoteInputs(
      new RemoteInputs(
        shared.calls,
        media,
        shared.nodeOf,
        () => shared.lease.liveNodes(),
        config.mix.forwardHost,
        log,
      ),
    );
  const startedAt = Date.now();
  // Metrics, webhooks, the admin API and page (startOps.ts).
  // Many nodes: what the other nodes may ask of this one's media plane.
  if (shared && media)
    shared.calls.handle('media.endPublisher', (b) => {
      const { appid, streamId } = streamRefOf(b);
      return media.endPublisher(appid, streamId);
    });
  const ops = startOps({
    config,
    log,
    startedAt,
    rooms,
    backend,
    media,
    live,
    bridge,
    lease: shared?.lease,
    cluster: shared ? { calls: shared.calls, nodeOf: shared.nodeOf } : undefined,
    webhookQueue: shared
      ? (appids) =>
          (hookQueue = new RedisWebhookQueue(
            shared.redis,
            config.redis.prefix,
            appids,
            {
              queueSize: config.webhooks.queueSize,
              maxAttempts: config.webhooks.maxAttempts,
              // A claim outlives one attempt and a node's lease: a node that dies mid-attempt loses it then.
              claimLeaseMs: config.webhooks.timeoutMs + config.redis.nodeTtlMs,
              // One round of deliveries claimed ahead: each waits at most one attempt's time here.
              prefetch: config.webhooks.concurrency,
              lease: { node: shared.node, lost: () => shared.lease.isLost },
            },
            log,
          ))
      : undefined,
  });
  // Many nodes: every room step's Redis round trip in the metrics.
  const metrics = ops.metrics;
  if (shared?.state.store instanceof RedisRoomStore && metrics)
    shared.state.store.onLatency = (op, s) => metrics.observeRedis(op, s);
  // One place decides who hears a departure first: the room (its 12002 reaches viewers), then media.
  presence.on(
    'userGone',
    guarded(log, 'user gone', (u) => {
      // The room first (its 12002 reaches viewers before their media closes; in memory the step is done
      // within this call).
      rooms
        .userGone(u)
        .catch((e: Error) => log.warn({ err: e.message, idName: u.idName }, 'user gone: streams'));
      media?.userGone(u);
      live?.userGone(u.appid, u.roomId, u.idName);
    }),
  );
  presence.on(
    'streamGone',
    guarded(log, 'stream gone', (u, streamId) => {
      rooms
        .streamGone(u, streamId)
        .catch((e: Error) => log.warn({ err: e.message, stream: streamId }, 'stream gone: not unlisted'));
    }),
  );
  const turnStats = () => ({
    turn: turn.state,
    turnPid: turn.pid ?? null,
    turnStarts: turn.starts,
    turnPort: turn.ports.port || null,
    turnTlsPort: turn.ports.tlsPort || null,
    ...(turn.reason ? { turnOff: turn.reason } : {}),
  });
  const mediaStats = () =>
    backend && media
      ? {
          janus: backend.up ? 'up' : 'down',
          ...media.stats(),
          ...backendStats(backend),
          ...turnStats(),
          ...bridge?.health(),
        }
      : { janus: 'off', ...turnStats() };
  let proxyFeed: import('node:net').Server | null = null;
  /** `keepOps`: the webhooks and Redis are closed later by the caller (shutdown: after the sockets). */
  const stopMedia = async (code?: number, keepOps = false) => {
    const liveStopped = live
      ?.close()
      .catch((e: Error) => log.error({ err: e.message }, 'live production stop'));
    media?.dispose(code);
    presence.dispose();
    proxyFeed?.close();
    if (!keepOps) ops.close();
    await Promise.all([
      backend?.close(),
      turn.stop(),
      bridge?.stop(),
      liveStopped,
      proxy.stop(),
      keepOps ? undefined : shared?.close(),
    ]);
  };
  // Event-loop delay since start (/healthz details): how long a request may wait behind others.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let connections: () => ConnectionStats | null = () => null;
  let collector: QuietCollector | null = null;
  // The built files and the demo, read and compressed now (off the loop), served from memory.
  const distDir = join(PACKAGE_ROOT, 'dist');
  const demoDir = join(PACKAGE_ROOT, 'demo');
  const files = new StaticFiles();
  for (const f of PRELOADED) void files.preload(join(f === 'index.html' ? demoDir : distDir, f));
  const http = createServer(
    httpOptions,
    httpHandler({
      config,
      distDir,
      demoDir,
      files,
      startedAt,
      log,
      admin: ops.admin,
      metrics: ops.metrics,
      stats: () => ({
        ...rooms.stats(),
        ...(shared ? { nodes: shared.health() } : {}),
        roomSockets: rooms.counters,
        connections: connections(),
        businessCalls: calls.stats(),
        webhooks: ops.webhooks.stats(),
        unfinishedMessages: unfinished.stats(),
        media: mediaStats(),
        live: live?.stats() ?? { origin: 'off', why: 'no media plane' },
        proxy: {
          state: proxy.state,
          pid: proxy.pid ?? null,
          starts: proxy.starts,
          port: proxy.publicPort || null,
          ...(proxy.reason ? { off: proxy.reason } : {}),
        },
        eventLoop: {
          maxMs: Math.round(loopDelay.max / 1e4) / 100,
          p99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
        },
        memory: { ...memoryMiB(), gcAfterStorms: collector?.runs ?? 0 },
      }),
    }),
  );
  http.keepAliveTimeout = config.http.keepAliveTimeoutMs;
  http.on('clientError', onClientError);
  // The cloud proxy's connections come from a front that carries many clients: no per-address cap on them.
  const edge = new ConnectionLimits(http, config.limits, log, cameThroughProxy);
  connections = () => edge.stats();
  // After a storm of closes, one full GC gives back what the dead sockets held (QuietCollector.ts).
  collector = new QuietCollector({ open: () => edge.stats().open, closed: () => edge.stats().closed, log });
  // One message per socket per turn of the event loop (ws defers the next with setImmediate): a client
  // that sends a thousand frames at once cannot hold the loop while a bystander's heartbeat waits.
  const wsOptions = {
    noServer: true,
    maxPayload: config.limits.maxMessageBytes,
    // A backstop: FragmentMeter closes (1009) a socket before ws would (1008).
    maxFragments: config.limits.maxFragments + 1,
    allowSynchronousEvents: false,
  } as const;
  // What every socket's unfinished message holds, against the server-wide budget (FragmentMeter).
  const unfinished = new UnfinishedPool(
    config.limits.maxUnfinishedFragments,
    config.limits.maxUnfinishedBytes,
  );
  const frameSockets = new WeakMap<Socket, FrameSocket>();
  const wss = new WebSocketServer(wsOptions);
  const mediaWss = new WebSocketServer(wsOptions);
  wss.on('connection', (ws, req: IncomingMessage) => {
    const conn = new Connection<Member>(
      ws,
      config,
      rooms.handlers,
      log,
      rooms.counters,
      (c) => rooms.closed(c),
      ops.metrics,
    );
    const host = String(req.headers.host ?? '');
    conn.host = /^[\w.:[\]-]{1,255}$/.test(host) ? host : '';
    conn.secure = String(req.headers['x-forwarded-proto'] ?? '') === 'https';
    conn.proxy = proxyVerdictOf(req, config);
    // Logged in, the socket counts against its user and app, no longer against its address.
    conn.onLogin = () => edge.loggedIn(req.socket);
    frameSockets.set(req.socket, conn);
    rooms.attach(conn);
  });
  mediaWss.on('connection', (ws, req: IncomingMessage) => {
    if (!media) return ws.close(1013, 'no media server');
    const host = String(req.headers.host ?? '');
    const conn = media.attach(ws, /^[\w.:[\]-]{1,255}$/.test(host) ? host : '', proxyVerdictOf(req, config));
    conn.onLogin = () => edge.loggedIn(req.socket);
    frameSockets.set(req.socket, conn);
  });
  wss.on('wsClientError', onWsClientError);
  mediaWss.on('wsClientError', onWsClientError);
  http.on('upgrade', (req, socket, head) => {
    // Node takes its error listener off an upgraded socket: a reset before ws adds its own must not throw.
    socket.on('error', () => {});
    // Shutting down: a client reconnecting at once must not land here (it would hold the close up).
    if (closed) return refuseRaw(socket, 503);
    try {
      const path = upgradePath(req);
      if (path === null) return refuseRaw(socket, 400);
      const target = path === '/ws' ? wss : path === '/media' ? mediaWss : null;
      if (!target) return refuseRaw(socket, 404);
      target.handleUpgrade(req, socket, head, (ws) => {
        // Before ws's own 'data' listener reads anything (the upgrade's leftover bytes included): what the
        // socket's unfinished message holds counts against its budget and the server's (FragmentMeter).
        const meter = new FragmentMeter(
          unfinished,
          { maxFragments: config.limits.maxFragments, maxBytes: config.limits.maxMessageBytes },
          (why) => {
            const conn = frameSockets.get(socket as Socket);
            if (conn) conn.close(CloseCode.TooBig, why);
            else socket.destroy();
          },
        );
        socket.prependListener('data', meter.onData);
        socket.once('close', () => meter.dispose());
        target.emit('connection', ws, req);
      });
    } catch (e) {
      log.error(
        { err: (e as Error).stack, path: String(req.url).slice(0, 200), remote: req.socket.remoteAddress },
        'websocket upgrade failed',
      );
      try {
        if ((socket as Socket).bytesWritten > 0) socket.destroy();
        else refuseRaw(socket, 500);
      } catch {
        socket.destroy();
      }
    }
  });
  // Before the listener: once the server answers, the proxy (if configured) serves too. nginx hands its
  // connections to `http` through the feed, which needs no listening server.
  await proxy.start(async (path) => {
    proxyFeed = await openProxyFeed(http, path);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      // A class opening its pages at once: a listen queue deeper than Node's 511 (the kernel caps it at
      // net.core.somaxconn), so a burst of connections waits to be accepted instead of retrying after 1 s.
      http.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }, () => resolve());
    });
  } catch (e) {
    // Cannot listen (port taken...): stop what was started, Janus included, before failing.
    loopDelay.disable();
    collector?.dispose();
    rooms.dispose();
    await stopMedia();
    throw e;
  }
  /**
   * Shutdown, bounded to about SHUTDOWN_MS whatever clients do: stop accepting first (listener closed,
   * upgrades refused), then tell every client to reconnect now (close 4005: another node or the
   * restarted server takes it) and cut what is left shortly after, then stop the SFU.
   */
  let closed: Promise<void> | null = null;
  const shutDown = async (): Promise<void> => {
    loopDelay.disable();
    collector?.dispose();
    const listenerClosed = new Promise<void>((resolve) => http.close(() => resolve()));
    const wsClosed = Promise.all([
      new Promise<void>((resolve) => wss.close(() => resolve())),
      new Promise<void>((resolve) => mediaWss.close(() => resolve())),
    ]);
    rooms.dispose();
    const mediaStopped = stopMedia(undefined, true);
    // Close frames get a moment to leave; then whatever is still open is cut.
    await new Promise((r) => setTimeout(r, SHUTDOWN_FLUSH_MS));
    for (const c of [...wss.clients, ...mediaWss.clients]) c.terminate();
    http.closeAllConnections();
    const bounded = (p: Promise<unknown>) =>
      Promise.race([p, new Promise((r) => unref(setTimeout(r, SHUTDOWN_MS)))]);
    await bounded(Promise.all([listenerClosed, wsClosed, mediaStopped]));
    // The sockets are closed and their users' departures told: the webhook events reach the shared queue
    // (Redis: the other nodes deliver them; in memory what waits is dropped and counted), then this node
    // leaves Redis (its lease given up: what is left of it is reaped at once).
    await bounded(ops.webhooks.flush());
    ops.close();
    await bounded(shared?.close() ?? Promise.resolve());
  };
  const port = (http.address() as AddressInfo).port;
  await shared?.listening(port);
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info(`zegoclient-server listening on ${url} (room WebSocket ${url.replace(/^http/, 'ws')}/ws)`);
  return {
    port,
    host: config.host,
    url,
    config,
    dropAllConnections: () => {
      rooms.closeAll(CloseCode.Shutdown, 'dropped');
      media?.closeAll();
    },
    janusPid: () => (backend instanceof JanusBackend ? backend.pid : undefined),
    janusHandles: () => backend?.health().legs ?? 0,
    turnPid: () => turn.pid,
    redisPid: () => shared?.process?.pid,
    node: () => shared?.node,
    proxyPid: () => proxy.pid,
    proxyPort: () => proxy.publicPort,
    metrics: ops.metrics,
    close: () => (closed ??= shutDown()),
  };
}

/**
 * The media plane: the SFU backend (a spawned and supervised Janus, or the configured external ones) and
 * nothing else: MediaService is built by startServer once the room plane exists. A Janus that cannot
 * start leaves the room plane running; dispatch then answers 1009 and the log says why.
 */
async function startBackend(config: ResolvedConfig, log: pino.Logger): Promise<MediaBackend | null> {
  if (!config.janus.enabled) return null;
  const verbose = config.log.level === 'debug' || config.log.level === 'trace';
  const external = config.janus.pool;
  const n = external.length || config.janus.instances;
  if (n === 1) {
    // One Janus: spawned, or external (its failover URLs, from janus.urls or a pool of one).
    const backend = new JanusBackend(
      { ...config.janus, urls: external[0] ?? [], rtpHost: config.janus.rtpHosts[0] ?? '' },
      log,
      verbose,
    );
    await backend.start();
    return backend;
  }
  if (external.length) {
    // A pool of external Janus: one backend each (its own connection, failover URLs and reconnect loop).
    const members = external.map(
      (urls, i) =>
        new JanusBackend(
          { ...config.janus, urls, rtpHost: config.janus.rtpHosts[i] ?? '' },
          log.child({ janus: i }),
          verbose,
        ),
    );
    await Promise.all(members.map((m) => m.start()));
    return new BackendPool(members, config.janus.maxViewersPerFeed);
  }
  // A pool of spawned Janus: each its own slice of the RTP port range (and port, when one is fixed).
  const [lo, hi] = config.janus.rtpPortRange.split('-').map(Number) as [number, number];
  const slice = Math.floor((hi - lo + 1) / n);
  const members = Array.from(
    { length: n },
    (_, i) =>
      new JanusBackend(
        {
          ...config.janus,
          rtpPortRange: `${lo + i * slice}-${lo + (i + 1) * slice - 1}`,
          wsPort: config.janus.wsPort ? config.janus.wsPort + i : 0,
        },
        log.child({ janus: i }),
        verbose,
      ),
  );
  await Promise.all(members.map((m) => m.start()));
  return new BackendPool(members, config.janus.maxViewersPerFeed);
}

/**
 * Mixing, CDN relay and the embedded origin. The origin's nginx and HTTP-FLV hub start beside the server,
 * never holding up its start (URLs appear in lists once the origin is up; /healthz says when).
 */
function startLive(
  config: ResolvedConfig,
  log: pino.Logger,
  backend: MediaBackend,
  media: MediaService,
  rooms: RoomService,
  calls: CallLimiter,
): LiveService {
  const origin = new Origin(
    config.origin,
    config.host,
    join(PACKAGE_ROOT, 'dist', 'server', 'flvMain.js'),
    log,
  );
  void origin.start();
  return new LiveService(config, log, backend, media, rooms, origin, calls);
}

/** /healthz media details from the backend (legs = Janus handles, for leak checks). */
function backendStats(b: MediaBackend): Record<string, unknown> {
  const h = b.health();
  return {
    janusHandles: h.legs,
    janusRooms: h.rooms,
    janusPid: h.janusPid ?? null,
    janusStarts: h.janusStarts ?? 0,
    // A pool (janus.instances > 1 or janus.pool): each Janus's state and load.
    ...(Array.isArray(h.members)
      ? {
          janusRelays: h.relays ?? 0,
          janusPool: (h.members as MediaBackendHealth[]).map((m) => ({
            up: m.up,
            legs: m.legs,
            rooms: m.rooms,
            pid: m.janusPid ?? null,
            starts: m.janusStarts ?? 0,
            // An external Janus: the URL connected now ('' while it is not).
            ...(m.janusUrl !== undefined ? { url: m.janusUrl } : {}),
          })),
        }
      : {}),
  };
}
