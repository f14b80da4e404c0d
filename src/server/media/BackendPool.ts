/**
 * Many SFUs behind one MediaBackend (`janus.instances` > 1: several supervised Janus processes): a new
 * publisher goes to the least loaded SFU that is up (fewest open legs), a subscriber to the SFU of the
 * publisher it subscribes to, a remote publisher (a mix output) to the least loaded. Legs are placed when
 * they publish or subscribe, not when they open: the pool's leg opens its SFU's leg then, and everything
 * asked of it before (a candidate) waits for that.
 *
 * When one SFU dies while another serves, the pool says `lost` with the test of a dead leg: MediaService
 * resets only the sessions on the dead SFU (their clients publish and play again at once, placed on the
 * SFUs still up, so a dead Janus's streams move to another through the shim's own retry path); sessions on
 * the other SFUs keep playing. When the last SFU that served dies, the pool says `down` (every session is
 * reset) and `up` again once one is back.
 */
import { EventEmitter } from 'node:events';
import type {
  ForwardTarget,
  LegMedia,
  MediaBackend,
  MediaBackendEvents,
  MediaBackendHealth,
  MediaLeg,
  RemotePublisher,
  TrickleCandidate,
} from './MediaBackend';

let nextPoolLegId = 1;

class PoolLeg implements MediaLeg {
  readonly id = nextPoolLegId++;
  readonly up: Promise<void>;
  private resolveUp!: () => void;
  private rejectUp!: (e: Error) => void;
  /** The SFU's leg, once placed. */
  private inner: Promise<MediaLeg> | null = null;
  placed: MediaLeg | null = null;
  private closed = false;

  constructor(private readonly pool: BackendPool) {
    this.up = new Promise<void>((res, rej) => {
      this.resolveUp = res;
      this.rejectUp = rej;
    });
    this.up.catch(() => {});
  }

  private place(member: MediaBackend): Promise<MediaLeg> {
    this.inner ??= member.openLeg().then((leg) => {
      this.placed = leg;
      this.pool.owner.set(leg, member);
      leg.up.then(this.resolveUp, this.rejectUp);
      if (this.closed) void leg.close();
      return leg;
    });
    return this.inner;
  }

  private leg(): Promise<MediaLeg> {
    return this.inner ?? Promise.reject(new Error('leg not placed yet (publish or subscribe first)'));
  }

  get media(): LegMedia | undefined {
    return this.placed?.media;
  }

  async publish(room: string, display: string, offerSdp: string): Promise<string> {
    return (await this.place(this.pool.leastLoaded())).publish(room, display, offerSdp);
  }

  async subscribe(publisher: MediaLeg): Promise<string> {
    const target = publisher instanceof PoolLeg ? publisher.placed : publisher;
    const member = target && this.pool.owner.get(target);
    if (!target || !member) throw new Error('the publisher is not placed on a media server');
    return (await this.place(member)).subscribe(target);
  }

  async answer(answerSdp: string): Promise<void> {
    return (await this.leg()).answer(answerSdp);
  }

  async trickle(candidate: TrickleCandidate | null): Promise<void> {
    return (await this.leg()).trickle(candidate);
  }

  async requestKeyframe(): Promise<void> {
    return (await this.leg()).requestKeyframe();
  }

  async forward(target: ForwardTarget): Promise<() => Promise<void>> {
    return (await this.leg()).forward(target);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const inner = await this.inner?.catch(() => null);
    await inner?.close();
    if (!inner) this.rejectUp(new Error('leg closed'));
  }
}

export class BackendPool extends EventEmitter<MediaBackendEvents> implements MediaBackend {
  /** Which SFU holds each placed leg (and remote publisher). */
  readonly owner = new WeakMap<MediaLeg, MediaBackend>();
  /** What the pool last said: `up` once any member serves, `down` when none does any more. */
  private said: 'up' | 'down' | null = null;
  private upTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly members: MediaBackend[]) {
    super();
    for (const m of members) {
      m.on('down', () => {
        // Another member serves: only the legs this one held are dead (their sessions start again there).
        if (this.up) return void this.emit('lost', (leg) => this.isOn(leg, m));
        // None serves any more: every leg is dead.
        this.emit('down');
        this.said = 'down';
      });
      m.on('up', () => {
        if (this.said !== 'up') this.sayUpSoon();
      });
    }
  }

  /** `up` on the next turn (after the reset pushes have left). */
  private sayUpSoon(): void {
    if (this.upTimer) return;
    this.upTimer = setTimeout(() => {
      this.upTimer = null;
      if (!this.up || this.said === 'up') return;
      this.said = 'up';
      this.emit('up');
    }, 0);
  }

  /** The leg (a pool leg or a remote publisher's) is held by `member`. */
  isOn(leg: MediaLeg, member: MediaBackend): boolean {
    const inner = leg instanceof PoolLeg ? leg.placed : leg;
    return !!inner && this.owner.get(inner) === member;
  }

  get up(): boolean {
    return this.members.some((m) => m.up);
  }

  /** The SFU that is up with the fewest open legs. */
  leastLoaded(): MediaBackend {
    let best: MediaBackend | undefined;
    for (const m of this.members) if (m.up && (!best || m.health().legs < best.health().legs)) best = m;
    if (!best) throw new Error('media server unavailable');
    return best;
  }

  async openLeg(): Promise<MediaLeg> {
    if (!this.up) throw new Error('media server unavailable');
    return new PoolLeg(this);
  }

  async addRemotePublisher(
    room: string,
    display: string,
    o: { videoCodec: 'h264' | 'vp8'; audio: boolean },
  ): Promise<RemotePublisher> {
    const member = this.leastLoaded();
    const r = await member.addRemotePublisher(room, display, o);
    this.owner.set(r.leg, member);
    return r;
  }

  health(): MediaBackendHealth {
    const hs = this.members.map((m) => m.health());
    return {
      up: this.up,
      legs: hs.reduce((n, h) => n + h.legs, 0),
      rooms: hs.reduce((n, h) => n + h.rooms, 0),
      janusPid: hs[0]?.janusPid ?? null,
      janusStarts: hs.reduce((n, h) => n + Number(h.janusStarts ?? 0), 0),
      members: hs,
    };
  }

  async close(): Promise<void> {
    if (this.upTimer) clearTimeout(this.upTimer);
    await Promise.all(this.members.map((m) => m.close()));
  }
}
