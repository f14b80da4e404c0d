/**
 * Many nodes (issue 18): three real server processes (the built CLI) and one real Redis (spawned by the
 * first node under its child supervisor). Raw legacy-protocol clients spread across the nodes share one
 * room; ZegoClients (jsdom) show the legacy reconnection onto another node.
 */
import { mintLoginToken } from '../../src/server';
import { httpGet } from '../fuzz/lib/server';
import { GRACE_MS, NODE_TTL_MS, startCluster, wsOf, type Cluster } from '../helpers/nodes';
import { APPID, Raw, SIGN } from '../helpers/rawRoom';
import { clientFactory, waitFor } from '../helpers/roomClients';

jest.setTimeout(60_000);

let cluster: Cluster;
let raws: Raw[] = [];

beforeEach(async () => {
  cluster = await startCluster(3);
});
afterEach(async () => {
  for (const r of raws) r.ws?.terminate();
  raws = [];
  await cluster.stop();
});

function raw(node: number, idName: string, room = 'r1'): Raw {
  const r = new Raw(wsOf(cluster.nodes[node]!), idName, room);
  raws.push(r);
  return r;
}

async function announce(r: Raw, sub: 2001 | 2002 | 2003, id: string, extra = ''): Promise<number> {
  const f = await r.request('stream', {
    sub_cmd: sub,
    stream_msg: JSON.stringify({ stream_id: id, extra_info: extra }),
  });
  return f.body.err_code as number;
}

const streamPush = (cmd: number, id: string) => (b: Record<string, unknown>) =>
  b.stream_cmd === cmd && (b.stream_info as { stream_id: string }[]).some((s) => s.stream_id === id);

