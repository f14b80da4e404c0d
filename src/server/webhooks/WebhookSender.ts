/**
 * Delivers webhook events to the apps' business servers, at least once, off every request path.
 *
 * - `send()` only appends to the app's queue and returns: a room never waits on a business server.
 * - The events wait in a WebhookQueue (WebhookQueue.ts): in this process by default; in Redis with many
 *   nodes (redis/RedisWebhookQueue.ts), where any node delivers them and a dead node's are taken over.
 * - Each app has one bounded queue (`webhooks.queueSize` events: waiting, in flight or waiting to retry).
 *   A full queue refuses the new event: it is dropped, counted (`dropped.queue_full`, the metric
 *   `zego_webhooks_dropped_total{reason="queue_full"}`) and logged once per minute per app. Nothing already
 *   accepted is pushed out, so what was queued is still delivered in its turn.
 * - At most `webhooks.concurrency` deliveries per app are in flight, through a CallLimiter of their own
 *   (a sibling of the one the planes share: a dead webhook server must not take the slots a page's relay
 *   or third-token call needs).
 * - An attempt that fails (no 2xx within `webhooks.timeoutMs`, or a network error) is retried after
 *   `retryBaseMs` doubling up to `retryMaxMs`, with jitter (half to all of it), without holding the
 *   queue: later events go on meanwhile. After `maxAttempts` the event is dropped and counted
 *   (`dropped.attempts`). Every attempt carries the same `webhook-id` (deduplicate by it) and a fresh
 *   signature.
 */
import type { Logger } from 'pino';
import { CallLimiter } from '../outbound/CallLimiter';
import { postText, type PostResult } from '../httpPost';
import type { WebhooksConfig } from '../opsConfig';
import { webhookHeaders } from './sign';
import { MemoryWebhookQueue, type DropReason, type QueuedDelivery, type WebhookQueue } from './WebhookQueue';

/** One event as sent (the JSON body). */
export interface WebhookEvent {
  id: string;
  type: string;
  appid: number;
  node: string;
  /** When it happened, ms since the epoch. */
  time: number;
  data: Record<string, unknown>;
}

/** Where an app's events go. */
export interface WebhookTarget {
  url: string;
  secret: string;
}

export type { DropReason };

/** Outcomes as they happen (metrics). */
export interface WebhookObserver {
  delivered(appid: number, attempts: number): void;
  failedAttempt(appid: number): void;
  dropped(appid: number, reason: DropReason): void;
}

/** One app's counts (/healthz details, the metrics' gauges, tests). */
export interface WebhookAppStats {
  queued: number;
  inFlight: number;
  retrying: number;
  /** Taken but not written to the shared queue yet (Redis unreachable; always 0 in memory). */
  buffered: number;
  delivered: number;
  failedAttempts: number;
  dropped: Record<DropReason, number>;
}

interface AppState {
  target: WebhookTarget;
  inFlight: number;
  /** Deliveries this node put back to wait (a retry's wait). */
  stats: Omit<WebhookAppStats, 'queued' | 'inFlight' | 'retrying' | 'buffered'>;
  lastFullLog: number;
  /** A claim is on its way (Redis): a pump asked meanwhile runs after it. */
  claiming: boolean;
  again: boolean;
}

/** A posting function (tests may slow it); the real one is httpPost's postText. */
export type Poster = (
  url: string,
  body: string,
  timeoutMs: number,
  headers: Record<string, string>,
  signal: AbortSignal,
) => Promise<PostResult>;

const FULL_LOG_EVERY_MS = 60_000;

export class WebhookSender {
  private readonly apps = new Map<number, AppState>();
  private readonly limiter: CallLimiter;
  private readonly abort = new AbortController();
  private closed = false;

  constructor(
    targets: ReadonlyMap<number, WebhookTarget>,
    private readonly cfg: WebhooksConfig,
    private readonly log: Pick<Logger, 'warn' | 'info' | 'debug'>,
    private readonly observer: WebhookObserver | null = null,
    private readonly post: Poster = postText,
    private readonly queue: WebhookQueue = new MemoryWebhookQueue(cfg.queueSize),
  ) {
    // Per app only (webhooks have no socket or user): the concurrency bound.
    const n = cfg.concurrency;
    this.limiter = new CallLimiter({ perSocket: n, perUser: n, perApp: n });
    for (const [appid, target] of targets)
      this.apps.set(appid, {
        target,
        inFlight: 0,
        stats: {
          delivered: 0,
          failedAttempts: 0,
          dropped: { queue_full: 0, attempts: 0, shutdown: 0, redis_down: 0 },
        },
        lastFullLog: -Infinity,
        claiming: false,
        again: false,
      });
    queue.onDue = (appid) => {
      const q = this.apps.get(appid);
      if (q) this.pump(appid, q);
    };
    queue.onDropped = (appid, reason, n) => {
      const q = this.apps.get(appid);
      if (!q) return;
      for (let i = 0; i < n; i++) this.drop(appid, q, reason);
      if (reason === 'queue_full' || reason === 'redis_down') this.fullLog(appid, q, reason);
    };
  }

  /** Whether an app has a webhook URL. */
  has(appid: number): boolean {
    return this.apps.has(appid);
  }

