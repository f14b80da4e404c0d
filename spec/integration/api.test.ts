/**
 * The legacy API surface through ZegoClient (jsdom) against a real server: synchronous argument checks and
 * boolean returns, the size and count limits, the room-message frequency limit, online count, the total
 * user list, a peer removed by heartbeat expiry, and callback argument lists.
 */
import { WebSocket } from 'ws';
import { ZegoClient } from '../../src/client';
import { mintLoginToken, startServer, type RunningServer } from '../../src/server';
import { APPID, SIGN, clientFactory, login, outcome, sleep, waitFor } from '../helpers/roomClients';

jest.setTimeout(30_000);

let server: RunningServer;
const { newClient, releaseAll } = clientFactory(() => server.url);

beforeEach(async () => {
  server = await startServer({
    janus: { enabled: false },
    port: 0,
    log: { level: 'silent' },
    apps: [{ appid: APPID, appSign: SIGN }],
    room: { heartbeatMs: 200, bigimTimeWindowMs: 20 },
  });
});
afterEach(async () => {
  releaseAll();
  await server.close();
});

test('config, setUserStateUpdate, setCustomSignalUrl and getCurrentVersion: synchronous booleans', () => {
  const zg = new ZegoClient();
  const good = { appid: APPID, idName: 'a', nickName: 'A', server: 'ws://127.0.0.1:1/ws', logLevel: 3 };
  expect(zg.config({ ...good, server: 'http://x' })).toBe(false);
  expect(zg.config({ ...good, server: [] })).toBe(false);
  expect(zg.config({ ...good, idName: '' })).toBe(false);
  expect(zg.config({ ...good, appid: 0 })).toBe(false);
  expect(zg.config(undefined as never)).toBe(false);
  expect(zg.config(good)).toBe(true);
  expect(zg.config({ ...good, server: ['ws://127.0.0.1:1/ws', 'wss://example.invalid/ws'] })).toBe(true);
  expect(zg.setUserStateUpdate('yes' as never)).toBe(false);
  expect(zg.setUserStateUpdate(true)).toBe(true);
  expect(zg.setCustomSignalUrl('http://not-ws')).toBe(false);
  expect(zg.setCustomSignalUrl([])).toBe(false);
  expect(zg.setCustomSignalUrl('wss://media.example.invalid/media')).toBe(true);
  expect(zg.setCustomSignalUrl(['ws://127.0.0.1:1/media', 'ws://127.0.0.1:2/media'])).toBe(true);
  expect(ZegoClient.getCurrentVersion()).toBe('1.12.5');
  expect(zg.logout()).toBe(false); // not logged in
});

test('before login: boolean methods return false, callback methods report a clear error', async () => {
  const { zg } = newClient('alice');
  expect(zg.sendCustomCommand(['bob'], 'hi')).toBe(false);
  expect(zg.updateStreamExtraInfo('s1', 'x')).toBe(false);
  const r = await outcome((ok, err) => zg.sendReliableMessage('t', 'd', ok, err));
  expect(r.err?.[0]).toEqual({ code: 'ZegoClient.Error.Network', msg: 'not logged in' });
  const rel = await outcome((ok, err) => zg.sendRelayMessage('t', 'd', ok, err));
  expect(rel.err?.[0]).toEqual({ code: 'ZegoClient.Error.Network', msg: 'not logged in' });
});

test('login with bad arguments returns without a callback (as 1.12); logged in, the checks still apply', async () => {
  const { zg } = newClient('alice');
  const calls: unknown[] = [];
  zg.login(
    'room1',
    3 as never,
    'tok',
    (...a: unknown[]) => calls.push(a),
    (...a: unknown[]) => calls.push(a),
  );
  zg.login(
    42 as never,
    1,
    'tok',
    (...a: unknown[]) => calls.push(a),
    (...a: unknown[]) => calls.push(a),
  );
  await sleep(300);
  expect(calls).toEqual([]);
  await login(zg, 'alice');
  expect(zg.sendCustomCommand([], 'x')).toBe(false);
  expect(zg.sendCustomCommand('bob' as never, 'x')).toBe(false);
  expect(zg.requestJoinLive('bob', null, null, undefined)).toBe(false); // a result callback is required
  expect(zg.inviteJoinLive('', null, null, () => {})).toBe(false);
  expect(zg.endJoinLive('')).toBe(false);
  expect(zg.respondJoinLive('nobody-1', true)).toBe(false); // no such request received
  expect(zg.updateStreamExtraInfo(1 as never, 'x')).toBe(false);
  expect(zg.logout()).toBe(true);
  expect(zg.logout()).toBe(false);
});

