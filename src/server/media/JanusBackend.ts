/**
 * The MediaBackend on Janus VideoRoom: a supervised local Janus (JanusProcess) or a running one (its
 * failover URLs: `janus.urls`, or one entry of `janus.pool`), one janode connection (JanusGateway), one VideoRoom room per app room (destroyed when its
 * last publisher leaves), one handle per leg. Every Janus call is bounded by JANUS_CALL_TIMEOUT_MS.
 *
 * Recovery: when Janus dies, `down` is emitted at once (every leg is dead); the connection is made again
 * as soon as the restarted Janus is ready (its `up`: never a try on the dead process's port), then `up`.
 * When only the connection was lost (Janus alive, or an external Janus), the loop retries with a short
 * backoff, one janode attempt at a time.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config';
import { unref } from '../timers';
import { JANUS_EVENTS, JanusGateway, type JanodeHandle } from './JanusGateway';
import { JanusProcess } from './JanusProcess';
import { KeyframePacer } from './KeyframePacer';
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

const JANUS_CALL_TIMEOUT_MS = 10_000;
/** Connection retries while Janus runs but the connection is down: 100 ms, doubling, at most 2 s. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;

export class BackendError extends Error {}

function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new BackendError(`${what} timed out`)), JANUS_CALL_TIMEOUT_MS);
    }),
  ]);
}

let nextLegId = 1;

/** The RTP address of an external Janus from its WebSocket URL: its host (`localhost` is 127.0.0.1). */
export function rtpHostOf(url: string): string {
  const h = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' ? '127.0.0.1' : h;
}
let nextRemoteId = 1;

/** The first audio and video mids of an SDP. */
export function midsOf(sdp: string): { audio?: string; video?: string } {
  const out: { audio?: string; video?: string } = {};
  let kind: 'audio' | 'video' | null = null;
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^m=(\w+) /.exec(line);
    if (m) kind = m[1] === 'audio' || m[1] === 'video' ? m[1] : null;
    const mid = /^a=mid:(\S+)/.exec(line);
    if (mid && kind && out[kind] === undefined) out[kind] = mid[1];
  }
  return out;
}

/** What a publisher sends, from the SFU's answer (the codecs it accepted). */
export function mediaOf(answerSdp: string): LegMedia {
  const video = /^m=video [1-9]/m.test(answerSdp);
  const first = /^a=rtpmap:\d+ (H264|VP8)\//im.exec(answerSdp.slice(answerSdp.search(/^m=video/m)));
  return {
    audio: /^m=audio [1-9]/m.test(answerSdp),
    video,
    videoCodec: first?.[1]?.toUpperCase() === 'VP8' ? 'vp8' : 'h264',
  };
}

/** Where a publisher sits in Janus (a leg, or a remote publisher). */
interface JanusFeed {
  room?: number;
  feed?: number;
}

/** A remote publisher as a leg players subscribe to; it publishes nothing itself. */
class RemoteLeg implements MediaLeg {
  readonly id = nextLegId++;
  readonly up = Promise.resolve();
  constructor(
    readonly room: number,
    readonly feed: number,
    private readonly remove: () => Promise<void>,
  ) {}
  publish(): Promise<string> {
    return Promise.reject(new BackendError('a remote publisher does not publish'));
  }
  subscribe(): Promise<string> {
    return Promise.reject(new BackendError('a remote publisher does not subscribe'));
  }
  answer(): Promise<void> {
    return Promise.reject(new BackendError('a remote publisher takes no answer'));
  }
  async trickle(): Promise<void> {}
  async requestKeyframe(): Promise<void> {}
  forward(): Promise<() => Promise<void>> {
    return Promise.reject(new BackendError('a remote publisher is not forwarded'));
  }
  close(): Promise<void> {
    return this.remove();
  }
}

