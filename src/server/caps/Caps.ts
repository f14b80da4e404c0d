/**
 * The per-user and per-app caps, in one place, over the shared counters (CapCounters): logged-in sockets
 * (both planes), streams listed in rooms, media sessions and publishers. Each claim is a Lease that its
 * owner gives back exactly once, however its thing ends (release is idempotent).
 *
 * A user is (appid, idName): the same user on three media sockets, in two rooms or on two nodes counts
 * once against one cap.
 */
import type { ResolvedConfig } from '../config';
import type { CapCounters, CapItem } from './CapCounters';

export type CapName =
  | 'socketsPerUser'
  | 'socketsPerApp'
  | 'streamsPerUser'
  | 'streamsPerApp'
  | 'sessionsPerUser'
  | 'sessionsPerApp'
  | 'publishersPerUser'
  | 'publishersPerApp';

export type CapLimits = Record<CapName, number>;

export function capLimitsFrom(c: ResolvedConfig): CapLimits {
  return {
    socketsPerUser: c.limits.maxSocketsPerUser,
    socketsPerApp: c.limits.maxSocketsPerApp,
    streamsPerUser: c.room.maxStreamsPerUser,
    streamsPerApp: c.limits.maxStreamsPerApp,
    sessionsPerUser: c.limits.maxSessionsPerUser,
    sessionsPerApp: c.limits.maxSessionsPerApp,
    publishersPerUser: c.limits.maxPublishersPerUser,
    publishersPerApp: c.limits.maxPublishersPerApp,
  };
}

/** What a successful claim holds until released. */
export interface Lease {
  release(): void;
}

/** A claim was refused: which cap, and its limit. */
export interface Refusal {
  cap: CapName;
  limit: number;
}

type Claim = { lease: Lease } | { refused: Refusal };

export class Caps {
  constructor(
    private readonly counters: CapCounters,
    private readonly limits: CapLimits,
  ) {}

  /** A logged-in socket of either plane. */
  socket(appid: number, idName: string): Promise<Claim> {
    return this.claim([
      ['socketsPerUser', `sock:${appid}:${idName}`],
      ['socketsPerApp', `sock:${appid}`],
    ]);
  }

  /** A stream listed in a room (any room of the app). */
  stream(appid: number, idName: string): Promise<Claim> {
    return this.claim([
      ['streamsPerUser', `stream:${appid}:${idName}`],
      ['streamsPerApp', `stream:${appid}`],
    ]);
  }

  /** A media session; a publishing one is also a publisher. */
  session(appid: number, idName: string, publisher: boolean): Promise<Claim> {
    const caps: [CapName, string][] = [
      ['sessionsPerUser', `sess:${appid}:${idName}`],
      ['sessionsPerApp', `sess:${appid}`],
    ];
    if (publisher)
      caps.push(['publishersPerUser', `pub:${appid}:${idName}`], ['publishersPerApp', `pub:${appid}`]);
    return this.claim(caps);
  }

  private async claim(caps: [CapName, string][]): Promise<Claim> {
    const items: CapItem[] = caps.map(([name, key]) => ({ key, limit: this.limits[name] }));
    const full = await this.counters.take(items);
    if (full) {
      const [cap] =
        caps[
          Math.max(
            0,
            items.findIndex((i) => i.key === full.key),
          )
        ]!;
      return { refused: { cap, limit: full.limit } };
    }
    const keys = items.map((i) => i.key);
    let held = true;
    return {
      lease: {
        release: () => {
          if (!held) return;
          held = false;
          this.counters.give(keys);
        },
      },
    };
  }
}

/** The refusal's words for a reply ("at most 10 streams per user"). */
export function refusalText(r: Refusal): string {
  const [, what, per] = /^([a-z]+)Per(User|App)$/.exec(r.cap) ?? ['', r.cap, ''];
  return `at most ${r.limit} ${what} per ${per.toLowerCase()}`;
}
