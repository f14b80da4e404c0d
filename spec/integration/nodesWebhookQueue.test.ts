/**
 * The webhook queue of many nodes (redis/RedisWebhookQueue.ts): three real server processes, one real Redis,
 * one real business server (an HTTP receiver in the test that holds, fails or accepts as told). Events
 * wait in Redis, any node delivers them: a node SIGKILLed with events in flight and waiting loses none
 * (another node delivers them, same id, valid signature); the bound holds across nodes; a Redis restarted
 * empty gets the waiting events written again; a Redis that stalls never slows a room and the events told
 * meanwhile are written when it answers. And a dead node's user who logged in again elsewhere before the
 * node was found dead still gets its old session's user-left (node_lost).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import Redis from 'ioredis';
import { WebhookReceiver, type Received } from '../helpers/adminClient';
import { NODE_TTL_MS, startCluster, wsOf, type Cluster } from '../helpers/nodes';
import { APPID, Raw } from '../helpers/rawRoom';

jest.setTimeout(90_000);

const SECRET = 'hook-secret-0123456789abcdef';
let cluster: Cluster | null = null;
let hooks: WebhookReceiver;
let redis: Redis | null = null;
let raws: Raw[] = [];

/** Per event id, what the receiver answered to each of its requests. */
let answers = new Map<string, (number | 'never')[]>();
/** What the receiver does now with a request for an event id (its `n`-th request for that id). */
let policy: (id: string, n: number) => number | 'never' = () => 200;

