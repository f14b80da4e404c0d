/**
 * The client-offer play path on the server's side: players that offer (the original SDK) get a
 * `BridgeLeg` instead of a Janus leg. The worker (BridgeProcess) answers their offers; this class keeps one
 * shared Janus subscription per publisher (a "feed": a Janus subscriber leg whose offer the worker
 * answers), opened with the first viewer and closed with the last, and the caps (viewers in all, per user).
 *
 * A viewer is lost (its `lost` promise resolves with why) when its PeerConnection fails, its feed's Janus
 * subscription fails, or the worker dies; MediaService then has the page play again (the legacy retry).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { BridgeCandidate, BridgeStats } from '../../bridge/ipc';
import type { ForwardTarget, MediaBackend, MediaLeg, TrickleCandidate } from '../MediaBackend';
import { BridgeCallError, type BridgeProcess } from './BridgeProcess';

/** A player waits at most this for a restarting worker, ms. */
const WORKER_UP_WAIT_MS = 10_000;
const STATS_POLL_MS = 1000;

export interface BridgeLimits {
  maxViewers: number;
  maxViewersPerUser: number;
}

interface Feed {
  id: number;
  janus: Promise<MediaLeg> | null;
  ready: Promise<number>;
  viewers: Set<BridgeLeg>;
  dropped: boolean;
}

let nextLegId = 1;

/** A bridged player's leg: its offer goes to the worker, never to Janus. */
export class BridgeLeg implements MediaLeg {
  readonly id = nextLegId++;
  readonly up: Promise<void>;
  /** Resolves (never rejects) with why, when the viewer is lost for a reason other than close(). */
  readonly lost: Promise<string>;
  viewerId = 0;
  feed: Feed | null = null;
  closed = false;
  markUp!: () => void;
  markLost!: (why: string) => void;
  private opened: Promise<void> = Promise.resolve();

  constructor(
    private readonly service: BridgeService,
    readonly owner: string,
  ) {
    this.up = new Promise((r) => (this.markUp = r));
    this.lost = new Promise((r) => (this.markLost = r));
  }

