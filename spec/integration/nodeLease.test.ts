/**
 * NodeLease against a real redis-server (RedisProcess, the one child supervisor): a node that stops beating
 * is reaped by another (its members handed over once, its caps given back), and an outage that cut every
 * node off from Redis for longer than a lease does not make the first node back reap the others.
 */
import Redis from 'ioredis';
import pino from 'pino';
import { NodeLease, type DeadMember } from '../../src/server/redis/NodeLease';
import { RedisProcess } from '../../src/server/redis/RedisProcess';
import { REDIS_DEFAULTS } from '../../src/server/redis/redisConfig';
import { waitFor } from '../helpers/roomClients';

jest.setTimeout(60_000);

const TTL = 600;
const log = pino({ level: 'silent' });
let proc: RedisProcess;
const conns: Redis[] = [];
const leases: NodeLease[] = [];

beforeAll(async () => {
  proc = new RedisProcess({ ...REDIS_DEFAULTS, spawn: true }, log);
  await proc.start();
});
afterEach(async () => {
  for (const l of leases.splice(0)) await l.stop(true);
  for (const c of conns.splice(0)) c.disconnect();
});
afterAll(() => proc.stop());

async function lease(node: string, prefix: string) {
  const r = new Redis(proc.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  await r.connect();
  conns.push(r);
  const l = new NodeLease(r, node, prefix, TTL, log);
  const dead: [string, DeadMember[]][] = [];
  l.onDeadMembers = (n, m) => dead.push([n, m]);
  await l.start();
  leases.push(l);
  return { r, l, dead };
}

test('a node that stops beating is reaped once by a live one: its members handed over, its caps given back', async () => {
  const a = await lease('a', 't1:');
  const b = await lease('b', 't1:');
  await a.r.sadd('t1:nm:b', JSON.stringify(['1', 'room', 'bob', 'sess']));
  await a.r.hset('t1:nc:b', 'sock:1:bob', 1);
  await a.r.set('t1:cap:sock:1:bob', 1);
  await b.l.stop(false); // b's process "dies": its lease is not renewed
  await waitFor('b reaped', () => a.dead.length > 0, 5000);
  expect(a.dead).toEqual([['b', [['1', 'room', 'bob', 'sess']]]]);
  expect(await a.r.keys('t1:*')).toEqual(['t1:nodes']);
  expect(await a.r.zrange('t1:nodes', 0, -1)).toEqual(['a']);
});

test('every node cut off from Redis for longer than a lease: when they are back, nobody reaps anybody', async () => {
  const a = await lease('a', 't2:');
  const b = await lease('b', 't2:');
  await new Promise((r) => setTimeout(r, TTL * 2)); // past the start's own wait
  a.r.disconnect();
  b.r.disconnect();
  await new Promise((r) => setTimeout(r, TTL * 3));
  await Promise.all([a.r.connect(), b.r.connect()]);
  await new Promise((r) => setTimeout(r, TTL * 3));
  expect([a.dead, b.dead]).toEqual([[], []]);
  expect((await a.r.zrange('t2:nodes', 0, -1)).sort()).toEqual(['a', 'b']);
});