async function start(webhooks: Record<string, unknown>, redisCfg: Record<string, unknown> = {}) {
  hooks = await new WebhookReceiver().start();
  answers = new Map();
  hooks.answer = (_n, r) => {
    const id = String(r.headers['webhook-id']);
    const seen = answers.get(id) ?? [];
    answers.set(id, seen);
    const a = policy(id, seen.length + 1);
    seen.push(a);
    return a;
  };
  cluster = await startCluster(3, {
    app: { webhookUrl: hooks.url, webhookSecret: SECRET },
    webhooks: { retryBaseMs: 100, retryMaxMs: 300, timeoutMs: 1000, ...webhooks },
    redis: redisCfg,
  });
  redis = new Redis(`redis://127.0.0.1:${cluster.redisPort}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
}

afterEach(async () => {
  for (const r of raws) r.ws?.terminate();
  raws = [];
  redis?.disconnect();
  redis = null;
  await cluster?.stop();
  cluster = null;
  await hooks.stop();
  policy = () => 200;
});

function raw(node: number, idName: string, room: string): Raw {
  const r = new Raw(wsOf(cluster!.nodes[node]!), idName, room);
  raws.push(r);
  return r;
}

/** Standard Webhooks, by hand (node:crypto, not the server's code). */
function verified(r: Received): boolean {
  const id = String(r.headers['webhook-id']);
  const ts = String(r.headers['webhook-timestamp']);
  const sig = String(r.headers['webhook-signature']);
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const want = createHmac('sha256', SECRET).update(`${id}.${ts}.${r.body}`).digest();
  const got = Buffer.from(sig.replace(/^v1,/, ''), 'base64');
  return sig.startsWith('v1,') && got.length === want.length && timingSafeEqual(got, want);
}

type Ev = { id: string; type: string; data: Record<string, unknown> };
const said = (e: Ev) =>
  `${e.type} ${String(e.data.roomId)} ${String(e.data.idName ?? '')}${e.data.reason ? ` ${String(e.data.reason)}` : ''}`;

/** Events the business server accepted (answered 2xx), once per id. */
function accepted(): Map<string, Ev> {
  const out = new Map<string, Ev>();
  hooks.received.forEach((r, i) => {
    const id = String(r.headers['webhook-id']);
    const n = hooks.received.slice(0, i + 1).filter((x) => x.headers['webhook-id'] === id).length;
    const a = answers.get(id)?.[n - 1];
    if (typeof a === 'number' && a < 300) out.set(id, JSON.parse(r.body) as Ev);
  });
  return out;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}; accepted: ${[...accepted().values()].map(said).join('; ')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

const queueKeys = async () => (await redis!.keys('zs:w*')).sort();

/** Events the business server accepted more than once. */
const twice = () =>
  [...answers.values()].filter((as) => as.filter((a) => a !== 'never' && a < 300).length > 1).length;

/** The checks every test ends with: each request signed, one body per id, duplicates bounded. */
function checkDeliveries(maxAttempts: number): void {
  const bodies = new Map<string, string>();
  for (const r of hooks.received) {
    expect(verified(r)).toBe(true);
    const id = String(r.headers['webhook-id']);
    expect(JSON.parse(r.body).id).toBe(id);
    expect(bodies.get(id) ?? r.body).toBe(r.body);
    bodies.set(id, r.body);
  }
  for (const [, as] of answers) {
    // Each request is one claimed attempt: never more than maxAttempts; accepted at most twice (an
    // acceptance whose record a dying node never wrote is delivered again, once its claim expires).
    expect(as.length).toBeLessThanOrEqual(maxAttempts);
    expect(as.filter((a) => typeof a === 'number' && a < 300).length).toBeLessThanOrEqual(2);
  }
}

test('a node SIGKILLed with events in flight and waiting: the others deliver every one (same id, signed)', async () => {
  await start({ maxAttempts: 8 });
  // First the business server holds every request (the nodes' attempts hang); after the kill it fails
  // each event's first two requests, then accepts.
  let phase: 'hold' | 'flaky' = 'hold';
  policy = (_id, n) => (phase === 'hold' ? 'never' : n <= 2 ? 503 : 200);
  const keeper = raw(0, 'keeper', 'q1');
  expect((await keeper.login()).body.err_code).toBe(0);
  const doomed = Array.from({ length: 8 }, (_, i) => raw(2, `d${i}`, 'q1'));
  for (const r of doomed) expect((await r.login()).body.err_code).toBe(0);
  // Node 0 holds the keeper's two events; node 2 made the others and claimed four at once (its own pump
  // runs as it writes them; the others poll once a second).
  await until('node 2 attempts in flight', () => hooks.received.length >= 6, 10_000);
  const inFlightAtKill = new Set(hooks.received.map((r) => String(r.headers['webhook-id'])));
  const waiting = await redis!.zcard(`zs:wq:${APPID}`);
  process.kill(cluster!.nodes[2]!.pid, 'SIGKILL');
  phase = 'flaky';
  const want = [
    'room.created q1 ',
    'user.logged_in q1 keeper',
    ...doomed.map((r) => `user.logged_in q1 ${r.idName}`),
    ...doomed.map((r) => `user.logged_out q1 ${r.idName} node_lost`),
  ].sort();
  await until(
    'every event accepted',
    () => want.every((w) => [...accepted().values()].some((e) => said(e) === w)),
    40_000,
  );
  // The requests node 2 had in flight when it died were delivered by the others.
  for (const id of inFlightAtKill) expect(accepted().has(id)).toBe(true);
  // Nothing else was told, nothing is left in Redis.
  await until('the queue empty', async () => (await queueKeys()).length === 0, 10_000);
  expect([...accepted().values()].map(said).sort()).toEqual(want);
  checkDeliveries(8);
  console.log(
    `webhook queue, node SIGKILLed: ${inFlightAtKill.size} events in flight and ${waiting} in the queue at the kill; ` +
      `${hooks.received.length} requests for ${answers.size} events, all accepted, ${twice()} of them twice`,
  );
});

test('the bound holds across nodes: queueSize events in Redis, the rest dropped and counted where told', async () => {
  // The business server never answers within the test: nothing leaves the queue.
  await start({ queueSize: 10, concurrency: 2, timeoutMs: 20_000 });
  policy = () => 'never';
  const users = [0, 1, 2].flatMap((n) => Array.from({ length: 5 }, (_, i) => raw(n, `u${n}-${i}`, 'b1')));
  for (const r of users) expect((await r.login()).body.err_code).toBe(0);
  // 1 room.created + 15 user.logged_in were told across three nodes.
  const dropped = async () => {
    let n = 0;
    for (const s of cluster!.nodes) {
      const w = (await s.health()).webhooks as Record<string, { dropped: { queue_full: number } }>;
      n += w[APPID]!.dropped.queue_full;
    }
    return n;
  };
  await until('16 events queued or dropped', async () => (await dropped()) === 6, 10_000);
  expect(await redis!.zcard(`zs:wq:${APPID}`)).toBe(10);
  expect(await redis!.hlen(`zs:wb:${APPID}`)).toBe(10);
  // At most `concurrency` in flight per node: two per node, six at most.
  await new Promise((r) => setTimeout(r, 1500));
  expect(hooks.received.length).toBeLessThanOrEqual(6);
  expect(hooks.received.length).toBeGreaterThanOrEqual(2);
});

test('Redis restarted empty mid-queue: the nodes write their waiting events again, all are delivered', async () => {
  await start({ maxAttempts: 20, retryBaseMs: 300, retryMaxMs: 600 });
  let ok = false;
  policy = () => (ok ? 200 : 503);
  const users = [raw(1, 'ann', 'x1'), raw(1, 'ben', 'x1'), raw(2, 'cat', 'x1'), raw(2, 'dan', 'x2')];
  for (const r of users) expect((await r.login()).body.err_code).toBe(0);
  const want = [
    'room.created x1 ',
    'room.created x2 ',
    ...users.map((r) => `user.logged_in ${r.room} ${r.idName}`),
  ].sort();
  await until('every event tried once', () => answers.size >= want.length, 10_000);
  expect(await redis!.zcard(`zs:wq:${APPID}`)).toBe(want.length);

  const before = await cluster!.nodeHealth(0);
  process.kill(before.redisPid!, 'SIGKILL');
  await until(
    'redis restarted',
    async () => {
      const h = await cluster!.nodeHealth(0).catch(() => null);
      return h?.redisPid !== undefined && h.redisPid !== before.redisPid && h.redis === 'up';
    },
    10_000,
  );
  redis!.disconnect();
  redis = new Redis(`redis://127.0.0.1:${cluster!.redisPort}`, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  await redis.connect();
  // Written again by the nodes that told them, once each found its lease gone.
  await until(
    'the events written again',
    async () => (await redis!.zcard(`zs:wq:${APPID}`)) >= want.length,
    10_000,
  );
  ok = true;
  await until(
    'every event accepted',
    () => want.every((w) => [...accepted().values()].some((e) => said(e) === w)),
    20_000,
  );
  await until('the queue empty', async () => (await queueKeys()).length === 0, 10_000);
  checkDeliveries(20);
});

