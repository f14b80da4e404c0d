/**
 * A full garbage collection once a storm is over. When thousands of connections close at once (a storm,
 * a class leaving, a network cut), what they held is garbage in V8's old generation, and V8 collects it
 * only when something allocates enough to ask for it: an idle server kept ~30 MiB of dead sockets and a
 * young generation grown to 16 MiB semi-spaces for as long as it stayed quiet (measured: heap used 8 MiB
 * before a 1,000-socket storm, 38 MiB 25 s after every socket closed). So when the open connections have
 * fallen by half (and by at least `minDrop`) from their peak and stay down for `quietMs`, this runs one
 * full collection, at most once per `minIntervalMs`. Its pause is that of marking what is alive (a few
 * ms at these sizes), paid once, after the storm, not during it.
 *
 * `gc` is V8's own, exposed at run time (v8.setFlagsFromString('--expose-gc') and a fresh context's
 * global `gc`): the server need not be started with node flags. What glibc's allocator keeps committed
 * after a storm is not reachable from here (docs/deployment.md, "Memory after a storm").
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { unref } from './timers';

/** The second collection comes this long after the first, if it is still quiet, ms. */
const FOLLOW_UP_MS = 10_000;

export interface QuietCollectorOptions {
  /** Open connections now. */
  open(): number;
  /** How often the count is looked at, ms. */
  everyMs?: number;
  /** The count must have fallen by at least this many from its peak. */
  minDrop?: number;
  /** ... and stayed down this long, ms. */
  quietMs?: number;
  minIntervalMs?: number;
  log?: { info(obj: object, msg?: string): void };
  /** The collector (tests); V8's full GC by default. */
  gc?: () => void;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * V8's full collection, exposed without a node flag; null if this runtime refuses. Called plain: Node 20's
 * V8 ignores the options object (`{type: 'major', execution: 'sync'}` collects nothing), and a plain one is
 * synchronous and full; the pages it frees go back to the system within a second.
 */
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
  private peak = 0;
  private lowSince: number | null = null;
  private lastRun = -Infinity;
  private followUpAt: number | null = null;
  /** The count at the last collection after a storm. */
  private quietLevel = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly gc: (() => void) | null;
  /** Collections run (health details). */
  runs = 0;

  constructor(private readonly o: QuietCollectorOptions) {
    this.gc = o.gc ?? v8Gc();
    this.timer = unref(setInterval(() => this.check(), o.everyMs ?? 1000));
  }

  /** Looks at the count (every `everyMs`); runs the collection when a storm is over. */
  check(): void {
    const now = (this.o.now ?? Date.now)();
    const open = this.o.open();
    // Still quiet some seconds later: one more collection. V8 shrinks its young generation (grown to
    // 2 x 16 MiB in the storm) only in a collection that sees a low allocation rate, which the first,
    // right after the storm, does not.
    if (this.followUpAt !== null && now >= this.followUpAt) {
      this.followUpAt = null;
      // Not if another storm came meanwhile (its own end will be collected).
      if (this.peak < this.quietLevel + (this.o.minDrop ?? 200)) {
        this.collect(now, { followUp: true, open });
        this.peak = open;
        return;
      }
    }
    if (open >= this.peak) {
      this.peak = open;
      this.lowSince = null;
      return;
    }
    const fell = this.peak - open >= (this.o.minDrop ?? 200) && open <= this.peak / 2;
    if (!fell) return;
    this.lowSince ??= now;
    if (now - this.lowSince < (this.o.quietMs ?? 2000)) return;
    if (now - this.lastRun < (this.o.minIntervalMs ?? 10_000) || !this.gc) return;
    this.collect(now, { from: this.peak, open });
    this.peak = open;
    this.quietLevel = open;
    this.lowSince = null;
    this.followUpAt = now + FOLLOW_UP_MS;
  }

  private collect(now: number, what: object): void {
    this.lastRun = now;
    this.runs++;
    const t0 = performance.now();
    this.gc!();
    this.o.log?.info({ ...what, pauseMs: Math.round(performance.now() - t0) }, 'after a storm: full GC');
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
