/**
 * The webhook queue of many nodes (a WebhookQueue in Redis): every node's events wait in one queue per app,
 * any node delivers them, and a node that dies leaves its pending events to the others.
 *
 * Keys (P = redis.prefix, a = appid), only while events wait:
 *   P wq:a   sorted set: event id -> when it is due, µs in Redis time. A claim moves it a lease ahead
 *            (`webhooks.timeoutMs` + `redis.nodeTtlMs`): if the claiming node dies, it is due again then and
 *            another node claims it (XAUTOCLAIM-like). A failed attempt puts it back with its retry's wait.
 *   P wb:a   hash: event id -> the event JSON (the same bytes on every attempt, on every node)
 *   P wa:a   hash: event id -> attempts claimed so far (counted at the claim: a cut attempt counts)
 * The bound (`webhooks.queueSize`) is the sorted set's size: waiting, claimed and retrying, on every node.
 * An id already queued is not queued twice.
 *
 * A room never waits on Redis: `add` appends to a local buffer and returns; the buffer is written in
 * batches right after (one script per batch). While Redis is unreachable it is kept (at most BUFFER_MAX
 * events per app; beyond, new events are dropped as `redis_down`) and written at the next poll that gets
 * through. Every Redis call is bounded by `redis.commandTimeoutMs` (the connection's) and nothing is queued
 * in ioredis while Redis is away.
 *
 * Redis restarted empty (no persistence): each node keeps the ids and bodies it wrote (its journal, at most
 * `queueSize` per app) until it sees them gone from the queue (delivered or dropped, by any node: checked
 * in batches at every poll, only while its own lease is in Redis and not found lost: an emptied Redis must not
 * pass for delivered events), and writes them again when it finds its lease gone (`rewrite`). Their attempt
 * counts start again; an event delivered just before the restart may be delivered again (same id).
 */
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { guarded, unref } from '../timers';
import type { DropReason, QueueCounts, QueuedDelivery, WebhookQueue } from '../webhooks/WebhookQueue';

const PUSH = `
local P, a, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
local Q, B = P..'wq:'..a, P..'wb:'..a
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = redis.call('ZCARD', Q)
local res = {}
for i = 4, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('HEXISTS', B, id) == 1 then res[#res + 1] = 2
  elseif n >= max then res[#res + 1] = 0
  else
    -- In the order given: the batch's index keeps events of one microsecond in order.
    redis.call('ZADD', Q, now + i, id)
    redis.call('HSET', B, id, ARGV[i + 1])
    n = n + 1
    res[#res + 1] = 1
  end
end
return {res, n}`;

const CLAIM = `
local P, a, want, lease, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local Q, B, A = P..'wq:'..a, P..'wb:'..a, P..'wa:'..a
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ids = redis.call('ZRANGEBYSCORE', Q, '-inf', now, 'LIMIT', 0, want)
local out, spent = {}, 0
for _, id in ipairs(ids) do
  local body = redis.call('HGET', B, id)
  local att = tonumber(redis.call('HGET', A, id) or '0')
  if (not body) or att >= max then
    -- Its last attempt was made (by a node that died during it) or its body is gone: dropped.
    redis.call('ZREM', Q, id)
    redis.call('HDEL', B, id)
    redis.call('HDEL', A, id)
    if body then spent = spent + 1 end
  else
    att = redis.call('HINCRBY', A, id, 1)
    redis.call('ZADD', Q, now + lease * 1000, id)
    out[#out + 1] = id
    out[#out + 1] = body
    out[#out + 1] = att
  end
end
local nxt = redis.call('ZRANGE', Q, 0, 0, 'WITHSCORES')
local wait = -1
if nxt[2] then wait = math.max(0, math.floor((tonumber(nxt[2]) - now) / 1000)) end
return {out, spent, redis.call('ZCARD', Q), wait}`;

const FINISH = `
local P, a, id = ARGV[1], ARGV[2], ARGV[3]
redis.call('ZREM', P..'wq:'..a, id)
redis.call('HDEL', P..'wb:'..a, id)
redis.call('HDEL', P..'wa:'..a, id)
return redis.call('ZCARD', P..'wq:'..a)`;

// ARGV[4]: the wait (ms); ARGV[5]: '1' = the attempt is not counted (cut by a shutdown).
const AGAIN = `
local P, a, id, ms = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if redis.call('ZADD', P..'wq:'..a, 'XX', 'CH', now + ms * 1000, id) == 1 and ARGV[5] == '1' then
  redis.call('HINCRBY', P..'wa:'..a, id, -1)
end
return 1`;