  /** Answers the page's offer for `publisher`'s feed: the answer and the bridge's candidates. */
  offerTo(publisher: MediaLeg, offer: string): Promise<{ answer: string; candidates: BridgeCandidate[] }> {
    const p = this.service.openViewer(this, publisher, offer);
    this.opened = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  async trickle(c: TrickleCandidate | null): Promise<void> {
    await this.opened;
    if (!this.viewerId || this.closed) return;
    await this.service.process.request('viewerCandidate', {
      viewerId: this.viewerId,
      candidate: c?.candidate ?? '',
      sdpMid: c?.sdpMid ?? null,
      sdpMLineIndex: c?.sdpMLineIndex ?? null,
    });
  }

  publish(): Promise<string> {
    return Promise.reject(new Error('a bridged leg only plays'));
  }
  subscribe(): Promise<string> {
    return Promise.reject(new Error('a bridged leg is answered by the bridge'));
  }
  answer(): Promise<void> {
    return Promise.reject(new Error('a bridged player offers; it does not answer'));
  }
  requestKeyframe(): Promise<void> {
    return Promise.reject(new Error('a bridged leg only plays'));
  }
  forward(_t: ForwardTarget): Promise<() => Promise<void>> {
    return Promise.reject(new Error('a bridged leg only plays'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.service.closeViewer(this);
  }
}

export class BridgeService extends EventEmitter<{ down: [] }> {
  /** Publisher leg -> its feed. */
  private readonly feeds = new Map<MediaLeg, Feed>();
  private readonly byViewer = new Map<number, BridgeLeg>();
  private readonly perUser = new Map<string, number>();
  private legs = 0;
  private nextFeed = 1;
  private nextViewer = 1;
  /** The worker's own counts, polled (health details: leak checks, the bench's counters). */
  private worker: BridgeStats | null = null;
  private readonly poll: ReturnType<typeof setInterval>;

  constructor(
    readonly process: BridgeProcess,
    private readonly backend: MediaBackend,
    private readonly limits: BridgeLimits,
    private readonly log: Logger,
  ) {
    super();
    process.on('event', (e) => {
      if (e.event === 'viewerUp') this.byViewer.get(e.body.viewerId)?.markUp();
      else if (e.event === 'viewerDown') this.byViewer.get(e.body.viewerId)?.markLost(e.body.why);
      else if (e.event === 'feedDown')
        for (const f of this.feeds.values()) if (f.id === e.body.feedId) this.feedLost(f, e.body.why);
    });
    // Every viewer and feed the worker had is gone with it; Janus legs of the feeds are given back.
    process.on('down', () => {
      for (const f of [...this.feeds.values()]) this.feedLost(f, 'the bridge worker restarted');
      this.emit('down');
    });
    // Janus lost: its subscriber legs are dead; viewers are reset by the media service itself.
    backend.on('down', () => this.feeds.clear());
    // One SFU of a pool died: the feeds of its publishers are dead (a feed is on its publisher's SFU).
    backend.on('lost', (isDead) => {
      for (const publisher of [...this.feeds.keys()]) if (isDead(publisher)) this.feeds.delete(publisher);
    });
    this.poll = setInterval(() => {
      if (this.process.up)
        this.process.request('stats', {}).then(
          (st) => (this.worker = st),
          () => (this.worker = null),
        );
    }, STATS_POLL_MS);
    this.poll.unref();
  }

  stop(): Promise<void> {
    clearInterval(this.poll);
    return this.process.stop();
  }

  get up(): boolean {
    return this.process.up;
  }

  /** A leg for a new offering player of `owner` (appid:idName); throws when a cap is reached. */
  openLeg(owner: string): BridgeLeg {
    if (this.legs >= this.limits.maxViewers)
      throw new BridgeCallError('limit', `at most ${this.limits.maxViewers} bridged players`);
    const mine = this.perUser.get(owner) ?? 0;
    if (mine >= this.limits.maxViewersPerUser)
      throw new BridgeCallError('limit', `at most ${this.limits.maxViewersPerUser} bridged players per user`);
    this.perUser.set(owner, mine + 1);
    this.legs++;
    return new BridgeLeg(this, owner);
  }

  async openViewer(
    leg: BridgeLeg,
    publisher: MediaLeg,
    offer: string,
  ): Promise<{ answer: string; candidates: BridgeCandidate[] }> {
    if (leg.viewerId) throw new BridgeCallError('bad', 'this session already sent its offer');
    await this.process.whenUp(WORKER_UP_WAIT_MS);
    const feed = this.acquireFeed(publisher);
    leg.feed = feed;
    feed.viewers.add(leg);
    const feedId = await feed.ready;
    if (leg.closed) throw new BridgeCallError('bad', 'session closed');
    leg.viewerId = this.nextViewer++;
    this.byViewer.set(leg.viewerId, leg);
    return this.process.request('viewerOpen', { viewerId: leg.viewerId, feedId, offer });
  }

  private acquireFeed(publisher: MediaLeg): Feed {
    const have = this.feeds.get(publisher);
    if (have) return have;
    const feed: Feed = {
      id: this.nextFeed++,
      janus: null,
      ready: Promise.resolve(0),
      viewers: new Set(),
      dropped: false,
    };
    feed.janus = this.backend.openLeg();
    feed.ready = (async () => {
      const janus = await feed.janus!;
      const offer = await janus.subscribe(publisher);
      const { answer } = await this.process.request('feedOpen', { feedId: feed.id, offer });
      // Its last viewer left while it opened: dropFeed already asked the worker, which had nothing yet.
      if (feed.dropped) {
        void this.process.request('feedClose', { feedId: feed.id }).catch(() => {});
        throw new BridgeCallError('feed', 'feed closed while opening');
      }
      await janus.answer(answer);
      // The bridge's candidates are in its answer (Janus takes them from there): no more to come.
      await janus.trickle(null);
      return feed.id;
    })();
    // A feed that could not open is forgotten (its next viewer tries again) and its leg given back.
    feed.ready.catch((e: Error) => {
      this.log.warn({ err: e.message, feed: feed.id }, 'bridge feed not opened');
      this.dropFeed(feed);
    });
    this.feeds.set(publisher, feed);
    return feed;
  }

  private feedLost(feed: Feed, why: string): void {
    for (const v of feed.viewers) v.markLost(why);
    this.dropFeed(feed);
  }

  private dropFeed(feed: Feed): void {
    if (feed.dropped) return;
    feed.dropped = true;
    for (const [pub, f] of this.feeds) if (f === feed) this.feeds.delete(pub);
    if (this.process.up) void this.process.request('feedClose', { feedId: feed.id }).catch(() => {});
    void feed.janus?.then(
      (l) => l.close(),
      () => undefined,
    );
  }

  async closeViewer(leg: BridgeLeg): Promise<void> {
    this.legs--;
    const n = (this.perUser.get(leg.owner) ?? 1) - 1;
    if (n > 0) this.perUser.set(leg.owner, n);
    else this.perUser.delete(leg.owner);
    if (leg.viewerId) {
      this.byViewer.delete(leg.viewerId);
      if (this.process.up)
        await this.process
          .request('viewerClose', { viewerId: leg.viewerId })
          .catch((e: Error) => this.log.debug({ err: e.message }, 'bridge viewer close'));
    }
    const feed = leg.feed;
    if (feed) {
      feed.viewers.delete(leg);
      if (
        feed.viewers.size === 0 &&
        this.feeds.get([...this.feeds].find(([, f]) => f === feed)?.[0] as MediaLeg) === feed
      )
        this.dropFeed(feed);
    }
  }

  /** Bridged players of an app (the operator's page); owners are `appid:idName`. */
  viewersOf(appid: number): number {
    let n = 0;
    for (const [owner, count] of this.perUser) if (owner.startsWith(`${appid}:`)) n += count;
    return n;
  }

  health(): Record<string, unknown> {
    return {
      bridge: this.process.up ? 'up' : 'down',
      bridgePid: this.process.pid ?? null,
      bridgeStarts: this.process.starts,
      bridgeLegs: this.legs,
      bridgeFeeds: this.feeds.size,
      bridgeWorker: this.worker,
    };
  }
}
