/**
 * The admin API (docs/admin.md) against a real server over real HTTP, with raw legacy clients in the rooms
 * over real WebSockets: every route does what it says on the wire the pages hear, and every refusal
 * (signature, replay, clock, app, route, method, type, size, body, rate) is the documented JSON answer.
 */
import { mintLoginToken, type RunningServer } from '../../src/server';
import { ADMIN_ERRORS, ADMIN_ROUTE_NAMES } from '../../src/protocol/adminApi';
import { signAdminRequest } from '../../src/server/admin/signature';
import { adminCall, httpAnswer, newNonce, type AdminCall } from '../helpers/adminClient';
import { loggedIn, startOpsServer } from '../helpers/opsServer';
import { APPID, Raw, SIGN } from '../helpers/rawRoom';

jest.setTimeout(30_000);

const SECRET = 'admin-secret-0123456789abcdef';
const OTHER_APPID = 7;
const OTHER_SECRET = 'other-secret-0123456789abcdef';
const SERVER_SECRET = '0123456789abcdef0123456789abcdef';
const me: AdminCall = { appid: APPID, secret: SECRET };

let server: RunningServer;
const clients: Raw[] = [];

async function start(extra: Record<string, unknown> = {}): Promise<void> {
  server = await startOpsServer({
    apps: [
      { appid: APPID, appSign: SIGN, adminSecret: SECRET, serverSecret: SERVER_SECRET },
      { appid: OTHER_APPID, appSign: 'ef'.repeat(32), adminSecret: OTHER_SECRET },
      { appid: 8, appSign: '01'.repeat(32) },
    ],
    ...extra,
  });
}

const user = (idName: string, room = 'r1', token?: string) => loggedIn(server, clients, idName, room, token);

async function publish(c: Raw, streamId: string): Promise<void> {
  const r = await c.request('stream', {
    sub_cmd: 2001,
    stream_msg: JSON.stringify({ stream_id: streamId, extra_info: 'x' }),
  });
  expect(r.body.err_code).toBe(0);
}

const call = (route: string, body: unknown = {}, c: AdminCall = me) => adminCall(server.url, route, body, c);

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws?.terminate();
  await server?.close();
});