/**
 * The journal's check: the scores of some ids, or nothing when this node's lease is not in Redis (Redis
 * restarted empty and this node has not found out yet: every id would look delivered, and the journal that
 * `rewrite` needs would be forgotten just before it is needed).
 */
const SWEEP_LUA = `
local P, a, node = ARGV[1], ARGV[2], ARGV[3]
if node ~= '' and not redis.call('ZSCORE', P..'nodes', node) then return false end
return redis.call('ZMSCORE', P..'wq:'..a, unpack(ARGV, 4))`;

/** Events per app kept here while Redis cannot be written (beyond: dropped as `redis_down`). */
export const BUFFER_MAX = 1000;
/** Events written per script call. */
const BATCH = 200;
/** The longest a node waits before it looks at the queues again (another node's expired claims), ms. */
export const POLL_MS = 1000;
/** Journal ids checked against the queue per app per poll. */
const SWEEP = 256;

type Runner = (...args: (string | number)[]) => Promise<unknown>;

interface RedisApp {
  buffer: { id: string; body: string }[];
  /** Written by this node, not yet seen gone from the queue (kept for a Redis that restarts empty). */
  journal: Map<string, string>;
  /** The write under way, if any. */
  writing: Promise<void> | null;
  /** The queue's size as last seen (every node's events). */
  seen: number;
  /** Claimed here and not finished or put back yet (handed out, or waiting in `ready`). */
  claimed: number;
  /** Claimed ahead, not handed out yet. */
  ready: QueuedDelivery[];
  fetching: boolean;
  /** Put back here to wait out a retry (timers that pump when it is due). */
  retrying: Set<ReturnType<typeof setTimeout>>;
}

export class RedisWebhookQueue implements WebhookQueue {
  readonly durable = true;
  onDue: (appid: number) => void = () => {};
  onDropped: (appid: number, reason: DropReason, n: number) => void = () => {};
  private readonly apps = new Map<number, RedisApp>();
  private readonly cmd: Record<'push' | 'claim' | 'finish' | 'again' | 'sweep', Runner>;
  private readonly poller: ReturnType<typeof setInterval>;
  private wake: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private lastWarn = 0;

  constructor(
    private readonly r: Redis,
    private readonly prefix: string,
    appids: readonly number[],
    private readonly cfg: {
      queueSize: number;
      maxAttempts: number;
      claimLeaseMs: number;
      prefetch: number;
      /**
       * This node's lease (many nodes): the journal is not swept while the lease is missing from Redis or
       * found lost and not yet written back (`rewrite` comes then). Without it every sweep trusts Redis.
       */
      lease?: { node: string; lost(): boolean };
    },
    private readonly log: Pick<Logger, 'warn' | 'info' | 'debug' | 'error'>,
  ) {
    r.defineCommand('zs_whPush', { numberOfKeys: 0, lua: PUSH });
    r.defineCommand('zs_whClaim', { numberOfKeys: 0, lua: CLAIM });
    r.defineCommand('zs_whFinish', { numberOfKeys: 0, lua: FINISH });
    r.defineCommand('zs_whAgain', { numberOfKeys: 0, lua: AGAIN });
    r.defineCommand('zs_whSweep', { numberOfKeys: 0, lua: SWEEP_LUA });
    const c = r as unknown as Record<string, Runner>;
    this.cmd = {
      push: (...a) => c.zs_whPush!(...a),
      claim: (...a) => c.zs_whClaim!(...a),
      finish: (...a) => c.zs_whFinish!(...a),
      again: (...a) => c.zs_whAgain!(...a),
      sweep: (...a) => c.zs_whSweep!(...a),
    };
    for (const a of appids)
      this.apps.set(a, {
        buffer: [],
        journal: new Map(),
        writing: null,
        seen: 0,
        claimed: 0,
        ready: [],
        fetching: false,
        retrying: new Set(),
      });
    this.poller = unref(
      setInterval(
        guarded(log, 'webhook queue poll', () => this.poll()),
        POLL_MS,
      ),
    );
  }

  private warn(err: Error, what: string): void {
    const now = Date.now();
    if (now - this.lastWarn < 10_000) return;
    this.lastWarn = now;
    this.log.warn({ err: err.message }, what);
  }

