/**
 * The zegoclient-shim server: HTTP (demo, dist, health, dev tokens) and the legacy room protocol at /ws.
 *
 * @example
 *   const server = await startServer({ port: 0, log: { level: 'silent' } });
 *   console.log(server.url); await server.close();
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { CloseCode } from '../protocol/errors';
import { resolveConfig, type ResolvedConfig, type ServerOptions } from './config';
import { Connection } from './gateway/Connection';
import { httpHandler } from './http';
import { RoomService } from './room/RoomService';
import { JanusGateway } from './media/JanusGateway';
import { JanusProcess } from './media/JanusProcess';
import { MediaService } from './media/MediaService';

export { loadConfig, resolveConfig, type ResolvedConfig, type ServerOptions } from './config';
export { mintLoginToken, verifyLoginToken, parseAppSign } from './auth/loginToken';

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
  const rooms = new RoomService(config, log);
  const media = await startMedia(config, log, rooms);
  // Event-loop delay since start (/healthz details): how long a request may wait behind others.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const http = createServer(
    httpHandler({
      config,
      distDir: join(PACKAGE_ROOT, 'dist'),
      demoDir: join(PACKAGE_ROOT, 'demo'),
      startedAt: Date.now(),
      stats: () => ({
        ...rooms.stats(),
        roomSockets: rooms.counters,
        media: media.stats(),
        eventLoop: {
          maxMs: Math.round(loopDelay.max / 1e4) / 100,
          p99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
        },
        memory: {
          rssMiB: Math.round(process.memoryUsage.rss() / 10485.76) / 100,
          heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 10485.76) / 100,
        },
      }),
    }),
  );
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.limits.maxFrameBytes });
  const mediaWss = new WebSocketServer({ noServer: true, maxPayload: config.limits.maxFrameBytes });
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
  http.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    const target = path === '/ws' ? wss : path === '/media' ? mediaWss : null;
    if (!target) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
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
