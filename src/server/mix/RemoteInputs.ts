/**
 * Mix inputs published on other nodes (many nodes). A publisher's RTP is in the Janus of the node its page
 * reached; a mix runs on the node of the page that asked for it (its output's viewers, its owner's leaving
 * and its stop are there). So the mixer's node asks each input's node, over NodeCalls, to rtp_forward the
 * stream to its own ffmpeg ports at `mix.forwardHost`, as a local input is forwarded there too: several
 * Janus feed one mixer, and no media crosses a node that does not need it.
 *
 * An input not live anywhere yet, or whose node died, is looked for again while the task waits for it
 * (LiveService's sweep): a publisher that resumes on a third node joins the mix from there.
 *
 * Both sides are here:
 * - asking (the mixer's node): `leg()` gives a stand-in for the remote publisher's leg whose `forward`,
 *   `requestKeyframe` and the forward's stop are requests to its node; 'up' / 'down' tell the tasks when
 *   that publisher comes back or goes (its node says so).
 * - serving (the publisher's node): the forwards it made for other nodes, and who to tell when the
 *   publisher goes down and comes up again. A publisher's forwards go with its leg; those of a node that is
 *   gone (no lease) are stopped by the sweep.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { PublisherDirectory } from '../LiveStreams';
import type { ForwardTarget, LegMedia } from '../media/MediaBackend';
import { streamRefOf, type NodeCalls } from '../NodeCalls';

/** What a mix task needs of an input's publisher leg (a local MediaLeg, or a remote one's stand-in). */
export interface InputLeg {
  readonly media?: LegMedia;
  forward(target: ForwardTarget): Promise<() => Promise<void>>;
  requestKeyframe(): Promise<void>;
}

export interface RemoteInputsEvents {
  /** An input's publisher on another node is live (again): forward it anew. */
  up: [appid: number, streamId: string, leg: InputLeg];
  /** An input's publisher on another node is gone: its forward went with it. */
  down: [appid: number, streamId: string, leg: InputLeg];
}

interface Served {
  from: string;
  appid: number;
  streamId: string;
  stop: () => Promise<void>;
}

const SWEEP_MS = 2000;
/** A watched stream not published on this node for this long is forgotten, ms. */
const WATCH_MS = 30_000;

function mediaOf(v: unknown): LegMedia | null {
  const m = v as LegMedia | null;
  if (!m || typeof m.audio !== 'boolean' || typeof m.video !== 'boolean') return null;
  return { audio: m.audio, video: m.video, videoCodec: m.videoCodec === 'vp8' ? 'vp8' : 'h264' };
}

function portOf(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535)
    throw new Error(`${what} must be a port number`);
  return v;
}

/** A forward target from another node's request (a clear error for anything else). */
function targetOf(v: unknown): ForwardTarget {
  const t = v as Record<string, unknown> | null;
  if (!t || typeof t.host !== 'string' || !/^[\w.-]{1,253}$|^[\da-fA-F:]{2,45}$/.test(t.host))
    throw new Error('target.host must be a host name or address');
  const pt = (x: unknown, what: string) => {
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 127)
      throw new Error(`${what} must be an RTP payload type`);
    return x;
  };
  return {
    host: t.host,
    audioPort: portOf(t.audioPort, 'target.audioPort'),
    videoPort: portOf(t.videoPort, 'target.videoPort'),
    audioPt: pt(t.audioPt, 'target.audioPt'),
    videoPt: pt(t.videoPt, 'target.videoPt'),
  };
}

