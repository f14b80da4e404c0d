/** @jest-environment node */
/** The room server over real WebSockets, driven by raw legacy-protocol frames. */
import { mintLoginToken, startServer, type RunningServer } from '../../../src/server';
import { APPID, Raw, SIGN } from '../../helpers/rawRoom';

let server: RunningServer;
let ws: string;
const clients: Raw[] = [];
const client = (id: string, room?: string) => {
  const c = new Raw(ws, id, room);
  clients.push(c);
  return c;
};

beforeEach(async () => {
  server = await startServer({
    janus: { enabled: false },
    port: 0,
    log: { level: 'silent' },
    apps: [{ appid: APPID, appSign: SIGN }],
    room: { heartbeatMs: 200, bigimTimeWindowMs: 50, imChatIntervalMs: 5000 },
    limits: { messagesPerSecond: 20, burst: 20, maxFrameBytes: 4096, maxMessageBytes: 16384 },
  });
  ws = server.url.replace('http', 'ws') + '/ws';
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws?.terminate();
  await server.close();
});

test('login: reply shape, appid echoed, anchor info; bad and expired tokens', async () => {
  const a = client('alice');
  const r = await a.login();
  expect(r.header).toMatchObject({
    Protocol: 'rsp',
    cmd: 'login',
    appid: APPID,
    seq: 1,
    user_id: 'alice',
    room_id: 'r1',
  });
  expect(r.body).toMatchObject({
    err_code: 0,
    hearbeat_interval: 200,
    stream_seq: 0,
    stream_info: [],
    online_count: 1,
  });
  expect(r.body.anchor_info).toEqual({
    anchor_id: 'alice',
    anchor_id_name: 'alice',
    anchor_nick_name: 'ALICE',
  });
  expect((await client('bob').login(1, 'garbage')).body.err_code).toBe(1008);
  const expired = mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'carl', ttlS: -10 });
  expect((await client('carl').login(1, expired)).body.err_code).toBe(1010);
});

test('bad input: malformed JSON, unknown cmd, wrong types, before login, oversize; others unaffected', async () => {
  const a = client('alice');
  await a.login();
  const b = client('bob');
  await b.open();
  expect((await b.request('hb', { reserve: 0 })).body.err_code).toBe(1006);
  b.ws.send('{not json');
  await b.wait((f) => f.body.err_code === 1, 'json error');
  await b.login();
  expect((await b.request('nope', {})).body.err_code).toBe(1000000001);
  expect(
    (await b.request('im_chat', { msg_category: 'x', msg_type: 1, msg_content: 'hi' })).body.err_code,
  ).toBe(1000000002);
  // Over limits.maxFrameBytes: refused unread, named by its first bytes, the socket stays (a page can send
  // a long message through the API); over limits.maxMessageBytes it is not even received: 1009.
  const long = JSON.stringify({ header: { cmd: 'relay', seq: 77 }, body: { relay_data: 'x'.repeat(5000) } });
  b.ws.send(long);
  const refused = await b.wait((f) => f.header.seq === 77, 'too-large refusal');
  expect(refused.body.err_code).toBe(1000000005);
  expect(refused.header.cmd).toBe('relay');
  expect((await b.request('hb', { reserve: 0 })).body.err_code).toBe(0);
  b.ws.send('x'.repeat(17_000));
  await b.wait(() => b.closed !== null, 'close');
  expect(b.closed!.code).toBe(1009);
  expect((await a.request('hb', { reserve: 0 })).body.err_code).toBe(0);
});