  add(appid: number, id: string, body: string): boolean {
    const a = this.apps.get(appid);
    if (!a || this.closed) return false;
    if (a.buffer.length >= BUFFER_MAX) {
      this.onDropped(appid, 'redis_down', 1);
      // Counted already: refusing here would count it again as queue_full.
      return true;
    }
    a.buffer.push({ id, body });
    if (a.buffer.length === 1) queueMicrotask(() => void this.write(appid, a));
    return true;
  }

  /** Writes the buffer in batches; what Redis refuses as full is dropped, what it cannot take stays. */
  private write(appid: number, a: RedisApp): Promise<void> {
    if (this.closed) return Promise.resolve();
    return (a.writing ??= this.writeNow(appid, a).finally(() => (a.writing = null)));
  }

  private async writeNow(appid: number, a: RedisApp): Promise<void> {
    try {
      while (a.buffer.length && !this.closed) {
        const batch = a.buffer.slice(0, BATCH);
        const args: (string | number)[] = [this.prefix, appid, this.cfg.queueSize];
        for (const e of batch) args.push(e.id, e.body);
        const [res, n] = (await this.cmd.push(...args)) as [number[], number];
        a.buffer.splice(0, batch.length);
        a.seen = n;
        let full = 0;
        batch.forEach((e, i) => {
          if (res[i] === 0) full++;
          else this.remember(a, e.id, e.body);
        });
        if (full) this.onDropped(appid, 'queue_full', full);
      }
      this.onDue(appid);
    } catch (e) {
      this.warn(e as Error, 'webhook events not written to redis yet (kept here, written when it answers)');
    }
  }

  private remember(a: RedisApp, id: string, body: string): void {
    a.journal.delete(id);
    a.journal.set(id, body);
    // At most a queue's worth: the oldest go first (they are the likeliest delivered already).
    if (a.journal.size > this.cfg.queueSize) a.journal.delete(a.journal.keys().next().value!);
  }

  /**
   * Hands out what this node claimed ahead first; claims from Redis when that is not enough, up to
   * `prefetch` more than asked: the next deliveries start as slots free up, without a round trip each
   * (they wait here at most one attempt's time, well within their claim's lease).
   */
  async claim(appid: number, n: number): Promise<QueuedDelivery[]> {
    const a = this.apps.get(appid);
    if (!a || this.closed) return [];
    if (a.ready.length >= n) {
      const out = a.ready.splice(0, n);
      if (a.ready.length < this.cfg.prefetch) void this.refill(appid, a);
      return out;
    }
    await this.fetch(appid, a, n - a.ready.length + this.cfg.prefetch);
    return a.ready.splice(0, n);
  }

  /** Claims ahead in the background; pumps the app when it got some. */
  private async refill(appid: number, a: RedisApp): Promise<void> {
    if (a.fetching) return;
    try {
      if ((await this.fetch(appid, a, this.cfg.prefetch - a.ready.length)) > 0) this.onDue(appid);
    } catch {
      // Redis unreachable: claimed at the next pump or poll.
    }
  }

  private async fetch(appid: number, a: RedisApp, want: number): Promise<number> {
    if (want <= 0) return 0;
    a.fetching = true;
    try {
      const [flat, spent, size, wait] = (await this.cmd.claim(
        this.prefix,
        appid,
        want,
        this.cfg.claimLeaseMs,
        this.cfg.maxAttempts,
      )) as [(string | number)[], number, number, number];
      a.seen = size;
      if (spent) this.onDropped(appid, 'attempts', spent);
      let got = 0;
      for (let i = 0; i + 2 < flat.length; i += 3, got++)
        a.ready.push({ id: String(flat[i]), body: String(flat[i + 1]), attempts: Number(flat[i + 2]) });
      a.claimed += got;
      if (this.closed) this.releaseReady(appid, a);
      // Nothing more due now: look again when the next one is (sooner than the poll).
      if (got < want && wait >= 0 && wait < POLL_MS) this.wakeIn(wait);
      return got;
    } finally {
      a.fetching = false;
    }
  }

  /** Claimed ahead and not handed out: due again now, for any node (those attempts not counted). */
  private releaseReady(appid: number, a: RedisApp): void {
    for (const d of a.ready.splice(0)) {
      a.claimed--;
      this.cmd.again(this.prefix, appid, d.id, 0, '1').catch(() => {});
    }
  }

  private wakeIn(ms: number): void {
    if (this.wake || this.closed) return;
    this.wake = unref(
      setTimeout(() => {
        this.wake = null;
        for (const appid of this.apps.keys()) this.onDue(appid);
      }, ms + 5),
    );
  }