test('custom command: 1024 UTF-8 bytes is the limit; success gets (seq, the wire message); receiver gets (from, name, content)', async () => {
  const a = newClient('alice');
  const b = newClient('bob');
  await login(a.zg, 'alice');
  await login(b.zg, 'bob');
  expect(a.zg.sendCustomCommand(['bob'], 'é'.repeat(513))).toBe(false); // 1026 bytes
  const content = 'é'.repeat(512); // exactly 1024 bytes
  const r = await outcome((ok, err) => expect(a.zg.sendCustomCommand(['bob'], content, ok, err)).toBe(true));
  expect(r.ok?.[0]).toEqual(expect.any(Number));
  expect(JSON.parse(String(r.ok?.[1]))).toMatchObject({
    from_userid: 'alice',
    from_username: 'ALICE',
    custom_content: content,
  });
  const [got] = await waitFor('onRecvCustomCommand', () => b.rec.onRecvCustomCommand);
  expect(got).toEqual(['alice', 'ALICE', content]);
  // An object is sent as its JSON text, as the original.
  await outcome((ok, err) => a.zg.sendCustomCommand(['bob'], { k: 1 }, ok, err));
  const second = await waitFor('second custom command', () => b.rec.onRecvCustomCommand?.[1]);
  expect(second).toEqual(['alice', 'ALICE', '{"k":1}']);
});

test('room message: bad arguments -> input error; a second call within 500 ms -> Frequency Limited; receivers get chat_data', async () => {
  const a = newClient('alice');
  const b = newClient('bob');
  await login(a.zg, 'alice');
  await login(b.zg, 'bob');
  const bad = await outcome((ok, err) => a.zg.sendRoomMsg(3, 1, 'x', ok, err));
  expect(bad.err).toEqual([{ code: 'ZegoClient.Error.Param', msg: 'input error.' }]);
  const first = await outcome((ok, err) => a.zg.sendRoomMsg(1, 2, 'hello room', ok, err));
  expect(first.ok).toEqual([expect.any(Number), expect.any(Number), 1, 2, 'hello room']);
  const second = await outcome((ok, err) => a.zg.sendRoomMsg(1, 2, 'too soon', ok, err));
  expect(second.err).toEqual([
    { code: 'ZegoClient.Error.requencyLimited', msg: 'Frequency Limited.' },
    0,
    1,
    2,
    'too soon',
  ]);
  const [chat] = await waitFor('onRecvRoomMsg', () => b.rec.onRecvRoomMsg);
  expect(chat![0]).toEqual([
    expect.objectContaining({
      id_name: 'alice',
      nick_name: 'ALICE',
      msg_category: 1,
      msg_type: 2,
      msg_content: 'hello room',
      msg_id: first.ok![1],
    }),
  ]);
  await sleep(520);
  const third = await outcome((ok, err) => a.zg.sendRoomMsg(2, 3, 'later', ok, err));
  expect(third.ok?.[4]).toBe('later');
});

test('reliable messages: type over 128 bytes and an 11th type are refused by the server with named codes', async () => {
  const a = newClient('alice');
  await login(a.zg, 'alice');
  const long = await outcome((ok, err) => a.zg.sendReliableMessage('t'.repeat(129), 'd', ok, err));
  expect(long.err?.[0]).toEqual({
    code: 'ZegoClient.Error.Server',
    msg: expect.stringContaining('1000000005'),
  });
  for (let i = 0; i < 10; i++) {
    const r = await outcome((ok, err) => a.zg.sendReliableMessage(`type${i}`, 'd', ok, err));
    expect(r.ok).toEqual([expect.any(Number)]);
  }
  const eleventh = await outcome((ok, err) => a.zg.sendReliableMessage('type10', 'd', ok, err));
  expect(eleventh.err?.[0]).toEqual({
    code: 'ZegoClient.Error.Server',
    msg: expect.stringContaining('1000000006'),
  });
  // An existing type can still be updated.
  const again = await outcome((ok, err) => a.zg.sendReliableMessage('type3', 'd2', ok, err));
  expect(again.ok).toBeDefined();
});

