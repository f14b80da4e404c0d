/**
 * NodeCalls over a real redis-server (spawned through RedisProcess): two nodes, each with its own command
 * and subscriber connections, ask each other; answers, refusals, a node that is gone, a node that does
 * not answer in time, and the bounds (in flight, handling, size).
 */
import Redis from 'ioredis';
import pino from 'pino';
import { NodeCallError, streamRefOf } from '../../src/server/NodeCalls';
import { RedisNodeCalls } from '../../src/server/redis/RedisNodeCalls';
import { RedisProcess } from '../../src/server/redis/RedisProcess';
import { REDIS_DEFAULTS } from '../../src/server/redis/redisConfig';

jest.setTimeout(30_000);

let proc: RedisProcess;
const conns: Redis[] = [];
const bounds = { timeoutMs: 500, maxInFlight: 4, maxHandling: 2, maxBytes: 4096 };

async function nodeCalls(node: string, b = bounds): Promise<RedisNodeCalls> {
  const cmd = new Redis(proc.url, { lazyConnect: true });
  const sub = new Redis(proc.url, { lazyConnect: true });
  conns.push(cmd, sub);
  await Promise.all([cmd.connect(), sub.connect()]);
  const c = new RedisNodeCalls(cmd, sub, node, 'nc-test:', b);
  await c.start();
  return c;
}

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NodeCallError);
    return {
      failure: (e as NodeCallError).failure,
      message: (e as Error).message,
      code: (e as NodeCallError).code,
    };
  }
  throw new Error('the call did not fail');
};

beforeAll(async () => {
  proc = new RedisProcess({ ...REDIS_DEFAULTS, spawn: true }, pino({ level: 'silent' }));
  await proc.start();
});
afterAll(async () => {
  for (const c of conns) c.disconnect();
  await proc.stop();
});

test('a node answers another; refusals carry their message and code; tell needs no answer', async () => {
  const [a, b] = [await nodeCalls('a'), await nodeCalls('b')];
  const told: unknown[] = [];
  b.handle('end', (body, from) => {
    const { appid, streamId } = streamRefOf(body);
    return `${from} ended ${appid}/${streamId}`;
  });
  b.handle('refuse', () => {
    throw Object.assign(new Error('not here'), { code: 1000000150 });
  });
  b.handle('note', (body) => void told.push(body));
  expect(await a.call('b', 'end', { appid: 7, streamId: 's1' })).toBe('a ended 7/s1');
  // A handler that returns nothing answers null.
  expect(await a.call('b', 'note', { n: 1 })).toBeNull();
  expect(await failure(a.call('b', 'refuse', {}))).toEqual({
    failure: 'failed',
    message: 'not here',
    code: 1000000150,
  });
  // Bad input is refused with what was expected.
  expect((await failure(a.call('b', 'end', { appid: 'x' }))).message).toMatch(/expected \{appid: integer/);
  expect((await failure(a.call('b', 'nothing', {}))).message).toBe('no handler for nothing on node b');
  a.tell('b', 'note', { n: 2 });
  const end = Date.now() + 2000;
  while (told.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  expect(told).toEqual([{ n: 1 }, { n: 2 }]);
});

test('a node that is gone fails at once; one that does not answer fails at its timeout', async () => {
  const a = await nodeCalls('a2');
  const t0 = Date.now();
  expect((await failure(a.call('nobody', 'end', {}))).failure).toBe('unreachable');
  expect(Date.now() - t0).toBeLessThan(400);
  const slow = await nodeCalls('slow');
  slow.handle('wait', () => new Promise((r) => setTimeout(r, 2000)));
  const t1 = Date.now();
  expect(await failure(a.call('slow', 'wait', {}))).toMatchObject({ failure: 'timeout' });
  expect(Date.now() - t1).toBeGreaterThanOrEqual(450);
  expect(Date.now() - t1).toBeLessThan(1500);
});

test('bounds: calls in flight, requests handled at once, message size', async () => {
  const a = await nodeCalls('a3');
  const b = await nodeCalls('b3');
  b.handle('wait', () => new Promise((r) => setTimeout(() => r('done'), 200)));
  // Two handled at once on b: the third is answered busy; a holds at most four in flight.
  const calls = [1, 2, 3].map(() =>
    a.call('b3', 'wait', {}).then(
      (v) => v,
      (e: NodeCallError) => e.failure,
    ),
  );
  const fifth = [4, 5].map(() =>
    a.call('b3', 'wait', {}).then(
      (v) => v,
      (e: NodeCallError) => e.failure,
    ),
  );
  const all = await Promise.all([...calls, ...fifth]);
  expect(all.filter((x) => x === 'done')).toHaveLength(2);
  expect(all.filter((x) => x === 'busy')).toHaveLength(3);
  expect((await failure(a.call('b3', 'wait', { big: 'x'.repeat(5000) }))).message).toMatch(/over 4096 bytes/);
  // After the storm both still serve.
  expect(await a.call('b3', 'wait', {})).toBe('done');
});
