/**
 * RoomConnection on a FakePlatform: request/reply by seq and the legacy send queue (sweep every 2 s,
 * timeout at 5 s, silent drop past 10 s, at most 100 per sweep), own timeouts, close and drop.
 */
import { RoomConnection } from '../../../src/client/core/RoomConnection';
import { ZegoError } from '../../../src/client/core/ZegoError';
import { FakePlatform, flush, type FakeSocket } from '../../fakes/FakePlatform';

const TIMEOUT = { code: 'ZegoClient.Error.Timeout', msg: 'send customsg timeout.' };

interface Tracked {
  state: 'pending' | 'ok' | 'err';
  value?: unknown;
  error?: ZegoError;
}
function track(p: Promise<unknown>): Tracked {
  const t: Tracked = { state: 'pending' };
  p.then(
    (v) => Object.assign(t, { state: 'ok', value: v }),
    (e: ZegoError) => Object.assign(t, { state: 'err', error: e }),
  );
  return t;
}
const count = (ts: Tracked[], state: Tracked['state']) => ts.filter((t) => t.state === state).length;

async function openConn(): Promise<{ platform: FakePlatform; conn: RoomConnection; socket: FakeSocket }> {
  const platform = new FakePlatform({ startMs: 0 });
  const conn = new RoomConnection(platform, 1, 'room1');
  const opened = conn.open('ws://fake.test/ws', 10_000);
  platform.lastSocket.open();
  await opened;
  return { platform, conn, socket: platform.lastSocket };
}

const custom = (conn: RoomConnection, i = 0) =>
  conn.request('custommsg', { dest_id_name: ['bob'], custom_msg: `m${i}` });

test('frames carry a per-socket seq from 1; the login frame omits user_id; a reply resolves by seq', async () => {
  const { conn, socket } = await openConn();
  const login = track(
    conn.request(
      'login',
      {
        id_name: 'alice',
        nick_name: 'Alice',
        role: 1,
        token: 't',
        version: '1.12.5',
        room_name: 'room1',
        user_state_flag: 0,
        room_create_flag: 1,
      },
      10_000,
    ),
  );
  conn.identity = { appid: 1, user_id: 'u1', session_id: 's1', room_id: 'room1' };
  const a = track(custom(conn, 1));
  const b = track(custom(conn, 2));
  expect(socket.sent.map((f) => f.header)).toEqual([
    { Protocol: 'req', cmd: 'login', appid: 1, seq: 1, session_id: '', room_id: 'room1' },
    {
      Protocol: 'req',
      cmd: 'custommsg',
      appid: 1,
      seq: 2,
      user_id: 'u1',
      session_id: 's1',
      room_id: 'room1',
    },
    {
      Protocol: 'req',
      cmd: 'custommsg',
      appid: 1,
      seq: 3,
      user_id: 'u1',
      session_id: 's1',
      room_id: 'room1',
    },
  ]);
  expect(conn.lastSeq).toBe(3);
  // Replies out of order, matched by seq; an unknown seq is ignored.
  socket.serverSend({ header: { ...socket.sent[2]!.header, Protocol: 'rsp' }, body: { err_code: 0, n: 3 } });
  socket.serverSend({
    header: { ...socket.sent[2]!.header, Protocol: 'rsp', seq: 99 },
    body: { err_code: 0 },
  });
  socket.serverSend({
    header: { ...socket.sent[1]!.header, Protocol: 'rsp' },
    body: { err_code: 1008, err_message: 'token error' },
  });
  await flush();
  expect(b).toEqual({ state: 'ok', value: { err_code: 0, n: 3 } });
  expect(a.state).toBe('err');
  expect(a.error!.toLegacy()).toEqual({ code: 'ZegoClient.Error.Server', msg: 'token error code:1008' });
  expect(a.error!.serverCode).toBe(1008);
  expect(login.state).toBe('pending');
});

