/**
 * The zegoclient-shim server: HTTP (demo, dist, health, dev tokens) and the legacy room protocol at /ws.
 *
 * @example
 *   const server = await startServer({ port: 0, log: { level: 'silent' } });
 *   console.log(server.url); await server.close();
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { CloseCode } from '../protocol/errors';
import { resolveConfig, type ResolvedConfig, type ServerOptions } from './config';
import { Connection } from './gateway/Connection';
import { httpHandler } from './http';
import { RoomService } from './room/RoomService';

export { loadConfig, resolveConfig, type ResolvedConfig, type ServerOptions } from './config';
export { mintLoginToken, verifyLoginToken, parseAppSign } from './auth/loginToken';

export interface RunningServer {
  port: number;
  host: string;
  /** http://host:port */
  url: string;
  config: ResolvedConfig;
  /** Closes every room socket (as on a network cut); the server keeps running. */
  dropAllConnections(): void;
  close(): Promise<void>;
}

/** The package root, whether running from src/server (ts) or dist/server (built). */
const PACKAGE_ROOT = join(__dirname, '..', '..');

export async function startServer(options: ServerOptions | ResolvedConfig = {}): Promise<RunningServer> {
  const config: ResolvedConfig =
    'devMode' in options ? (options as ResolvedConfig) : resolveConfig(options as ServerOptions);
  const log = pino({ level: config.log.level, base: undefined });
  if (config.devMode) {
    log.warn(
      '\n*** DEV MODE: no apps configured. Any appid is accepted and GET /token hands out valid login tokens.' +
        '\n*** Configure "apps" with their appSign before exposing this server.',
    );
  }
  const rooms = new RoomService(config, log);
  const http = createServer(
    httpHandler({
      config,
      distDir: join(PACKAGE_ROOT, 'dist'),
      demoDir: join(PACKAGE_ROOT, 'demo'),
      startedAt: Date.now(),
      stats: () => rooms.stats(),
    }),
  );
  const wss = new WebSocketServer({ server: http, path: '/ws', maxPayload: config.limits.maxFrameBytes });
  wss.on('connection', (ws) => {
    const conn = new Connection(ws, config, rooms.handlers, log, (c) => rooms.closed(c));
    rooms.attach(conn);
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
    dropAllConnections: () => rooms.closeAll(CloseCode.Shutdown, 'dropped'),
    close: async () => {
      rooms.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
