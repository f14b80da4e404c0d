/**
 * Session life cycle through ZegoClient on fakes: the 0 ms login start, heartbeat (online count, three
 * unanswered beats -> onTempBroken -> re-login -> onReconnect), retry exhaustion -> onDisconnect, and
 * push_kickout -> onKickOut.
 */
import { flush } from '../../fakes/FakePlatform';
import { loggedIn, newHarness } from '../../fakes/clientHarness';

const NETWORK = { code: 'ZegoClient.Error.Network', msg: 'network is broken and login fail.' };

test('login starts on a 0 ms timer; the login frame has no user_id; the first heartbeat goes at once', async () => {
  const h = newHarness();
  const ok = jest.fn();
  const err = jest.fn();
  h.zg.login('room1', 2, 'tok', ok, err);
  expect(h.platform.sockets).toEqual([]);
  await flush();
  expect(h.platform.sockets).toEqual([]);
  await h.platform.advance(0);
  expect(h.platform.sockets.map((s) => s.url)).toEqual(['ws://fake.test/ws']);
  const [login, hb] = h.server.socket.sent;
  expect(login).toEqual({
    header: { Protocol: 'req', cmd: 'login', appid: 1, seq: 1, session_id: '', room_id: 'room1' },
    body: {
      id_name: 'alice',
      nick_name: 'Alice',
      role: 2,
      token: 'tok',
      version: '1.12.5',
      room_name: 'room1',
      user_state_flag: 0,
      room_create_flag: 1,
      client_type: 3,
      third_token: '',
    },
  });
  expect(hb).toEqual({
    header: {
      Protocol: 'req',
      cmd: 'hb',
      appid: 1,
      seq: 2,
      user_id: 'uid-alice',
      session_id: 'sess-1',
      room_id: 'room1',
    },
    body: { reserve: 0 },
  });
  expect(ok.mock.calls).toEqual([[[]]]);
  expect(err).not.toHaveBeenCalled();
});

test('a login error reply reaches the error callback as {code, msg}', async () => {
  const h = newHarness();
  // As our server: err_message names the code (the shim carries no table of names).
  h.server.handlers.login = () => ({ err_code: 1008, err_message: 'token error' });
  const ok = jest.fn();
  const err = jest.fn();
  h.zg.login('room1', 1, 'bad', ok, err);
  await h.platform.advance(0);
  expect(err.mock.calls).toEqual([[{ code: 'ZegoClient.Error.Server', msg: 'token error code:1008' }]]);
  expect(ok).not.toHaveBeenCalled();
  expect(h.server.socket.closedWith?.by).toBe('client');
});

test('heartbeats every hearbeat_interval; onUpdateOnlineCount(roomId, n) from each reply with online_count != 0', async () => {
  const h = await loggedIn({ login: { hearbeat_interval: 5000 } });
  expect(h.calls.onUpdateOnlineCount).toEqual([['room1', 1]]);
  h.server.onlineCount = 7;
  await h.platform.advance(4999);
  expect(h.server.requests('hb')).toHaveLength(1);
  await h.platform.advance(1);
  expect(h.server.requests('hb')).toHaveLength(2);
  expect(h.calls.onUpdateOnlineCount).toEqual([
    ['room1', 1],
    ['room1', 7],
  ]);
  h.server.onlineCount = 0;
  await h.platform.advance(5000);
  expect(h.server.requests('hb')).toHaveLength(3);
  expect(h.calls.onUpdateOnlineCount).toHaveLength(2);
});

test('the heartbeat interval never goes below the 3000 ms floor', async () => {
  const h = await loggedIn({ login: { hearbeat_interval: 1000 } });
  await h.platform.advance(2999);
  expect(h.server.requests('hb')).toHaveLength(1);
  await h.platform.advance(1);
  expect(h.server.requests('hb')).toHaveLength(2);
});

test('three unanswered heartbeats -> onTempBroken at the next beat; re-login after the legacy backoff -> onReconnect', async () => {
  const h = await loggedIn(); // hb at 0 answered, interval 10 s
  h.platform.setRandom(0.5); // first retry after 1000 + floor(0.5 * 3000) = 2500 ms
  h.server.muted.add('hb');
  await h.platform.advance(39_999); // unanswered beats at 10, 20 and 30 s
  expect(h.server.requests('hb')).toHaveLength(4);
  expect(h.calls.onTempBroken).toEqual([]);
  await h.platform.advance(1); // the beat at 40 s finds three unanswered
  expect(h.calls.onTempBroken).toEqual([[]]);
  expect(h.server.requests('hb')).toHaveLength(4);
  const first = h.platform.sockets[0]!;
  expect(first.closedWith).toEqual({ code: 1000, reason: 'logout', by: 'client' });
  h.server.muted.delete('hb');
  await h.platform.advance(2499);
  expect(h.platform.sockets).toHaveLength(1);
  expect(h.calls.onReconnect).toEqual([]);
  await h.platform.advance(1);
  expect(h.platform.sockets).toHaveLength(2);
  expect(h.calls.onReconnect).toEqual([[]]);
  const second = h.server.socket;
  expect(second.sentCmd('login')).toHaveLength(1);
  expect(second.sentCmd('hb').map((f) => f.header.session_id)).toEqual(['sess-2']);
  expect(h.calls.onDisconnect).toEqual([]);
  // The new session keeps beating and is answered: no further break.
  await h.platform.advance(60_000);
  expect(h.calls.onTempBroken).toHaveLength(1);
  expect(second.sentCmd('hb')).toHaveLength(7);
});

