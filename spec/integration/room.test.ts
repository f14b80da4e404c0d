/**
 * A real server on port 0 and real ZegoClient instances (jsdom) over real WebSockets: the paths the
 * browser and compat suites do not reach (kickout, reconnection with reliable catch-up, retry exhaustion,
 * relay, loginWithAuthor, streams).
 */
import { createServer, get, type Server } from 'node:http';
import { startServer, type RunningServer } from '../../src/server';
import { APPID, SIGN, clientFactory, login, waitFor } from '../helpers/roomClients';

jest.setTimeout(30_000);

let server: RunningServer;
let biz: Server;
let bizUrl: string;
const { newClient, releaseAll } = clientFactory(() => server.url);

beforeAll(async () => {
  biz = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const j = JSON.parse(body) as Record<string, string>;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/relay') res.end(`echo:${j.relay_type}:${j.relay_data}`);
      else res.end(JSON.stringify({ code: j.third_token === 'good' ? 0 : 1 }));
    });
  });
  await new Promise<void>((r) => biz.listen(0, '127.0.0.1', () => r()));
  bizUrl = `http://127.0.0.1:${(biz.address() as { port: number }).port}`;
});
afterAll(async () => {
  biz.closeAllConnections();
  await new Promise((r) => biz.close(r));
});

beforeEach(async () => {
  server = await startServer({
    janus: { enabled: false },
    port: 0,
    log: { level: 'silent' },
    apps: [{ appid: APPID, appSign: SIGN, relayUrl: `${bizUrl}/relay`, thirdTokenUrl: `${bizUrl}/verify` }],
    room: { heartbeatMs: 200, bigimTimeWindowMs: 20 },
  });
});
afterEach(async () => {
  releaseAll();
  await server.close();
});

test('a second login of the same idName kicks the first (onKickOut)', async () => {
  const a = newClient('alice');
  await login(a.zg, 'alice');
  const a2 = newClient('alice');
  await login(a2.zg, 'alice');
  const [kick] = await waitFor('onKickOut', () => a.rec.onKickOut);
  expect(kick![0]).toEqual({ code: 'ZegoClient.Error.Kickout', msg: 'kickout reason=1' });
});

test('reconnection after the server drops the sockets: onTempBroken, onReconnect, no reliable message lost', async () => {
  const a = newClient('alice');
  const b = newClient('bob');
  await login(a.zg, 'alice');
  await login(b.zg, 'bob');
  server.dropAllConnections();
  await waitFor('a.onTempBroken', () => a.rec.onTempBroken);
  await waitFor('b.onReconnect', () => b.rec.onReconnect);
  // b sends while a may still be reconnecting: a must get it either by push or by catch-up.
  await new Promise<void>((resolve, reject) =>
    b.zg.sendReliableMessage(
      'quiz',
      'while-away',
      () => resolve(),
      (e: unknown) => reject(new Error(JSON.stringify(e))),
    ),
  );
  await waitFor('a.onReconnect', () => a.rec.onReconnect);
  const got = await waitFor('reliable message', () => a.rec.onRecvReliableMessage);
  expect(got[0]).toEqual(['quiz', 1, 'while-away']);
});

test('retry exhaustion -> onDisconnect with the legacy network code', async () => {
  const a = newClient('alice', { roomRetryTime: 1 });
  await login(a.zg, 'alice');
  await server.close();
  const [d] = await waitFor('onDisconnect', () => a.rec.onDisconnect, 10_000);
  expect(d![0]).toEqual({ code: 'ZegoClient.Error.Network', msg: 'network is broken and login fail.' });
  server = await startServer({ port: 0, log: { level: 'silent' }, janus: { enabled: false } }); // for afterEach
});

test('relay to the business server, loginWithAuthor accepted and refused', async () => {
  const a = newClient('alice');
  await login(a.zg, 'alice', 'good');
  const [seq, result] = await new Promise<unknown[]>((resolve, reject) =>
    a.zg.sendRelayMessage(
      '1',
      'answer-B',
      (...x: unknown[]) => resolve(x),
      (e: unknown) => reject(new Error(JSON.stringify(e))),
    ),
  );
  expect(typeof seq).toBe('number');
  expect(result).toBe('echo:1:answer-B');
  const b = newClient('bob');
  await expect(login(b.zg, 'bob', 'bad')).rejects.toThrow(/ZegoClient.Error.Server.*1000000009/);
});

test('streams: announce, extra info update and end reach others; own streams are never reported', async () => {
  const a = newClient('alice');
  const b = newClient('bob');
  await login(a.zg, 'alice');
  await login(b.zg, 'bob');
  await a.zg._announceStream('s1', 'hello');
  const [added] = await waitFor('onStreamUpdated add', () => b.rec.onStreamUpdated);
  expect(added).toEqual([
    0,
    [expect.objectContaining({ stream_id: 's1', anchor_id_name: 'alice', extra_info: 'hello' })],
  ]);
  expect(a.zg.updateStreamExtraInfo('s1', 'new')).toBe(true);
  const [upd] = await waitFor('onStreamExtraInfoUpdated', () => b.rec.onStreamExtraInfoUpdated);
  expect(upd![0]).toEqual([expect.objectContaining({ stream_id: 's1', extra_info: 'new' })]);
  const c = newClient('carl');
  const list = (await login(c.zg, 'carl')) as { stream_id: string }[];
  expect(list.map((s) => s.stream_id)).toEqual(['s1']);
  await a.zg._endStream('s1');
  await waitFor('onStreamUpdated delete', () => b.rec.onStreamUpdated?.find((x) => x[0] === 1));
  expect(a.rec.onStreamUpdated).toBeUndefined();
});

test('browser offline -> onTempBroken at once; online -> retried without waiting out the backoff', async () => {
  const a = newClient('alice', { testing: { heartbeatFloorMs: 100, backoffMs: 5000 } });
  await login(a.zg, 'alice');
  window.dispatchEvent(new Event('offline'));
  await waitFor('onTempBroken', () => a.rec.onTempBroken, 1000);
  const t0 = Date.now();
  window.dispatchEvent(new Event('online'));
  await waitFor('onReconnect', () => a.rec.onReconnect, 3000);
  expect(Date.now() - t0).toBeLessThan(3000);
});

test('leaving the page (pagehide) logs out at once: the server sees the users leave before any heartbeat expiry', async () => {
  const a = newClient('alice');
  await login(a.zg, 'alice');
  const b = newClient('bob');
  await login(b.zg, 'bob');
  // jsdom has no fetch: read /healthz with node:http.
  const users = () =>
    new Promise<number>((resolve, reject) => {
      get(`${server.url}/healthz`, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve((JSON.parse(body) as { users: number }).users));
      }).on('error', reject);
    });
  expect(await users()).toBe(2);
  window.dispatchEvent(new Event('pagehide'));
  const end = Date.now() + 2000;
  while ((await users()) !== 0) {
    if (Date.now() > end) throw new Error('users still in the room 2 s after pagehide');
    await new Promise((r) => setTimeout(r, 20));
  }
});
