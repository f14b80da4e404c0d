/**
 * The RoomStore contract: MemoryRoomStore (one node) is the reference; RedisRoomStore against a real
 * redis-server (spawned through RedisProcess, i.e. the one child supervisor) must answer every step the
 * same way and emit the same events, in the same order, for any sequence of steps (fast-check).
 */
import fc from 'fast-check';
import Redis from 'ioredis';
import pino from 'pino';
import { MemoryBus } from '../../src/server/room/Bus';
import type { RoomEvent } from '../../src/server/room/events';
import { MemoryRoomStore } from '../../src/server/room/MemoryRoomStore';
import {
  RoomRefusal,
  type JoinResult,
  type MemberInfo,
  type RoomStore,
  type StoreLimits,
} from '../../src/server/room/RoomStore';
import { RedisBus } from '../../src/server/redis/RedisBus';
import { RedisProcess } from '../../src/server/redis/RedisProcess';
import { REDIS_DEFAULTS } from '../../src/server/redis/redisConfig';
import { RedisRoomStore } from '../../src/server/redis/RedisRoomStore';
import { RedisCapCounters } from '../../src/server/redis/RedisCapCounters';
import { CapFull, MemoryCapCounters, type CapCounters } from '../../src/server/caps/CapCounters';
import type { WireStream } from '../../src/protocol/room';

jest.setTimeout(120_000);

const LIMITS: StoreLimits = {
  maxRooms: 3,
  maxUsersPerRoom: 3,
  maxStreamsPerRoom: 3,
  maxStreamsPerUser: 2,
  maxStreamsPerApp: 4,
};
const ROOMS = ['a', 'a:rm', 'b'];
const USERS = ['u1', 'u2', 'u3', 'u4'];

let proc: RedisProcess;
let cmd: Redis;
let sub: Redis;

beforeAll(async () => {
  proc = new RedisProcess({ ...REDIS_DEFAULTS, spawn: true }, pino({ level: 'silent' }));
  await proc.start();
  cmd = new Redis(proc.url, { lazyConnect: true });
  sub = new Redis(proc.url, { lazyConnect: true });
  await Promise.all([cmd.connect(), sub.connect()]);
});
afterAll(async () => {
  cmd.disconnect();
  sub.disconnect();
  await proc.stop();
});

type Step =
  | { k: 'join'; room: string; user: string; role: 1 | 2; create: boolean; caps?: boolean }
  | { k: 'give'; room?: undefined; user: string }
  | { k: 'leave'; room: string; user: string }
  | { k: 'announce'; room: string; user: string; id: string; extra: string }
  | { k: 'extra'; room: string; user: string; id: string; extra: string }
  | { k: 'unannounce'; room: string; user: string; id: string }
  | { k: 'server'; room: string; id: string }
  | { k: 'remove'; room: string; id: string }
  | { k: 'endOf'; room: string; user: string }
  | { k: 'reannounce'; room: string; user: string; id: string }
  | { k: 'chat'; room: string; user: string }
  | { k: 'trans'; room: string; user: string; type: string }
  | { k: 'big'; room: string; user: string; n: number }
  | { k: 'send'; room: string; to: string[] }
  | { k: 'kick'; room: string; user: string }
  | { k: 'read'; room: string; user: string; id: string };

const room = fc.constantFrom(...ROOMS);
const user = fc.constantFrom(...USERS);
const sid = fc.constantFrom('s1', 's2', 's3', 's4', 's5');
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    k: fc.constant('join' as const),
    room,
    user,
    role: fc.constantFrom(1 as const, 2 as const),
    create: fc.boolean(),
  }),
  fc.record({
    k: fc.constant('join' as const),
    room,
    user,
    role: fc.constant(1 as const),
    create: fc.constant(true),
  }),
  // A login's join: the socket caps taken in the same step (at most 2 per user, 3 per app).
  fc.record({
    k: fc.constant('join' as const),
    room,
    user,
    role: fc.constantFrom(1 as const, 2 as const),
    create: fc.boolean(),
    caps: fc.constant(true),
  }),
  // A socket closing gives its caps back.
  fc.record({ k: fc.constant('give' as const), user }),
  fc.record({ k: fc.constant('leave' as const), room, user }),
  fc.record({
    k: fc.constant('announce' as const),
    room,
    user,
    id: sid,
    extra: fc.constantFrom('', 'x', 'é/"'),
  }),
  fc.record({ k: fc.constant('extra' as const), room, user, id: sid, extra: fc.constantFrom('y', 'z') }),
  fc.record({ k: fc.constant('unannounce' as const), room, user, id: sid }),
  fc.record({ k: fc.constant('server' as const), room, id: sid }),
  fc.record({ k: fc.constant('remove' as const), room, id: sid }),
  fc.record({ k: fc.constant('endOf' as const), room, user }),
  fc.record({ k: fc.constant('reannounce' as const), room, user, id: sid }),
  fc.record({ k: fc.constant('chat' as const), room, user }),
  fc.record({ k: fc.constant('trans' as const), room, user, type: fc.constantFrom('q', 'r') }),
  fc.record({ k: fc.constant('big' as const), room, user, n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('send' as const), room, to: fc.subarray(USERS, { minLength: 1 }) }),
  fc.record({ k: fc.constant('kick' as const), room, user }),
  fc.record({ k: fc.constant('read' as const), room, user, id: sid }),
);