test('big-room messages: success (seq, messageId); receivers get one list per window, the sender none', async () => {
  const a = newClient('alice');
  const b = newClient('bob');
  await login(a.zg, 'alice');
  await login(b.zg, 'bob');
  const results = await Promise.all(
    ['m1', 'm2', 'm3'].map((c) => outcome((ok, err) => a.zg.sendBigRoomMessage(1, 1, c, ok, err))),
  );
  for (const r of results) expect(r.ok).toEqual([expect.any(Number), expect.any(String)]);
  const got = await waitFor('all three', () => {
    const all = (b.rec.onRecvBigRoomMessage ?? []).flatMap((x) => x[0] as { content: string }[]);
    return all.length >= 3 && all;
  });
  expect(got.map((m) => m.content)).toEqual(['m1', 'm2', 'm3']);
  expect(got[0]).toEqual({
    idName: 'alice',
    nickName: 'ALICE',
    messageId: expect.any(String),
    category: 1,
    type: 1,
    content: 'm1',
    time: expect.anything(),
  });
  for (const call of b.rec.onRecvBigRoomMessage!) expect(call[1]).toBe('room1');
  expect(a.rec.onRecvBigRoomMessage).toBeUndefined();
});

test('onUpdateOnlineCount and onGetTotalUserList / onUserStateUpdate (only after setUserStateUpdate(true))', async () => {
  const a = newClient('alice');
  a.zg.setUserStateUpdate(true);
  const quiet = newClient('quiet'); // did not ask for user updates
  await login(a.zg, 'alice');
  await login(quiet.zg, 'quiet');
  const [total] = await waitFor('onGetTotalUserList', () => a.rec.onGetTotalUserList);
  expect(total![0]).toBe('room1');
  expect((total![1] as { idName: string }[]).map((u) => u.idName)).toContain('alice');
  const b = newClient('bob');
  await login(b.zg, 'bob');
  // Joins within one merge window arrive as one list.
  const join = await waitFor('bob joins', () =>
    a.rec.onUserStateUpdate?.find((x) => (x[1] as { idName: string }[]).some((u) => u.idName === 'bob')),
  );
  expect(join[0]).toBe('room1');
  expect(join[1]).toContainEqual({
    action: 1,
    idName: 'bob',
    nickName: 'BOB',
    role: 1,
    loginTime: expect.any(String),
  });
  const count = await waitFor('online count 3', () => a.rec.onUpdateOnlineCount?.find((x) => x[1] === 3));
  expect(count).toEqual(['room1', 3]);
  expect(quiet.rec.onUserStateUpdate).toBeUndefined();
  expect(quiet.rec.onGetTotalUserList).toBeUndefined();
});

test('a peer that stops heartbeating is removed: its streams end and others see it leave', async () => {
  const a = newClient('alice');
  a.zg.setUserStateUpdate(true);
  await login(a.zg, 'alice');
  // A raw peer: logs in, announces a stream, then goes silent (no hb, socket left open).
  const ws = new WebSocket(server.url.replace('http', 'ws') + '/ws');
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  const send = (cmd: string, seq: number, body: object, ids: Record<string, string> = {}) =>
    ws.send(
      JSON.stringify({
        header: {
          Protocol: 'req',
          cmd,
          appid: APPID,
          seq,
          user_id: '',
          session_id: '',
          room_id: 'room1',
          ...ids,
        },
        body,
      }),
    );
  const replies: Record<string, unknown>[] = [];
  ws.on('message', (d) => replies.push(JSON.parse(String(d)) as Record<string, unknown>));
  send('login', 1, {
    id_name: 'ghost',
    nick_name: 'GHOST',
    role: 1,
    token: mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'ghost' }),
    version: '1.12.5',
    room_name: 'room1',
    user_state_flag: 0,
    room_create_flag: 1,
    client_type: 3,
    third_token: '',
  });
  const loginRsp = await waitFor('ghost login', () =>
    replies.find((r) => (r.header as { cmd: string }).cmd === 'login'),
  );
  const lb = loginRsp.body as { user_id: string; session_id: string; err_code: number };
  expect(lb.err_code).toBe(0);
  send(
    'stream',
    2,
    { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: 'ghost-s', extra_info: '' }) },
    { user_id: lb.user_id, session_id: lb.session_id },
  );
  await waitFor('stream added', () => a.rec.onStreamUpdated?.find((x) => x[0] === 0));
  const t0 = Date.now();
  const left = await waitFor(
    'ghost leaves',
    () =>
      a.rec.onUserStateUpdate?.find((x) => {
        const u = (x[1] as { idName: string; action: number }[])[0];
        return u?.idName === 'ghost' && u.action === 2;
      }),
    5000,
  );
  expect(left[0]).toBe('room1');
  const ended = await waitFor('stream ended', () => a.rec.onStreamUpdated?.find((x) => x[0] === 1));
  expect(ended[1]).toEqual([expect.objectContaining({ stream_id: 'ghost-s', anchor_id_name: 'ghost' })]);
  // 3 missed intervals of 200 ms plus the sweep period: well under 2 s.
  expect(Date.now() - t0).toBeLessThan(2000);
  ws.terminate();
});