test('a request is failed by the first sweep that finds it 5 s old (sweeps every 2 s from the first request)', async () => {
  const { platform, conn } = await openConn();
  const a = track(custom(conn, 1)); // t=0, sweeps at 2000, 4000, 6000, 8000...
  await platform.advance(1500);
  const b = track(custom(conn, 2)); // t=1500
  await platform.advance(4499); // t=5999: sweeps at 2000 and 4000 found nothing 5 s old
  expect([a.state, b.state]).toEqual(['pending', 'pending']);
  await platform.advance(1); // t=6000: a is 6000 ms old, b 4500 ms
  expect(a.state).toBe('err');
  expect(a.error!.toLegacy()).toEqual(TIMEOUT);
  expect(a.error!.silent).toBe(false);
  expect(b.state).toBe('pending');
  await platform.advance(1999);
  expect(b.state).toBe('pending');
  await platform.advance(1); // t=8000: b is 6500 ms old
  expect(b.error!.toLegacy()).toEqual(TIMEOUT);
  expect(b.error!.silent).toBe(false);
});

test('a sweep that runs late drops requests older than 10 s silently and fails those 5-10 s old', async () => {
  const { platform, conn } = await openConn();
  const old = track(custom(conn, 1)); // t=0
  platform.skew(4000); // the 2000 ms sweep is overdue but does not run (throttled tab)
  const mid = track(custom(conn, 2)); // t=4000
  platform.skew(7000); // t=11000
  await flush();
  expect([old.state, mid.state]).toEqual(['pending', 'pending']);
  await platform.advance(0); // the overdue sweep runs now
  expect(old.state).toBe('err');
  expect(old.error!.silent).toBe(true);
  expect(old.error!.toLegacy()).toEqual(TIMEOUT);
  expect(mid.state).toBe('err');
  expect(mid.error!.silent).toBe(false);
});

test('exactly 10 s old is still a (non-silent) timeout; the drop needs strictly more', async () => {
  const { platform, conn } = await openConn();
  const a = track(custom(conn));
  platform.skew(10_000);
  await platform.advance(0);
  expect(a.error!.silent).toBe(false);
  const b = track(custom(conn)); // next sweep at 12000
  platform.skew(10_001);
  await platform.advance(0);
  expect(b.error!.silent).toBe(true);
});

test('at most 100 requests are settled per sweep, oldest first', async () => {
  const { platform, conn } = await openConn();
  const all = Array.from({ length: 150 }, (_, i) => track(custom(conn, i)));
  await platform.advance(5999);
  expect(count(all, 'pending')).toBe(150);
  await platform.advance(1); // sweep at 6000
  expect(count(all, 'err')).toBe(100);
  expect(all.slice(0, 100).every((t) => t.state === 'err')).toBe(true);
  await platform.advance(1999);
  expect(count(all, 'err')).toBe(100);
  await platform.advance(1); // sweep at 8000
  expect(count(all, 'err')).toBe(150);
  expect(all.every((t) => t.error!.code === TIMEOUT.code && !t.error!.silent)).toBe(true);
});

test('at most 100 per sweep also for silent drops: a late sweep drops 100, the next one the other 50', async () => {
  const { platform, conn } = await openConn();
  const all = Array.from({ length: 150 }, (_, i) => track(custom(conn, i)));
  platform.skew(11_000);
  await platform.advance(0);
  expect(count(all, 'err')).toBe(100);
  await platform.advance(2000); // t=13000
  expect(count(all, 'err')).toBe(150);
  expect(all.every((t) => t.error!.silent)).toBe(true);
});

test('a reply before the sweep settles the request once; a reply after the timeout is ignored', async () => {
  const { platform, conn, socket } = await openConn();
  const a = track(custom(conn, 1));
  const b = track(custom(conn, 2));
  socket.serverSend({ header: { ...socket.sent[0]!.header, Protocol: 'rsp' }, body: { err_code: 0 } });
  await platform.advance(6000);
  expect(a).toEqual({ state: 'ok', value: { err_code: 0 } });
  expect(b.state).toBe('err');
  socket.serverSend({ header: { ...socket.sent[1]!.header, Protocol: 'rsp' }, body: { err_code: 0 } });
  await flush();
  expect(b.state).toBe('err');
});

