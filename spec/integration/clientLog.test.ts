/**
 * The client logger end to end: a real server with `clientLogs` on and its JSON log captured, real
 * ZegoClients in jsdom. A page that set remoteLogLevel (and a logUrl) has its lines at or above that
 * level written to the server's log with appid, room and user; the shim opens no socket but the
 * configured server's; a page that asked for nothing ships nothing.
 */
import { Writable } from 'node:stream';
import { ZegoClient } from '../../src/client';
import { browserPlatform, type Platform } from '../../src/client/platform/Platform';
import { startServer, type RunningServer } from '../../src/server';
import { APPID, SIGN, login, waitFor } from '../helpers/roomClients';

jest.setTimeout(30_000);

let server: RunningServer;
let logged: Record<string, unknown>[] = [];
const clients: ZegoClient[] = [];
/** Every WebSocket URL the shims opened. */
let opened: string[] = [];

beforeEach(async () => {
  logged = [];
  opened = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n'))
        if (l) logged.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  server = await startServer(
    {
      janus: { enabled: false },
      port: 0,
      log: { level: 'info' },
      apps: [{ appid: APPID, appSign: SIGN }],
      clientLogs: { enabled: true, maxLinesPerMinute: 600 },
    },
    sink,
  );
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.release();
  await server.close();
});

function newClient(idName: string, extra: Record<string, unknown>): ZegoClient {
  // The browser platform, with every WebSocket it opens recorded.
  const platform: Platform = {
    ...browserPlatform,
    createWebSocket: (url) => {
      opened.push(url);
      return browserPlatform.createWebSocket(url);
    },
  };
  const zg = new ZegoClient(platform);
  clients.push(zg);
  const ok = zg.config({
    appid: APPID,
    idName,
    nickName: idName.toUpperCase(),
    server: server.url.replace('http', 'ws') + '/ws',
    logLevel: 100,
    testing: { heartbeatFloorMs: 100, backoffMs: 100, logFlushMs: 100 },
    ...extra,
  });
  if (!ok) throw new Error('config refused');
  return zg;
}

const fromClient = (idName: string) => logged.filter((l) => l.src === 'client' && l.idName === idName);

test('remoteLogLevel 0 with a logUrl: the lines reach our server log (appid, room, user), no other host is contacted', async () => {
  const zg = newClient('alice', { remoteLogLevel: 0, logUrl: 'wss://logs.example.invalid/log' });
  await login(zg, 'alice', undefined, 'room-logs');
  (zg.setSoundLevelDelegate as (...a: unknown[]) => void)('not a boolean');
  const lines = await waitFor('the error line in the server log', () => {
    const l = fromClient('alice');
    return l.some((x) => x.clientLevel === 'error') && l;
  });
  expect(lines.map((l) => [l.clientLevel, l.msg])).toEqual([
    ['debug', 'room room-logs: idle -> logging-in'],
    ['debug', 'room room-logs: logging-in -> logged-in'],
    ['error', 'setSoundLevelDelegate: param 1 must be boolean'],
  ]);
  for (const l of lines) {
    expect(l).toMatchObject({ appid: APPID, room: 'room-logs', idName: 'alice', level: 30 });
    expect(typeof l.clientTime).toBe('number');
  }
  expect(new Set(opened)).toEqual(new Set([server.url.replace('http', 'ws') + '/ws']));
});

test('remoteLogLevel 2 ships warnings and errors only; a page that asked for nothing ships nothing', async () => {
  const warned = newClient('bob', { remoteLogLevel: 2 });
  const quiet = newClient('carl', {});
  await login(warned, 'bob');
  await login(quiet, 'carl');
  for (const zg of [warned, quiet]) (zg.setSoundLevelDelegate as (...a: unknown[]) => void)(true, 5);
  await waitFor("bob's error line", () => fromClient('bob').length > 0);
  // Logout ships what waits first: carl's error line would be there by now.
  warned.logout();
  quiet.logout();
  await new Promise((r) => setTimeout(r, 300));
  expect(fromClient('bob').map((l) => [l.clientLevel, l.msg])).toEqual([
    ['error', 'setSoundLevelDelegate: interval must be a number between 100 and 3000'],
  ]);
  expect(fromClient('carl')).toEqual([]);
});
