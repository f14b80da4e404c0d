/**
 * Login tokens and access rules against a real server: a 04 token through a real ZegoClient (the shim
 * passes the token on untouched), an app that refuses v1 tokens, a 04 payload that forbids publishing,
 * requireThirdToken, and the third-token race (a client gone while its check is in flight registers
 * nothing).
 */
import { createServer, get, type Server } from 'node:http';
import { WebSocket } from 'ws';
import { mintLoginToken, startServer, type RunningServer } from '../../src/server';
import { mintToken04, type Mint04Options } from '../../src/server/auth/token04';
import { APPID, SIGN, clientFactory, login, outcome, sleep, waitFor } from '../helpers/roomClients';

jest.setTimeout(30_000);

const SECRET = 'Zx8kP2mQ7vN4tR9wB3yH6jL1cF5dG0sA';
const NO_V1 = 2002;
const REQUIRE = 3003;
const SLOW_MS = 300;

let server: RunningServer;
let biz: Server;
let bizUrl: string;
/** Third-token checks the business server has received. */
let checks: { third_token: string; id_name: string; answeredAt?: number }[] = [];
const { newClient, releaseAll } = clientFactory(() => server.url);
const sockets: WebSocket[] = [];

beforeAll(async () => {
  // /verify accepts third token "good" at once; /slow answers after SLOW_MS (accepting "good").
  biz = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const j = JSON.parse(body) as { third_token: string; id_name: string };
      const entry: (typeof checks)[number] = { third_token: j.third_token, id_name: j.id_name };
      checks.push(entry);
      const answer = () => {
        entry.answeredAt = Date.now();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: j.third_token === 'good' ? 0 : 1 }));
      };
      if (req.url === '/slow') setTimeout(answer, SLOW_MS);
      else answer();
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
  checks = [];
  server = await startServer({
    janus: { enabled: false },
    port: 0,
    log: { level: 'silent' },
    apps: [
      { appid: APPID, appSign: SIGN, serverSecret: SECRET, thirdTokenUrl: `${bizUrl}/slow` },
      { appid: NO_V1, appSign: SIGN, serverSecret: SECRET, allowV1Token: false },
      { appid: REQUIRE, appSign: SIGN, thirdTokenUrl: `${bizUrl}/verify`, requireThirdToken: true },
    ],
    room: { heartbeatMs: 200, bigimTimeWindowMs: 20 },
  });
});
afterEach(async () => {
  releaseAll();
  for (const w of sockets.splice(0)) w.terminate();
  await server.close();
});

const t04 = (idName: string, o: Partial<Mint04Options> = {}) =>
  mintToken04({ appid: APPID, idName, serverSecret: SECRET, ...o });

/** zg.login / loginWithAuthor with a given token, resolved with either callback's arguments. */
function tryLogin(zg: ReturnType<typeof newClient>['zg'], token: string, room = 'room1', authToken?: string) {
  return outcome((ok, err) =>
    authToken === undefined
      ? zg.login(room, 1, token, ok, err)
      : zg.loginWithAuthor(room, 1, token, authToken, ok, err),
  );
}

/** A raw room socket speaking the legacy protocol (to send `stream` directly, or to vanish mid-login). */
async function raw(appid: number) {
  const ws = new WebSocket(server.url.replace('http', 'ws') + '/ws');
  sockets.push(ws);
  const frames: { header: Record<string, unknown>; body: Record<string, unknown> }[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as (typeof frames)[number]));
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  let seq = 0;
  const ids = { user_id: '', session_id: '' };
  const send = (cmd: string, body: object, room: string) => {
    ws.send(
      JSON.stringify({ header: { Protocol: 'req', cmd, appid, seq: ++seq, ...ids, room_id: room }, body }),
    );
    return seq;
  };
  const reply = (s: number) =>
    waitFor(`reply ${s}`, () => frames.find((f) => f.header.seq === s && f.header.Protocol === 'rsp'), 5000);
  const loginBody = (idName: string, token: string, room: string, third = '') => ({
    id_name: idName,
    nick_name: idName.toUpperCase(),
    role: 1,
    token,
    version: '1.12.5',
    room_name: room,
    user_state_flag: 1,
    room_create_flag: 1,
    client_type: 3,
    third_token: third,
  });
  return {
    ws,
    frames,
    sendLogin: (idName: string, token: string, room = 'room1', third = '') =>
      send('login', loginBody(idName, token, room, third), room),
    async login(idName: string, token: string, room = 'room1') {
      const r = await reply(send('login', loginBody(idName, token, room), room));
      if (r.body.err_code === 0)
        Object.assign(ids, { user_id: r.body.user_id, session_id: r.body.session_id });
      return r.body;
    },
    async stream(streamId: string, room = 'room1') {
      const s = send(
        'stream',
        { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: streamId, extra_info: '' }) },
        room,
      );
      return (await reply(s)).body;
    },
    logout: (room = 'room1') => send('logout', {}, room),
    async userList(room = 'room1') {
      const body = (await reply(send('user_list', { user_index: 0, sort_type: 0 }, room))).body;
      return (body.user_baseinfos as { id_name: string }[]).map((u) => u.id_name);
    },
  };
}

