/**
 * Our side of Janus, through janode: one connection and one session per Janus instance, one VideoRoom
 * room per appid + room id, one publisher handle per published stream and one subscriber handle per
 * player. Emits `down` when the connection is lost (the media service then tells its clients so they
 * retry) and `up` once it is connected again.
 *
 * janode is ESM-only and has no types; it is loaded with a real dynamic import (kept out of the CJS
 * transform) and typed here by the few calls we make.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

export interface Jsep {
  type: 'offer' | 'answer';
  sdp: string;
}

export interface JanodeHandle {
  id: number;
  on(event: string, fn: (data: Record<string, unknown>) => void): void;
  trickle(candidate: unknown): Promise<unknown>;
  trickleComplete(): Promise<unknown>;
  detach(): Promise<unknown>;
  create(p: Record<string, unknown>): Promise<unknown>;
  destroy(p: { room: number }): Promise<unknown>;
  joinConfigurePublisher(p: Record<string, unknown>): Promise<{ feed: number; jsep: Jsep }>;
  configure(p: Record<string, unknown>): Promise<unknown>;
  joinSubscriber(p: Record<string, unknown>): Promise<{ jsep: Jsep }>;
  start(p: { jsep: Jsep }): Promise<unknown>;
}

interface JanodeSession {
  attach(plugin: unknown): Promise<JanodeHandle>;
  destroy(): Promise<unknown>;
  on(event: string, fn: () => void): void;
}

interface JanodeConnection {
  create(): Promise<JanodeSession>;
  close(): Promise<unknown>;
  on(event: string, fn: (e?: unknown) => void): void;
}

interface Janode {
  connect(cfg: Record<string, unknown>): Promise<JanodeConnection>;
  EVENT: Record<string, string>;
  Logger: { setLevel(level: string): string };
}

// A dynamic import that TypeScript's CommonJS output keeps as import() (janode is ESM-only).
const importEsm = new Function('m', 'return import(m)') as (m: string) => Promise<{ default: unknown }>;

let janodeModules: Promise<{ Janode: Janode; VideoRoom: unknown }> | null = null;
function loadJanode() {
  janodeModules ??= Promise.all([importEsm('janode'), importEsm('janode/plugins/videoroom')]).then(
    ([j, v]) => ({ Janode: j.default as Janode, VideoRoom: v.default }),
  );
  return janodeModules;
}

export const JANUS_EVENTS = {
  WEBRTCUP: 'handle_webrtcup',
  HANGUP: 'handle_hangup',
};

export class JanusGateway extends EventEmitter {
  private conn: JanodeConnection | null = null;
  private session: JanodeSession | null = null;
  private admin: JanodeHandle | null = null;
  private readonly rooms = new Map<string, Promise<number>>();
  private nextRoom = 1000;
  /** Changes every time a new connection is made; handles from an older generation are dead. */
  generation = 0;

  constructor(
    private readonly log: Logger,
    /** Let janode log (info) instead of staying silent. */
    private readonly verbose = false,
  ) {
    super();
  }

  get up(): boolean {
    return this.session !== null;
  }

  async connect(url: string): Promise<void> {
    const { Janode } = await loadJanode();
    Janode.Logger.setLevel(this.verbose ? 'info' : 'none');
    const conn = await Janode.connect({
      address: { url },
      retry_time_secs: 1,
      max_retries: 3,
    });
    let session: JanodeSession;
    let admin: JanodeHandle;
    try {
      session = await conn.create();
      const { VideoRoom } = await loadJanode();
      admin = await session.attach(VideoRoom);
    } catch (e) {
      await conn.close().catch(() => {});
      throw e;
    }
    this.conn = conn;
    this.session = session;
    this.admin = admin;
    this.rooms.clear();
    this.live.clear();
    this.generation++;
    const gen = this.generation;
    const lost = () => {
      if (gen !== this.generation || !this.session) return;
      this.session = null;
      this.admin = null;
      this.conn = null;
      this.rooms.clear();
      this.live.clear();
      conn.close().catch(() => {});
      this.log.warn('janus connection lost');
      this.emit('down');
    };
    conn.on(Janode.EVENT.CONNECTION_CLOSED!, lost);
    conn.on(Janode.EVENT.CONNECTION_ERROR!, lost);
    session.on(Janode.EVENT.SESSION_DESTROYED!, lost);
    this.emit('up');
  }

  /** The Janus room for an app's room, created on first use (codecs: H.264 and VP8, Opus). */
  room(key: string): Promise<number> {
    let p = this.rooms.get(key);
    if (!p) {
      const admin = this.requireAdmin();
      const id = this.nextRoom++;
      p = admin
        .create({
          room: id,
          max_publishers: 64,
          bitrate: 0,
          fir_freq: 2,
          videocodec: 'h264,vp8',
          audiocodec: 'opus',
          notify_joining: false,
        })
        .then(() => id);
      p.catch(() => this.rooms.delete(key));
      this.rooms.set(key, p);
    }
    return p;
  }

  private requireAdmin(): JanodeHandle {
    if (!this.admin) throw new Error('media server unavailable');
    return this.admin;
  }

  /** A fresh VideoRoom handle (one per PeerConnection). */
  async attach(): Promise<JanodeHandle> {
    if (!this.session) throw new Error('media server unavailable');
    const { VideoRoom } = await loadJanode();
    const h = await this.session.attach(VideoRoom);
    this.live.add(h);
    return h;
  }

  /** Handles attached on the current Janus session and not yet detached (leak checks), admin excluded. */
  openHandles = () => this.live.size;
  private readonly live = new Set<JanodeHandle>();

  async detach(h: JanodeHandle): Promise<void> {
    if (!this.live.delete(h)) return;
    await h.detach().catch(() => {});
  }

  async close(): Promise<void> {
    const { session, conn } = this;
    this.session = null;
    this.admin = null;
    this.conn = null;
    this.generation++;
    await session?.destroy().catch(() => {});
    await conn?.close().catch(() => {});
  }
}
