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
  startForward(
    p: Record<string, unknown>,
  ): Promise<{ forwarders?: { audio_stream?: number; video_stream?: number }[] }>;
  stopForward(p: { room: number; feed: number; stream: number }): Promise<unknown>;
  start(p: { jsep: Jsep }): Promise<unknown>;
  /** A raw plugin request; resolves with Janus's whole reply. */
  message(body: Record<string, unknown>): Promise<unknown>;
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

/** How long a remote publisher Janus accepted may take to appear in its room. */
const REMOTE_LISTED_WAIT_MS = 2000;

export const JANUS_EVENTS = {
  WEBRTCUP: 'handle_webrtcup',
};

/** Room ids tried per room before giving up (each taken one is skipped at once). */
const MAX_ROOM_TRIES = 256;

/** janode's error for a VideoRoom `create` whose id exists (JANUS_VIDEOROOM_ERROR_ROOM_EXISTS). */
function isRoomTaken(e: unknown): boolean {
  const err = e as { _code?: unknown; message?: unknown };
  return err?._code === 427 || (typeof err?.message === 'string' && err.message.startsWith('427 '));
}

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
    // One attempt: the caller's loop retries with its own (short) backoff and picks the live URL each time.
    const conn = await Janode.connect({
      address: { url },
      retry_time_secs: 1,
      max_retries: 0,
    });
    let session: JanodeSession;
    let admin: JanodeHandle;
    try {
      session = await conn.create();
      const { VideoRoom } = await loadJanode();
      admin = await session.attach(VideoRoom);
    } catch (e) {
      await conn.close().catch((e2: Error) => this.log.debug({ err: e2.message }, 'janus connection close'));
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
      conn.close().catch((e: Error) => this.log.debug({ err: e.message }, 'janus connection close'));
      this.log.warn('janus connection lost');
      this.emit('down');
    };
    conn.on(Janode.EVENT.CONNECTION_CLOSED!, lost);
    conn.on(Janode.EVENT.CONNECTION_ERROR!, lost);
    session.on(Janode.EVENT.SESSION_DESTROYED!, lost);
    this.emit('up');
  }

  /**
   * The Janus room for an app's room, created on first use (codecs: H.264 and VP8, Opus), asking its
   * publishers for a keyframe when it has seen none for `firFreq` seconds (0: never).
   */
  room(key: string, firFreq = 2): Promise<number> {
    let p = this.rooms.get(key);
    if (!p) {
      const admin = this.requireAdmin();
      p = (async () => {
        for (let tries = 1; ; tries++) {
          const id = this.nextRoom++;
          try {
            await admin.create({
              room: id,
              max_publishers: 64,
              bitrate: 0,
              fir_freq: firFreq,
              videocodec: 'h264,vp8',
              audiocodec: 'opus',
              notify_joining: false,
            });
            return id;
          } catch (e) {
            // VideoRoom 427 "room exists": an external Janus outlives us, and keeps the rooms an earlier
            // process of ours (crashed, or restarted while it published) or another node made: the next id.
            if (!isRoomTaken(e) || tries >= MAX_ROOM_TRIES) throw e;
            this.log.debug({ room: id }, 'janus room id taken; trying the next');
          }
        }
      })();
      p.catch(() => this.rooms.delete(key));
      this.rooms.set(key, p);
    }
    return p;
  }

  /** Destroys the Janus room of an app's room (its last publisher left); a later publish creates a new one. */
  async destroyRoom(key: string): Promise<void> {
    const p = this.rooms.get(key);
    if (!p) return;
    this.rooms.delete(key);
    const admin = this.admin;
    if (!admin) return;
    const room = await p;
    await admin.destroy({ room });
  }

  /**
   * RTP-forwards a publisher's audio and video (by their mids) to host:port (Janus multistream
   * `rtp_forward`); resolves to the function that stops them.
   */
  async forward(
    room: number,
    feed: number,
    t: {
      host: string;
      audio?: { mid: string; port: number; pt?: number };
      video?: { mid: string; port: number; pt?: number };
    },
  ): Promise<() => Promise<void>> {
    const admin = this.requireAdmin();
    const streams = [t.audio, t.video]
      .filter((x): x is { mid: string; port: number; pt?: number } => !!x)
      .map((x) => ({ mid: x.mid, port: x.port, ...(x.pt !== undefined ? { pt: x.pt } : {}) }));
    const r = await admin.startForward({ room, feed, host: t.host, streams });
    const ids = (r.forwarders ?? [])
      .flatMap((f) => [f.audio_stream, f.video_stream])
      .filter((x): x is number => typeof x === 'number');
    const generation = this.generation;
    return async () => {
      if (this.generation !== generation || !this.admin) return; // died with its Janus
      for (const stream of ids) await this.admin.stopForward({ room, feed, stream });
    };
  }

  /**
   * `add_remote_publisher`: an RTP source becomes a feed of `room`, its port bound on `iface` (an address
   * of the Janus host; none: all of them); resolves with its feed id, the port it is sent to, and the
   * function that removes it.
   */
  async addRemotePublisher(
    room: number,
    display: string,
    streams: Record<string, unknown>[],
    iface?: string,
  ): Promise<{ feed: number; port: number; rtcpPort: number; remove: () => Promise<void> }> {
    const admin = this.requireAdmin();
    const r = (await admin.message({
      request: 'add_remote_publisher',
      room,
      display: display.slice(0, 128),
      ...(iface ? { iface } : {}),
      streams,
    })) as { plugindata?: { data?: { id?: number; port?: number; rtcp_port?: number; error?: string } } };
    const d = r.plugindata?.data ?? {};
    if (typeof d.id !== 'number' || typeof d.port !== 'number')
      throw new Error(`add_remote_publisher failed: ${d.error ?? JSON.stringify(d).slice(0, 200)}`);
    const generation = this.generation;
    const feed = d.id;
    const remove = async () => {
      if (this.generation !== generation || !this.admin) return; // died with its Janus
      await this.admin.message({ request: 'remove_remote_publisher', room, id: feed });
    };
    try {
      await this.untilListed(admin, room, feed);
    } catch (e) {
      await remove().catch(() => undefined);
      throw e;
    }
    return { feed, port: d.port, rtcpPort: d.rtcp_port ?? 0, remove };
  }

  /**
   * Waits until `feed` is among the room's participants. Janus 1.1.2 answers `add_remote_publisher` before
   * the remote publisher's own thread has put it in the room (janus_videoroom_remote_publisher_thread does
   * that as its first step), so a subscriber joining at once can get `428 No such feed`: seen in about one
   * overflow relay in thirty on this shared 2-core machine (the viewer's play then failed). With this wait,
   * 3 relays of 36 were not listed at the first look, and all within 6 ms.
   */
  private async untilListed(admin: JanodeHandle, room: number, feed: number): Promise<void> {
    const deadline = Date.now() + REMOTE_LISTED_WAIT_MS;
    for (;;) {
      const r = (await admin.message({ request: 'listparticipants', room })) as {
        plugindata?: { data?: { participants?: { id?: number }[] } };
      };
      if (r.plugindata?.data?.participants?.some((p) => p.id === feed)) return;
      if (Date.now() > deadline)
        throw new Error(`remote publisher ${feed} not in room ${room} after ${REMOTE_LISTED_WAIT_MS} ms`);
      await new Promise((res) => setTimeout(res, 5));
    }
  }

  /**
   * Relays a publisher's streams to a remote publisher (VideoRoom `publish_remotely`: one forwarder per
   * stream to `port`, SSRC 1000 + 10 x mindex, RTCP feedback from `rtcpPort`); resolves to the stop.
   */
  async publishRemotely(
    room: number,
    feed: number,
    remoteId: string,
    to: { host: string; port: number; rtcpPort: number },
  ): Promise<() => Promise<void>> {
    const admin = this.requireAdmin();
    const r = (await admin.message({
      request: 'publish_remotely',
      room,
      publisher_id: feed,
      remote_id: remoteId,
      host: to.host,
      port: to.port,
      ...(to.rtcpPort ? { rtcp_port: to.rtcpPort } : {}),
    })) as { plugindata?: { data?: { videoroom?: string; error?: string } } };
    const d = r.plugindata?.data ?? {};
    if (d.videoroom !== 'success')
      throw new Error(`publish_remotely failed: ${d.error ?? JSON.stringify(d).slice(0, 200)}`);
    const generation = this.generation;
    return async () => {
      if (this.generation !== generation || !this.admin) return; // died with its Janus
      await this.admin.message({
        request: 'unpublish_remotely',
        room,
        publisher_id: feed,
        remote_id: remoteId,
      });
    };
  }

  /** Janus rooms open now. */
  get roomCount(): number {
    return this.rooms.size;
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
    // A handle of a lost session is gone with it; anything else is worth a line in the log.
    await h
      .detach()
      .catch((e: Error) => this.log.debug({ err: e.message, handle: h.id }, 'janus detach failed'));
  }

  async close(): Promise<void> {
    const { session, conn } = this;
    this.session = null;
    this.admin = null;
    this.conn = null;
    this.generation++;
    await session?.destroy().catch((e: Error) => this.log.debug({ err: e.message }, 'janus session destroy'));
    await conn?.close().catch((e: Error) => this.log.debug({ err: e.message }, 'janus connection close'));
  }
}