test('clients on three nodes in one room exchange every message kind and see one user and stream list', async () => {
  const [a, b, c] = [raw(0, 'alice'), raw(1, 'bob'), raw(2, 'carol')];
  for (const r of [a, b, c]) expect((await r.login()).body.err_code).toBe(0);
  // One user list: alice (node 0) hears bob (node 1) and carol (node 2) arrive; a page from any node lists 3.
  await a.push('push_userlist_update', (b) => JSON.stringify(b.user_actions).includes('carol'));
  for (const r of [a, b, c]) {
    const list = (await r.request('user_list', { user_index: 0 })).body;
    expect((list.user_baseinfos as { id_name: string }[]).map((u) => u.id_name).sort()).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
    expect(list.server_user_index).toBe(3);
  }

  // Streams: added on node 0, heard on 1 and 2, listed by all; extra info; deleted.
  expect(await announce(a, 2001, 's-alice', 'x1')).toBe(0);
  await b.push('push_stream_update', streamPush(12001, 's-alice'));
  await c.push('push_stream_update', streamPush(12001, 's-alice'));
  for (const r of [b, c]) {
    const info = (await r.request('stream_info', {})).body;
    expect((info.stream_info as { stream_id: string }[]).map((s) => s.stream_id)).toEqual(['s-alice']);
  }
  // A stream id is one per app across nodes: bob (node 1) cannot take alice's.
  expect(await announce(b, 2001, 's-alice')).toBe(1000000011);
  expect(await announce(a, 2003, 's-alice', 'x2')).toBe(0);
  expect((await c.push('push_stream_update', streamPush(12003, 's-alice'))).body.stream_info).toMatchObject([
    { extra_info: 'x2' },
  ]);
  expect(await announce(a, 2002, 's-alice')).toBe(0);
  await b.push('push_stream_update', streamPush(12002, 's-alice'));
  await c.push('push_stream_update', streamPush(12002, 's-alice'));

  // Room message from node 1 reaches 0 and 2.
  expect(
    (await b.request('im_chat', { msg_category: 1, msg_type: 1, msg_content: 'hi all' })).body.err_code,
  ).toBe(0);
  for (const r of [a, c])
    expect(JSON.stringify((await r.push('push_im_chat')).body.chat_data)).toContain('hi all');

  // Custom command from node 2 to alice on node 0 only.
  const custom = JSON.stringify({ from_userid: 'carol', from_username: 'CAROL', custom_content: 'psst' });
  expect((await c.request('custommsg', { dest_id_name: ['alice'], custom_msg: custom })).body.err_code).toBe(
    0,
  );
  expect((await a.push('push_custommsg')).body.custommsg).toBe(custom);

  // Reliable message: one sequence for the room whichever node sends.
  expect((await a.request('trans', { trans_type: 'quiz', trans_data: 'q1' })).body.trans_seq).toBe(1);
  expect((await c.push('push_trans')).body).toMatchObject({ trans_seq: 1, trans_data: 'q1' });
  expect((await b.request('trans', { trans_type: 'quiz', trans_data: 'q2' })).body.trans_seq).toBe(2);
  expect((await a.push('push_trans', (x) => x.trans_seq === 2)).body.trans_data).toBe('q2');
  expect((await c.request('trans_fetch', { trans_type: 'quiz', trans_local_seq: 0 })).body).toMatchObject({
    trans_seq: 2,
    trans_data: 'q2',
    trans_user_idname: 'bob',
  });
  // The heartbeat (answered from each node's mirror of the room) carries the same seqs on every node.
  for (const r of [a, b, c]) {
    const end = Date.now() + 3000;
    let seqs: unknown = null;
    while (Date.now() < end) {
      seqs = (await r.request('hb', {})).body.trans_seqs;
      if (JSON.stringify(seqs) === JSON.stringify([{ trans_type: 'quiz', trans_seq: 2 }])) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(seqs).toEqual([{ trans_type: 'quiz', trans_seq: 2 }]);
  }

  // Big-room messages from node 1: one batch per window on each node, ids in one sequence.
  const big = await b.request('bigim_chat', {
    msgs: [1, 2].map((i) => ({
      msg_category: 1,
      msg_type: 1,
      msg_content: `big${i}`,
      bigmsg_client_id: `c${i}`,
    })),
  });
  expect(big.body.err_code).toBe(0);
  for (const r of [a, c]) {
    const merged = JSON.stringify((await r.push('push_merge_message')).body);
    expect(merged).toContain('big1');
    expect(merged).toContain('big2');
  }

  // Co-host across nodes: bob (node 1) asks alice (node 0) to join live; she answers.
  const ask = JSON.stringify({
    request_id: 'j1',
    room_id: 'r1',
    from_userid: 'bob',
    from_username: 'BOB',
    to_userid: 'alice',
  });
  expect(
    (await b.request('signal', { sub_cmd: 1001, signal_msg: ask, dest_id_name: ['alice'] })).body.err_code,
  ).toBe(0);
  expect((await a.push('push_signal')).body).toEqual({ sub_cmd: 11001, signal_msg: ask });
  const yes = JSON.stringify({
    request_id: 'j1',
    room_id: 'r1',
    from_userid: 'alice',
    from_username: 'ALICE',
    to_userid: 'bob',
    result: 0,
  });
  expect(
    (await a.request('signal', { sub_cmd: 1002, signal_msg: yes, dest_id_name: ['bob'] })).body.err_code,
  ).toBe(0);
  expect((await b.push('push_signal')).body).toEqual({ sub_cmd: 11002, signal_msg: yes });
  // Nobody else heard the private ones.
  expect(c.frames.some((f) => f.header.cmd === 'push_signal' || f.header.cmd === 'push_custommsg')).toBe(
    false,
  );
  // Each node's metrics time its room steps' Redis round trips (join, chat, trans...).
  const metrics = (await httpGet(`${cluster.nodes[1]!.url}/metrics`)).text;
  const count = (op: string) =>
    Number(
      new RegExp(`zego_redis_latency_seconds_count\\{[^}]*op="${op}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0,
    );
  const ops = ['join', 'chat', 'trans', 'bigim', 'send'];
  expect(Object.fromEntries(ops.map((op) => [op, count(op) > 0]))).toEqual(
    Object.fromEntries(ops.map((op) => [op, true])),
  );
});

test('a second login on another node kicks the first; per-user stream caps hold across nodes', async () => {
  const first = raw(0, 'dave');
  const watcher = raw(2, 'erin');
  expect((await first.login()).body.err_code).toBe(0);
  expect((await watcher.login()).body.err_code).toBe(0);
  const second = raw(1, 'dave');
  expect((await second.login()).body.err_code).toBe(0);
  expect((await first.push('push_kickout')).body).toMatchObject({ reason: 1 });
  await waitFor('the first socket closed', () => first.closed !== null);
  // One dave in the list, whichever node answers.
  const list = (await watcher.request('user_list', { user_index: 0 })).body;
  expect((list.user_baseinfos as { id_name: string }[]).map((u) => u.id_name).sort()).toEqual([
    'dave',
    'erin',
  ]);
  // The stream caps are the room's store's: one count for erin across rooms and nodes (10 per user).
  for (let i = 0; i < 10; i++) expect(await announce(watcher, 2001, `e${i}`)).toBe(0);
  const other = raw(1, 'erin', 'r2');
  expect((await other.login()).body.err_code).toBe(0);
  expect(await announce(other, 2001, 'e10')).toBe(1000000014);
});

test('a node killed: its users leave the others cleanly; a client resumes on another node', async () => {
  const { newClient, releaseAll } = clientFactory(() => cluster.nodes[2]!.url);
  try {
    const a = raw(0, 'alice');
    expect((await a.login()).body.err_code).toBe(0);
    const doomed = raw(2, 'zed');
    expect((await doomed.login()).body.err_code).toBe(0);
    expect(await announce(doomed, 2001, 's-zed')).toBe(0);
    await a.push('push_stream_update', streamPush(12001, 's-zed'));
    // A ZegoClient on node 2 with node 1 as its backup (config server [primary, backup]).
    const { zg, rec } = newClient('yan', {
      server: [wsOf(cluster.nodes[2]!), wsOf(cluster.nodes[1]!)],
    });
    const token = mintLoginToken({ appid: APPID, appSign: SIGN, idName: 'yan' });
    await new Promise((resolve, reject) =>
      zg.login('r1', 1, token, resolve, (e: unknown) => reject(new Error(JSON.stringify(e)))),
    );
    expect(((await a.request('user_list', { user_index: 0 })).body.user_baseinfos as unknown[]).length).toBe(
      3,
    );

    process.kill(cluster.nodes[2]!.pid, 'SIGKILL');
    await waitFor('yan: onTempBroken', () => rec.onTempBroken, 10_000);
    // Sent while yan is away: it must reach yan once it resumes on node 1 (no gap).
    expect((await a.request('trans', { trans_type: 'quiz', trans_data: 'while away' })).body.trans_seq).toBe(
      1,
    );
    // zed's node is gone: its lease expires, another node lets zed leave (alice hears it), and after the
    // grace its stream leaves the list (12002).
    const t0 = Date.now();
    await a.wait(
      (f) =>
        f.header.cmd === 'push_userlist_update' &&
        JSON.stringify(f.body).includes('"Action":2,"IdName":"zed"'),
      'zed leaves',
      NODE_TTL_MS * 4 + 3000,
    );
    await a.wait(
      (f) => f.header.cmd === 'push_stream_update' && streamPush(12002, 's-zed')(f.body),
      's-zed ends',
      GRACE_MS + NODE_TTL_MS * 4 + 3000,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(GRACE_MS);
    // yan reconnected to node 1 (the legacy reconnection, to its backup server) and is in the room again;
    // no ghost of zed is left.
    const deadline = Date.now() + 15_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      const list = (await a.request('user_list', { user_index: 0 })).body.user_baseinfos as {
        id_name: string;
      }[];
      names = list.map((u) => u.id_name).sort();
      if (names.join() === 'alice,yan') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(names).toEqual(['alice', 'yan']);
    await waitFor('yan: onReconnect', () => rec.onReconnect, 15_000);
    const got = await waitFor('yan: the reliable message', () => rec.onRecvReliableMessage, 10_000);
    expect(got[0]?.slice(0, 2)).toEqual(['quiz', 1]);
    expect(JSON.stringify(got[0])).toContain('while away');
    const streams = (await a.request('stream_info', {})).body.stream_info as unknown[];
    expect(streams).toEqual([]);
  } finally {
    releaseAll();
  }
});

test('Redis restarted empty: the nodes reconnect and write back what their clients hold', async () => {
  const [a, b] = [raw(0, 'alice'), raw(1, 'bob')];
  for (const r of [a, b]) expect((await r.login()).body.err_code).toBe(0);
  expect(await announce(a, 2001, 's-alice', 'x1')).toBe(0);
  await b.push('push_stream_update', streamPush(12001, 's-alice'));
  expect((await b.request('trans', { trans_type: 'quiz', trans_data: 'q1' })).body.trans_seq).toBe(1);
  await a.push('push_trans');

  const before = await cluster.nodeHealth(0);
  expect(before.redis).toBe('up');
  process.kill(before.redisPid!, 'SIGKILL');
  // The supervisor restarts it at once, on the same port, empty (no persistence).
  await waitFor(
    'redis restarted',
    async () => {
      const h = await cluster.nodeHealth(0).catch(() => null);
      return h?.redisPid !== undefined && h.redisPid !== before.redisPid && h.redis === 'up';
    },
    10_000,
  );
  // Both nodes write back their members, alice's stream and the reliable message (bounded wait).
  const end = Date.now() + 10_000;
  let names: string[] = [];
  while (Date.now() < end) {
    const r = await b.request('user_list', { user_index: 0 });
    names = ((r.body.user_baseinfos as { id_name: string }[] | undefined) ?? []).map((u) => u.id_name).sort();
    if (names.join() === 'alice,bob') break;
    await new Promise((res) => setTimeout(res, 100));
  }
  expect(names).toEqual(['alice', 'bob']);
  const info = (await b.request('stream_info', {})).body;
  expect(
    (info.stream_info as { stream_id: string; extra_info: string }[]).map((s) => [s.stream_id, s.extra_info]),
  ).toEqual([['s-alice', 'x1']]);
  expect((await a.request('trans_fetch', { trans_type: 'quiz', trans_local_seq: 0 })).body).toMatchObject({
    trans_seq: 1,
    trans_data: 'q1',
  });
  // The room goes on: the next reliable message is seq 2, a chat crosses nodes, nobody was disconnected.
  expect((await a.request('trans', { trans_type: 'quiz', trans_data: 'q2' })).body.trans_seq).toBe(2);
  expect((await b.push('push_trans', (x) => x.trans_seq === 2)).body.trans_data).toBe('q2');
  expect(
    (await a.request('im_chat', { msg_category: 1, msg_type: 1, msg_content: 'still here' })).body.err_code,
  ).toBe(0);
  expect(JSON.stringify((await b.push('push_im_chat')).body)).toContain('still here');
  expect([a.closed, b.closed]).toEqual([null, null]);
  // The stream id is still alice's alone (the app's index was written back too).
  expect(await announce(b, 2001, 's-alice')).toBe(1000000011);
});

test('Redis unreachable for longer than a node lease: no live node is taken for dead, nobody leaves', async () => {
  const [a, b, c] = [raw(0, 'alice'), raw(1, 'bob'), raw(2, 'carol')];
  for (const r of [a, b, c]) expect((await r.login()).body.err_code).toBe(0);
  await a.push('push_userlist_update', (x) => JSON.stringify(x.user_actions).includes('carol'));
  const { redisPid } = await cluster.nodeHealth(0);
  process.kill(redisPid!, 'SIGSTOP');
  try {
    await new Promise((r) => setTimeout(r, NODE_TTL_MS * 3));
    // Meanwhile a request fails with 1002 (room state unavailable); heartbeats still answer.
    expect(
      (await b.request('im_chat', { msg_category: 1, msg_type: 1, msg_content: 'x' })).body.err_code,
    ).toBe(1002);
    expect((await c.request('hb', {})).body.err_code).toBe(0);
  } finally {
    process.kill(redisPid!, 'SIGCONT');
  }
  // Back: a few lease rounds later, nobody was reaped: no one heard anyone leave, the list is whole.
  await new Promise((r) => setTimeout(r, NODE_TTL_MS * 3));
  for (const r of [a, b, c])
    expect(
      r.frames.some(
        (f) => f.header.cmd === 'push_userlist_update' && JSON.stringify(f.body).includes('"Action":2'),
      ),
    ).toBe(false);
  const list = (await b.request('user_list', { user_index: 0 })).body.user_baseinfos as { id_name: string }[];
  expect(list.map((u) => u.id_name).sort()).toEqual(['alice', 'bob', 'carol']);
  expect(
    (await a.request('im_chat', { msg_category: 1, msg_type: 1, msg_content: 'back' })).body.err_code,
  ).toBe(0);
  expect(
    JSON.stringify((await c.push('push_im_chat', (x) => JSON.stringify(x).includes('back'))).body),
  ).toContain('back');
});