test('Redis stalled: rooms never wait on it; events told meanwhile are kept and written when it answers', async () => {
  await start({}, { commandTimeoutMs: 300 });
  const keep = raw(1, 'keep', 'y1');
  const gone = raw(1, 'gone', 'y1');
  for (const r of [keep, gone]) expect((await r.login()).body.err_code).toBe(0);
  await until('the logins delivered', () => accepted().size === 3, 10_000);
  const beat = async () => {
    const t = performance.now();
    expect((await keep.request('hb', {})).body.err_code).toBe(0);
    return performance.now() - t;
  };
  const before: number[] = [];
  for (let i = 0; i < 5; i++) before.push(await beat());
  const { redisPid } = await cluster!.nodeHealth(0);
  process.kill(redisPid!, 'SIGSTOP');
  let stalled: number[] = [];
  try {
    // A user whose connection drops: its user-left is told at once, while Redis cannot take it.
    gone.ws.terminate();
    await new Promise((r) => setTimeout(r, 500));
    const w = (await cluster!.nodes[1]!.health()).webhooks as Record<string, { buffered: number }>;
    expect(w[APPID]!.buffered).toBe(1);
    // Heartbeats are answered meanwhile, without waiting on Redis.
    for (let i = 0; i < 5; i++) stalled.push(await beat());
  } finally {
    process.kill(redisPid!, 'SIGCONT');
  }
  await until(
    'the user-left delivered',
    () => [...accepted().values()].some((e) => said(e) === 'user.logged_out y1 gone connection_lost'),
    10_000,
  );
  // The write that timed out may have reached Redis all the same (it ran when Redis woke up): then the
  // buffer's copy is written again at the next poll, and delivered again (the same id; at most twice).
  await until(
    'the buffer written',
    async () => {
      const w = (await cluster!.nodes[1]!.health()).webhooks as Record<string, { buffered: number }>;
      return w[APPID]!.buffered === 0;
    },
    5000,
  );
  await until('the queue empty', async () => (await queueKeys()).length === 0, 10_000);
  checkDeliveries(8);
  stalled = stalled.sort((a, b) => a - b);
  expect(stalled[stalled.length - 1]!).toBeLessThan(250);
  const ms = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
  console.log(
    `heartbeat round trips before Redis stalled: ${ms(before)} ms; while stalled: ${ms(stalled)} ms`,
  );
});

