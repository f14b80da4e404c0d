/** @jest-environment node */
/**
 * Caps per user and per app across every socket and both planes (issue 15, class 3), on the real server
 * with the fake SFU: one user spreading publishers over three media sockets, streams over two rooms,
 * logged-in sockets over both planes; another user and another app are not affected; whatever ends gives
 * its place back (a cap holds the same after everything closed and came back).
 */
import { mintLoginToken, startServer, type RunningServer } from '../../../src/server';
import { Caps } from '../../../src/server/caps/Caps';
import { MemoryCapCounters } from '../../../src/server/caps/CapCounters';
import { FakeBackend } from '../../fakes/FakeBackend';
import { Raw, type Frame } from '../../helpers/rawRoom';
import { RawMedia } from '../../helpers/rawMedia';

const APPID = 7001;
const OTHER_APP = 7002;
const SIGN = 'ab'.repeat(32);

let server: RunningServer;
const closers: { ws?: { terminate(): void } }[] = [];

async function start(limits: Record<string, number>, room: Record<string, number> = {}): Promise<void> {
  server = await startServer(
    {
      port: 0,
      log: { level: 'silent' },
      apps: [
        { appid: APPID, appSign: SIGN },
        { appid: OTHER_APP, appSign: SIGN },
      ],
      room: { heartbeatMs: 60_000, ...room },
      limits: { messagesPerSecond: 1000, burst: 1000, ...limits },
    },
    { backend: new FakeBackend() },
  );
}

afterEach(async () => {
  for (const c of closers.splice(0)) c.ws?.terminate();
  await server?.close();
});

const wsUrl = (path: string) => server.url.replace('http', 'ws') + path;
const token = (idName: string, appid = APPID) => mintLoginToken({ appid, appSign: SIGN, idName });

async function roomUser(idName: string, room = 'r1', appid = APPID): Promise<Raw> {
  const r = new Raw(wsUrl('/ws'), idName, room);
  r.appid = appid;
  closers.push(r);
  const f = await r.login(1, token(idName, appid));
  if (f.body.err_code !== 0) throw new Error(`login ${idName}: ${JSON.stringify(f.body)}`);
  return r;
}

async function mediaSocket(
  idName: string,
  room = 'r1',
  appid = APPID,
): Promise<{ m: RawMedia; login: Frame }> {
  const m = new RawMedia(wsUrl('/media'), appid, idName);
  closers.push(m);
  await m.open();
  const login = await m.request('LoginReq', { token: token(idName, appid), roomid: room });
  return { m, login };
}

const create = (m: RawMedia, type: 0 | 1, streamId: string) =>
  m.request(
    'CreateSessionReq',
    type === 0 ? { type, stream_id: streamId } : { type, stream_id: streamId, negotiate_mode: 1 },
  );

const announce = (r: Raw, streamId: string) =>
  r.request('stream', { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: streamId, extra_info: '' }) });

test('publishers and sessions: per user across three media sockets, per app across users', async () => {
  await start({ maxPublishersPerUser: 4, maxSessionsPerUser: 6, maxPublishersPerApp: 6 });
  await roomUser('alice');
  const socks = await Promise.all([0, 1, 2].map(() => mediaSocket('alice')));
  for (const s of socks) expect(s.login.body.result).toBe(0);
  // Round-robin over the three sockets, as the 32-per-socket attack did: the 5th publisher is refused.
  const results: unknown[] = [];
  for (let i = 0; i < 6; i++) results.push((await create(socks[i % 3]!.m, 0, `a${i}`)).body.result);
  expect(results).toEqual([0, 0, 0, 0, 10, 10]);
  const refused = await create(socks[0]!.m, 0, 'a9');
  expect(refused.body.err_info).toBe('at most 4 publishers per user');
  // Sessions (players too): 4 publishers + 2 players = 6, the 7th is refused.
  expect((await create(socks[1]!.m, 1, 'a0')).body.result).toBe(0);
  expect((await create(socks[2]!.m, 1, 'a1')).body.result).toBe(0);
  const seventh = await create(socks[0]!.m, 1, 'a2');
  expect(seventh.body).toMatchObject({ result: 10, err_info: 'at most 6 sessions per user' });
  // Another user of the app: the app's 6 publishers are reached after 2.
  await roomUser('bob');
  const bob = (await mediaSocket('bob')).m;
  expect((await create(bob, 0, 'b0')).body.result).toBe(0);
  expect((await create(bob, 0, 'b1')).body.result).toBe(0);
  expect((await create(bob, 0, 'b2')).body).toMatchObject({
    result: 10,
    err_info: 'at most 6 publishers per app',
  });
  // Another app is not affected.
  await roomUser('carol', 'r1', OTHER_APP);
  const carol = (await mediaSocket('carol', 'r1', OTHER_APP)).m;
  expect((await create(carol, 0, 'c0')).body.result).toBe(0);
  // Stopping a publisher gives its place back; a socket that goes gives back all of its sessions.
  expect((await create(bob, 0, 'b2')).body.result).toBe(10);
  const a0 = socks[0]!.m.frames.find((f) => f.header.cmd === 'CreateSessionRsp' && f.body.result === 0)!;
  const closed = await socks[0]!.m.request('CloseSessionReq', { reason: 0 }, Number(a0.body.session_id));
  expect(closed.body.result).toBe(0);
  expect((await create(bob, 0, 'b2')).body.result).toBe(0);
  expect((await create(socks[2]!.m, 0, 'a7')).body.result).toBe(10);
  // Socket 1 held the publisher a1 and the player of a0: alice may publish again once it is gone.
  socks[1]!.m.ws.terminate();
  await new Promise((r) => setTimeout(r, 100));
  expect((await create(socks[2]!.m, 0, 'a7')).body.result).toBe(0);
});

