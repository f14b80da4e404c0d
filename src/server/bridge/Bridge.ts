/**
 * The bridge worker's state: feeds (one werift subscription to Janus per publisher) and the viewers on
 * them, with their caps, and what each request of the server does to them. Errors carry a code the
 * server maps to the page (`codec` and `sdp` are the page's offer; the rest are the bridge's).
 */
import { FeedPeer } from './FeedPeer';
import type {
  BridgeCandidate,
  BridgeErrorCode,
  BridgeEventMsg,
  BridgeReqBody,
  BridgeStats,
  BridgeWorkerConfig,
} from './ipc';
import { CodecError, SdpError, sdpCandidates } from './sdpCodecs';
import { ViewerPeer } from './ViewerPeer';

export class BridgeError extends Error {
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A werift or parser failure on a page's offer, as the page should hear it. */
function offerError(e: unknown): BridgeError {
  if (e instanceof BridgeError) return e;
  if (e instanceof CodecError) return new BridgeError('codec', e.message);
  if (e instanceof SdpError) return new BridgeError('sdp', `bad offer: ${e.message}`);
  return new BridgeError('sdp', `bad offer: ${(e as Error).message ?? String(e)}`.slice(0, 300));
}

export class Bridge {
  private readonly feeds = new Map<number, FeedPeer>();
  private readonly viewers = new Map<number, { peer: ViewerPeer; feedId: number }>();
  private resent = 0;

  constructor(
    private readonly cfg: BridgeWorkerConfig,
    private readonly emit: (e: BridgeEventMsg) => void,
  ) {}

  async feedOpen(b: BridgeReqBody<'feedOpen'>): Promise<{ answer: string }> {
    if (this.feeds.has(b.feedId)) throw new BridgeError('bad', `feed ${b.feedId} is open`);
    if (this.feeds.size >= this.cfg.maxFeeds)
      throw new BridgeError('limit', `at most ${this.cfg.maxFeeds} feeds`);
    let feed: FeedPeer;
    try {
      feed = new FeedPeer(b.feedId, b.offer, this.cfg, (why) => this.feedDown(b.feedId, why));
    } catch (e) {
      throw new BridgeError('feed', `janus offer: ${(e as Error).message}`);
    }
    this.feeds.set(b.feedId, feed);
    try {
      return { answer: await feed.answer(b.offer) };
    } catch (e) {
      await this.feedClose({ feedId: b.feedId });
      throw new BridgeError('feed', `janus offer: ${(e as Error).message}`);
    }
  }

  private feedDown(feedId: number, why: string): void {
    if (!this.feeds.has(feedId)) return;
    this.emit({ event: 'feedDown', body: { feedId, why } });
  }

  async feedClose(b: BridgeReqBody<'feedClose'>): Promise<object> {
    const feed = this.feeds.get(b.feedId);
    if (!feed) return {};
    this.feeds.delete(b.feedId);
    for (const [id, v] of this.viewers) if (v.feedId === b.feedId) await this.viewerClose({ viewerId: id });
    await feed.close();
    return {};
  }

  async viewerOpen(
    b: BridgeReqBody<'viewerOpen'>,
  ): Promise<{ answer: string; candidates: BridgeCandidate[] }> {
    const feed = this.feeds.get(b.feedId);
    if (!feed) throw new BridgeError('feed', `no feed ${b.feedId}`);
    if (this.viewers.has(b.viewerId)) throw new BridgeError('bad', `viewer ${b.viewerId} is open`);
    if (this.viewers.size >= this.cfg.maxViewers)
      throw new BridgeError('limit', `the bridge serves at most ${this.cfg.maxViewers} viewers`);
    let peer: ViewerPeer;
    try {
      peer = new ViewerPeer(b.viewerId, feed, b.offer, this.cfg, {
        up: () => this.emit({ event: 'viewerUp', body: { viewerId: b.viewerId } }),
        down: (why) =>
          this.viewers.has(b.viewerId) &&
          this.emit({ event: 'viewerDown', body: { viewerId: b.viewerId, why } }),
      });
    } catch (e) {
      throw offerError(e);
    }
    this.viewers.set(b.viewerId, { peer, feedId: b.feedId });
    try {
      const answer = await peer.answer();
      return { answer, candidates: sdpCandidates(answer) };
    } catch (e) {
      await this.viewerClose({ viewerId: b.viewerId });
      throw offerError(e);
    }
  }

  async viewerCandidate(b: BridgeReqBody<'viewerCandidate'>): Promise<object> {
    const v = this.viewers.get(b.viewerId);
    if (!v) throw new BridgeError('bad', `no viewer ${b.viewerId}`);
    try {
      await v.peer.addCandidate(b);
    } catch (e) {
      throw new BridgeError('sdp', `bad candidate: ${(e as Error).message}`.slice(0, 300));
    }
    return {};
  }

  async viewerClose(b: BridgeReqBody<'viewerClose'>): Promise<object> {
    const v = this.viewers.get(b.viewerId);
    if (!v) return {};
    this.viewers.delete(b.viewerId);
    this.resent += v.peer.resent;
    await v.peer.close();
    return {};
  }

  stats(): BridgeStats {
    const s: BridgeStats = {
      feeds: this.feeds.size,
      viewers: this.viewers.size,
      packetsOut: 0,
      resent: this.resent,
      nacksUpstream: 0,
      plisUpstream: 0,
    };
    for (const f of this.feeds.values()) {
      s.packetsOut += f.counters.packetsOut;
      s.nacksUpstream += f.counters.nacksUpstream;
      s.plisUpstream += f.counters.plisUpstream;
    }
    for (const v of this.viewers.values()) s.resent += v.peer.resent;
    return s;
  }
}
