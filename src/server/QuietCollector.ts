/**
 * A full garbage collection once a storm is over. When thousands of connections close at once (a storm,
 * a class leaving, a network cut), what they held is garbage in V8's old generation, and V8 collects it
 * only when something allocates enough to ask for it: an idle server kept ~30 MiB of dead sockets and a
 * young generation grown to 2 x 16 MiB for as long as it stayed quiet (measured: RSS +60 MiB 15 s after
 * a 1,000-socket storm). So once many connections have closed (at least `minClosed`, and at least as many
 * as are still open) and hardly any closed for `quietMs` (fewer than a tenth of `minClosed`: health checks
 * and pages coming and going go on), this runs one full collection, and a follow-up
 * `FOLLOW_UP_MS` later if it is still quiet: V8 shrinks its young generation only in a collection that
 * sees a low allocation rate, which the first, right after the storm, does not. At most one per
 * `minIntervalMs`, and never over a heap larger than `maxHeapBytes` (a full collection pauses the loop for
 * the time it takes to mark what is alive; a few ms at the sizes a storm leaves, too long for a big heap,
 * where V8's own incremental collector is the better judge).
 *
 * `gc` is V8's own, exposed at run time (v8.setFlagsFromString('--expose-gc') and a fresh context's
 * global `gc`): the server need not be started with node flags. Called plain: Node 20's V8 ignores the
 * options object (`{type: 'major', execution: 'sync'}` collects nothing); a plain call is synchronous and
 * full, and the pages it frees go back to the system within a second.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { unref } from './timers';

/** The follow-up collection comes this long after the first, if it is still quiet, ms. */
const FOLLOW_UP_MS = 10_000;

export interface QuietCollectorOptions {
  /** Open connections now. */
  open(): number;
  /** Connections closed since the start (a count that only grows). */
  closed(): number;
  /** How often the counts are looked at, ms. */
  everyMs?: number;
  /** At least this many connections must have closed since the last collection. */
  minClosed?: number;
  /** ... and none for this long, ms. */
  quietMs?: number;
  minIntervalMs?: number;
  /** No forced collection over a heap this large (used bytes). */
  maxHeapBytes?: number;
  log?: { info(obj: object, msg?: string): void };
  /** The collector (tests); V8's full GC by default. */
  gc?: () => void;
  /** The clock (tests). */
  now?: () => number;
  /** Used heap bytes (tests). */
  heapUsed?: () => number;
}

/** V8's full collection, exposed without a node flag; null if this runtime refuses. */
function v8Gc(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

export class QuietCollector {
  /** (time, closed count) at each check of the last quietMs. */
  private readonly samples: [number, number][] = [];
  private closedAtRun = 0;
  private lastRun = -Infinity;
  private followUpAt: number | null = null;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly gc: (() => void) | null;
  /** Collections run (health details). */
  runs = 0;

  constructor(private readonly o: QuietCollectorOptions) {
    this.gc = o.gc ?? v8Gc();
    this.timer = unref(setInterval(() => this.check(), o.everyMs ?? 1000));
  }

  /** Looks at the counts (every `everyMs`); collects when a storm is over. */
  check(): void {
    const now = (this.o.now ?? Date.now)();
    const closed = this.o.closed();
    const minClosed = this.o.minClosed ?? 200;
    const quietMs = this.o.quietMs ?? 2000;
    // The closes of the last quietMs: what the count was then (the oldest sample within the window).
    this.samples.push([now, closed]);
    while (this.samples.length > 1 && this.samples[1]![0] <= now - quietMs) this.samples.shift();
    const [firstAt, closedThen] = this.samples[0]!;
    const quiet = now - firstAt >= quietMs && closed - closedThen < minClosed / 10;
    const since = closed - this.closedAtRun;
    if (this.followUpAt !== null && now >= this.followUpAt) {
      this.followUpAt = null;
      // Not if another storm came meanwhile (its own end will be collected).
      if (quiet && since < minClosed) return this.collect(now, closed, { followUp: true });
    }
    if (!quiet || since < Math.max(minClosed, this.o.open())) return;
    if (now - this.lastRun < (this.o.minIntervalMs ?? 10_000)) return;
    this.collect(now, closed, { closed: since });
    this.followUpAt = now + FOLLOW_UP_MS;
  }

  private collect(now: number, closed: number, what: object): void {
    const heap = (this.o.heapUsed ?? (() => getHeapStatistics().used_heap_size))();
    if (!this.gc || heap > (this.o.maxHeapBytes ?? 128 * 1024 * 1024)) return;
    this.lastRun = now;
    this.closedAtRun = closed;
    this.runs++;
    const t0 = performance.now();
    this.gc();
    this.o.log?.info({ ...what, pauseMs: Math.round(performance.now() - t0) }, 'after a storm: full GC');
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
