/**
 * Who is still here: one lease per user (appid + room + idName), connected -> grace -> gone, owning the
 * single grace timer of that user. The room plane and the media plane report losses and recoveries; the
 * lease decides when a loss is final and says so once:
 *
 * - `userGone(user, why)`: the user left for good. `left` at once for a logout, a kick or a heartbeat
 *   expiry; `expired` when its room socket dropped and it did not log in again within the grace. Rooms end
 *   its streams, media ends its sessions.
 * - `streamGone(user, streamId, why)`: a published stream is over. `stopped` at once when the publisher
 *   stopped it; `expired` when its media was lost (socket, SFU restart, client retry) and not published
 *   again within the grace. Rooms take it off their list (viewers hear 12002).
 *
 * Overlapping losses of one user share one deadline (the first loss's); a lease with nothing lost has no
 * timer. Every timer is cleared on dispose.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../clock';

export interface UserRef {
  appid: number;
  roomId: string;
  idName: string;
}

export type GoneWhy = 'left' | 'expired';
export type StreamGoneWhy = 'stopped' | 'expired';

export interface PresenceEvents {
  userGone: [user: UserRef, why: GoneWhy];
  streamGone: [user: UserRef, streamId: string, why: StreamGoneWhy];
}

interface Lease {
  user: UserRef;
  roomLost: boolean;
  lostStreams: Set<string>;
  timer: unknown;
  /** When the grace ends (0 = no timer). */
  deadline: number;
}

const keyOf = (u: UserRef) => `${u.appid}\u0000${u.roomId}\u0000${u.idName}`;

export class Presence extends EventEmitter<PresenceEvents> {
  private readonly leases = new Map<string, Lease>();
  /** `${appid}\0${streamId}` -> the key of the lease holding it lost. */
  private readonly lostStreamOwners = new Map<string, string>();

  constructor(
    private readonly clock: Clock,
    readonly graceMs: number,
  ) {
    super();
  }

  /** The user is (again) logged in to the room: a room loss in grace is forgiven. */
  roomUp(user: UserRef): void {
    const l = this.leases.get(keyOf(user));
    if (!l) return;
    l.roomLost = false;
    this.settle(l);
  }

  /** The user's room session ended: for good (`graceful`) or by a lost socket (grace). */
  roomDown(user: UserRef, graceful: boolean): void {
    if (graceful) {
      const l = this.leases.get(keyOf(user));
      if (l) this.drop(l);
      this.emit('userGone', user, 'left');
      return;
    }
    const l = this.lease(user);
    l.roomLost = true;
    this.arm(l);
  }

  /** The user's published stream is live (again): a loss in grace is forgiven. */
  streamUp(user: UserRef, streamId: string): void {
    const k = `${user.appid}\u0000${streamId}`;
    const ownerKey = this.lostStreamOwners.get(k);
    if (ownerKey === undefined) return;
    this.lostStreamOwners.delete(k);
    const l = this.leases.get(ownerKey);
    if (!l) return;
    l.lostStreams.delete(streamId);
    this.settle(l);
  }

  /** The user's published stream stopped (`graceful`) or lost its media (grace). */
  streamDown(user: UserRef, streamId: string, graceful: boolean): void {
    const k = `${user.appid}\u0000${streamId}`;
    if (graceful) {
      this.streamUp(user, streamId); // whatever was pending for it is settled now
      this.emit('streamGone', user, streamId, 'stopped');
      return;
    }
    const l = this.lease(user);
    l.lostStreams.add(streamId);
    this.lostStreamOwners.set(k, keyOf(user));
    this.arm(l);
  }

  /** The owner of a stream whose media is lost and may come back (in grace), if any. */
  lostStreamOwner(appid: number, streamId: string): UserRef | undefined {
    const ownerKey = this.lostStreamOwners.get(`${appid}\u0000${streamId}`);
    return ownerKey === undefined ? undefined : this.leases.get(ownerKey)?.user;
  }

  /** Leases in grace now (health details, leak checks). */
  get inGrace(): number {
    return this.leases.size;
  }

  dispose(): void {
    for (const l of this.leases.values()) this.clock.clearTimeout(l.timer);
    this.leases.clear();
    this.lostStreamOwners.clear();
    this.removeAllListeners();
  }

  private lease(user: UserRef): Lease {
    const k = keyOf(user);
    let l = this.leases.get(k);
    if (!l) {
      l = { user, roomLost: false, lostStreams: new Set(), timer: null, deadline: 0 };
      this.leases.set(k, l);
    }
    return l;
  }

  private arm(l: Lease): void {
    if (l.deadline) return; // a loss already counts down: this one shares its deadline
    l.deadline = this.clock.now() + this.graceMs;
    l.timer = this.clock.setTimeout(() => this.expire(l), this.graceMs);
  }

  /** Nothing lost any more: the lease and its timer go. */
  private settle(l: Lease): void {
    if (l.roomLost || l.lostStreams.size) return;
    this.drop(l);
  }

  private drop(l: Lease): void {
    this.clock.clearTimeout(l.timer);
    this.leases.delete(keyOf(l.user));
    for (const s of l.lostStreams) this.lostStreamOwners.delete(`${l.user.appid}\u0000${s}`);
  }

  private expire(l: Lease): void {
    if (this.leases.get(keyOf(l.user)) !== l) return;
    const streams = [...l.lostStreams];
    const roomLost = l.roomLost;
    this.drop(l);
    for (const s of streams) this.emit('streamGone', l.user, s, 'expired');
    if (roomLost) this.emit('userGone', l.user, 'expired');
  }
}
