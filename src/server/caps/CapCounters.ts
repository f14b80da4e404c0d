/**
 * Counters with limits, the seam behind every per-user and per-app cap (logged-in sockets, listed streams,
 * media sessions, publishers): a cap holds across every socket and both planes of a node, and, with a
 * shared implementation, across nodes.
 *
 * In memory (one node) today: MemoryCapCounters. A Redis implementation (many nodes, issue 18) runs
 * `take` as one Lua script (check every key against its limit, then INCR them all, or nothing) and `give`
 * as DECRs; it must also give back what a dead node held (e.g. each node's takes in a hash of its own
 * with a TTL it renews, subtracted when it expires). The interface is asynchronous for that reason.
 */

/** One counter and the limit `take` must keep it within. */
export interface CapItem {
  key: string;
  limit: number;
}

/**
 * Counters a store step takes inside its own step (RoomStore.join: a login's socket caps and its join in
 * one round trip), from `counters`: all or none, and none when the step itself is refused.
 */
export interface CapTake {
  counters: CapCounters;
  items: readonly CapItem[];
}

/** A step with a CapTake was refused because this counter was full (nothing was changed). */
export class CapFull extends Error {
  constructor(readonly item: CapItem) {
    super(`${item.key} is at its limit ${item.limit}`);
  }
}

/**
 * A CapTake done as its own call before `step` (a store that cannot fold it into its step): taken, then
 * the step; given back if the step fails.
 */
export async function takeThen<T>(take: CapTake, step: () => Promise<T>): Promise<T> {
  const full = await take.counters.take(take.items);
  if (full) throw new CapFull(full);
  try {
    return await step();
  } catch (e) {
    take.counters.give(take.items.map((i) => i.key));
    throw e;
  }
}

export interface CapCounters {
  /**
   * Adds one to every counter named if each stays within its limit, else changes none. Resolves to the
   * first item that was full, or null when all were taken.
   */
  take(items: readonly CapItem[]): Promise<CapItem | null>;
  /** Gives back one unit of each key `take` added (fire and forget; never below 0). */
  give(keys: readonly string[]): void;
  /** A counter's value (health details, tests). */
  value(key: string): number;
}

export class MemoryCapCounters implements CapCounters {
  private readonly counts = new Map<string, number>();

  take(items: readonly CapItem[]): Promise<CapItem | null> {
    for (const it of items) if ((this.counts.get(it.key) ?? 0) >= it.limit) return Promise.resolve(it);
    for (const it of items) this.counts.set(it.key, (this.counts.get(it.key) ?? 0) + 1);
    return Promise.resolve(null);
  }

  give(keys: readonly string[]): void {
    for (const k of keys) {
      const n = (this.counts.get(k) ?? 0) - 1;
      // A count back at 0 leaves the map: no key outlives what it counted.
      if (n > 0) this.counts.set(k, n);
      else this.counts.delete(k);
    }
  }

  value(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Keys held (a leak check for tests: 0 once everything is closed). */
  get size(): number {
    return this.counts.size;
  }
}