test('a dead node’s user who logged in again elsewhere before the node was found dead: its old session’s user-left (node_lost)', async () => {
  await start({});
  const keeper = raw(0, 'keeper', 'z1');
  const old = raw(2, 'zed', 'z1');
  for (const r of [keeper, old]) expect((await r.login()).body.err_code).toBe(0);
  await until('the logins delivered', () => accepted().size === 3, 10_000);
  const deadNode = (await cluster!.nodeHealth(2)).node;
  process.kill(cluster!.nodes[2]!.pid, 'SIGKILL');
  // Back on node 1 at once (well within the dead node's lease).
  const back = raw(1, 'zed', 'z1');
  expect((await back.login()).body.err_code).toBe(0);
  await until(
    "the old session's user-left",
    () => [...accepted().values()].some((e) => said(e) === 'user.logged_out z1 zed node_lost'),
    NODE_TTL_MS * 4 + 5000,
  );
  await back.request('logout', {});
  await until(
    'the new session logged out',
    () => [...accepted().values()].some((e) => said(e) === 'user.logged_out z1 zed logout'),
    10_000,
  );
  await new Promise((r) => setTimeout(r, NODE_TTL_MS));
  // Two sessions of zed: two logins, two departures, each once (the room kept its members).
  expect([...accepted().values()].map(said).sort()).toEqual(
    [
      'room.created z1 ',
      'user.logged_in z1 keeper',
      'user.logged_in z1 zed',
      'user.logged_in z1 zed',
      'user.logged_out z1 zed logout',
      'user.logged_out z1 zed node_lost',
    ].sort(),
  );
  // The dead node's replaced sessions went with it when it was reaped.
  expect(await redis!.exists(`zs:nr:${deadNode}`)).toBe(0);
  checkDeliveries(8);
});

test('a node stopped (SIGTERM) with events waiting: the others deliver them; its users’ departures are told', async () => {
  await start({ retryBaseMs: 200, retryMaxMs: 400 });
  let ok = false;
  policy = () => (ok ? 200 : 503);
  const keeper = raw(0, 'keeper', 't1');
  expect((await keeper.login()).body.err_code).toBe(0);
  const leaving = [raw(2, 'lea', 't1'), raw(2, 'leo', 't1')];
  for (const r of leaving) expect((await r.login()).body.err_code).toBe(0);
  await until('every login tried', () => answers.size >= 4, 10_000);
  await cluster!.nodes[2]!.stop();
  ok = true;
  const want = [
    'room.created t1 ',
    'user.logged_in t1 keeper',
    'user.logged_in t1 lea',
    'user.logged_in t1 leo',
  ];
  await until(
    'the logins and the departures accepted',
    () => {
      const got = [...accepted().values()].map(said);
      return (
        want.every((w) => got.includes(w)) &&
        ['lea', 'leo'].every((u) => got.some((g) => g.startsWith(`user.logged_out t1 ${u}`)))
      );
    },
    20_000,
  );
  console.log(`SIGTERM: ${[...accepted().values()].map(said).sort().join('; ')}`);
  await until('the queue empty', async () => (await queueKeys()).length === 0, 10_000);
  checkDeliveries(8);
});