test('messages: custom command to destinations only, room chat, reliable with seq, signal', async () => {
  const a = client('alice');
  const b = client('bob');
  const c = client('carl');
  await a.login();
  await b.login();
  await c.login();
  const custom = JSON.stringify({ from_userid: 'alice', from_username: 'ALICE', custom_content: 'hello' });
  expect((await a.request('custommsg', { dest_id_name: ['bob'], custom_msg: custom })).body.err_code).toBe(0);
  expect((await b.push('push_custommsg')).body.custommsg).toBe(custom);
  expect((await a.request('custommsg', { dest_id_name: [], custom_msg: custom })).body.err_code).toBe(
    1000000002,
  );
  const big = JSON.stringify({
    from_userid: 'alice',
    from_username: 'ALICE',
    custom_content: 'x'.repeat(1025),
  });
  expect((await a.request('custommsg', { dest_id_name: ['bob'], custom_msg: big })).body.err_code).toBe(
    1000000005,
  );

  const chat = await a.request('im_chat', { msg_category: 1, msg_type: 1, msg_content: 'hi' });
  expect(chat.body).toMatchObject({ err_code: 0, msg_id: 1 });
  const pushed = await c.push('push_im_chat');
  expect(pushed.body.chat_data).toEqual([
    expect.objectContaining({ id_name: 'alice', msg_content: 'hi', msg_id: 1 }),
  ]);
  expect(
    (await a.request('im_chat', { msg_category: 1, msg_type: 1, msg_content: 'again' })).body.err_code,
  ).toBe(1000000004);

  expect((await a.request('trans', { trans_type: 'quiz', trans_data: 'q1' })).body).toMatchObject({
    trans_seq: 1,
  });
  expect((await b.push('push_trans')).body).toMatchObject({
    trans_type: 'quiz',
    trans_seq: 1,
    trans_data: 'q1',
    trans_user_idname: 'alice',
  });
  expect((await a.request('trans', { trans_type: 'quiz', trans_data: 'q2' })).body).toMatchObject({
    trans_seq: 2,
  });
  expect((await c.request('trans_fetch', { trans_type: 'quiz', trans_local_seq: 0 })).body).toMatchObject({
    trans_seq: 2,
    trans_data: 'q2',
  });
  expect((await c.request('hb', { reserve: 0 })).body.trans_seqs).toEqual([
    { trans_type: 'quiz', trans_seq: 2 },
  ]);
  for (let i = 0; i < 9; i++) await a.request('trans', { trans_type: `t${i}`, trans_data: '' });
  expect((await a.request('trans', { trans_type: 'eleventh', trans_data: '' })).body.err_code).toBe(
    1000000006,
  );

  const sig = JSON.stringify({
    request_id: 'alice-1',
    room_id: 'r1',
    from_userid: 'alice',
    from_username: 'ALICE',
    to_userid: 'bob',
  });
  await a.request('signal', { sub_cmd: 1001, signal_msg: sig, dest_id_name: ['bob'] });
  expect((await b.push('push_signal')).body).toEqual({ sub_cmd: 11001, signal_msg: sig });
});

test('big-room messages are batched into one push per window to everyone', async () => {
  const a = client('alice');
  const b = client('bob');
  await a.login();
  await b.login();
  const r = await a.request('bigim_chat', {
    msgs: [1, 2, 3].map((i) => ({
      msg_category: 1,
      msg_type: 1,
      msg_content: `m${i}`,
      bigmsg_client_id: String(i),
    })),
  });
  expect((r.body.msgs as unknown[]).length).toBe(3);
  const p = await b.push('push_merge_message');
  const inner = JSON.parse((p.body.messages as { msg_body: string }[])[0]!.msg_body);
  expect(inner.room_id).toBe('r1');
  expect(inner.msg_data.map((m: { msg_content: string }) => m.msg_content)).toEqual(['m1', 'm2', 'm3']);
  await a.push('push_merge_message');
});

