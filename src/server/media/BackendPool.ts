/**
 * Many SFUs behind one MediaBackend (`janus.instances` > 1: several supervised Janus processes; or
 * `janus.pool` with two or more entries: several external Janus, each a JanusBackend with its own
 * connection, failover URLs and reconnect loop, so a dead one is `down` until it answers again): a new
 * publisher goes to the least loaded SFU that is up (fewest open legs), a subscriber to the SFU of the
 * publisher it subscribes to, a remote publisher (a mix output) to the least loaded. Legs are placed when
 * they publish or subscribe, not when they open: the pool's leg opens its SFU's leg then, and everything
 * asked of it before (a candidate) waits for that.
 *
 * Overflow (`janus.maxViewersPerFeed` > 0): when the SFU of a publisher already holds that many of its
 * viewers, the stream is relayed to another SFU of the pool (VideoRoom `publish_remotely` on the source into
 * an `add_remote_publisher` on the target, the seam mixing uses for its output) and new viewers subscribe
 * there, up to the same limit per relay; a relay ends with its source leg.
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

/** Where viewers of one source subscribe: the source's own leg on its SFU, or a relay on another. */
interface Feed {
  member: MediaBackend;
  leg: MediaLeg;
  viewers: number;
  /** A relay: removes the remote publisher and stops the source's forwarders. */
  end?: () => Promise<void>;
}