class JanusLeg implements MediaLeg {
  readonly id = nextLegId++;
  readonly up: Promise<void>;
  private markUp!: () => void;
  /** Publisher: where it sits in Janus (set by publish). */
  room?: number;
  roomKey?: string;
  feed?: number;
  /** The mids of the publisher's audio and video (from its offer): RTP forwarding names streams by mid. */
  private mids: { audio?: string; video?: string } = {};
  media?: LegMedia;
  private closed = false;
  /** Publisher: our keyframe requests, paced to the one per 300 ms a browser's encoder acts on. */
  private readonly keyframes: KeyframePacer;

  constructor(
    private readonly backend: JanusBackend,
    readonly handle: JanodeHandle,
    private readonly generation: number,
  ) {
    this.keyframes = new KeyframePacer(
      async () => {
        await bounded(this.handle.configure({ keyframe: true }), 'janus keyframe');
      },
      (e) => backend.log.debug({ err: e.message, leg: this.id }, 'keyframe request failed'),
    );
    this.up = new Promise<void>((r) => (this.markUp = r));
    handle.on(JANUS_EVENTS.WEBRTCUP, () => this.markUp());
  }

  async publish(roomKey: string, display: string, offerSdp: string): Promise<string> {
    const room = await bounded(this.backend.roomFor(roomKey), 'janus room');
    this.roomKey = roomKey;
    this.backend.publisherJoined(roomKey);
    const r = await bounded(
      this.handle.joinConfigurePublisher({
        room,
        display: display.slice(0, 128),
        audio: true,
        video: true,
        jsep: { type: 'offer', sdp: offerSdp },
      }),
      'janus publish',
    );
    this.room = room;
    this.feed = r.feed;
    this.mids = midsOf(offerSdp);
    this.media = mediaOf(r.jsep.sdp);
    return r.jsep.sdp;
  }

  async subscribe(publisher: MediaLeg): Promise<string> {
    const pub = publisher as JanusFeed;
    if (pub.room === undefined || pub.feed === undefined) throw new BackendError('publisher not joined');
    const r = await bounded(
      this.handle.joinSubscriber({ room: pub.room, feed: pub.feed }),
      'janus subscribe',
    );
    return r.jsep.sdp;
  }

  async answer(answerSdp: string): Promise<void> {
    await bounded(this.handle.start({ jsep: { type: 'answer', sdp: answerSdp } }), 'janus start');
  }

  async trickle(c: TrickleCandidate | null): Promise<void> {
    if (c === null || !c.candidate) await bounded(this.handle.trickleComplete(), 'janus trickle');
    else
      await bounded(
        this.handle.trickle({ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }),
        'janus trickle',
      );
  }

  async requestKeyframe(): Promise<void> {
    await this.keyframes.ask();
  }

  async forward(t: ForwardTarget): Promise<() => Promise<void>> {
    if (this.room === undefined || this.feed === undefined) throw new BackendError('publisher not joined');
    const { audio, video } = this.mids;
    return this.backend.forward(this.room, this.feed, {
      host: t.host,
      audio:
        audio !== undefined && t.audioPort ? { mid: audio, port: t.audioPort, pt: t.audioPt } : undefined,
      video:
        video !== undefined && t.videoPort ? { mid: video, port: t.videoPort, pt: t.videoPt } : undefined,
    });
  }

  async publishRemotely(to: { host: string; port: number; rtcpPort: number }): Promise<() => Promise<void>> {
    if (this.room === undefined || this.feed === undefined) throw new BackendError('publisher not joined');
    return bounded(
      this.backend.publishRemotely(this.room, this.feed, `relay-${nextRemoteId++}`, to),
      'janus publish_remotely',
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.keyframes.stop();
    if (this.roomKey !== undefined) this.backend.publisherLeft(this.roomKey, this.generation);
    await this.backend.release(this.handle, this.generation);
  }
}

export class JanusBackend extends EventEmitter<MediaBackendEvents> implements MediaBackend {
  private readonly gateway: JanusGateway;
  private proc: JanusProcess | null = null;
  private stopped = false;
  private looping: Promise<void> | null = null;
  private retryWait: ReturnType<typeof setTimeout> | null = null;
  private wakeRetry: (() => void) | null = null;
  private nextUrl = 0;
  /** The external Janus's URL connected now ('' while none is). */
  private connectedUrl = '';
  /** Publishers per Janus room key, to destroy a room when its last one leaves. */
  private readonly publishers = new Map<string, number>();

