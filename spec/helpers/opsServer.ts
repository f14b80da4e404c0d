/**
 * The operator's tools tests' server and users: a real server without a media plane (quiet log, slow
 * heartbeats so idle test users stay), and raw legacy clients logged in to it over real WebSockets.
 */
import { startServer, type RunningServer, type ServerSeams } from '../../src/server';
import { Raw } from './rawRoom';

export function startOpsServer(
  options: Record<string, unknown>,
  seams: ServerSeams = {},
): Promise<RunningServer> {
  return startServer(
    {
      janus: { enabled: false },
      port: 0,
      log: { level: 'silent' },
      room: { heartbeatMs: 60_000 },
      ...options,
    },
    seams,
  );
}

/** A raw client logged in as `idName` to `room` (its login must succeed); kept in `clients` for cleanup. */
export async function loggedIn(
  server: RunningServer,
  clients: Raw[],
  idName: string,
  room = 'r1',
  token?: string,
): Promise<Raw> {
  const c = new Raw(server.url.replace(/^http/, 'ws') + '/ws', idName, room);
  clients.push(c);
  const r = await c.login(1, token);
  if (r.body.err_code !== 0) throw new Error(`login ${idName}: ${JSON.stringify(r.body)}`);
  return c;
}