/** The server's /healthz counts (jsdom has no fetch: node's http). */
const healthz = () =>
  new Promise<{ rooms: number; users: number }>((resolve, reject) => {
    const req = get(`${server.url}/healthz`, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(JSON.parse(text) as { rooms: number; users: number }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('/healthz timed out')));
    req.on('error', reject);
  });

test('a 04 token logs in through a real ZegoClient; its room, user and secret are checked', async () => {
  const alice = newClient('alice');
  expect((await tryLogin(alice.zg, t04('alice', { roomId: 'room1' }))).ok).toBeDefined();
  const bob = newClient('bob');
  // A v1 token still works for this app (allowV1Token defaults to true).
  await login(bob.zg, 'bob');
  const carol = newClient('carol');
  const elsewhere = await tryLogin(carol.zg, t04('carol', { roomId: 'room2' }));
  expect(elsewhere.err?.[0]).toEqual({
    code: 'ZegoClient.Error.Server',
    msg: 'the login token is for another room code:1000000015',
  });
  const asAlice = await tryLogin(newClient('carol').zg, t04('alice'));
  expect(asAlice.err?.[0]).toEqual({
    code: 'ZegoClient.Error.Server',
    msg: '04 token is for another user_id code:1008',
  });
  const forged = mintToken04({ appid: APPID, idName: 'dave', serverSecret: 'x'.repeat(32) });
  const d = await tryLogin(newClient('dave').zg, forged);
  expect((d.err?.[0] as { msg: string }).msg).toMatch(/does not authenticate.*code:1008$/);
  const mode0 = await tryLogin(
    newClient('erin').zg,
    mintToken04({ appid: APPID, idName: 'erin', serverSecret: SECRET, mode: 0 }),
  );
  expect((mode0.err?.[0] as { msg: string }).msg).toMatch(/mode 0 .*refused.*code:1008$/);
  expect((await healthz()).users).toBe(2);
});

test('allowV1Token: false refuses v1 tokens with a clear message; 04 tokens work', async () => {
  const v1 = mintLoginToken({ appid: NO_V1, appSign: SIGN, idName: 'alice' });
  const a = newClient('alice', { appid: NO_V1 });
  const r = await tryLogin(a.zg, v1);
  expect(r.err?.[0]).toEqual({
    code: 'ZegoClient.Error.Server',
    msg: `v1 login tokens are disabled for app ${NO_V1} (allowV1Token: false): use a 04 token code:1008`,
  });
  const ok = await tryLogin(
    newClient('alice', { appid: NO_V1 }).zg,
    mintToken04({ appid: NO_V1, idName: 'alice', serverSecret: SECRET }),
  );
  expect(ok.ok).toBeDefined();
});