describe('with rooms, users and streams', () => {
  beforeEach(() => start());

  test('overview, list-rooms, list-users and list-streams, paged, of the calling app only', async () => {
    const alice = await user('alice');
    await user('bob');
    await user('carol', 'r2');
    await publish(alice, 's-alice');
    // Another app's room is not this app's business.
    const otherToken = mintLoginToken({ appid: OTHER_APPID, appSign: 'ef'.repeat(32), idName: 'zed' });
    const zed = new Raw(server.url.replace(/^http/, 'ws') + '/ws', 'zed', 'r1');
    zed.appid = OTHER_APPID;
    clients.push(zed);
    expect((await zed.login(1, otherToken)).body.err_code).toBe(0);

    const o = await call('overview');
    expect(o.status).toBe(200);
    expect(o.body.code).toBe(0);
    expect(o.body.data).toMatchObject({ rooms: 2, users: 3, streams: 1, tasks: [] });
    expect(o.body.data!.nodes).toEqual([
      expect.objectContaining({ janus: 'off', rooms: 2, users: 3, streams: 1 }),
    ]);
    expect(Array.isArray(o.body.data!.samples)).toBe(true);

    const rooms = await call('list-rooms');
    expect(rooms.body.data).toEqual({
      total: 2,
      rooms: [
        { roomId: 'r1', users: 2, streams: 1 },
        { roomId: 'r2', users: 1, streams: 0 },
      ],
    });
    const second = await call('list-rooms', { offset: 1, limit: 1 });
    expect(second.body.data).toEqual({ total: 2, rooms: [{ roomId: 'r2', users: 1, streams: 0 }] });

    const users = await call('list-users', { roomId: 'r1' });
    expect(users.body.data!.total).toBe(2);
    expect(users.body.data!.users).toEqual([
      { idName: 'alice', nickName: 'ALICE', role: 1, loginTime: expect.any(Number) },
      { idName: 'bob', nickName: 'BOB', role: 1, loginTime: expect.any(Number) },
    ]);
    const streams = await call('list-streams', {});
    expect(streams.body.data).toEqual({
      total: 1,
      streams: [{ streamId: 's-alice', roomId: 'r1', idName: 'alice', nickName: 'ALICE', extraInfo: 'x' }],
    });
    expect((await call('list-streams', { roomId: 'r2' })).body.data).toEqual({ total: 0, streams: [] });

    const missing = await call('list-users', { roomId: 'nope' });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: 40402, error: 'room_not_found', message: 'no room "nope"' });
    // The other app sees its own room only.
    const theirs = await call('list-rooms', {}, { appid: OTHER_APPID, secret: OTHER_SECRET });
    expect(theirs.body.data).toEqual({ total: 1, rooms: [{ roomId: 'r1', users: 1, streams: 0 }] });
  });

  test('kick-user: the page hears push_kickout with the reason, its socket closes, the room hears it leave', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await publish(bob, 's-bob');
    const r = await call('kick-user', { roomId: 'r1', idName: 'bob', reason: 77 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ code: 0, data: { roomId: 'r1', idName: 'bob' } });
    const k = await bob.push('push_kickout');
    expect(k.body.reason).toBe(77);
    await waitUntil(() => bob.closed !== null, 'bob closed');
    await alice.push('push_stream_update', (b) => b.stream_cmd === 12002);
    const after = await call('list-users', { roomId: 'r1' });
    expect((after.body.data!.users as { idName: string }[]).map((u) => u.idName)).toEqual(['alice']);
    const again = await call('kick-user', { roomId: 'r1', idName: 'bob' });
    expect(again.status).toBe(404);
    expect(again.body.error).toBe('user_not_found');
  });

  test('close-room: everyone kicked, every stream ended, the room gone', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol', 'r2');
    await publish(alice, 's-a');
    const r = await call('close-room', { roomId: 'r1' });
    expect(r.body).toEqual({ code: 0, data: { roomId: 'r1', users: 2, streams: 1 } });
    for (const c of [alice, bob]) {
      expect((await c.push('push_kickout')).body.reason).toBe(2);
      await waitUntil(() => c.closed !== null, `${c.idName} closed`);
    }
    expect((await call('list-rooms')).body.data).toEqual({
      total: 1,
      rooms: [{ roomId: 'r2', users: 1, streams: 0 }],
    });
    expect((await call('list-streams')).body.data!.total).toBe(0);
    expect(carol.closed).toBeNull();
    expect((await call('close-room', { roomId: 'r1' })).body.error).toBe('room_not_found');
  });

  test('end-stream: viewers hear it deleted, the publisher stays in the room', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await publish(alice, 's-a');
    const r = await call('end-stream', { streamId: 's-a' });
    expect(r.body).toEqual({ code: 0, data: { roomId: 'r1', streamId: 's-a' } });
    const p = await bob.push('push_stream_update', (b) => b.stream_cmd === 12002);
    expect(p.body.stream_info).toEqual([
      expect.objectContaining({ stream_id: 's-a', anchor_id_name: 'alice' }),
    ]);
    expect(alice.closed).toBeNull();
    expect((await call('end-stream', { streamId: 's-a' })).body.error).toBe('stream_not_found');
  });

  test('send-room-message reaches every member; send-custom-command only the named ones', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const m = await call('send-room-message', { roomId: 'r1', content: 'maintenance at 5' });
    expect(m.body).toEqual({ code: 0, data: { msgId: expect.any(Number), recipients: 2 } });
    for (const c of [alice, bob]) {
      const chat = await c.push('push_im_chat');
      expect(chat.body.chat_data).toEqual([
        expect.objectContaining({ id_name: '@server', nick_name: 'server', msg_content: 'maintenance at 5' }),
      ]);
    }
    const cc = await call('send-custom-command', {
      roomId: 'r1',
      content: '{"op":"mute"}',
      to: ['bob', 'nobody'],
      fromIdName: 'ops',
      fromNickName: 'Ops',
    });
    expect(cc.body).toEqual({ code: 0, data: { recipients: 1 } });
    const got = await bob.push('push_custommsg');
    expect(JSON.parse(got.body.custommsg as string)).toMatchObject({
      from_userid: 'ops',
      from_username: 'Ops',
      custom_content: '{"op":"mute"}',
      room_id: 'r1',
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(alice.frames.some((f) => f.header.cmd === 'push_custommsg')).toBe(false);
  });

  test('mint-token: a v1 and a 04 token that log in; limits refused as cannot_mint', async () => {
    const v1 = await call('mint-token', { idName: 'dave', format: 'v1', ttlS: 600 });
    expect(v1.body.data).toEqual({ token: expect.any(String), format: 'v1', expiresAt: expect.any(Number) });
    await user('dave', 'r1', v1.body.data!.token as string);
    const t04 = await call('mint-token', { idName: 'erin', roomId: 'r1' });
    expect(t04.body.data!.format).toBe('04');
    await user('erin', 'r1', t04.body.data!.token as string);
    // The 04 token names its room: another room refuses it.
    const elsewhere = new Raw(server.url.replace(/^http/, 'ws') + '/ws', 'erin', 'r9');
    clients.push(elsewhere);
    expect((await elsewhere.login(1, t04.body.data!.token as string)).body.err_code).not.toBe(0);
    const tooLong = await call('mint-token', { idName: 'x', ttlS: 10 * 365 * 24 * 3600 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toBe('cannot_mint');
    const v1Room = await call('mint-token', { idName: 'x', format: 'v1', roomId: 'r1' });
    expect(v1Room.body.error).toBe('cannot_mint');
    // The other app has no serverSecret: 04 cannot be minted for it, v1 is its default.
    const theirs = { appid: OTHER_APPID, secret: OTHER_SECRET };
    expect((await call('mint-token', { idName: 'x', format: '04' }, theirs)).body.error).toBe('cannot_mint');
    expect((await call('mint-token', { idName: 'x' }, theirs)).body.data!.format).toBe('v1');
  });
});

describe('refusals', () => {
  beforeEach(() =>
    start({
      admin: {
        appBurst: 1000,
        appRequestsPerSecond: 1000,
        addressBurst: 1000,
        addressRequestsPerSecond: 1000,
      },
    }),
  );

  const refused = async (
    p: Promise<{ status: number; body: { code: number; error?: string } }>,
    name: keyof typeof ADMIN_ERRORS,
  ) => {
    const r = await p;
    expect({ status: r.status, error: r.body.error, code: r.body.code }).toEqual({
      status: ADMIN_ERRORS[name].status,
      error: name,
      code: ADMIN_ERRORS[name].code,
    });
  };

  test('signatures: missing, malformed, wrong secret, another app, another route, a changed body', async () => {
    await refused(call('overview', {}, { ...me, headers: { 'x-zego-signature': '' } }), 'missing_auth');
    await refused(call('overview', {}, { ...me, nonce: 'short' }), 'missing_auth');
    await refused(call('overview', {}, { ...me, headers: { 'x-zego-appid': 'abc' } }), 'missing_auth');
    await refused(call('overview', {}, { ...me, secret: 'wrong-secret-0123456789abcdef' }), 'bad_signature');
    await refused(call('overview', {}, { appid: 12345, secret: SECRET }), 'unknown_app');
    // App 8 exists but has no adminSecret: no admin access.
    await refused(call('overview', {}, { appid: 8, secret: SECRET }), 'unknown_app');
    // Signed by the other app's secret but naming this app.
    await refused(call('overview', {}, { appid: APPID, secret: OTHER_SECRET }), 'bad_signature');
    // A signature made for list-rooms, sent to close-room.
    const nonce = newNonce();
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ roomId: 'r1' });
    const forList = signAdminRequest(SECRET, {
      method: 'POST',
      target: '/admin/api/list-users',
      appid: APPID,
      timestamp,
      nonce,
      body,
    });
    await refused(
      call('close-room', null, { ...me, raw: body, nonce, timestamp, signature: forList }),
      'bad_signature',
    );
    // The same signature with another body.
    const other = JSON.stringify({ roomId: 'r2' });
    await refused(
      call('list-users', null, { ...me, raw: other, nonce, timestamp, signature: forList }),
      'bad_signature',
    );
    // The genuine request still passes (its nonce was never accepted: failures do not burn nonces).
    await refused(
      call('list-users', null, { ...me, raw: body, nonce, timestamp, signature: forList }),
      'room_not_found',
    );
  });

  test('replays and stale timestamps', async () => {
    const nonce = newNonce();
    const first = await call('list-rooms', {}, { ...me, nonce });
    expect(first.status).toBe(200);
    await refused(call('list-rooms', {}, { ...me, nonce }), 'replayed_request');
    // The same nonce under another app is that app's own.
    expect((await call('list-rooms', {}, { appid: OTHER_APPID, secret: OTHER_SECRET, nonce })).status).toBe(
      200,
    );
    const now = Math.floor(Date.now() / 1000);
    await refused(call('list-rooms', {}, { ...me, timestamp: now - 301 }), 'stale_request');
    await refused(call('list-rooms', {}, { ...me, timestamp: now + 301 }), 'stale_request');
    expect((await call('list-rooms', {}, { ...me, timestamp: now - 290 })).status).toBe(200);
  });

  test('route, method, type, size and body', async () => {
    await refused(call('no-such-route'), 'no_route');
    await refused(call('__proto__'), 'no_route');
    await refused(call('overview', {}, { ...me, method: 'GET' }), 'method_not_allowed');
    await refused(
      call('overview', {}, { ...me, headers: { 'content-type': 'text/plain' } }),
      'unsupported_type',
    );
    await refused(call('overview', null, { ...me, raw: '{"x":' }), 'invalid_json');
    await refused(call('overview', null, { ...me, raw: '['.repeat(100) + ']'.repeat(100) }), 'invalid_json');
    await refused(
      call('overview', null, { ...me, raw: `{"pad":"${'a'.repeat(70_000)}"}` }),
      'body_too_large',
    );
    const bad = await call('list-users', { roomId: 5 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_body');
    expect(bad.body.message).toMatch(/roomId/);
    await refused(call('list-rooms', { limit: 100_000 }), 'invalid_body');
    await refused(call('kick-user', { roomId: 'r1' }), 'invalid_body');
    await refused(call('overview', []), 'invalid_body');
  });

  test('every route is reachable and answers JSON', async () => {
    for (const route of ADMIN_ROUTE_NAMES) {
      const r = await call(route, {});
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.status === 200 || r.body.error === 'invalid_body').toBe(true);
    }
  });
});

