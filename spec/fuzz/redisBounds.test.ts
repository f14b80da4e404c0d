/**
 * Redis-side bounds (many nodes, issue 18): random sessions on two real server nodes sharing one real
 * Redis — hostile ids (':' and '{' in room ids, unicode), logins and re-logins on either node, streams,
 * reliable messages, chats, custom commands, big-room messages, abrupt closes — never grow Redis beyond a
 * bound per live room and user, and once every client is gone (and the grace is over) Redis holds nothing
 * but the live nodes' leases (and their media URLs). A node killed mid-way leaves nothing behind either
 * once it is reaped. The app has a business server: its webhook queue in Redis is bounded and gone once
 * delivered.
 */
import fc from 'fast-check';
import Redis from 'ioredis';
import { WebhookReceiver } from '../helpers/adminClient';
import { GRACE_MS, NODE_TTL_MS, startCluster, wsOf, type Cluster } from '../helpers/nodes';
import { Raw } from '../helpers/rawRoom';

jest.setTimeout(180_000);

let cluster: Cluster;
let redis: Redis;
// The app has a business server: the webhook queue's keys (and the replaced sessions') are bounded too.
let hooks: WebhookReceiver;
const raws: Raw[] = [];

beforeAll(async () => {
  hooks = await new WebhookReceiver().start();
  cluster = await startCluster(3, {
    app: { webhookUrl: hooks.url, webhookSecret: 'hook-secret-0123456789abcdef' },
  });
  redis = new Redis(`redis://127.0.0.1:${cluster.redisPort}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});
afterAll(async () => {
  for (const r of raws) r.ws?.terminate();
  redis.disconnect();
  await cluster.stop();
  await hooks.stop();
});

const ROOMS = ['r', 'r:m', 'r:rs', '{r}', 'ルーム', 'a:1:b'];
const USERS = ['u1', 'u:2', 'ユーザ', 'u{4}', 'u5'];

const opArb = fc.record({
  node: fc.integer({ min: 0, max: 1 }),
  user: fc.constantFrom(...USERS),
  room: fc.constantFrom(...ROOMS),
  what: fc.constantFrom('stream', 'unstream', 'trans', 'chat', 'custom', 'big', 'close', 'none'),
  n: fc.integer({ min: 0, max: 12 }),
});

/**
 * What live nodes keep: their leases (a sorted set) and their media URLs (a hash), one entry each; and the
 * one counter that numbers the rooms created (their generation, which keys their webhook events), and each
 * live node's line in the operator's node list (a hash, one entry each).
 */
const LEASES = 'zs:gen,zs:media,zs:nodes,zs:nstat';

async function keys(): Promise<string[]> {
  return (await redis.keys('zs:*')).sort();
}

async function settledKeys(want: (k: string[]) => boolean, ms: number): Promise<string[]> {
  const end = Date.now() + ms;
  let k = await keys();
  while (!want(k) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    k = await keys();
  }
  return k;
}

test('random sessions on two nodes: keys stay bounded while they run, and nothing is left once they are gone', async () => {
  let logins = 0;
  let peak = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 25 }), async (ops) => {
      const live = new Map<string, Raw>();
      for (const op of ops) {
        const k = `${op.user}\u0000${op.room}`;
        let r = live.get(k);
        if (!r || r.closed) {
          r = new Raw(wsOf(cluster.nodes[op.node]!), op.user, op.room);
          raws.push(r);
          const f = await r.login();
          if (f.body.err_code !== 0) continue;
          logins++;
          live.set(k, r);
        }
        const sid = `s-${op.user}-${op.n}`;
        switch (op.what) {
          case 'stream':
            await r.request('stream', { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: sid }) });
            break;
          case 'unstream':
            await r.request('stream', { sub_cmd: 2002, stream_msg: JSON.stringify({ stream_id: sid }) });
            break;
          case 'trans':
            await r.request('trans', { trans_type: `t${op.n}`, trans_data: 'x'.repeat(op.n * 10) });
            break;
          case 'chat':
            await r.request('im_chat', { msg_category: 1, msg_type: 1, msg_content: `m${op.n}` });
            break;
          case 'custom':
            await r.request('custommsg', {
              dest_id_name: USERS,
              custom_msg: JSON.stringify({ custom_content: `c${op.n}` }),
            });
            break;
          case 'big':
            await r.request('bigim_chat', {
              msgs: [{ msg_category: 1, msg_type: 1, msg_content: `b${op.n}` }],
            });
            break;
          case 'close':
            r.ws.terminate();
            live.delete(k);
            break;
          default:
            break;
        }
        // The bound while it runs: at most 8 keys per room (r, rm, rmo, rma, rs, rsm, rt; rooms listed
        // once), per-app stream index and counts, per user one socket cap, and the nodes' own; the app's
        // webhook queue (3) and each node's replaced sessions (1 per node).
        const n = (await keys()).length;
        peak = Math.max(peak, n);
        expect(n).toBeLessThanOrEqual(ROOMS.length * 7 + 4 + USERS.length * 2 + 6 * 2 + 1 + 3 + 3);
      }
      for (const r of live.values()) r.ws.terminate();
      // Once the grace is over: only the live nodes' leases and media URLs are left.
      const left = await settledKeys((k) => k.join() === LEASES, GRACE_MS + 5000);
      expect(left.join()).toBe(LEASES);
    }),
    { numRuns: 20, seed: 18 },
  );
  // The runs did reach Redis: sessions in hostile rooms logged in, and rooms' keys were there; their
  // webhook events went through the queue (hostile room and user ids in the bodies) and were delivered.
  expect(logins).toBeGreaterThan(40);
  expect(peak).toBeGreaterThan(20);
  expect(hooks.events().filter((e) => e.type === 'user.logged_in').length).toBeGreaterThanOrEqual(logins);
  expect(hooks.events().some((e) => e.data.roomId === 'ルーム')).toBe(true);
});

test('a node killed with members, streams and socket caps: once reaped, Redis holds nothing of it', async () => {
  const victim = cluster.nodes[2]!;
  const victimId = (await cluster.nodeHealth(2)).node;
  const other = new Raw(wsOf(cluster.nodes[0]!), 'keeper', 'kr');
  raws.push(other);
  expect((await other.login()).body.err_code).toBe(0);
  for (let i = 0; i < 5; i++) {
    const r = new Raw(wsOf(victim), `v${i}`, i % 2 ? 'kr' : `kr${i}`);
    raws.push(r);
    expect((await r.login()).body.err_code).toBe(0);
    await r.request('stream', { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: `vs${i}` }) });
    await r.request('trans', { trans_type: 't', trans_data: 'd' });
  }
  expect(await redis.scard(`zs:nm:${victimId}`)).toBe(5);
  expect(await redis.exists(`zs:nc:${victimId}`)).toBe(1);
  process.kill(victim.pid, 'SIGKILL');
  other.ws.terminate();
  const left = await settledKeys((k) => k.join() === LEASES, NODE_TTL_MS * 4 + GRACE_MS + 5000);
  expect(left.join()).toBe(LEASES);
  // Its users' departures went out through the queue, which is empty again.
  for (let i = 0; i < 5; i++)
    expect(
      hooks
        .events()
        .some(
          (e) => e.type === 'user.logged_out' && e.data.idName === `v${i}` && e.data.reason === 'node_lost',
        ),
    ).toBe(true);
  // The dead node's lease and media URL are gone too; the two live nodes remain.
  const nodes = await redis.zrange('zs:nodes', 0, -1);
  expect(nodes).not.toContain(victimId);
  expect(Object.keys(await redis.hgetall('zs:nstat')).sort()).toEqual([...nodes].sort());
  expect(nodes.length).toBe(2);
  expect((await redis.hkeys('zs:media')).sort()).toEqual([...nodes].sort());
});
