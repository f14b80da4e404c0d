/**
 * Delivers webhook events to the apps' business servers, at least once, off every request path.
 *
 * - `send()` only appends to the app's queue and returns: a room never waits on a business server.
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
import { unref } from '../timers';
import { webhookHeaders } from './sign';

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

export type DropReason = 'queue_full' | 'attempts' | 'shutdown';

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
  delivered: number;
  failedAttempts: number;
  dropped: Record<DropReason, number>;
}

interface Delivery {
  event: WebhookEvent;
  /** The JSON body, made once (the same bytes on every attempt). */
  body: string;
  attempts: number;
}

interface AppQueue {
  target: WebhookTarget;
  ready: Delivery[];
  retrying: Map<Delivery, ReturnType<typeof setTimeout>>;
  inFlight: number;
  stats: WebhookAppStats;
  lastFullLog: number;
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
  private readonly apps = new Map<number, AppQueue>();
  private readonly limiter: CallLimiter;
  private readonly abort = new AbortController();
  private closed = false;

  constructor(
    targets: ReadonlyMap<number, WebhookTarget>,
    private readonly cfg: WebhooksConfig,
    private readonly log: Pick<Logger, 'warn' | 'info' | 'debug'>,
    private readonly observer: WebhookObserver | null = null,
    private readonly post: Poster = postText,
  ) {
    // Per app only (webhooks have no socket or user): the concurrency bound.
    const n = cfg.concurrency;
    this.limiter = new CallLimiter({ perSocket: n, perUser: n, perApp: n });
    for (const [appid, target] of targets)
      this.apps.set(appid, {
        target,
        ready: [],
        retrying: new Map(),
        inFlight: 0,
        stats: {
          queued: 0,
          inFlight: 0,
          retrying: 0,
          delivered: 0,
          failedAttempts: 0,
          dropped: { queue_full: 0, attempts: 0, shutdown: 0 },
        },
        lastFullLog: -Infinity,
      });
  }

  /** Whether an app has a webhook URL. */
  has(appid: number): boolean {
    return this.apps.has(appid);
  }

  /** Queues an event for its app (never waits, never throws); false when it was dropped. */
  send(event: WebhookEvent): boolean {
    const q = this.apps.get(event.appid);
    if (!q || this.closed) return false;
    if (q.ready.length + q.retrying.size + q.inFlight >= this.cfg.queueSize) {
      q.stats.dropped.queue_full++;
      this.observer?.dropped(event.appid, 'queue_full');
      const now = Date.now();
      if (now - q.lastFullLog >= FULL_LOG_EVERY_MS) {
        q.lastFullLog = now;
        this.log.warn(
          { appid: event.appid, queueSize: this.cfg.queueSize, dropped: q.stats.dropped.queue_full },
          'webhook queue full: new events are dropped until it drains',
        );
      }
      return false;
    }
    q.ready.push({ event, body: JSON.stringify(event), attempts: 0 });
    this.pump(event.appid, q);
    return true;
  }

  private pump(appid: number, q: AppQueue): void {
    while (q.ready.length && !this.closed) {
      const slot = this.limiter.acquire({ appid });
      if (typeof slot === 'string') return;
      const d = q.ready.shift()!;
      q.inFlight++;
      void this.attempt(appid, q, d).finally(() => {
        q.inFlight--;
        slot();
        this.pump(appid, q);
      });
    }
  }

  private async attempt(appid: number, q: AppQueue, d: Delivery): Promise<void> {
    d.attempts++;
    let why: string;
    try {
      const headers = webhookHeaders(q.target.secret, d.event.id, d.body);
      const r = await this.post(q.target.url, d.body, this.cfg.timeoutMs, headers, this.abort.signal);
      if (r.status >= 200 && r.status < 300) {
        q.stats.delivered++;
        this.observer?.delivered(appid, d.attempts);
        return;
      }
      why = `status ${r.status}`;
    } catch (e) {
      why = (e as Error).message;
    }
    if (this.closed) return this.drop(appid, q, 'shutdown');
    q.stats.failedAttempts++;
    this.observer?.failedAttempt(appid);
    if (d.attempts >= this.cfg.maxAttempts) {
      this.log.warn(
        { appid, event: d.event.id, type: d.event.type, attempts: d.attempts, why },
        'webhook dropped after its last attempt',
      );
      return this.drop(appid, q, 'attempts');
    }
    const wait = this.backoff(d.attempts);
    this.log.debug({ appid, event: d.event.id, attempt: d.attempts, why, retryInMs: wait }, 'webhook retry');
    const timer = unref(
      setTimeout(() => {
        q.retrying.delete(d);
        q.ready.push(d);
        this.pump(appid, q);
      }, wait),
    );
    q.retrying.set(d, timer);
  }

  private drop(appid: number, q: AppQueue, reason: DropReason): void {
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
        queued: q.ready.length,
        inFlight: q.inFlight,
        retrying: q.retrying.size,
      };
    return out;
  }

  /** Stops: attempts in flight are cut, retries forgotten; what was queued is dropped (counted). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    for (const [appid, q] of this.apps) {
      for (const t of q.retrying.values()) clearTimeout(t);
      const left = q.ready.length + q.retrying.size;
      q.stats.dropped.shutdown += left;
      for (let i = 0; i < left; i++) this.observer?.dropped(appid, 'shutdown');
      q.ready = [];
      q.retrying.clear();
    }
  }
}
