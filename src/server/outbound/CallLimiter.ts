/**
 * Calls in flight to business servers (an app's relayUrl and thirdTokenUrl, relay.approveUrl's push-URL
 * approvals; webhooks through an instance of their own), bounded per socket, per user (across its sockets) and per app, so that no
 * client and no room can pile requests up on a business server, nor on this process's sockets and memory
 * while they wait. A call over any bound is not made: the caller answers the legacy "too many requests".
 *
 * The counts are this process's own (a call in flight lives and dies here); with many nodes each node
 * bounds its own share.
 */

/** Who a call is made for. `socket` and `user` are absent for calls no client made (webhooks). */
export interface CallKeys {
  appid: number;
  /** `appid:idName` or any string unique per user within the app. */
  user?: string;
  /** Any value unique per socket (the socket object itself does). */
  socket?: object;
}

export interface CallBounds {
  perSocket: number;
  perUser: number;
  perApp: number;
}

export type BoundName = 'socket' | 'user' | 'app';

/** The bounds from the config's `limits`. */
export function callBoundsFrom(l: {
  callsInFlightPerSocket: number;
  callsInFlightPerUser: number;
  callsInFlightPerApp: number;
}): CallBounds {
  return {
    perSocket: l.callsInFlightPerSocket,
    perUser: l.callsInFlightPerUser,
    perApp: l.callsInFlightPerApp,
  };
}

/** A call was not made: `bound` says which bound was reached. */
export class CallsBusy extends Error {
  constructor(readonly bound: BoundName) {
    super(`too many calls in flight to the business server (per ${bound})`);
    this.name = 'CallsBusy';
  }
}

export interface CallStats {
  inFlight: number;
  /** Calls not made because a bound was reached, by bound. */
  refused: Record<BoundName, number>;
}

export class CallLimiter {
  private readonly bySocket = new Map<object, number>();
  private readonly byUser = new Map<string, number>();
  private readonly byApp = new Map<number, number>();
  private inFlight = 0;
  private readonly refused: Record<BoundName, number> = { socket: 0, user: 0, app: 0 };

  constructor(private readonly bounds: CallBounds) {}

  /** Takes one slot under every key, or none: the release function, or the bound that was reached. */
  acquire(k: CallKeys): (() => void) | BoundName {
    const user = k.user === undefined ? undefined : `${k.appid}\u0000${k.user}`;
    const over: BoundName | null =
      k.socket !== undefined && (this.bySocket.get(k.socket) ?? 0) >= this.bounds.perSocket
        ? 'socket'
        : user !== undefined && (this.byUser.get(user) ?? 0) >= this.bounds.perUser
          ? 'user'
          : (this.byApp.get(k.appid) ?? 0) >= this.bounds.perApp
            ? 'app'
            : null;
    if (over) {
      this.refused[over]++;
      return over;
    }
    if (k.socket !== undefined) bump(this.bySocket, k.socket, 1);
    if (user !== undefined) bump(this.byUser, user, 1);
    bump(this.byApp, k.appid, 1);
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (k.socket !== undefined) bump(this.bySocket, k.socket, -1);
      if (user !== undefined) bump(this.byUser, user, -1);
      bump(this.byApp, k.appid, -1);
      this.inFlight--;
    };
  }

  /** Runs `call` within the bounds; throws CallsBusy (without calling) when one is reached. */
  async run<T>(k: CallKeys, call: () => Promise<T>): Promise<T> {
    const slot = this.acquire(k);
    if (typeof slot === 'string') throw new CallsBusy(slot);
    try {
      return await call();
    } finally {
      slot();
    }
  }

  stats(): CallStats {
    return { inFlight: this.inFlight, refused: { ...this.refused } };
  }
}

/** Adds `d` to a count; a count back at 0 leaves the map (no key outlives its last call). */
function bump<K>(m: Map<K, number>, k: K, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n > 0) m.set(k, n);
  else m.delete(k);
}