test('streams: per user across rooms (room.maxStreamsPerUser) and per app; a deleted stream frees its place', async () => {
  await start({ maxStreamsPerApp: 5 }, { maxStreamsPerUser: 3 });
  const r1 = await roomUser('alice', 'r1');
  const r2 = await roomUser('alice', 'r2');
  expect((await announce(r1, 's1')).body.err_code).toBe(0);
  expect((await announce(r1, 's2')).body.err_code).toBe(0);
  expect((await announce(r2, 's3')).body.err_code).toBe(0);
  const fourth = await announce(r2, 's4');
  expect(fourth.body).toMatchObject({ err_code: 1000000014, err_message: 'at most 3 streams per user' });
  // Announcing one again (a re-publish) or updating it takes no new place.
  expect((await announce(r1, 's1')).body.err_code).toBe(0);
  // Moving a stream to the other room takes its place along.
  expect((await announce(r2, 's1')).body.err_code).toBe(0);
  expect((await announce(r2, 's4')).body.err_code).toBe(1000000014);
  expect(
    (await r2.request('stream', { sub_cmd: 2002, stream_msg: JSON.stringify({ stream_id: 's3' }) })).body
      .err_code,
  ).toBe(0);
  expect((await announce(r2, 's4')).body.err_code).toBe(0);
  // The app's 5: bob gets 2.
  const bob = await roomUser('bob', 'r1');
  expect((await announce(bob, 'b1')).body.err_code).toBe(0);
  expect((await announce(bob, 'b2')).body.err_code).toBe(0);
  expect((await announce(bob, 'b3')).body).toMatchObject({
    err_code: 1000000014,
    err_message: 'at most 5 streams per app',
  });
  // Alice logs out of r1 for good: her streams there end and give their places back.
  await r1.request('logout', { reserve: 0 });
  await new Promise((r) => setTimeout(r, 100));
  expect((await announce(bob, 'b3')).body.err_code).toBe(0);
});

test('logged-in sockets: per user across both planes, per app; a closed socket frees its place', async () => {
  await start({ maxSocketsPerUser: 3, maxSocketsPerApp: 4 });
  const room = await roomUser('alice');
  const m1 = await mediaSocket('alice');
  const m2 = await mediaSocket('alice');
  expect([m1.login.body.result, m2.login.body.result]).toEqual([0, 0]);
  const m3 = await mediaSocket('alice');
  expect(m3.login.body).toMatchObject({ result: 10, err_info: 'at most 3 sockets per user' });
  const r2 = new Raw(wsUrl('/ws'), 'alice', 'r2');
  r2.appid = APPID;
  closers.push(r2);
  expect((await r2.login(1, token('alice'))).body).toMatchObject({
    err_code: 1000000023,
    err_message: 'at most 3 sockets per user',
  });
  // At her cap, alice's page reconnects to r1 before the server saw the old socket go: it takes over.
  const again = new Raw(wsUrl('/ws'), 'alice', 'r1');
  again.appid = APPID;
  closers.push(again);
  expect((await again.login(1, token('alice'))).body.err_code).toBe(0);
  for (let i = 0; i < 40 && !room.closed; i++) await new Promise((r) => setTimeout(r, 50));
  expect(room.closed?.code).toBe(4003); // the old socket was kicked out
  // The app's 4th socket is bob's; his 2nd is refused.
  await roomUser('bob');
  expect((await mediaSocket('bob')).login.body).toMatchObject({
    result: 10,
    err_info: 'at most 4 sockets per app',
  });
  // Alice's media socket goes: bob gets its place.
  m1.m.ws.terminate();
  await new Promise((r) => setTimeout(r, 100));
  expect((await mediaSocket('bob')).login.body.result).toBe(0);
});

test('the counters hold nothing once every lease is given back, whatever the order', async () => {
  const counters = new MemoryCapCounters();
  const caps = new Caps(counters, {
    socketsPerUser: 2,
    socketsPerApp: 3,
    streamsPerUser: 1,
    streamsPerApp: 1,
    sessionsPerUser: 2,
    sessionsPerApp: 2,
    publishersPerUser: 1,
    publishersPerApp: 1,
  });
  const a = await caps.session(1, 'a', true);
  const b = await caps.session(1, 'a', true);
  expect(b).toEqual({ refused: { cap: 'publishersPerUser', limit: 1 } });
  const c = await caps.session(1, 'a', false);
  const d = await caps.session(1, 'b', false);
  expect(d).toEqual({ refused: { cap: 'sessionsPerApp', limit: 2 } });
  if (!('lease' in a) || !('lease' in c)) throw new Error('claims refused');
  expect(counters.value('sess:1')).toBe(2);
  c.lease.release();
  a.lease.release();
  a.lease.release();
  expect(counters.size).toBe(0);
});