  finish(appid: number, d: QueuedDelivery): void {
    const a = this.apps.get(appid);
    if (!a) return;
    a.claimed--;
    a.journal.delete(d.id);
    this.cmd
      .finish(this.prefix, appid, d.id)
      .then((n) => (a.seen = Number(n)))
      // Not recorded: its claim expires and it is delivered again (the same id).
      .catch((e: Error) => this.warn(e, 'webhook delivery not recorded in redis'));
  }

  retryIn(appid: number, d: QueuedDelivery, ms: number): void {
    const a = this.apps.get(appid);
    if (!a) return;
    a.claimed--;
    this.cmd
      .again(this.prefix, appid, d.id, ms, '0')
      // Not recorded: due again when its claim expires instead.
      .catch((e: Error) => this.warn(e, 'webhook retry not recorded in redis'));
    // This node takes it again when it is due (if it still lives; else another does).
    const t = unref(
      setTimeout(() => {
        a.retrying.delete(t);
        this.onDue(appid);
      }, ms + 5),
    );
    a.retrying.add(t);
  }

  release(appid: number, d: QueuedDelivery): void {
    const a = this.apps.get(appid);
    if (!a) return;
    a.claimed--;
    this.cmd.again(this.prefix, appid, d.id, 0, '1').catch(() => {});
  }

  counts(appid: number): QueueCounts {
    const a = this.apps.get(appid);
    if (!a) return { queued: 0, retrying: 0, buffered: 0 };
    const retrying = a.retrying.size;
    // Claimed ahead here counts as queued (waiting), not in flight.
    return {
      queued: Math.max(0, a.seen - (a.claimed - a.ready.length) - retrying),
      retrying,
      buffered: a.buffer.length,
    };
  }

  /** Every poll: write what is buffered, forget journal entries gone from the queue, take what is due. */
  private poll(): void {
    if (this.closed) return;
    for (const [appid, a] of this.apps) {
      if (a.buffer.length) void this.write(appid, a);
      else this.onDue(appid);
      if (a.journal.size) void this.sweep(appid, a);
    }
  }

  private async sweep(appid: number, a: RedisApp): Promise<void> {
    const some = [...a.journal].slice(0, SWEEP);
    try {
      const lease = this.cfg.lease;
      const scores = (await this.cmd.sweep(
        this.prefix,
        appid,
        lease?.node ?? '',
        ...some.map(([id]) => id),
      )) as (string | null)[] | null;
      // This node's lease is gone from Redis, or found gone and not written back yet: keep everything.
      if (!scores || lease?.lost()) return;
      some.forEach(([id, body], i) => {
        if (!a.journal.has(id)) return;
        a.journal.delete(id);
        // Still queued: kept, at the end (the next sweeps look at the others first).
        if (scores[i] !== null) a.journal.set(id, body);
      });
    } catch {
      // Redis unreachable: the next poll sweeps.
    }
  }

  /**
   * The shared state was lost (this node's lease was gone: Redis restarted empty, or this node was reaped
   * after a stall): what this node wrote and has not seen delivered is written again (ids already queued
   * are skipped by the script).
   */
  rewrite(): void {
    for (const [appid, a] of this.apps) {
      if (!a.journal.size) continue;
      const have = new Set(a.buffer.map((e) => e.id));
      const again = [...a.journal].filter(([id]) => !have.has(id)).map(([id, body]) => ({ id, body }));
      a.buffer.unshift(...again);
      this.log.info({ appid, events: again.length }, 'webhook events written again to redis');
      void this.write(appid, a);
    }
  }

  /** Writes the buffer now (shutdown); each write bounded by the connection's command timeout. */
  async flush(): Promise<void> {
    await Promise.all(
      [...this.apps].map(async ([appid, a]) => {
        // A write under way may have started before the last events came: then once more.
        await this.write(appid, a);
        if (a.buffer.length) await this.write(appid, a);
      }),
    );
  }

  close(): Map<number, number> {
    this.closed = true;
    clearInterval(this.poller);
    if (this.wake) clearTimeout(this.wake);
    const out = new Map<number, number>();
    for (const [appid, a] of this.apps) {
      for (const t of a.retrying) clearTimeout(t);
      a.retrying.clear();
      // What was never written is lost with this node; everything in Redis stays for the others.
      out.set(appid, a.buffer.length);
      this.releaseReady(appid, a);
      a.buffer = [];
    }
    return out;
  }
}