class PoolLeg implements MediaLeg {
  readonly id = nextPoolLegId++;
  readonly up: Promise<void>;
  private resolveUp!: () => void;
  private rejectUp!: (e: Error) => void;
  /** The SFU's leg, once placed. */
  private inner: Promise<MediaLeg> | null = null;
  placed: MediaLeg | null = null;
  private closed = false;
  /** Publisher: its room and display (a relay joins the same room under the same name). */
  room = '';
  display = '';
  /** Subscriber: the source it views and the feed (the source itself, or a relay of it) it is on. */
  viewing: { source: MediaLeg; feed: Feed } | null = null;

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
    this.room = room;
    this.display = display;
    return (await this.place(this.pool.leastLoaded())).publish(room, display, offerSdp);
  }

  async subscribe(publisher: MediaLeg): Promise<string> {
    const source = publisher instanceof PoolLeg ? publisher.placed : publisher;
    const member = source && this.pool.owner.get(source);
    if (!source || !member) throw new Error('the publisher is not placed on a media server');
    const feed = await this.pool.feedFor(source, member, publisher instanceof PoolLeg ? publisher : null);
    this.viewing = { source, feed };
    return (await this.place(feed.member)).subscribe(feed.leg);
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
    if (this.viewing) this.viewing.feed.viewers--;
    if (this.placed) await this.pool.dropRelays(this.placed);
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

  /** Source leg -> its feeds (the first is the source itself, then its relays). */
  private readonly feeds = new Map<MediaLeg, Feed[]>();
  /** Source leg -> the feed being picked for a viewer (a relay may be set up meanwhile). */
  private readonly relaying = new Map<MediaLeg, Promise<Feed>>();

  constructor(
    readonly members: MediaBackend[],
    /** Viewers of one stream per SFU before it is relayed to another (0 = never). */
    private readonly maxViewersPerFeed = 0,
  ) {
    super();
    for (const m of members) {
      m.on('down', () => {
        this.forget(m);
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

  /** The leg (a pool leg or a remote publisher's) is held by `member`, or views a source held there. */
  isOn(leg: MediaLeg, member: MediaBackend): boolean {
    const inner = leg instanceof PoolLeg ? leg.placed : leg;
    if (leg instanceof PoolLeg && leg.viewing && this.owner.get(leg.viewing.source) === member) return true;
    return !!inner && this.owner.get(inner) === member;
  }

  /**
   * The feed a new viewer of `source` (held by `member`) subscribes to: the source's own while it has room,
   * else a relay with room, else a new relay on the least loaded other SFU (none up: the source's anyway).
   */
  async feedFor(source: MediaLeg, member: MediaBackend, pub: PoolLeg | null): Promise<Feed> {
    // One relay set up at a time per source (viewers arriving together share it rather than each open one).
    for (let pending = this.relaying.get(source); pending; pending = this.relaying.get(source))
      await pending.catch(() => undefined);
    const p = this.pickFeed(source, member, pub);
    this.relaying.set(source, p);
    try {
      return await p;
    } finally {
      if (this.relaying.get(source) === p) this.relaying.delete(source);
    }
  }

  /** The feed, with the new viewer counted on it (at once: viewers arriving together see each other). */
  private async pickFeed(source: MediaLeg, member: MediaBackend, pub: PoolLeg | null): Promise<Feed> {
    const take = (f: Feed): Feed => {
      f.viewers++;
      return f;
    };
    let feeds = this.feeds.get(source);
    if (!feeds) this.feeds.set(source, (feeds = [{ member, leg: source, viewers: 0 }]));
    const max = this.maxViewersPerFeed;
    const free = feeds.find((f) => !max || f.viewers < max);
    if (free) return take(free);
    const used = new Set(feeds.map((f) => f.member));
    const target = this.leastLoaded((m) => !used.has(m));
    if (!target || !pub || !source.publishRemotely || !source.media) return take(feeds[0]!);
    const remote = await target.addRemotePublisher(pub.room, pub.display, { ...source.media, relay: true });
    let stop: () => Promise<void>;
    try {
      stop = await source.publishRemotely({
        host: remote.host,
        port: remote.port,
        rtcpPort: remote.rtcpPort,
      });
    } catch (e) {
      await remote.close();
      throw e;
    }
    this.owner.set(remote.leg, target);
    const feed: Feed = {
      member: target,
      leg: remote.leg,
      viewers: 0,
      end: async () => {
        await stop().catch(() => undefined);
        await remote.close();
      },
    };
    // The source ended meanwhile: no relay outlives it.
    if (this.feeds.get(source) !== feeds) {
      await feed.end!();
      throw new Error('the publisher left');
    }
    feeds.push(feed);
    return take(feed);
  }

  /** A source leg closed: its relays end (remote publishers removed, forwarders stopped). */
  async dropRelays(source: MediaLeg): Promise<void> {
    const feeds = this.feeds.get(source);
    if (!feeds) return;
    this.feeds.delete(source);
    await Promise.all(feeds.map((f) => f.end?.()));
  }

  /** A member died: the feeds of its sources end with them, and relays onto it are gone. */
  private forget(m: MediaBackend): void {
    for (const [source, feeds] of this.feeds) {
      if (this.owner.get(source) === m) void this.dropRelays(source);
      else
        for (const f of feeds.filter((x) => x.member === m)) {
          feeds.splice(feeds.indexOf(f), 1);
          void f.end?.();
        }
    }
  }

  /** Relays open now. */
  get relays(): number {
    let n = 0;
    for (const feeds of this.feeds.values()) n += feeds.length - 1;
    return n;
  }

  get up(): boolean {
    return this.members.some((m) => m.up);
  }

  /** The SFU that is up with the fewest open legs. */
  leastLoaded(): MediaBackend;
  /** The same among those `ok` accepts, or undefined. */
  leastLoaded(ok: (m: MediaBackend) => boolean): MediaBackend | undefined;
  leastLoaded(ok?: (m: MediaBackend) => boolean): MediaBackend | undefined {
    let best: MediaBackend | undefined;
    for (const m of this.members)
      if (m.up && (!ok || ok(m)) && (!best || m.health().legs < best.health().legs)) best = m;
    if (!best && !ok) throw new Error('media server unavailable');
    return best;
  }

  async openLeg(): Promise<MediaLeg> {
    if (!this.up) throw new Error('media server unavailable');
    return new PoolLeg(this);
  }

  async addRemotePublisher(
    room: string,
    display: string,
    o: { videoCodec: 'h264' | 'vp8'; audio: boolean; relay?: boolean },
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
      relays: this.relays,
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
