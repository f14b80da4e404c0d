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
import {
  httpHandler,
  httpServerOptions,
  limitConnections,
  onClientError,
  onWsClientError,
  refuseRaw,
  upgradePath,
  type ConnectionStats,
} from './http';
import { RoomService } from './room/RoomService';
import { JanusGateway } from './media/JanusGateway';
import { JanusProcess } from './media/JanusProcess';
import { MediaService } from './media/MediaService';

export { loadConfig, resolveConfig, type ResolvedConfig, type ServerOptions } from './config';
export { mintLoginToken, verifyLoginToken, parseAppSign } from './auth/loginToken';
export { mintToken04 } from './auth/token04';
export { verifyRoomToken } from './auth/roomToken';
export { mintStreamParams, checkStreamParams } from './auth/streamToken';

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

/** The package root, whether running from src/server (ts) or dist/server (built). */
const PACKAGE_ROOT = join(__dirname, '..', '..');

/**
 * `logStream`: where the JSON log goes instead of stdout (tests read the server's log from it).
 */
export async function startServer(
  options: ServerOptions | ResolvedConfig = {},
  logStream?: pino.DestinationStream,
): Promise<RunningServer> {
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
  const rooms = new RoomService(config, log);
  const media = await startMedia(config, log, rooms);
  // Event-loop delay since start (/healthz details): how long a request may wait behind others.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let connections: () => ConnectionStats = () => ({ open: 0, refusedTotal: 0, refusedPerIp: 0 });
  const http = createServer(
    httpOptions,
    httpHandler({
      config,
      distDir: join(PACKAGE_ROOT, 'dist'),
      demoDir: join(PACKAGE_ROOT, 'demo'),
      startedAt: Date.now(),
      log,
      stats: () => ({
        ...rooms.stats(),
        roomSockets: rooms.counters,
        connections: connections(),
        media: media.stats(),
        eventLoop: {
          maxMs: Math.round(loopDelay.max / 1e4) / 100,
          p99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
        },
        memory: memoryMiB(),
      }),
    }),
  );
  http.keepAliveTimeout = config.http.keepAliveTimeoutMs;
  http.on('clientError', onClientError);
  connections = limitConnections(http, config.limits, log);
  // One message per socket per turn of the event loop (ws defers the next with setImmediate): a client
  // that sends a thousand frames at once cannot hold the loop while a bystander's heartbeat waits.
  const wsOptions = {
    noServer: true,
    maxPayload: config.limits.maxFrameBytes,
    allowSynchronousEvents: false,
  } as const;
  const wss = new WebSocketServer(wsOptions);
  const mediaWss = new WebSocketServer(wsOptions);
  wss.on('connection', (ws, req: IncomingMessage) => {
    const conn = new Connection(ws, config, rooms.handlers, log, rooms.counters, (c) => rooms.closed(c));
    const host = String(req.headers.host ?? '');
    conn.host = /^[\w.:[\]-]{1,255}$/.test(host) ? host : '';
    conn.secure = String(req.headers['x-forwarded-proto'] ?? '') === 'https';
    rooms.attach(conn);
  });
  mediaWss.on('connection', (ws) => {
    if (media.service) media.service.attach(ws);
    else ws.close(1013, 'no media server');
  });
  wss.on('wsClientError', onWsClientError);
  mediaWss.on('wsClientError', onWsClientError);
  http.on('upgrade', (req, socket, head) => {
    // Node takes its error listener off an upgraded socket: a reset before ws adds its own must not throw.
    socket.on('error', () => {});
    try {
      const path = upgradePath(req);
      if (path === null) return refuseRaw(socket, 400);
      const target = path === '/ws' ? wss : path === '/media' ? mediaWss : null;
      if (!target) return refuseRaw(socket, 404);
      target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
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
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => resolve());
    });
  } catch (e) {
    // Cannot listen (port taken...): stop what was started, Janus included, before failing.
    loopDelay.disable();
    rooms.dispose();
    media.service?.dispose();
    await media.stop();
    throw e;
  }
  const port = (http.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info(`zegoclient-server listening on ${url} (room WebSocket ${url.replace(/^http/, 'ws')}/ws)`);
  return {
    port,
    host: config.host,
    url,
    config,
    dropAllConnections: () => {
      rooms.closeAll(CloseCode.Shutdown, 'dropped');
      media.service?.closeAll();
    },
    janusPid: () => media.process?.pid,
    janusHandles: () => media.gateway?.openHandles() ?? 0,
    close: async () => {
      loopDelay.disable();
      rooms.dispose();
      media.service?.dispose();
      await media.stop();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => mediaWss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * The media plane: a spawned and supervised Janus (or the configured external ones), the janode gateway
 * and the /media service. A Janus that cannot start leaves the room plane running; dispatch then answers
 * 1009 and the log says why.
 */
async function startMedia(config: ResolvedConfig, log: pino.Logger, rooms: RoomService) {
  const none = {
    service: null as MediaService | null,
    process: null as JanusProcess | null,
    gateway: null as JanusGateway | null,
    stats: () => ({ janus: 'off' }) as Record<string, unknown>,
    stop: async () => {},
  };
  if (!config.janus.enabled) return none;
  const gateway = new JanusGateway(log, config.log.level === 'debug' || config.log.level === 'trace');
  const service = new MediaService(config, log, gateway, {
    isMember: (a, r, i) => rooms.isMember(a, r, i),
    endStream: (a, r, s, i) => rooms.endStreamFromMedia(a, r, s, i),
  });
  rooms.media = {
    url: (c) => {
      if (!gateway.up) return '';
      if (config.media.publicUrl) return config.media.publicUrl;
      return c.host ? `${c.secure ? 'wss' : 'ws'}://${c.host}/media` : '';
    },
    memberLeft: (a, r, i) => service.memberLeft(a, r, i),
  };
  let stopped = false;
  let proc: JanusProcess | null = null;
  const external = config.janus.urls;
  let nextUrl = 0;
  // (Re)connects the gateway with a bounded backoff until it is up or the server stops; one loop at a time.
  let looping: Promise<void> | null = null;
  const connectLoop = (urlOf: () => string): Promise<void> => {
    looping ??= loop(urlOf).finally(() => (looping = null));
    return looping;
  };
  const loop = async (urlOf: () => string) => {
    for (let attempt = 0; !stopped && !gateway.up; attempt++) {
      const url = urlOf();
      if (url) {
        try {
          await gateway.connect(url);
          log.info({ url }, 'connected to janus');
          return;
        } catch (e) {
          log.warn({ url, err: (e as Error).message }, 'janus connection failed');
        }
      }
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))));
    }
  };
  // Waits for the first connection at most this long; the loop goes on in the background either way, so
  // an unreachable Janus never keeps the room plane from starting.
  const firstConnection = (p: Promise<void>) =>
    Promise.race([p, new Promise<void>((r) => setTimeout(r, config.janus.startTimeoutMs).unref())]);
  if (external.length) {
    const urlOf = () => external[nextUrl++ % external.length]!;
    gateway.on('down', () => void connectLoop(urlOf));
    await firstConnection(connectLoop(urlOf));
  } else {
    proc = new JanusProcess(config.janus, log);
    const p = proc;
    // The live URL ('' while Janus is down): a restart on a new port is picked up by a running loop.
    const urlOf = () => p.url;
    p.on('up', () => void connectLoop(urlOf));
    gateway.on('down', () => void connectLoop(urlOf));
    try {
      await p.start();
      await firstConnection(connectLoop(urlOf));
    } catch (e) {
      log.error(`media plane unavailable: ${(e as Error).message}`);
    }
  }
  if (!gateway.up) log.error('media plane not connected to Janus yet: dispatch answers 1009 until it is');
  return {
    service,
    process: proc,
    gateway,
    stats: () => ({
      janus: gateway.up ? 'up' : 'down',
      ...service.stats(),
      janusHandles: gateway.openHandles(),
      janusPid: proc?.pid ?? null,
      janusStarts: proc?.starts ?? 0,
    }),
    stop: async () => {
      stopped = true;
      await gateway.close();
      await proc?.stop();
    },
  };
}