test('a request with its own timeout is not swept, does not start the sweep and does not block it', async () => {
  const { platform, conn } = await openConn();
  const login = track(
    conn.request(
      'login',
      {
        id_name: 'a',
        nick_name: 'a',
        role: 1,
        token: 't',
        version: 'v',
        room_name: 'r',
        user_state_flag: 0,
        room_create_flag: 1,
      },
      10_000,
    ),
  );
  expect(platform.pendingTimers).toBe(1); // only its own timer
  await platform.advance(1000);
  const later = track(custom(conn)); // t=1000, sweeps from 3000
  await platform.advance(6999); // t=7999: later failed at the 7000 sweep, login untouched
  expect(later.error!.toLegacy()).toEqual(TIMEOUT);
  expect(login.state).toBe('pending');
  await platform.advance(2000); // t=9999
  expect(login.state).toBe('pending');
  await platform.advance(1);
  expect(login.error!.toLegacy()).toEqual({ code: 'ZegoClient.Error.Timeout', msg: 'login timeout.' });
});

test('a dropped socket fails every pending request with the send timeout error and reports onClosed', async () => {
  const { platform, conn, socket } = await openConn();
  const closed = jest.fn();
  conn.onClosed = closed;
  const reqs = [
    track(custom(conn, 1)),
    track(custom(conn, 2)),
    track(conn.request('hb', { reserve: 0 }, 3000)),
  ];
  socket.drop();
  await flush();
  expect(reqs.map((r) => r.error?.toLegacy())).toEqual([TIMEOUT, TIMEOUT, TIMEOUT]);
  expect(reqs.every((r) => r.error!.silent === false)).toBe(true);
  expect(closed).toHaveBeenCalledTimes(1);
  expect(platform.pendingTimers).toBe(0); // sweep and own timers cleared
  const after = track(custom(conn));
  await flush();
  expect(after.error!.toLegacy()).toEqual({ code: 'ZegoClient.Error.Network', msg: 'not connected' });
});

test('close() fails pending requests, closes the socket with 1000 "logout" and does not report onClosed', async () => {
  const { platform, conn, socket } = await openConn();
  const closed = jest.fn();
  conn.onClosed = closed;
  const a = track(custom(conn));
  conn.close();
  await platform.advance(0);
  expect(a.error!.toLegacy()).toEqual(TIMEOUT);
  expect(socket.closedWith).toEqual({ code: 1000, reason: 'logout', by: 'client' });
  expect(socket.readyState).toBe(3);
  expect(closed).not.toHaveBeenCalled();
});

test('open(): connect timeout and refused connection', async () => {
  const platform = new FakePlatform({ startMs: 0 });
  const c1 = new RoomConnection(platform, 1, 'r');
  const t1 = track(c1.open('ws://a/ws', 10_000));
  await platform.advance(9999);
  expect(t1.state).toBe('pending');
  await platform.advance(1);
  expect(t1.error!.toLegacy()).toEqual({ code: 'ZegoClient.Error.Timeout', msg: 'connect timeout' });
  expect(platform.sockets[0]!.closedWith?.by).toBe('client');
  const c2 = new RoomConnection(platform, 1, 'r');
  const t2 = track(c2.open('ws://b/ws', 10_000));
  platform.lastSocket.drop();
  await flush();
  expect(t2.error!.toLegacy()).toEqual({ code: 'ZegoClient.Error.Network', msg: 'connect failed' });
  expect(platform.pendingTimers).toBe(0);
});

test('pushes are routed by cmd; once the session is known, pushes for another session are ignored', async () => {
  const { conn, socket } = await openConn();
  const pushes: [string, unknown][] = [];
  conn.onPush = (cmd, body) => pushes.push([cmd, body]);
  const push = (session_id: string, reason: number) =>
    socket.serverSend({
      header: { Protocol: 'push', cmd: 'push_kickout', appid: 1, seq: 0, session_id, room_id: 'room1' },
      body: { reason },
    });
  push('any', 1); // no session yet: accepted
  conn.identity = { appid: 1, user_id: 'u1', session_id: 's1', room_id: 'room1' };
  push('other', 2);
  push('s1', 3);
  socket.serverSend('not json' as unknown as Record<string, unknown>);
  expect(pushes).toEqual([
    ['push_kickout', { reason: 1 }],
    ['push_kickout', { reason: 3 }],
  ]);
});
