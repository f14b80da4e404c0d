/**
 * The last hour of users and streams per app, for the operator page's chart: one sample every
 * `admin.sampleEveryMs` (10 s: 360 samples an hour) in a ring per app. In process and per node; the page
 * shows what the node that answers it saw.
 */
import { guarded, unref } from '../timers';

export interface Sample {
  t: number;
  users: number;
  streams: number;
}

const HOUR_MS = 3_600_000;

export class Samples {
  private readonly rings = new Map<number, Sample[]>();
  private readonly max: number;
  private readonly timer: ReturnType<typeof setInterval>;
  private taking = false;

  constructor(
    /** The apps sampled (those with an adminSecret: nobody else can read them). */
    private readonly appids: readonly number[],
    private readonly read: (appid: number) => Promise<{ users: number; streams: number }>,
    everyMs: number,
    log: { error(obj: object, msg: string): void },
  ) {
    this.max = Math.max(1, Math.ceil(HOUR_MS / everyMs));
    for (const a of appids) this.rings.set(a, []);
    const tick = () =>
      void this.take().catch((e: unknown) =>
        log.error({ err: (e as Error)?.stack ?? String(e) }, 'admin samples failed'),
      );
    this.timer = unref(setInterval(guarded(log, 'admin samples', tick), everyMs));
    tick();
  }

  /** Takes one sample of every app (a slow read skips a turn rather than piling up). */
  async take(now = Date.now()): Promise<void> {
    if (this.taking) return;
    this.taking = true;
    try {
      for (const appid of this.appids) {
        const c = await this.read(appid);
        const ring = this.rings.get(appid)!;
        ring.push({ t: now, users: c.users, streams: c.streams });
        if (ring.length > this.max) ring.splice(0, ring.length - this.max);
      }
    } finally {
      this.taking = false;
    }
  }

  /** An app's samples, oldest first (a copy). */
  of(appid: number): Sample[] {
    return [...(this.rings.get(appid) ?? [])];
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