  constructor(
    private readonly cfg: ResolvedConfig['janus'],
    readonly log: Logger,
    verbose = false,
  ) {
    super();
    this.gateway = new JanusGateway(log, verbose);
    this.gateway.on('down', () => this.lost());
  }

  get up(): boolean {
    return this.gateway.up;
  }

  /** The spawned Janus's pid (undefined with external Janus). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /**
   * Spawns Janus (unless `urls` lists a running one's addresses) and connects, waiting at most
   * `janus.startTimeoutMs` for the first connection; the connection loop goes on in the background, so an
   * unreachable Janus never keeps the room plane from starting.
   */
  async start(): Promise<void> {
    if (!this.cfg.urls.length) {
      const proc = new JanusProcess(this.cfg, this.log);
      this.proc = proc;
      // A (re)started Janus is ready: connect to it at once, on its new port.
      proc.on('up', () => void this.connectLoop());
      try {
        await proc.start();
      } catch (e) {
        this.log.error(`media plane unavailable: ${(e as Error).message}`);
        return;
      }
    }
    const first = this.connectLoop();
    await Promise.race([first, new Promise<void>((r) => unref(setTimeout(r, this.cfg.startTimeoutMs)))]);
    if (!this.up) this.log.error('media plane not connected to Janus yet: dispatch answers 1009 until it is');
  }

  /** The URL to try now: the spawned Janus's live URL ('' while it restarts), or the next external one. */
  private url(): string {
    if (this.proc) return this.proc.url;
    const urls = this.cfg.urls;
    return urls[this.nextUrl++ % urls.length] ?? '';
  }

  private connectLoop(): Promise<void> {
    this.looping ??= this.loop().finally(() => (this.looping = null));
    return this.looping;
  }

  private async loop(): Promise<void> {
    for (let attempt = 0; !this.stopped && !this.gateway.up; attempt++) {
      const url = this.url();
      // A spawned Janus that is restarting has no URL: its `up` starts a new loop, this one ends.
      if (!url) return;
      try {
        await this.gateway.connect(url);
        this.connectedUrl = url;
        this.log.info({ url }, 'connected to janus');
        if (!this.stopped) this.emit('up');
        return;
      } catch (e) {
        this.log.warn({ url, err: (e as Error).message }, 'janus connection failed');
      }
      // Not unref'd: while the server starts, this wait is what keeps the process alive.
      await new Promise<void>((r) => {
        this.retryWait = setTimeout(r, Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt));
        this.wakeRetry = r;
      });
      this.retryWait = null;
    }
  }

  /** The connection went: legs are dead. Reconnect now unless the spawned Janus itself died. */
  private lost(): void {
    this.publishers.clear();
    this.connectedUrl = '';
    if (!this.stopped) this.emit('down');
    // Give the process's exit a moment to be recorded: a dead Janus is reconnected from its own `up`.
    const t = setTimeout(() => {
      if (!this.stopped && !this.gateway.up && (this.proc === null || this.proc.url)) void this.connectLoop();
    }, 50);
    unref(t);
  }

  /**
   * Where this node sends RTP to this Janus (a remote publisher's port): 127.0.0.1 for a spawned one; for
   * an external one its `rtpHost`, else the host of the URL connected now (`localhost` as 127.0.0.1).
   */
  get rtpHost(): string {
    if (!this.cfg.urls.length) return '127.0.0.1';
    return this.cfg.rtpHost || rtpHostOf(this.connectedUrl || this.cfg.urls[0]!);
  }

  generationIs(g: number): boolean {
    return this.gateway.up && this.gateway.generation === g;
  }

  async openLeg(): Promise<MediaLeg> {
    if (!this.gateway.up) throw new BackendError('media server unavailable');
    const generation = this.gateway.generation;
    let late = false;
    const attached = this.gateway.attach().then((h) => {
      // Attached after its timeout: nobody will use it, give it back.
      if (late) void this.gateway.detach(h);
      return h;
    });
    try {
      const h = await bounded(attached, 'janus attach');
      return new JanusLeg(this, h, generation);
    } catch (e) {
      late = true;
      throw e;
    }
  }