const stream = (id: string, owner: string, extra: string): WireStream => ({
  stream_id: id,
  anchor_id_name: owner,
  anchor_nick_name: owner.toUpperCase(),
  extra_info: extra,
  stream_gid: id,
  urls_flv: [],
  urls_m3u8: [],
  urls_rtmp: [],
  urls_https_flv: [],
  urls_https_m3u8: [],
});

/** One store under test: its events, and the session ids it gave out (they differ between stores). */
interface Subject {
  store: RoomStore;
  /** The socket caps' counters a join with `caps` takes from, and the takes each user holds. */
  counters: CapCounters;
  held: Map<string, number>;
  /** A counter's value as the counters' store sees it (Redis: its key, not only this node's part). */
  count: (key: string) => Promise<number>;
  events: [string, RoomEvent][];
  sessions: Map<string, string>;
  n: number;
}

async function apply(x: Subject, s: Step, appid: number): Promise<unknown> {
  const sessionOf = (u: string) => x.sessions.get(`${s.room}\u0000${u}`) ?? 'none';
  const actor = (u: string) => ({ idName: u, nickName: u.toUpperCase(), role: 1, sessionId: sessionOf(u) });
  try {
    switch (s.k) {
      case 'join': {
        const sessionId = `sess${++x.n}`;
        const m: MemberInfo = {
          idName: s.user,
          userId: s.user,
          sessionId,
          nickName: s.user.toUpperCase(),
          role: s.role,
          loginTime: 1_700_000_000_000 + x.n,
          userStateFlag: true,
          node: 'n',
        };
        const keys = [`sock:${appid}:${s.user}`, `sock:${appid}`];
        const take = s.caps
          ? {
              counters: x.counters,
              items: [
                { key: keys[0]!, limit: 2 },
                { key: keys[1]!, limit: 3 },
              ],
            }
          : undefined;
        let r: JoinResult;
        try {
          r = await x.store.join(appid, s.room, m, s.create, take);
        } catch (e) {
          const counts = await Promise.all(keys.map(x.count));
          if (e instanceof CapFull) return { capFull: e.item.key, counts };
          if (e instanceof RoomRefusal) return { refused: e.code, why: e.message, counts };
          throw e;
        }
        if (take) x.held.set(s.user, (x.held.get(s.user) ?? 0) + 1);
        x.sessions.set(`${s.room}\u0000${s.user}`, sessionId);
        return { ...r, previous: r.previous ? 'yes' : 'no', counts: await Promise.all(keys.map(x.count)) };
      }
      case 'give': {
        const keys = [`sock:${appid}:${s.user}`, `sock:${appid}`];
        const n = x.held.get(s.user) ?? 0;
        if (n > 0) {
          x.held.set(s.user, n - 1);
          x.counters.give(keys);
        }
        return Promise.all(keys.map(x.count));
      }
      case 'leave':
        return await x.store.leave(appid, s.room, s.user, sessionOf(s.user));
      case 'announce':
        return await x.store.announce(appid, s.room, actor(s.user), stream(s.id, s.user, s.extra));
      case 'extra':
        return await x.store.updateExtra(appid, s.room, actor(s.user), s.id, s.extra);
      case 'unannounce':
        return await x.store.unannounce(appid, s.room, actor(s.user), s.id);
      case 'server':
        return await x.store.addServerStream(appid, s.room, stream(`mix-${s.id}`, 'u1', ''));
      case 'remove':
        return await x.store.remove(appid, s.room, s.id);
      case 'endOf':
        return await x.store.endStreamsOf(appid, s.room, s.user);
      case 'reannounce':
        return await x.store.reannounce(appid, s.room, s.id, s.user);
      case 'chat':
        return await x.store.chat(appid, s.room, actor(s.user), {
          category: 1,
          type: 1,
          content: 'hi',
          time: 5,
        });
      case 'trans':
        return await x.store.trans(appid, s.room, actor(s.user), s.type, `d${x.n}`);
      case 'big':
        return await x.store.bigim(
          appid,
          s.room,
          actor(s.user),
          Array.from({ length: s.n }, (_, i) => ({ category: 1, type: 2, content: `b${i}` })),
          1000,
        );
      case 'send':
        return await x.store.send(appid, s.room, s.to, 'push_custommsg', '{"custommsg":"x"}');
      case 'kick':
        return await x.store.kick(appid, s.room, s.user, 7);
      case 'read':
        return [
          await x.store.snapshot(appid, s.room),
          await x.store.users(appid, s.room, 0, 10).catch((e: RoomRefusal) => e.code),
          await x.store.member(appid, s.room, s.user).then((m) => m?.idName),
          await x.store.isListed(appid, s.room, s.id),
          await x.store.whereIs(appid, s.id),
          await x.store.transFetch(appid, s.room, 'q').catch((e: RoomRefusal) => e.code),
          (await x.store.rooms(appid)).sort((p, q) => (p.roomId < q.roomId ? -1 : 1)),
        ];
    }
  } catch (e) {
    if (e instanceof RoomRefusal) return { refused: e.code, why: e.message };
    throw e;
  }
}