test('streams and users: add/update/delete pushes, duplicate login kicks the first (its streams stay for the new session), heartbeat expiry ends streams', async () => {
  const a = client('alice');
  const b = client('bob');
  await a.login();
  await b.login();
  expect((await a.push('push_userlist_update')).body.user_actions).toEqual([
    expect.objectContaining({ Action: 1, IdName: 'bob' }),
  ]);
  const add = await b.request('stream', {
    sub_cmd: 2001,
    stream_msg: JSON.stringify({ stream_id: 's1', extra_info: 'e' }),
  });
  expect(add.body).toMatchObject({ err_code: 0, stream_seq: 1 });
  expect((await a.push('push_stream_update')).body).toMatchObject({ stream_cmd: 12001, stream_seq: 1 });
  expect(
    (await a.request('stream', { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: 's1' }) })).body
      .err_code,
  ).toBe(1000000011);
  expect(
    (await a.request('stream', { sub_cmd: 2002, stream_msg: JSON.stringify({ stream_id: 's1' }) })).body
      .err_code,
  ).toBe(1000000012);
  await b.request('stream', {
    sub_cmd: 2003,
    stream_msg: JSON.stringify({ stream_id: 's1', extra_info: 'e2' }),
  });
  expect((await a.push('push_stream_update', (x) => x.stream_cmd === 12003)).body.stream_info).toEqual([
    expect.objectContaining({ extra_info: 'e2' }),
  ]);

  // alice keeps beating from here on (the waits below are longer than 3 heartbeat intervals).
  const keepAlive = setInterval(() => a.send('hb', { reserve: 0 }), 100);
  try {
    const b2 = client('bob');
    await b2.login();
    await b.wait(() => b.closed !== null, 'kick close');
    expect(b.frames.some((f) => f.header.cmd === 'push_kickout')).toBe(true);
    expect(b.closed!.code).toBe(4003);
    // The same idName took over (a page reconnecting before its old socket was seen to go): its stream
    // stays, owned by the new session.
    await new Promise((r) => setTimeout(r, 100));
    expect(a.frames.some((f) => f.header.cmd === 'push_stream_update' && f.body.stream_cmd === 12002)).toBe(
      false,
    );

    // b2 never beats: removed after 3 intervals (600 ms); its stream ends and alice sees it leave.
    await b2.wait(() => b2.closed !== null, 'heartbeat close', 3000);
    expect(b2.closed!.code).toBe(4002);
    expect((await a.push('push_stream_update', (x) => x.stream_cmd === 12002)).body.stream_info).toEqual([
      expect.objectContaining({ stream_id: 's1' }),
    ]);
    await a.push(
      'push_userlist_update',
      (x) => (x.user_actions as { Action: number; IdName: string }[])[0]!.Action === 2,
    );
  } finally {
    clearInterval(keepAlive);
  }
});

test('a flood is refused, then closed; /healthz and dev-mode /token', async () => {
  const a = client('alice');
  await a.login();
  for (let i = 0; i < 100; i++) a.send('hb', { reserve: 0 });
  await a.wait((f) => f.body.err_code === 1000000004, 'rate limited');
  await a.wait(() => a.closed !== null, 'flood close');
  expect(a.closed!.code).toBe(4001);
  const h = await (await fetch(`${server.url}/healthz`)).json();
  expect(h.status).toBe('ok');
  expect((await fetch(`${server.url}/token?app_id=1&id_name=x`)).status).toBe(404);
  const dev = await startServer({ port: 0, log: { level: 'silent' }, janus: { enabled: false } });
  try {
    const token = await (await fetch(`${dev.url}/token?app_id=5&id_name=zed`)).text();
    expect(JSON.parse(Buffer.from(token, 'base64').toString()).ver).toBe(1);
    expect((await fetch(`${dev.url}/token?app_id=5`)).status).toBe(400);
  } finally {
    await dev.close();
  }
});

test('loginWithAuthor: the third token is checked by the app thirdTokenUrl (accept, reject, timeout)', async () => {
  const { createServer } = await import('node:http');
  const seen: Record<string, unknown>[] = [];
  const biz = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const j = JSON.parse(body) as Record<string, unknown>;
      seen.push(j);
      if (j.third_token === 'slow') return; // never answers: the server's timeout must fire
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: j.third_token === 'good' ? 0 : 7 }));
    });
  });
  await new Promise<void>((r) => biz.listen(0, '127.0.0.1', () => r()));
  const port = (biz.address() as { port: number }).port;
  const auth = await startServer({
    janus: { enabled: false },
    port: 0,
    log: { level: 'silent' },
    apps: [{ appid: APPID, appSign: SIGN, thirdTokenUrl: `http://127.0.0.1:${port}/verify` }],
    http: { thirdTokenTimeoutMs: 300 },
  });
  try {
    const url = auth.url.replace('http', 'ws') + '/ws';
    const loginWith = async (id: string, third: string) => {
      const c = new Raw(url, id);
      clients.push(c);
      await c.open();
      const token = mintLoginToken({ appid: APPID, appSign: SIGN, idName: id });
      return c.request('login', {
        id_name: id,
        nick_name: id,
        role: 1,
        token,
        version: '1.12.5',
        room_name: 'r1',
        user_state_flag: 0,
        room_create_flag: 1,
        client_type: 3,
        third_token: third,
      });
    };
    expect((await loginWith('a', 'good')).body.err_code).toBe(0);
    expect(seen[0]).toEqual({ app_id: APPID, room_id: 'r1', id_name: 'a', third_token: 'good' });
    expect((await loginWith('b', 'bad')).body.err_code).toBe(1000000009);
    const slow = await loginWith('c', 'slow');
    expect(slow.body).toMatchObject({ err_code: 1000000009, err_message: expect.stringMatching(/timeout/) });
  } finally {
    await auth.close();
    biz.closeAllConnections();
    await new Promise((r) => biz.close(r));
  }
});