test('a heartbeat answered "session not found" re-logs in at once, without waiting for three misses', async () => {
  const h = await loggedIn({ config: { testing: { backoffMs: 100 } } });
  h.server.handlers.hb = () => ({ err_code: 1000000152 });
  await h.platform.advance(9999);
  expect(h.calls.onTempBroken).toEqual([]);
  await h.platform.advance(1);
  expect(h.calls.onTempBroken).toEqual([[]]);
  await h.platform.advance(100);
  expect(h.calls.onReconnect).toEqual([[]]);
  expect(h.platform.sockets).toHaveLength(2);
});

test('retry budget exhausted (server refusing connections) -> onDisconnect with the legacy network error', async () => {
  const h = await loggedIn({
    config: { server: ['ws://a.test/ws', 'ws://b.test/ws'], roomRetryTime: 1, testing: { backoffMs: 300 } },
  });
  h.server.refuseConnections = true;
  h.server.socket.drop();
  await flush();
  expect(h.calls.onTempBroken).toEqual([[]]);
  // Attempts at 300, 600 and 900 ms; the next (1200 ms) would pass the 1 s budget.
  await h.platform.advance(899);
  expect(h.platform.sockets).toHaveLength(3);
  expect(h.calls.onDisconnect).toEqual([]);
  await h.platform.advance(1);
  expect(h.calls.onDisconnect).toEqual([[NETWORK]]);
  // Retries alternate between the configured servers.
  expect(h.platform.sockets.map((s) => s.url)).toEqual([
    'ws://a.test/ws',
    'ws://b.test/ws',
    'ws://a.test/ws',
    'ws://b.test/ws',
  ]);
  await h.platform.advance(60_000);
  expect(h.platform.sockets).toHaveLength(4);
  expect(h.calls.onDisconnect).toHaveLength(1);
  expect(h.calls.onReconnect).toEqual([]);
});

test('a no-retry login code during reconnection ends the retries at once -> onDisconnect', async () => {
  const h = await loggedIn({ config: { testing: { backoffMs: 100 } } });
  h.server.handlers.login = () => ({ err_code: 1008 });
  h.server.socket.drop();
  await h.platform.advance(99);
  expect(h.calls.onDisconnect).toEqual([]);
  await h.platform.advance(1);
  expect(h.calls.onDisconnect).toEqual([[NETWORK]]);
  await h.platform.advance(60_000);
  expect(h.platform.sockets).toHaveLength(2);
});

test('push_kickout -> onKickOut({Kickout, "kickout reason=1"}); the session closes and does not retry', async () => {
  const h = await loggedIn();
  h.server.push('push_kickout', { reason: 1 });
  expect(h.calls.onKickOut).toEqual([[{ code: 'ZegoClient.Error.Kickout', msg: 'kickout reason=1' }]]);
  expect(h.server.socket.closedWith).toEqual({ code: 1000, reason: 'logout', by: 'client' });
  await h.platform.advance(60_000);
  expect(h.platform.sockets).toHaveLength(1);
  expect(h.server.requests('hb')).toHaveLength(1);
  expect(h.calls.onTempBroken).toEqual([]);
  expect(h.calls.onDisconnect).toEqual([]);
  expect(h.zg.sendCustomCommand(['bob'], 'x')).toBe(false);
});

test('a push_kickout for another session is ignored', async () => {
  const h = await loggedIn();
  h.server.push('push_kickout', { reason: 1 }, h.server.socket, 'sess-stale');
  await h.platform.advance(20_000);
  expect(h.calls.onKickOut).toEqual([]);
  expect(h.server.requests('hb')).toHaveLength(3);
});

test('a heartbeat answered 1000002001 also re-logs in; any other server error in a heartbeat reply is final', async () => {
  const h = await loggedIn({ config: { testing: { backoffMs: 100 } } });
  h.server.handlers.hb = () => ({ err_code: 1000002001 });
  await h.platform.advance(10_000);
  expect(h.calls.onTempBroken).toEqual([[]]);
  h.server.handlers.hb = () => ({ err_code: 1006 });
  await h.platform.advance(100);
  expect(h.calls.onReconnect).toEqual([[]]);
  // The first beat after the re-login gets 1006: the session ends with that server error.
  expect(h.calls.onDisconnect).toEqual([
    [{ code: 'ZegoClient.Error.Server', msg: expect.stringContaining('1006') }],
  ]);
  await h.platform.advance(60_000);
  expect(h.platform.sockets).toHaveLength(2);
  expect(h.calls.onDisconnect).toHaveLength(1);
});

test('push_kickout with need_relogin: 1 re-logs in instead of kicking out (1.12)', async () => {
  const h = await loggedIn({ config: { testing: { backoffMs: 100 } } });
  h.server.push('push_kickout', { reason: 3, need_relogin: 1 });
  await flush();
  expect(h.calls.onKickOut).toEqual([]);
  expect(h.calls.onTempBroken).toEqual([[]]);
  await h.platform.advance(100);
  expect(h.calls.onReconnect).toEqual([[]]);
  expect(h.platform.sockets).toHaveLength(2);
});