test('a 04 payload that forbids publishing: stream 2001 refused with 1000000015, nobody hears of it', async () => {
  const watcher = newClient('watcher');
  await login(watcher.zg, 'watcher');
  const mute = await raw(APPID);
  expect((await mute.login('mute', t04('mute', { privileges: { login: 1, publish: 0 } }))).err_code).toBe(0);
  expect(await mute.stream('s-mute')).toMatchObject({
    err_code: 1000000015,
    err_message: 'the login token does not allow publishing this stream',
  });
  const listed = await raw(APPID);
  expect((await listed.login('listed', t04('listed', { streamIds: ['cam-ok'] }))).err_code).toBe(0);
  expect((await listed.stream('cam-other')).err_code).toBe(1000000015);
  expect((await listed.stream('cam-ok')).err_code).toBe(0);
  const added = await waitFor('stream added', () => watcher.rec.onStreamUpdated?.find((x) => x[0] === 0));
  await sleep(100);
  const announced = (watcher.rec.onStreamUpdated ?? []).flatMap((x) =>
    (x[1] as { stream_id: string }[]).map((s) => s.stream_id),
  );
  expect(added[1]).toEqual([expect.objectContaining({ stream_id: 'cam-ok' })]);
  expect(announced).toEqual(['cam-ok']);
  // A plain 04 token and a v1 token carry no restriction.
  const free = await raw(APPID);
  expect((await free.login('free', t04('free'))).err_code).toBe(0);
  expect((await free.stream('anything')).err_code).toBe(0);
  // Publishers log out (their streams end now; a dropped socket would keep them for a grace period).
  for (const c of [listed, free]) c.logout();
  await waitFor(
    'streams ended',
    () => (watcher.rec.onStreamUpdated ?? []).filter((x) => x[0] === 1).length >= 2,
  );
  // Privilege "1" = 0: no login at all.
  const barred = await raw(APPID);
  expect(await barred.login('barred', t04('barred', { privileges: { login: 0 } }))).toMatchObject({
    err_code: 1000000015,
  });
});

test('requireThirdToken: a login without a third token is 1000000009; with one it is checked', async () => {
  const token = (id: string) => mintLoginToken({ appid: REQUIRE, appSign: SIGN, idName: id });
  const none = await tryLogin(newClient('a', { appid: REQUIRE }).zg, token('a'));
  expect(none.err?.[0]).toEqual({
    code: 'ZegoClient.Error.Server',
    msg: 'this app requires a third token (loginWithAuthor) code:1000000009',
  });
  const empty = await raw(REQUIRE);
  const s = empty.sendLogin('b', token('b'), 'room1', '');
  const r = await waitFor('reply', () => empty.frames.find((f) => f.header.seq === s));
  expect(r.body.err_code).toBe(1000000009);
  const bad = await tryLogin(newClient('c', { appid: REQUIRE }).zg, token('c'), 'room1', 'bad');
  expect((bad.err?.[0] as { msg: string }).msg).toMatch(/code:1000000009$/);
  const good = await tryLogin(newClient('d', { appid: REQUIRE }).zg, token('d'), 'room1', 'good');
  expect(good.ok).toBeDefined();
  // Only the non-empty third tokens reached the business server.
  expect(checks.map((c) => c.third_token)).toEqual(['bad', 'good']);
  expect((await healthz()).users).toBe(1);
});

test('the third-token race: a client gone while its check is in flight registers nothing', async () => {
  const bob = await raw(APPID);
  expect((await bob.login('bob', t04('bob'))).err_code).toBe(0);
  expect(await healthz()).toMatchObject({ rooms: 1, users: 1 });

  // Ghost 1 joins bob's room, ghost 2 would create a new room; both close as soon as their check is asked.
  const ghosts = [
    { id: 'ghost', room: 'room1' },
    { id: 'ghost2', room: 'new-room' },
  ];
  for (const g of ghosts) {
    const c = await raw(APPID);
    c.sendLogin(g.id, t04(g.id), g.room, 'good');
    await waitFor(`${g.id}'s check in flight`, () => checks.find((x) => x.id_name === g.id));
    c.ws.close();
  }
  // Both checks answered "good" after their sockets had gone; give the server time to act on it.
  await waitFor('checks answered', () => checks.every((x) => x.answeredAt), 3 * SLOW_MS + 2000);
  await sleep(200);
  expect(await bob.userList()).toEqual(['bob']);
  expect(await healthz()).toMatchObject({ rooms: 1, users: 1 });
  expect(bob.frames.filter((f) => f.header.cmd === 'push_userlist_update')).toEqual([]);

  // The same idNames log in normally afterwards.
  const back = await raw(APPID);
  const s = back.sendLogin('ghost', t04('ghost'), 'room1', 'good');
  const r = await waitFor('ghost login', () => back.frames.find((f) => f.header.seq === s), 5000);
  expect(r.body.err_code).toBe(0);
  expect((await bob.userList()).sort()).toEqual(['bob', 'ghost']);
  expect(await healthz()).toMatchObject({ rooms: 1, users: 2 });
});
