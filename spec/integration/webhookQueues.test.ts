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