test('per-app and per-address rates: 429 with retry-after, the other app unaffected', async () => {
  await start({ admin: { appRequestsPerSecond: 1, appBurst: 3 } });
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await call('list-rooms'));
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
  expect(answers[4]!.headers['retry-after']).toBe('1');
  expect((await call('list-rooms', {}, { appid: OTHER_APPID, secret: OTHER_SECRET })).status).toBe(200);
  await server.close();
  await start({ admin: { addressRequestsPerSecond: 1, addressBurst: 2 } });
  const byAddress = [];
  for (let i = 0; i < 4; i++)
    byAddress.push((await call('list-rooms', {}, { appid: 12345, secret: 'x' })).status);
  // Refused by address before the signature is even looked at.
  expect(byAddress).toEqual([401, 401, 429, 429]);
});

test('admin.enabled false: no API and no page (404)', async () => {
  await start({ admin: { enabled: false } });
  expect((await httpAnswer(`${server.url}/admin/api/overview`, 'POST')).status).toBe(404);
  expect((await httpAnswer(`${server.url}/admin`)).status).toBe(404);
});

async function waitUntil(ok: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('operator actions are logged as JSON with the app, the room and the user', async () => {
  const lines: Record<string, unknown>[] = [];
  server = await startOpsServer(
    { log: { level: 'info' }, apps: [{ appid: APPID, appSign: SIGN, adminSecret: SECRET }] },
    { logStream: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } },
  );
  await user('alice');
  await call('kick-user', { roomId: 'r1', idName: 'alice' });
  await call('close-room', { roomId: 'nope' });
  expect(lines).toContainEqual(
    expect.objectContaining({
      admin: 'kick-user',
      appid: APPID,
      room: 'r1',
      user: 'alice',
      msg: 'admin action',
    }),
  );
  expect(lines.filter((l) => l.admin === 'close-room')).toEqual([]);
});

test('latency of signed calls (figures for docs/admin.md; the bound is only against a hang)', async () => {
  await start({
    admin: {
      appRequestsPerSecond: 10_000,
      appBurst: 10_000,
      addressRequestsPerSecond: 10_000,
      addressBurst: 10_000,
    },
  });
  for (let i = 0; i < 20; i++) await user(`u${i}`, `room${i % 4}`);
  const ms: Record<string, number[]> = { 'list-rooms': [], 'list-users': [], overview: [] };
  for (let i = 0; i < 100; i++)
    for (const route of Object.keys(ms)) {
      const a = await call(route, route === 'list-users' ? { roomId: 'room1' } : {});
      expect(a.status).toBe(200);
      ms[route]!.push(a.ms);
    }
  const out = Object.entries(ms).map(([route, v]) => {
    v.sort((x, y) => x - y);
    expect(v.at(-1)!).toBeLessThan(1000);
    return `${route} p50 ${v[50]!.toFixed(2)} ms p99 ${v[98]!.toFixed(2)} ms`;
  });
  console.log(`admin API over loopback, a new connection per call, 20 users in 4 rooms: ${out.join('; ')}`);
});
