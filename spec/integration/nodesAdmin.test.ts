/**
 * The admin API with many nodes: three real server processes and one real Redis. Every call made through
 * any node acts on the whole cluster: lists, a kick through node C of a user on node A, ending through node
 * A a stream published on node B, closing a room whose members are on every node; the overview's node list
 * shows every live node with what it holds, and drops a node SIGKILLed.
 */
import { adminCall, type AdminCall } from '../helpers/adminClient';
import { NODE_TTL_MS, startCluster, wsOf, type Cluster } from '../helpers/nodes';
import { APPID, Raw } from '../helpers/rawRoom';

jest.setTimeout(60_000);

const SECRET = 'admin-secret-0123456789abcdef';
const me: AdminCall = { appid: APPID, secret: SECRET };
let cluster: Cluster;
let raws: Raw[] = [];

beforeEach(async () => {
  cluster = await startCluster(3, { app: { adminSecret: SECRET } });
});
afterEach(async () => {
  for (const r of raws) r.ws?.terminate();
  raws = [];
  await cluster.stop();
});

const call = (node: number, route: string, body: unknown = {}) =>
  adminCall(cluster.nodes[node]!.url, route, body, me);

async function user(node: number, idName: string, room = 'r1'): Promise<Raw> {
  const r = new Raw(wsOf(cluster.nodes[node]!), idName, room);
  raws.push(r);
  expect((await r.login()).body.err_code).toBe(0);
  return r;
}

async function publish(r: Raw, id: string): Promise<void> {
  const f = await r.request('stream', {
    sub_cmd: 2001,
    stream_msg: JSON.stringify({ stream_id: id, extra_info: '' }),
  });
  expect(f.body.err_code).toBe(0);
}

async function until<T>(what: string, get: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type NodeRow = { node: string; rooms: number; users: number; streams: number };
const nodeRows = async (via: number) =>
  ((await call(via, 'overview')).body.data!.nodes as NodeRow[]).map(({ rooms, users, streams }) => ({
    rooms,
    users,
    streams,
  }));

test('lists, kick, end-stream and close-room through any node act on every node; the node list shows them all', async () => {
  const alice = await user(0, 'alice');
  const bob = await user(1, 'bob');
  const carol = await user(2, 'carol');
  const dave = await user(2, 'dave', 'r2');
  await publish(bob, 's-bob');
  await publish(alice, 's-alice');

  // Every node answers the same lists.
  for (const n of [0, 1, 2]) {
    expect((await call(n, 'list-rooms')).body.data).toEqual({
      total: 2,
      rooms: [
        { roomId: 'r1', users: 3, streams: 2 },
        { roomId: 'r2', users: 1, streams: 0 },
      ],
    });
    const users = (await call(n, 'list-users', { roomId: 'r1' })).body.data!.users as { idName: string }[];
    expect(users.map((u) => u.idName)).toEqual(['alice', 'bob', 'carol']);
    const streams = (await call(n, 'list-streams')).body.data!.streams as { streamId: string }[];
    expect(streams.map((s) => s.streamId)).toEqual(['s-alice', 's-bob']);
    expect((await call(n, 'overview')).body.data).toMatchObject({ rooms: 2, users: 4, streams: 2 });
  }
  // The node list: three nodes, each with what it holds (published at each lease beat).
  const want = [
    { rooms: 1, users: 1, streams: 1 },
    { rooms: 1, users: 1, streams: 1 },
    { rooms: 2, users: 2, streams: 0 },
  ];
  const sorted = (rows: { rooms: number; users: number; streams: number }[]) =>
    [...rows].sort((a, b) => a.rooms - b.rooms || a.streams - b.streams);
  await until(
    'three nodes listed with their counts',
    async () => {
      const rows = await nodeRows(1);
      return JSON.stringify(sorted(rows)) === JSON.stringify(sorted(want)) ? rows : undefined;
    },
    NODE_TTL_MS * 3,
  );
  const ids = ((await call(0, 'overview')).body.data!.nodes as NodeRow[]).map((r) => r.node);
  expect(new Set(ids).size).toBe(3);

  // A kick through node 2 of alice, on node 0.
  const k = await call(2, 'kick-user', { roomId: 'r1', idName: 'alice', reason: 77 });
  expect(k.body).toEqual({ code: 0, data: { roomId: 'r1', idName: 'alice' } });
  expect((await alice.push('push_kickout')).body.reason).toBe(77);
  await bob.push('push_stream_update', (b) => b.stream_cmd === 12002);
  await until(
    'alice gone from the list',
    async () => {
      const u = (await call(1, 'list-users', { roomId: 'r1' })).body.data!.users as { idName: string }[];
      return u.map((x) => x.idName).join() === 'bob,carol' ? true : undefined;
    },
    5000,
  );

  // Ending through node 0 the stream bob publishes on node 1: carol (node 2) hears it deleted.
  const e = await call(0, 'end-stream', { streamId: 's-bob' });
  expect(e.body).toEqual({ code: 0, data: { roomId: 'r1', streamId: 's-bob' } });
  const p = await carol.push(
    'push_stream_update',
    (b) => b.stream_cmd === 12002 && JSON.stringify(b.stream_info).includes('"s-bob"'),
  );
  expect(p.body.stream_info).toEqual([
    expect.objectContaining({ stream_id: 's-bob', anchor_id_name: 'bob' }),
  ]);
  expect((await call(2, 'list-streams')).body.data!.total).toBe(0);
  expect(bob.closed).toBeNull();

  // Closing r1 through node 0 (members on nodes 1 and 2): both kicked, r2 stays.
  const c = await call(0, 'close-room', { roomId: 'r1' });
  expect(c.body).toEqual({ code: 0, data: { roomId: 'r1', users: 2, streams: 0 } });
  for (const r of [bob, carol]) expect((await r.push('push_kickout')).body.reason).toBe(2);
  await until(
    'r1 gone',
    async () => ((await call(1, 'list-rooms')).body.data!.total === 1 ? true : undefined),
    5000,
  );
  expect(dave.closed).toBeNull();

  // Node 2 SIGKILLed: once its lease is reaped, the node list shows the two left.
  process.kill(cluster.nodes[2]!.pid, 'SIGKILL');
  await until(
    'the dead node dropped from the list',
    async () => ((await nodeRows(0)).length === 2 ? true : undefined),
    NODE_TTL_MS * 4 + 3000,
  );
});