export class RemoteInputs extends EventEmitter<RemoteInputsEvents> {
  /** Asking side: `${appid}:${streamId}` -> the stand-in leg while its publisher is live there. */
  private readonly legs = new Map<string, { node: string; leg: InputLeg }>();
  /** Serving side: forward id -> what it is. */
  private readonly served = new Map<number, Served>();
  /** Serving side: `${appid}:${streamId}` -> the nodes that mix it (told of its downs and ups). */
  private readonly watchers = new Map<string, Set<string>>();
  /** Serving side: watched streams not published here now, since when. */
  private readonly downSince = new Map<string, number>();
  private nextForward = 0;
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly calls: NodeCalls,
    private readonly dir: PublisherDirectory,
    /** The node that holds a stream's publisher (its owner's room node), if listed. */
    private readonly nodeOf: (appid: number, streamId: string) => Promise<string | undefined>,
    /** The nodes alive now (a lease). */
    private readonly liveNodes: () => Promise<string[]>,
    /** Where the other nodes' Janus reach this node's mix ports (mix.forwardHost). */
    private readonly forwardHost: string,
    private readonly log: Logger,
  ) {
    super();
    calls.handle('mix.describe', (b) => {
      const { appid, streamId } = streamRefOf(b);
      // null: not live here. A live publisher's media is known (its offer was answered).
      return this.dir.liveLeg(appid, streamId)?.media ?? null;
    });
    calls.handle('mix.forward', (b, from) => this.serveForward(b, from));
    calls.handle('mix.unforward', (b) => this.serveUnforward(b));
    calls.handle('mix.keyframe', async (b) => {
      const { appid, streamId } = streamRefOf(b);
      await this.dir.liveLeg(appid, streamId)?.requestKeyframe();
    });
    calls.handle('mix.inputDown', (b, from) => {
      const { appid, streamId } = streamRefOf(b);
      const k = `${appid}:${streamId}`;
      const had = this.legs.get(k);
      if (had?.node !== from) return;
      this.legs.delete(k);
      this.emit('down', appid, streamId, had.leg);
    });
    calls.handle('mix.inputUp', (b, from) => {
      const { appid, streamId } = streamRefOf(b);
      const media = mediaOf((b as { media?: unknown }).media);
      const leg = this.standIn(from, appid, streamId, media ?? undefined);
      this.legs.set(`${appid}:${streamId}`, { node: from, leg });
      this.emit('up', appid, streamId, leg);
    });
    dir.on('publisherDown', (appid, streamId) => this.publisherDown(appid, streamId));
    dir.on('publisherUp', (appid, streamId, leg) => {
      for (const node of this.watchers.get(`${appid}:${streamId}`) ?? [])
        this.calls.tell(node, 'mix.inputUp', { appid, streamId, media: leg.media ?? null });
    });
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  // ------------------------------------------------------------------------------------ asking side

  /** The node, other than this one, whose publisher lists the stream (live or not yet). */
  async elsewhere(appid: number, streamId: string): Promise<string | undefined> {
    const node = await this.nodeOf(appid, streamId).catch(() => undefined);
    return node && node !== this.calls.node ? node : undefined;
  }

  /** The leg of a stream published live on another node (undefined: not published live elsewhere). */
  async leg(appid: number, streamId: string): Promise<InputLeg | undefined> {
    const k = `${appid}:${streamId}`;
    const had = this.legs.get(k);
    if (had) return had.leg;
    const node = await this.elsewhere(appid, streamId);
    if (!node) return undefined;
    const described = await this.calls.call(node, 'mix.describe', { appid, streamId }).catch((e: Error) => {
      this.log.warn({ err: e.message, node, stream: streamId }, 'mix input on another node: no answer');
      return null;
    });
    if (described === null || typeof described !== 'object') return undefined;
    const leg = this.standIn(node, appid, streamId, mediaOf(described) ?? undefined);
    this.legs.set(k, { node, leg });
    return leg;
  }

  private standIn(node: string, appid: number, streamId: string, media?: LegMedia): InputLeg {
    return {
      media,
      forward: async (target) => {
        const to = { ...target, host: this.forwardHost || target.host };
        const r = (await this.calls.call(node, 'mix.forward', { appid, streamId, target: to })) as {
          id?: unknown;
        } | null;
        const id = r?.id;
        if (typeof id !== 'number') throw new Error(`node ${node} made no forward of ${streamId}`);
        return async () => {
          await this.calls.call(node, 'mix.unforward', { id }).catch(() => undefined);
        };
      },
      requestKeyframe: async () => {
        await this.calls.call(node, 'mix.keyframe', { appid, streamId });
      },
    };
  }

  // ------------------------------------------------------------------------------------ serving side

  private async serveForward(b: unknown, from: string): Promise<{ id: number }> {
    const { appid, streamId } = streamRefOf(b);
    const target = targetOf((b as { target?: unknown }).target);
    const leg = this.dir.liveLeg(appid, streamId);
    if (!leg) throw new Error(`${streamId} is not published live on node ${this.calls.node}`);
    const stop = await leg.forward(target);
    const id = ++this.nextForward;
    this.served.set(id, { from, appid, streamId, stop });
    const k = `${appid}:${streamId}`;
    let w = this.watchers.get(k);
    if (!w) this.watchers.set(k, (w = new Set()));
    w.add(from);
    this.log.info(
      { stream: streamId, to: `${target.host}`, for: from },
      'mix input forwarded to another node',
    );
    return { id };
  }

  private async serveUnforward(b: unknown): Promise<void> {
    const id = (b as { id?: unknown } | null)?.id;
    if (typeof id !== 'number') throw new Error('expected {id: number}');
    const s = this.served.get(id);
    if (!s) return;
    this.served.delete(id);
    // No forward of the stream left for that node: it no longer mixes it.
    if (
      ![...this.served.values()].some(
        (x) => x.from === s.from && x.appid === s.appid && x.streamId === s.streamId,
      )
    )
      this.watchers.get(`${s.appid}:${s.streamId}`)?.delete(s.from);
    await s.stop().catch(() => undefined);
  }

  private publisherDown(appid: number, streamId: string): void {
    // The leg is gone with its forwards.
    for (const [id, s] of this.served)
      if (s.appid === appid && s.streamId === streamId) this.served.delete(id);
    for (const node of this.watchers.get(`${appid}:${streamId}`) ?? [])
      this.calls.tell(node, 'mix.inputDown', { appid, streamId });
  }

  /** Forwards for nodes that are gone stop; watchers of streams no longer published here go. */
  private async sweep(): Promise<void> {
    if (!this.served.size && !this.watchers.size && !this.legs.size) return;
    const live = new Set(await this.liveNodes().catch(() => null));
    if (!live.size) return; // Redis away: nothing is known
    for (const [id, s] of this.served)
      if (!live.has(s.from)) {
        this.served.delete(id);
        this.log.info({ stream: s.streamId, for: s.from }, 'mix input forward stopped: its node is gone');
        void s.stop().catch(() => undefined);
      }
    const now = Date.now();
    for (const [k, w] of this.watchers) {
      for (const n of w) if (!live.has(n)) w.delete(n);
      const [appid, ...rest] = k.split(':');
      // A stream not published here for WATCH_MS is not coming back here (a reconnect takes less).
      if (this.dir.roomOf(Number(appid), rest.join(':')) !== undefined) this.downSince.delete(k);
      else if (!this.downSince.has(k)) this.downSince.set(k, now);
      if (!w.size || now - (this.downSince.get(k) ?? now) > WATCH_MS) {
        this.watchers.delete(k);
        this.downSince.delete(k);
      }
    }
    // Asking side: an input whose node is gone is down (its publisher may come back on another node: the
    // mix shows the background there until the task is asked again).
    for (const [k, l] of this.legs)
      if (!live.has(l.node)) {
        this.legs.delete(k);
        const [appid, ...rest] = k.split(':');
        this.emit('down', Number(appid), rest.join(':'), l.leg);
      }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
