/**
 * The WebhookQueue contract: MemoryWebhookQueue (one node) is the reference; RedisWebhookQueue against a
 * real redis-server (spawned through RedisProcess, the one child supervisor) must take and refuse the same
 * events, hand out the same ones with the same attempt counts for any random sequence of adds, claims,
 * deliveries and retries (fast-check), and leave no key once everything is delivered.
 */
import fc from 'fast-check';
import Redis from 'ioredis';
import pino from 'pino';
import { RedisProcess } from '../../src/server/redis/RedisProcess';
import { REDIS_DEFAULTS } from '../../src/server/redis/redisConfig';
import { RedisWebhookQueue } from '../../src/server/redis/RedisWebhookQueue';
import {
  MemoryWebhookQueue,
  type QueuedDelivery,
  type WebhookQueue,
} from '../../src/server/webhooks/WebhookQueue';

jest.setTimeout(120_000);

const silent = pino({ level: 'silent' });
const APP = 7;
const SIZE = 4;
const MAX = 3;
let proc: RedisProcess;
let cmd: Redis;

beforeAll(async () => {
  proc = new RedisProcess({ ...REDIS_DEFAULTS, spawn: true }, silent);
  await proc.start();
  cmd = new Redis(proc.url, { lazyConnect: true, commandTimeout: 2000, enableOfflineQueue: false });
  await cmd.connect();
});
afterAll(async () => {
  cmd.disconnect();
  await proc.stop();
});

type Op =
  | { k: 'add'; n: number }
  | { k: 'claim'; n: number }
  | { k: 'finish'; i: number }
  | { k: 'retry'; i: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('add' as const), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('claim' as const), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('finish' as const), i: fc.nat(5) }),
  fc.record({ k: fc.constant('retry' as const), i: fc.nat(5) }),
);

/** One queue driven as the sender drives it; what it did, in comparable form. */
class Driver {
  held: QueuedDelivery[] = [];
  dropped = 0;
  log: string[] = [];
  constructor(readonly q: WebhookQueue) {
    q.onDropped = (_a, why, n) => {
      if (why === 'queue_full') this.dropped += n;
      else this.log.push(`dropped ${why} ${n}`);
    };
  }
  async run(op: Op, next: () => string): Promise<void> {
    switch (op.k) {
      case 'add':
        for (let i = 0; i < op.n; i++) {
          const id = next();
          if (!this.q.add(APP, id, `{"id":"${id}"}`)) this.dropped++;
        }
        // Redis: written in the background; the contract is judged once written.
        await this.q.flush();
        this.log.push(`dropped ${this.dropped}`);
        break;
      case 'claim': {
        const got = await this.q.claim(APP, op.n);
        this.held.push(...got);
        this.log.push(`claim ${got.map((d) => `${d.id}#${d.attempts}:${d.body}`).join(',')}`);
        break;
      }
      case 'finish':
      case 'retry': {
        const d = this.held.splice(op.i % Math.max(1, this.held.length), 1)[0];
        if (!d) break;
        if (op.k === 'finish' || d.attempts >= MAX) this.q.finish(APP, d);
        else this.q.retryIn(APP, d, 0);
        // The retry's wait (0 ms) runs out; Redis has recorded the step.
        await new Promise((r) => setTimeout(r, 15));
        this.log.push(`${op.k} ${d.id}`);
        break;
      }
    }
  }
}

let run = 0;

test('memory and Redis queues take, refuse and hand out alike; Redis keeps no key once all is delivered', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
      run++;
      const prefix = `wqt${run}:`;
      const mem = new Driver(new MemoryWebhookQueue(SIZE));
      const red = new Driver(
        new RedisWebhookQueue(
          cmd,
          prefix,
          [APP],
          { queueSize: SIZE, maxAttempts: MAX, claimLeaseMs: 60_000, prefetch: 2 },
          silent,
        ),
      );
      let a = 0;
      let b = 0;
      try {
        for (const op of ops) {
          await mem.run(op, () => `e${a++}`);
          await red.run(op, () => `e${b++}`);
          expect(red.log).toEqual(mem.log);
        }
        expect(red.q.counts(APP).buffered).toBe(0);
        // Everything still held is delivered, then everything left is claimed and delivered.
        for (const d of red.held.splice(0)) red.q.finish(APP, d);
        for (;;) {
          const got = await red.q.claim(APP, 4);
          if (!got.length) break;
          for (const d of got) red.q.finish(APP, d);
        }
        await new Promise((r) => setTimeout(r, 20));
        expect(await cmd.keys(`${prefix}*`)).toEqual([]);
      } finally {
        mem.q.close();
        red.q.close();
      }
    }),
    { numRuns: 60, seed: 18 },
  );
});

test('Redis restarted empty: the journal is kept until this node has found its lease gone, then written again', async () => {
  const prefix = 'wqlost:';
  const node = 'n-test';
  let lost = false;
  await cmd.zadd(`${prefix}nodes`, Date.now() + 60_000, node);
  const q = new RedisWebhookQueue(
    cmd,
    prefix,
    [APP],
    { queueSize: 16, maxAttempts: MAX, claimLeaseMs: 60_000, prefetch: 2, lease: { node, lost: () => lost } },
    silent,
  );
  try {
    for (let i = 0; i < 5; i++) expect(q.add(APP, `r${i}`, `{"id":"r${i}"}`)).toBe(true);
    await q.flush();
    expect(await cmd.zcard(`${prefix}wq:${APP}`)).toBe(5);
    // Redis loses everything (a restart without persistence), the node's lease included.
    await cmd.del(`${prefix}wq:${APP}`, `${prefix}wb:${APP}`, `${prefix}wa:${APP}`, `${prefix}nodes`);
    // Sweeps run (every POLL_MS) before the node's next beat finds its lease gone: they must not take the
    // missing ids for delivered ones.
    await new Promise((r) => setTimeout(r, 2_500));
    // The beat puts the lease back and finds it was gone: until the write-back, sweeps still keep all.
    await cmd.zadd(`${prefix}nodes`, Date.now() + 60_000, node);
    lost = true;
    await new Promise((r) => setTimeout(r, 1_500));
    q.rewrite();
    lost = false;
    await q.flush();
    expect((await cmd.zrange(`${prefix}wq:${APP}`, 0, -1)).sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  } finally {
    q.close();
    await cmd.del(`${prefix}wq:${APP}`, `${prefix}wb:${APP}`, `${prefix}wa:${APP}`, `${prefix}nodes`);
  }
});