/** Session ids are each store's own: compared by the order they were given out. */
const normal = (v: unknown): unknown =>
  JSON.parse(
    JSON.stringify(v ?? null, (k, val: unknown) => {
      if (k === 'sessionId') return 'S';
      // A room's generation keys its webhook events only (Redis numbers rooms; memory needs not).
      if (k === 'gen') return undefined;
      // Reliable messages of different types have no order between them.
      if (k === 'trans' && Array.isArray(val))
        return [...(val as [string, unknown][])].sort((p, q) => (p[0] < q[0] ? -1 : 1));
      return val;
    }),
  );

let appSeq = 100;

test('MemoryRoomStore and RedisRoomStore: the same answers and the same events for any steps', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40 }), async (steps) => {
      const appid = ++appSeq; // a fresh app per run: nothing of an earlier run is in Redis's view
      const memBus = new MemoryBus();
      const memCounters = new MemoryCapCounters();
      const mem: Subject = {
        store: new MemoryRoomStore(LIMITS, memBus),
        counters: memCounters,
        held: new Map(),
        count: (k) => Promise.resolve(memCounters.value(k)),
        events: [],
        sessions: new Map(),
        n: 0,
      };
      memBus.setSink((a, r, e) => a === appid && mem.events.push([r, e]));
      const redisBus = new RedisBus(sub, 'zs:');
      const red: Subject = {
        store: new RedisRoomStore(cmd, 'n', 'zs:', { ...LIMITS, maxRooms: LIMITS.maxRooms }),
        // The same connection, prefix and node as the store's (what lets its join take them in its step).
        counters: new RedisCapCounters(cmd, 'n', 'zs:', (e) => {
          throw e;
        }),
        held: new Map(),
        // After a PING: a give is sent without waiting for its answer.
        count: async (k) => (await cmd.ping(), Number((await cmd.get(`zs:cap:${k}`)) ?? 0)),
        events: [],
        sessions: new Map(),
        n: 0,
      };
      redisBus.setSink((a, r, e) => a === appid && red.events.push([r, e]));
      for (const r of ROOMS) await redisBus.listen(appid, r);
      try {
        for (const s of steps) {
          const [a, b] = [await apply(mem, s, appid), await apply(red, s, appid)];
          expect({ step: s, out: normal(b) }).toEqual({ step: s, out: normal(a) });
        }
        // Every event published is heard (a PING behind them on the same server flushes the channel).
        await cmd.ping();
        const end = Date.now() + 2000;
        while (red.events.length < mem.events.length && Date.now() < end)
          await new Promise((r) => setTimeout(r, 10));
        expect(normal(red.events)).toEqual(normal(mem.events));
      } finally {
        for (const r of ROOMS) redisBus.unlisten(appid, r);
        sub.removeAllListeners('message');
        // Empty the app's rooms in Redis (their keys go with their last member), and give the caps back.
        for (const [k, sess] of red.sessions) {
          const [r, u] = k.split('\u0000') as [string, string];
          await red.store.leave(appid, r, u, sess);
        }
        for (const [u, n] of red.held)
          for (let i = 0; i < n; i++) red.counters.give([`sock:${appid}:${u}`, `sock:${appid}`]);
      }
    }),
    { numRuns: 150, seed: 1818 },
  );
  // Nothing of any run is left but the counters of apps whose runs ended with rooms closed.
  expect((await cmd.keys('zs:r*')).length).toBe(0);
  // Every cap taken by a join was given back: no counter is left, nor the node's own count of them.
  await cmd.ping();
  expect(await cmd.keys('zs:cap:*')).toEqual([]);
  expect(await cmd.exists('zs:nc:n')).toBe(0);
});