test('user-list pushes go only to members who asked (user_state_flag 1), merged per userlistMergeMs', async () => {
  const merged = await startServer({
    janus: { enabled: false },
    port: 0,
    log: { level: 'silent' },
    apps: [{ appid: APPID, appSign: SIGN }],
    room: { userlistMergeMs: 150 },
  });
  try {
    const url = merged.url.replace('http', 'ws') + '/ws';
    const watcher = new Raw(url, 'watcher');
    const quiet = new Raw(url, 'quiet');
    quiet.userStateFlag = 0;
    clients.push(watcher, quiet);
    const wl = await watcher.login();
    expect(wl.body.userlist_merge_timeout).toBe(150);
    await quiet.login();
    const joiners = ['j1', 'j2', 'j3'].map((id) => {
      const c = new Raw(url, id);
      clients.push(c);
      return c;
    });
    await Promise.all(joiners.map((j) => j.login()));
    // quiet's own join may come alone; wait for the push that carries the three joiners.
    const p = await watcher.push('push_userlist_update', (b) =>
      (b.user_actions as { IdName: string }[]).some((x) => x.IdName === 'j3'),
    );
    const actions = p.body.user_actions as { IdName: string; Action: number }[];
    expect(actions.map((x) => x.IdName).sort()).toEqual(expect.arrayContaining(['j1', 'j2', 'j3']));
    expect(actions.every((x) => x.Action === 1)).toBe(true);
    // seq is the last action's: the watcher's seq plus every action it was sent.
    const all = watcher.frames.filter((f) => f.header.cmd === 'push_userlist_update');
    const sent = all.reduce((n, f) => n + (f.body.user_actions as unknown[]).length, 0);
    expect(all[all.length - 1]!.body.user_list_seq).toBe((wl.body.server_user_seq as number) + sent);
    expect(all.length).toBeLessThan(4); // merged: fewer pushes than the four joins
    await new Promise((r) => setTimeout(r, 300));
    expect(quiet.frames.filter((f) => f.header.cmd === 'push_userlist_update')).toEqual([]);
  } finally {
    for (const c of clients.splice(0)) c.ws?.terminate();
    await merged.close();
  }
});

test("a dropped socket keeps its user's streams for the reconnection; logout ends them at once", async () => {
  const alice = client('alice');
  const bob = client('bob');
  await alice.login();
  await bob.login();
  await alice.request('stream', {
    sub_cmd: 2001,
    stream_msg: JSON.stringify({ stream_id: 'cam', extra_info: 'x' }),
  });
  await bob.push('push_stream_update', (b) => b.stream_cmd === 12001);
  alice.ws.terminate(); // a network cut: no logout
  await bob.push('push_userlist_update', (b) => (b.user_actions as { Action: number }[])[0]?.Action === 2);
  await new Promise((r) => setTimeout(r, 300));
  expect(
    bob.frames.filter((f) => f.header.cmd === 'push_stream_update' && f.body.stream_cmd === 12002),
  ).toEqual([]);
  // Back in time: the stream is still listed, and announcing it again unchanged tells nobody anything.
  const again = client('alice');
  const rsp = await again.login();
  expect((rsp.body.stream_info as { stream_id: string }[]).map((s) => s.stream_id)).toEqual(['cam']);
  await again.request('stream', {
    sub_cmd: 2001,
    stream_msg: JSON.stringify({ stream_id: 'cam', extra_info: 'x' }),
  });
  await new Promise((r) => setTimeout(r, 100));
  expect(
    bob.frames.filter((f) => f.header.cmd === 'push_stream_update').map((f) => f.body.stream_cmd),
  ).toEqual([12001]);
  // Logout: the stream ends at once.
  await again.request('logout', { reserve: 0 });
  const ended = await bob.push('push_stream_update', (b) => b.stream_cmd === 12002);
  expect(ended.body.stream_info).toEqual([expect.objectContaining({ stream_id: 'cam' })]);
});
