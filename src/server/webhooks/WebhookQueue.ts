/**
 * Where webhook events wait (the seam under WebhookSender): the sender decides when to deliver, signs,
 * posts and backs off; a queue keeps the events and hands them out.
 *
 * - MemoryWebhookQueue (below): one node, everything in this process (the default; lost with it).
 * - RedisWebhookQueue (redis/RedisWebhookQueue.ts): many nodes, the events in Redis with claims that
 *   expire, so a node that dies leaves its pending events to the others.
 *
 * A delivery is claimed before each attempt (its attempt count goes up then, so an attempt cut by a dead
 * node still counts) and then either finished (delivered, or dropped after its last attempt) or put back
 * with a wait (a failed attempt).
 */
import { unref } from '../timers';

/** One event as the queue hands it out. */
export interface QueuedDelivery {
  id: string;
  /** The event JSON: the same bytes on every attempt, whichever node makes it. */
  body: string;
  /** Attempts made, this one included. */
  attempts: number;
}

/** Why an event was dropped (the metric's `reason`). */
export type DropReason = 'queue_full' | 'attempts' | 'shutdown' | 'redis_down';

/** An app's counts as this node sees them. */
export interface QueueCounts {
  /** Waiting to be claimed. */
  queued: number;
  /** Waiting out a retry's wait. */
  retrying: number;
  /** Taken by this node but not written to the queue yet (Redis unreachable). */
  buffered: number;
}

export interface WebhookQueue {
  /** Events outlive this process (a shutdown puts the attempts it cut back, for the others). */
  readonly durable: boolean;
  /** Set by the sender: deliveries of the app may be due (a retry's wait ran out, events were written). */
  onDue: (appid: number) => void;
  /** Set by the sender: events the queue dropped on its own (found full later, attempts used up elsewhere). */
  onDropped: (appid: number, reason: DropReason, n: number) => void;
  /** Takes an event; false when it is refused now (full). Never waits. */
  add(appid: number, id: string, body: string): boolean;
  /** Claims up to `n` deliveries due now, each with one attempt more (an array at once, or later). */
  claim(appid: number, n: number): QueuedDelivery[] | Promise<QueuedDelivery[]>;
  /** Delivered, or dropped after its last attempt: gone. */
  finish(appid: number, d: QueuedDelivery): void;
  /** The attempt failed: due again after `ms`. */
  retryIn(appid: number, d: QueuedDelivery, ms: number): void;
  /** The attempt was cut (shutdown): due again now, that attempt not counted (a queue that outlives us). */
  release(appid: number, d: QueuedDelivery): void;
  counts(appid: number): QueueCounts;
  /** Writes what this node still holds to the shared queue (shutdown, before close; bounded by its own timeouts). */
  flush(): Promise<void>;
  /** Stops: what this node drops per app (memory: everything waiting; Redis: nothing, others deliver it). */
  close(): Map<number, number>;
}

interface MemoryApp {
  ready: QueuedDelivery[];
  retrying: Map<QueuedDelivery, ReturnType<typeof setTimeout>>;
  claimed: number;
}

/** One node's queue: events in this process, bounded per app (waiting, claimed or retrying). */
export class MemoryWebhookQueue implements WebhookQueue {
  readonly durable = false;
  onDue: (appid: number) => void = () => {};
  onDropped: (appid: number, reason: DropReason, n: number) => void = () => {};
  private readonly apps = new Map<number, MemoryApp>();

  constructor(private readonly queueSize: number) {}

  private app(appid: number): MemoryApp {
    let a = this.apps.get(appid);
    if (!a) this.apps.set(appid, (a = { ready: [], retrying: new Map(), claimed: 0 }));
    return a;
  }

  add(appid: number, id: string, body: string): boolean {
    const a = this.app(appid);
    if (a.ready.length + a.retrying.size + a.claimed >= this.queueSize) return false;
    a.ready.push({ id, body, attempts: 0 });
    return true;
  }

  claim(appid: number, n: number): QueuedDelivery[] {
    const a = this.app(appid);
    const out = a.ready.splice(0, n);
    for (const d of out) d.attempts++;
    a.claimed += out.length;
    return out;
  }

  finish(appid: number): void {
    this.app(appid).claimed--;
  }

  retryIn(appid: number, d: QueuedDelivery, ms: number): void {
    const a = this.app(appid);
    a.claimed--;
    const timer = unref(
      setTimeout(() => {
        a.retrying.delete(d);
        a.ready.push(d);
        this.onDue(appid);
      }, ms),
    );
    a.retrying.set(d, timer);
  }

  release(appid: number, d: QueuedDelivery): void {
    const a = this.app(appid);
    a.claimed--;
    d.attempts--;
    a.ready.unshift(d);
  }

  counts(appid: number): QueueCounts {
    const a = this.app(appid);
    return { queued: a.ready.length, retrying: a.retrying.size, buffered: 0 };
  }

  /** Nothing is shared: nothing to write. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [appid, a] of this.apps) {
      for (const t of a.retrying.values()) clearTimeout(t);
      out.set(appid, a.ready.length + a.retrying.size);
      a.ready = [];
      a.retrying.clear();
    }
    return out;
  }
}
