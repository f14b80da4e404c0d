/**
 * The per-user and per-app caps, in one place, over the shared counters (CapCounters): logged-in sockets
 * (both planes), streams listed in rooms, media sessions and publishers. Each claim is a Lease that its
 * owner gives back exactly once, however its thing ends (release is idempotent).
 *
 * A user is (appid, idName): the same user on three media sockets, in two rooms or on two nodes counts
 * once against one cap.
 */
import type { ResolvedConfig } from '../config';
import type { CapCounters, CapItem, CapTake } from './CapCounters';

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

/** A take over these Caps' counters, with each item's cap name. */
export interface NamedTake extends CapTake {
  names: readonly CapName[];
}

export class Caps {
  constructor(
    private readonly counters: CapCounters,
    private readonly limits: CapLimits,
  ) {}

  /** A logged-in socket of either plane. */
  socket(appid: number, idName: string): Promise<Claim> {
    return this.claim(this.socketTake(appid, idName));
  }

  /**
   * A logged-in socket's caps as a take that a store step runs inside its own step (RoomStore.join: the
   * login's caps and its join in one round trip). What the step took is then held by `leaseOf(take)`; a
   * CapFull refusal is explained by `refusalOf`.
   */
  socketTake(appid: number, idName: string): NamedTake {
    return this.takeOf([
      ['socketsPerUser', `sock:${appid}:${idName}`],
      ['socketsPerApp', `sock:${appid}`],
    ]);
  }

  /** A stream listed in a room (any room of the app). */
  stream(appid: number, idName: string): Promise<Claim> {
    return this.claim(
      this.takeOf([
        ['streamsPerUser', `stream:${appid}:${idName}`],
        ['streamsPerApp', `stream:${appid}`],
      ]),
    );
  }

  /** A media session; a publishing one is also a publisher. */
  session(appid: number, idName: string, publisher: boolean): Promise<Claim> {
    const caps: [CapName, string][] = [
      ['sessionsPerUser', `sess:${appid}:${idName}`],
      ['sessionsPerApp', `sess:${appid}`],
    ];
    if (publisher)
      caps.push(['publishersPerUser', `pub:${appid}:${idName}`], ['publishersPerApp', `pub:${appid}`]);
    return this.claim(this.takeOf(caps));
  }

  /** Which cap a full item of `take` is, and its limit. */
  refusalOf(take: NamedTake, full: CapItem): Refusal {
    const i = Math.max(
      0,
      take.items.findIndex((it) => it.key === full.key),
    );
    return { cap: take.names[i]!, limit: full.limit };
  }

  /** The lease over what `take` took (given back once, however its thing ends). */
  leaseOf(take: NamedTake): Lease {
    const keys = take.items.map((i) => i.key);
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.counters.give(keys);
      },
    };
  }

  private takeOf(caps: [CapName, string][]): NamedTake {
    return {
      counters: this.counters,
      items: caps.map(([name, key]) => ({ key, limit: this.limits[name] })),
      names: caps.map(([name]) => name),
    };
  }

  private async claim(take: NamedTake): Promise<Claim> {
    const full = await this.counters.take(take.items);
    if (full) return { refused: this.refusalOf(take, full) };
    return { lease: this.leaseOf(take) };
  }
}

/** The refusal's words for a reply ("at most 10 streams per user"). */
export function refusalText(r: Refusal): string {
  const [, what, per] = /^([a-z]+)Per(User|App)$/.exec(r.cap) ?? ['', r.cap, ''];
  return `at most ${r.limit} ${what} per ${per.toLowerCase()}`;
}
