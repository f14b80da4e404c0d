/**
 * The socket caps across nodes (issue 18): three real server processes and one real Redis. A login's caps
 * are taken inside its join step (one round trip), so this checks what the two steps did apart: a cap holds
 * across nodes, a join the room refuses takes nothing, and the caps come back on every path (a socket
 * closing, a node dying).
 */
import Redis from 'ioredis';
import { GRACE_MS, NODE_TTL_MS, startCluster, wsOf, type Cluster } from '../helpers/nodes';
import { APPID, Raw } from '../helpers/rawRoom';

jest.setTimeout(60_000);

let cluster: Cluster;
let redis: Redis;
const raws: Raw[] = [];

beforeAll(async () => {
  cluster = await startCluster(3, {
    limits: { maxSocketsPerUser: 2, maxSocketsPerApp: 3 },
    room: { maxUsersPerRoom: 1 },
  });
  redis = new Redis(`redis://127.0.0.1:${cluster.redisPort}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});
afterAll(async () => {
  for (const r of raws) r.ws?.terminate();
  redis?.disconnect();
  await cluster?.stop();
});

function raw(node: number, idName: string, room: string): Raw {
  const r = new Raw(wsOf(cluster.nodes[node]!), idName, room);
  raws.push(r);
  return r;
}

/** The shared counters as Redis holds them: alice's sockets, the app's. */
async function counts(): Promise<[number, number]> {
  const [u, a] = await redis.mget(`zs:cap:sock:${APPID}:alice`, `zs:cap:sock:${APPID}`);
  return [Number(u ?? 0), Number(a ?? 0)];
}

/** Waits (bounded) until `ok` answers true. */
async function until(what: () => string, ok: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function countsBecome(want: [number, number], what: string, ms: number): Promise<void> {
  let last: [number, number] = [-1, -1];
  await until(
    () => `${what}: counts ${JSON.stringify(want)} (last ${JSON.stringify(last)})`,
    async () => {
      last = await counts();
      return last[0] === want[0] && last[1] === want[1];
    },
    ms,
  );
}

test('socket caps across nodes: held by each node, nothing taken by a refused join, given back on close and on node death', async () => {
  const a0 = raw(0, 'alice', 'r1');
  expect((await a0.login()).body.err_code).toBe(0);
  // r1 is full (one user per room): carol's join is refused by the room and takes no cap.
  const carol = raw(1, 'carol', 'r1');
  expect((await carol.login()).body.err_code).toBe(1000000013);
  expect(await redis.exists(`zs:cap:sock:${APPID}:carol`)).toBe(0);
  expect(await counts()).toEqual([1, 1]);
  // Alice's second socket on another node is let in; her third, on a third node, is over her cap.
  const a1 = raw(1, 'alice', 'r2');
  expect((await a1.login()).body.err_code).toBe(0);
  const a2 = raw(2, 'alice', 'r3');
  expect((await a2.login()).body).toMatchObject({
    err_code: 1000000023,
    err_message: 'at most 2 sockets per user',
  });
  expect(await counts()).toEqual([2, 2]);
  // The app's third socket is bob's (node 2); dan's on node 0 is over the app's cap.
  const bob = raw(2, 'bob', 'r4');
  expect((await bob.login()).body.err_code).toBe(0);
  const dan = raw(0, 'dan', 'r5');
  expect((await dan.login()).body).toMatchObject({
    err_code: 1000000023,
    err_message: 'at most 3 sockets per app',
  });
  expect(await counts()).toEqual([2, 3]);
  // Alice's socket on node 0 closes: its place comes back, and her login on node 2 gets it.
  a0.ws.terminate();
  await countsBecome([1, 2], 'a closed socket gives its caps back', 5000);
  const a3 = raw(2, 'alice', 'r3');
  expect((await a3.login()).body.err_code).toBe(0);
  expect(await counts()).toEqual([2, 3]);
  // Node 2 dies with alice's and bob's sockets: once it is reaped, their places are back.
  const dead = (await cluster.nodeHealth(2)).node;
  process.kill(cluster.nodes[2]!.pid, 'SIGKILL');
  await countsBecome([1, 1], 'a dead node’s caps are given back', NODE_TTL_MS * 4 + GRACE_MS + 5000);
  expect(await redis.exists(`zs:nc:${dead}`)).toBe(0);
  // The last socket closes: no counter is left.
  a1.ws.terminate();
  await until(
    () => 'no cap counter left',
    async () => (await redis.keys('zs:cap:*')).length === 0,
    5000,
  );
});