  /** Queues an event for its app (never waits, never throws); false when it was dropped. */
  send(event: WebhookEvent): boolean {
    const q = this.apps.get(event.appid);
    if (!q || this.closed) return false;
    if (!this.queue.add(event.appid, event.id, JSON.stringify(event))) {
      this.drop(event.appid, q, 'queue_full');
      this.fullLog(event.appid, q, 'queue_full');
      return false;
    }
    this.pump(event.appid, q);
    return true;
  }

  private fullLog(appid: number, q: AppState, reason: DropReason): void {
    const now = Date.now();
    if (now - q.lastFullLog < FULL_LOG_EVERY_MS) return;
    q.lastFullLog = now;
    if (reason === 'redis_down')
      this.log.warn(
        { appid, dropped: q.stats.dropped.redis_down },
        'webhook events dropped: redis unreachable and the local buffer full',
      );
    else
      this.log.warn(
        { appid, queueSize: this.cfg.queueSize, dropped: q.stats.dropped.queue_full },
        'webhook queue full: new events are dropped until it drains',
      );
  }

  /** Takes what is due while this node has free slots for the app (one claim at a time per app). */
  private pump(appid: number, q: AppState): void {
    if (this.closed) return;
    if (q.claiming) {
      q.again = true;
      return;
    }
    const slots: (() => void)[] = [];
    for (;;) {
      const slot = this.limiter.acquire({ appid });
      if (typeof slot === 'string') break;
      slots.push(slot);
    }
    if (!slots.length) return;
    let got: QueuedDelivery[] | Promise<QueuedDelivery[]>;
    try {
      got = this.queue.claim(appid, slots.length);
    } catch (e) {
      for (const s of slots) s();
      throw e;
    }
    if (Array.isArray(got)) return this.start(appid, q, got, slots);
    q.claiming = true;
    got.then(
      (ds) => {
        q.claiming = false;
        // Everything asked for came: more may be due.
        const more = ds.length > 0 && ds.length === slots.length;
        this.start(appid, q, ds, slots);
        if (q.again || more) {
          q.again = false;
          this.pump(appid, q);
        }
      },
      (e: Error) => {
        q.claiming = false;
        q.again = false;
        for (const s of slots) s();
        this.log.debug({ appid, err: e.message }, 'webhook claim failed (taken again at the next poll)');
      },
    );
  }

  private start(appid: number, q: AppState, ds: QueuedDelivery[], slots: (() => void)[]): void {
    for (const s of slots.splice(ds.length)) s();
    if (this.closed) {
      for (const d of ds) this.queue.release(appid, d);
      for (const s of slots) s();
      return;
    }
    ds.forEach((d, i) => {
      const slot = slots[i]!;
      q.inFlight++;
      void this.attempt(appid, q, d).finally(() => {
        q.inFlight--;
        slot();
        this.pump(appid, q);
      });
    });
  }

  private async attempt(appid: number, q: AppState, d: QueuedDelivery): Promise<void> {
    let why: string;
    try {
      const headers = webhookHeaders(q.target.secret, d.id, d.body);
      const r = await this.post(q.target.url, d.body, this.cfg.timeoutMs, headers, this.abort.signal);
      if (r.status >= 200 && r.status < 300) {
        this.queue.finish(appid, d);
        q.stats.delivered++;
        this.observer?.delivered(appid, d.attempts);
        return;
      }
      why = `status ${r.status}`;
    } catch (e) {
      why = (e as Error).message;
    }
    if (this.closed) {
      // Cut by the shutdown: a durable queue keeps it for the other nodes, else it is lost here.
      if (this.queue.durable) return this.queue.release(appid, d);
      this.queue.finish(appid, d);
      return this.drop(appid, q, 'shutdown');
    }
    q.stats.failedAttempts++;
    this.observer?.failedAttempt(appid);
    if (d.attempts >= this.cfg.maxAttempts) {
      this.log.warn(
        { appid, event: d.id, attempts: d.attempts, why },
        'webhook dropped after its last attempt',
      );
      this.queue.finish(appid, d);
      return this.drop(appid, q, 'attempts');
    }
    const wait = this.backoff(d.attempts);
    this.log.debug({ appid, event: d.id, attempt: d.attempts, why, retryInMs: wait }, 'webhook retry');
    this.queue.retryIn(appid, d, wait);
  }

  private drop(appid: number, q: AppState, reason: DropReason): void {
    q.stats.dropped[reason]++;
    this.observer?.dropped(appid, reason);
  }

  /** The wait before attempt `n + 1`: base doubling per attempt, capped, with jitter (half to all). */
  backoff(attempts: number): number {
    const full = Math.min(this.cfg.retryMaxMs, this.cfg.retryBaseMs * 2 ** Math.min(30, attempts - 1));
    return Math.round(full / 2 + (Math.random() * full) / 2);
  }

  stats(): Record<number, WebhookAppStats> {
    const out: Record<number, WebhookAppStats> = {};
    for (const [appid, q] of this.apps)
      out[appid] = {
        ...q.stats,
        dropped: { ...q.stats.dropped },
        ...this.queue.counts(appid),
        inFlight: q.inFlight,
      };
    return out;
  }

  /** Shutdown, before close(): what this node holds is written to a shared queue (Redis); at once in memory. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /**
   * Stops: attempts in flight are cut. In memory, what was queued is dropped (counted); a durable queue
   * keeps it for the other nodes (the attempts cut are put back, not counted).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    for (const [appid, n] of this.queue.close()) {
      const q = this.apps.get(appid);
      if (q) for (let i = 0; i < n; i++) this.drop(appid, q, 'shutdown');
    }
  }
}