  roomFor(key: string): Promise<number> {
    return this.gateway.room(key);
  }

  publisherJoined(key: string): void {
    this.publishers.set(key, (this.publishers.get(key) ?? 0) + 1);
  }

  publisherLeft(key: string, generation: number): void {
    if (!this.generationIs(generation)) return;
    const n = (this.publishers.get(key) ?? 1) - 1;
    if (n > 0) return void this.publishers.set(key, n);
    this.publishers.delete(key);
    this.gateway
      .destroyRoom(key)
      .catch((e: Error) => this.log.debug({ err: e.message, room: key }, 'janus room destroy failed'));
  }

  async release(h: JanodeHandle, generation: number): Promise<void> {
    // A handle of an older connection died with it.
    if (this.gateway.generation === generation) await this.gateway.detach(h);
  }

  forward(
    room: number,
    feed: number,
    t: Parameters<JanusGateway['forward']>[2],
  ): Promise<() => Promise<void>> {
    return bounded(this.gateway.forward(room, feed, t), 'janus rtp_forward');
  }

  publishRemotely(
    room: number,
    feed: number,
    remoteId: string,
    to: { host: string; port: number; rtcpPort: number },
  ): Promise<() => Promise<void>> {
    return this.gateway.publishRemotely(room, feed, remoteId, to);
  }

  async addRemotePublisher(
    roomKey: string,
    display: string,
    o: { videoCodec: 'h264' | 'vp8'; audio: boolean; relay?: boolean },
  ): Promise<RemotePublisher> {
    if (!this.gateway.up) throw new BackendError('media server unavailable');
    const generation = this.gateway.generation;
    // A relay sits in a room of its own with fir_freq 0: the room's periodic request would fire on the first
    // packet relayed (Janus asks when it has seen no keyframe for fir_freq seconds, and it has seen none
    // yet), spending the remote publisher's one request a second before any viewer is up to use it.
    const key = o.relay ? `${roomKey}/relay` : roomKey;
    const room = await bounded(this.gateway.room(key, o.relay ? 0 : undefined), 'janus room');
    const streams: Record<string, unknown>[] = [
      { type: 'audio', mindex: 0, mid: 'a', codec: 'opus', ...(o.audio ? {} : { disabled: true }) },
      // No h264_profile: Janus 1.1.2's check wants a boolean there (its own bug), and the room's default fits.
      { type: 'video', mindex: 1, mid: 'v', codec: o.videoCodec },
    ];
    const host = this.rtpHost;
    // Janus binds the remote publisher's port on `iface`: the address we send to when it is an IP (one of
    // the Janus host's own), else (a host name) none, and Janus binds it on all its addresses.
    const r = await bounded(
      this.gateway.addRemotePublisher(room, display, streams, isIP(host) ? host : undefined),
      'janus remote publisher',
    );
    this.publisherJoined(key);
    let closed = false;
    const leg = new RemoteLeg(room, r.feed, async () => {
      if (closed) return;
      closed = true;
      await r
        .remove()
        .catch((e: Error) => this.log.debug({ err: e.message }, 'remove_remote_publisher failed'));
      this.publisherLeft(key, generation);
    });
    return { leg, host, port: r.port, rtcpPort: r.rtcpPort, close: () => leg.close() };
  }

  health(): MediaBackendHealth {
    return {
      up: this.gateway.up,
      legs: this.gateway.openHandles(),
      rooms: this.gateway.roomCount,
      janusPid: this.proc?.pid ?? null,
      janusStarts: this.proc?.starts ?? 0,
      ...(this.cfg.urls.length ? { janusUrl: this.gateway.up ? this.connectedUrl : '' } : {}),
    };
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryWait) clearTimeout(this.retryWait);
    this.wakeRetry?.();
    await this.gateway.close();
    await this.proc?.stop();
  }
}
