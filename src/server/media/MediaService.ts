/**
 * The media-signalling WebSocket (`/media`, the URL our dispatch hands out) and its sessions, bridged to
 * Janus VideoRoom. Publish: the client offers, Janus answers (MediaDescPush type 1). Play: with
 * `negotiate_mode: 1` Janus offers (MediaDescPush type 0) and the client answers (MediaDescReq type 1);
 * an offering player (the original SDK) gets CreateSessionRsp result 7 at once, never a hang.
 *
 * Every frame is validated and rate-limited; every Janus call is bounded by a timeout; a Janus restart
 * resets every session (SessionResetPush) so clients publish and play again.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { CloseCode, ServerCode } from '../../protocol/errors';
import {
  CloseReason,
  MEDIA_ACKS,
  MEDIA_HEADER_VERSION,
  MEDIA_RESULT_MESSAGES,
  MediaResult,
  replyName,
  type CandidateInfo,
  type MediaHeader,
  type MediaRequest,
} from '../../protocol/media';
import { MEDIA_REQUESTS } from '../../protocol/mediaSchema';
import { validateMediaBody } from '../../protocol/validate';
import {
  FrameSocket,
  limitsFrom,
  newCounters,
  type FrameHeader,
  type FrameRef,
} from '../gateway/FrameSocket';
import { mayPublish, verifyRoomToken, type TokenPrivileges } from '../auth/roomToken';
import { checkStreamParams } from '../auth/streamToken';
import type { ResolvedConfig } from '../config';
import { JANUS_EVENTS, type JanodeHandle, type JanusGateway } from './JanusGateway';
import { guarded, unref } from '../timers';

/** What the media plane needs from the room plane. */
export interface RoomLink {
  /** The user is logged in to that room right now. */
  isMember(appid: number, roomId: string, idName: string): boolean;
  /** The stream ended on the media side: end it in the room too (2002), if still listed. */
  endStream(appid: number, roomId: string, streamId: string, idName: string): void;
}

const JANUS_CALL_TIMEOUT_MS = 10_000;
const MAX_SESSIONS_PER_SOCKET = 32;
const HB_MISSES = 5;
const MEDIA_REQUEST_SET: ReadonlySet<string> = new Set(MEDIA_REQUESTS);
const MEDIA_ACK_SET: ReadonlySet<string> = new Set(MEDIA_ACKS);

/** A media header's session id: a safe integer or its decimal string; 0 otherwise. */
function sessionIdOf(v: FrameHeader['session_id']): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : 0;
  return typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : 0;
}
/** A publisher lost without a stop may publish again within this before its stream leaves the room, ms. */
const REPUBLISH_GRACE_MS = 15_000;

class MediaError extends Error {
  constructor(
    readonly result: number,
    message?: string,
  ) {
    super(message ?? MEDIA_RESULT_MESSAGES[result] ?? 'error');
  }
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(
        () => reject(new MediaError(MediaResult.MediaServer, `${what} timed out`)),
        JANUS_CALL_TIMEOUT_MS,
      );
    }),
  ]);
}

interface Session {
  id: number;
  type: 0 | 1;
  streamId: string;
  conn: MediaConn;
  /** The Janus handle (attached on demand). */
  handle: Promise<JanodeHandle> | null;
  generation: number;
  /** Publisher: the Janus feed once joined. */
  feed?: number;
  janusRoom?: number;
  /** Resolves at Janus webrtcup (a publisher's feed can be subscribed from then on). */
  up: Promise<void>;
  markUp: () => void;
  closed: boolean;
  camera: number;
  mic: number;
}

class MediaConn extends FrameSocket {
  appid = 0;
  appidEcho: string | number = '';
  idName = '';
  roomId = '';
  /** Since when the socket has had no session (the idle reaper's clock), ms. */
  idleSince = Date.now();
  /** What the LoginReq token allows (a 04 token's payload); absent = no restriction. */
  privileges?: TokenPrivileges;
  readonly sessions = new Map<number, Session>();
  private pushSeq = 0;

  constructor(
    ws: WebSocket,
    private readonly service: MediaService,
    config: ResolvedConfig,
    log: Logger,
    counters: ReturnType<typeof newCounters>,
  ) {
    // Media signalling is burstier than room signalling (candidates trickle): twice the room's budget.
    super(ws, limitsFrom(config, 2), log, counters);
  }

  loginDone(): void {
    this.markLoggedIn();
    this.idleSince = Date.now();
  }

  /** A protocol error (answered by the caller unless this closed the socket: then true). */
  strike(): boolean {
    return this.protocolError();
  }

  protected onFrame(h: FrameHeader, _raw: unknown, body: unknown): Promise<void> {
    return this.service.onFrame(this, h, body);
  }

  /** A refused request hears why at once, under its own reply name and seq. */
  protected refuse(ref: FrameRef, why: 'rate' | 'malformed' | 'internal'): void {
    const known = MEDIA_REQUEST_SET.has(ref.cmd);
    const result =
      why === 'rate'
        ? MediaResult.Limited
        : why === 'malformed'
          ? MediaResult.BadRequest
          : MediaResult.MediaServer;
    const info =
      why === 'rate' ? 'too many requests' : why === 'malformed' ? 'malformed frame' : 'internal error';
    this.send(known ? replyName(ref.cmd) : 'ErrorRsp', ref.seq, 0, { result, err_info: info });
  }

  protected onClosed(): void {
    this.service.connClosed(this);
  }

  send(cmd: string, seq: number, sessionId: number | string, body: object): void {
    const header: MediaHeader = {
      version: MEDIA_HEADER_VERSION,
      cmd,
      appid: this.appidEcho,
      seq,
      user_id: this.idName,
      session_id: sessionId,
    };
    this.sendText(JSON.stringify({ header, body }));
  }

  push(cmd: string, sessionId: number, body: object): void {
    this.send(cmd, ++this.pushSeq, sessionId, body);
  }

  removeSession(id: number): void {
    if (this.sessions.delete(id) && this.sessions.size === 0) this.idleSince = Date.now();
  }
}

export class MediaService {
  private readonly conns = new Set<MediaConn>();
  /** `${appid}:${streamId}` -> the publishing session. */
  private readonly publishers = new Map<string, Session>();
  private nextSession = 1;
  /** Publishers lost without a stop, by key: their room stream ends when the grace runs out. */
  private readonly pendingEnds = new Map<string, { timer: ReturnType<typeof setTimeout>; idName: string }>();
  private disposed = false;
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly janus: JanusGateway | null,
    private readonly room: RoomLink,
  ) {
    this.sweeper = unref(
      setInterval(
        guarded(log, 'media sweep', () => this.sweep()),
        Math.max(500, Math.min(config.media.heartbeatMs, config.media.idleTimeoutMs) / 2),
      ),
    );
    janus?.on(
      'down',
      guarded(log, 'media reset after a Janus loss', () => this.resetAll()),
    );
  }

  /** Socket counters of the media plane (health details). */
  readonly counters = newCounters();

  stats(): object {
    let sessions = 0;
    for (const c of this.conns) sessions += c.sessions.size;
    return {
      sockets: this.conns.size,
      sessions,
      publishers: this.publishers.size,
      mediaSockets: this.counters,
    };
  }

  attach(ws: WebSocket): void {
    this.conns.add(new MediaConn(ws, this, this.config, this.log, this.counters));
  }

  /** A shape-checked frame from a media socket (the socket base caught and answers whatever throws here). */
  async onFrame(conn: MediaConn, h: FrameHeader, rawBody: unknown): Promise<void> {
    const { cmd, seq } = h;
    if (MEDIA_ACK_SET.has(cmd)) return; // acknowledgements need nothing
    if (!MEDIA_REQUEST_SET.has(cmd)) {
      if (!conn.strike())
        conn.send('ErrorRsp', seq, 0, { result: MediaResult.BadRequest, err_info: `unknown cmd ${cmd}` });
      return;
    }
    const req = cmd as MediaRequest;
    const sessionId = sessionIdOf(h.session_id);
    const invalid = validateMediaBody(req, rawBody);
    if (invalid || (req !== 'LoginReq' && !conn.loggedIn)) {
      if (conn.strike()) return;
      if (invalid)
        conn.send(replyName(req), seq, sessionId, { result: MediaResult.BadRequest, err_info: invalid });
      else
        conn.send(replyName(req), seq, sessionId, {
          result: MediaResult.NotLoggedIn,
          err_info: 'not logged in',
        });
      return;
    }
    const body = rawBody as Record<string, unknown>;
    try {
      const reply = await this.handle(conn, req, body, h, sessionId);
      conn.send(replyName(req), seq, reply.sessionId ?? sessionId, { result: MediaResult.Ok, ...reply.body });
      reply.after?.();
    } catch (e) {
      const result = e instanceof MediaError ? e.result : MediaResult.MediaServer;
      if (!(e instanceof MediaError))
        this.log.error({ err: (e as Error).stack, cmd, idName: conn.idName }, 'media handler failed');
      conn.send(replyName(req), seq, sessionId, { result, err_info: (e as Error).message });
    }
  }

  private async handle(
    conn: MediaConn,
    cmd: MediaRequest,
    b: Record<string, unknown>,
    h: FrameHeader,
    sessionId: number,
  ): Promise<{ body: object; sessionId?: number; after?: () => void }> {
    switch (cmd) {
      case 'LoginReq':
        return { body: this.login(conn, b, h) };
      case 'ClientHBReq':
        return { body: { hb_interval: this.config.media.heartbeatMs } };
      case 'QualityReportReq':
        return { body: {} };
      case 'CreateSessionReq':
        return this.createSession(conn, b);
    }
    const s = conn.sessions.get(sessionId);
    if (!s) throw new MediaError(MediaResult.NoSession);
    switch (cmd) {
      case 'MediaDescReq':
        return this.mediaDesc(s, b);
      case 'CandidateInfoReq':
        return { body: {}, after: () => void this.candidates(s, b.infos as CandidateInfo[]) };
      case 'CloseSessionReq':
        // reason 0 = the page stopped; otherwise the client tears down to retry: keep the room stream.
        return {
          body: {},
          after: () => this.closeSession(s, null, '', Number(b.reason ?? 0) === 0 ? 'now' : 'grace'),
        };
      case 'StreamStatusNotify':
        s.camera = Number(b.camera_status ?? s.camera);
        s.mic = Number(b.mic_status ?? s.mic);
        return { body: {}, after: () => this.notifyStatus(s) };
    }
  }

  private login(conn: MediaConn, b: Record<string, unknown>, h: FrameHeader): object {
    if (conn.loggedIn) throw new MediaError(MediaResult.BadRequest, 'already logged in');
    const appid = Number(h.appid);
    const idName = typeof h.user_id === 'string' ? h.user_id : '';
    if (!Number.isInteger(appid) || appid <= 0 || !idName)
      throw new MediaError(MediaResult.BadRequest, 'header appid and user_id (idName) are required');
    const roomId = typeof b.roomid === 'string' ? b.roomid : null;
    const verdict = verifyRoomToken({ config: this.config, appid, idName, roomId, token: b.token });
    if (verdict.code !== ServerCode.OK)
      throw new MediaError(
        MediaResult.TokenError,
        verdict.code === ServerCode.TokenError ? `token error: ${verdict.message}` : verdict.message,
      );
    conn.privileges = verdict.privileges;
    conn.appid = appid;
    conn.appidEcho = h.appid ?? appid;
    conn.idName = idName;
    conn.roomId = typeof b.roomid === 'string' ? b.roomid : '';
    conn.loginDone();
    return {
      hb_interval: this.config.media.heartbeatMs,
      report: false,
      report_interval_ms: 30_000,
    };
  }

  private requireJanus(): JanusGateway {
    if (!this.janus || !this.janus.up) throw new MediaError(MediaResult.MediaServer);
    return this.janus;
  }

  private createSession(
    conn: MediaConn,
    b: Record<string, unknown>,
  ): { body: object; sessionId: number; after?: () => void } {
    const type = b.type as 0 | 1;
    const streamId = b.stream_id as string;
    if (conn.sessions.size >= MAX_SESSIONS_PER_SOCKET)
      throw new MediaError(MediaResult.Limited, `at most ${MAX_SESSIONS_PER_SOCKET} sessions per socket`);
    if (!conn.roomId || !this.room.isMember(conn.appid, conn.roomId, conn.idName))
      throw new MediaError(MediaResult.NotLoggedIn, 'log in to the room first (LoginReq roomid)');
    const app = this.config.apps.find((a) => a.appid === conn.appid);
    if (app?.streamAuth) {
      const why = checkStreamParams({
        appid: conn.appid,
        appSign: app.appSign,
        streamId,
        params: typeof b.strAuthParam === 'string' ? b.strAuthParam : '',
        maxLifetimeS: this.config.auth.maxTokenLifetimeS,
      });
      if (why) throw new MediaError(MediaResult.StreamAuth, why);
    }
    if (type === 0 && !mayPublish(conn, streamId))
      throw new MediaError(MediaResult.StreamAuth, 'the login token does not allow publishing this stream');
    if (type === 1 && b.negotiate_mode !== 1) throw new MediaError(MediaResult.OfferNotSupported);
    const janus = this.requireJanus();
    const key = `${conn.appid}:${streamId}`;
    if (type === 0) {
      const existing = this.publishers.get(key);
      const owner = existing?.conn.idName ?? this.pendingEnds.get(key)?.idName;
      // Another user may not take the id, neither while it is live nor during its owner's grace.
      if (owner !== undefined && owner !== conn.idName) throw new MediaError(MediaResult.StreamExists);
      if (existing) this.closeSession(existing, CloseReason.Normal, 'republished', 'grace');
    } else {
      const pub = this.publishers.get(key);
      if (!pub || pub.feed === undefined) throw new MediaError(MediaResult.StreamNotFound);
      // Stream ids are app-wide; an app may keep its rooms apart (legacy default: co-hosts across rooms).
      if (app && !app.crossRoomPlay && pub.conn.roomId !== conn.roomId)
        throw new MediaError(MediaResult.StreamNotFound, 'stream not found in this room');
    }
    let markUp = () => {};
    const up = new Promise<void>((r) => (markUp = r));
    const s: Session = {
      up,
      markUp: () => markUp(),
      id: this.nextSession++,
      type,
      streamId,
      conn,
      handle: null,
      generation: janus.generation,
      closed: false,
      camera: 0,
      mic: 0,
    };
    conn.sessions.set(s.id, s);
    s.handle = this.attachHandle(s, janus);
    if (type === 0) {
      this.publishers.set(key, s);
      clearTimeout(this.pendingEnds.get(key)?.timer);
      this.pendingEnds.delete(key);
    }
    const body = {
      session_id: s.id,
      session_token: '',
      turn_server: '',
      stun_server: '',
      turn_username: '',
      turn_auth_key: '',
    };
    return { body, sessionId: s.id, after: type === 1 ? () => void this.offerToPlayer(s) : undefined };
  }

  private attachHandle(s: Session, janus: JanusGateway): Promise<JanodeHandle> {
    let timedOut = false;
    const attached = janus.attach().then((h) => {
      // Too late (timed out) or the session ended meanwhile: give the handle back at once.
      if (timedOut || s.closed) void janus.detach(h);
      return h;
    });
    const p = withTimeout(attached, 'janus attach').then((h) => {
      h.on(JANUS_EVENTS.WEBRTCUP, () => {
        s.markUp();
        // A player is up: ask its publisher for a keyframe now, so the first frame does not wait for the
        // next one (Janus's own PLI at subscribe time can come before the player can decrypt it).
        if (s.type === 1) void this.requestKeyframe(s);
        this.log.debug({ session: s.id, stream: s.streamId, type: s.type }, 'webrtcup');
      });
      h.on(JANUS_EVENTS.HANGUP, (d) => {
        if (!s.closed) this.log.debug({ session: s.id, reason: d?.reason }, 'janus hangup');
      });
      return h;
    });
    p.catch(() => (timedOut = true));
    attached.catch(() => {});
    return p;
  }

  private async mediaDesc(
    s: Session,
    b: Record<string, unknown>,
  ): Promise<{ body: object; after?: () => void }> {
    const janus = this.requireJanus();
    this.log.debug({ session: s.id, type: b.type }, 'MediaDescReq');
    const handle = await s.handle!;
    if (s.type === 0) {
      if (b.type !== 0) throw new MediaError(MediaResult.BadRequest, 'a publisher sends an offer (type 0)');
      const room = await withTimeout(janus.room(`${s.conn.appid}:${s.conn.roomId}`), 'janus room');
      const r = await withTimeout(
        handle.joinConfigurePublisher({
          room,
          display: s.streamId.slice(0, 128),
          audio: true,
          video: true,
          jsep: { type: 'offer', sdp: b.sdp as string },
        }),
        'janus publish',
      );
      this.log.debug({ session: s.id, feed: r.feed }, 'publisher joined');
      if (s.closed) throw new MediaError(MediaResult.NoSession, 'session closed');
      s.feed = r.feed;
      s.janusRoom = room;
      return {
        body: {},
        after: () => s.conn.push('MediaDescPush', s.id, { type: 1, sdp: r.jsep.sdp }),
      };
    }
    if (b.type !== 1) throw new MediaError(MediaResult.BadRequest, 'a player answers (type 1)');
    await withTimeout(handle.start({ jsep: { type: 'answer', sdp: b.sdp as string } }), 'janus start');
    return { body: {} };
  }

  private async offerToPlayer(s: Session): Promise<void> {
    try {
      const pub = this.publishers.get(`${s.conn.appid}:${s.streamId}`);
      if (!pub || pub.feed === undefined || pub.janusRoom === undefined)
        throw new MediaError(MediaResult.StreamNotFound);
      // Janus lists a publisher's feed only once its PeerConnection is up: a viewer that asks right after
      // the stream was announced waits for that (bounded).
      await withTimeout(pub.up, 'publisher media');
      const handle = await s.handle!;
      const r = await withTimeout(
        handle.joinSubscriber({ room: pub.janusRoom, feed: pub.feed }),
        'janus subscribe',
      );
      if (s.closed) return;
      s.conn.push('MediaDescPush', s.id, { type: 0, sdp: r.jsep.sdp });
      // A player joining a publisher whose camera or microphone is off learns it at once.
      if (pub.camera !== 0 || pub.mic !== 0)
        s.conn.push('StreamStatusNotifyPush', s.id, {
          stream_id: pub.streamId,
          camera_status: pub.camera,
          mic_status: pub.mic,
        });
    } catch (e) {
      this.closeSession(s, CloseReason.Error, (e as Error).message);
    }
  }

  private async requestKeyframe(player: Session): Promise<void> {
    const pub = this.publishers.get(`${player.conn.appid}:${player.streamId}`);
    if (!pub?.handle) return;
    try {
      const h = await pub.handle;
      await withTimeout(h.configure({ keyframe: true }), 'janus keyframe');
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'keyframe request failed');
    }
  }

  private async candidates(s: Session, infos: CandidateInfo[]): Promise<void> {
    try {
      const handle = await s.handle!;
      // Janus's ice_enforce_list decides which of these it can use.
      for (const c of infos) {
        if (!c.candidate) await handle.trickleComplete();
        else
          await handle.trickle({ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
      }
    } catch (e) {
      this.log.debug({ err: (e as Error).message, session: s.id }, 'trickle failed');
    }
  }

  /** Camera/mic status of a publisher reaches every player of its stream. */
  private notifyStatus(pub: Session): void {
    if (pub.type !== 0) return;
    for (const p of this.playersOf(`${pub.conn.appid}:${pub.streamId}`))
      p.conn.push('StreamStatusNotifyPush', p.id, {
        stream_id: pub.streamId,
        camera_status: pub.camera,
        mic_status: pub.mic,
      });
  }

  /**
   * Ends a session: frees its Janus handle; a publisher's stream leaves the room. With a reason, the
   * client is told (CloseSessionPush); null = the client asked.
   */
  closeSession(
    s: Session,
    reason: number | null,
    info = '',
    endInRoom: 'now' | 'grace' = 'now',
    notifyPlayers = true,
  ): void {
    if (s.closed) return;
    s.closed = true;
    s.conn.removeSession(s.id);
    if (reason !== null) s.conn.push('CloseSessionPush', s.id, { reason, err_info: info });
    const key = `${s.conn.appid}:${s.streamId}`;
    if (s.type === 0 && this.publishers.get(key) === s) {
      this.publishers.delete(key);
      const { appid, roomId, idName } = s.conn;
      const now = endInRoom === 'now' || this.disposed;
      // A stopped stream leaves the room first, so its viewers hear the room's stream-deleted push before
      // their media is closed (the original service behaved so: pages stop the play themselves on that
      // push instead of reporting a play error).
      if (now) this.room.endStream(appid, roomId, s.streamId, idName);
      // Its players are on a feed that is gone: a publisher that may come back (grace) makes them play
      // again (reason 2, retried), a stopped one ends them (reason 4).
      if (notifyPlayers)
        for (const p of this.playersOf(key))
          this.closeSession(
            p,
            now ? CloseReason.StreamEnded : CloseReason.MediaServerRestart,
            now ? 'stream ended' : 'publisher reconnecting',
          );
      if (!now) {
        // Lost without a stop (socket loss, media-server restart, retry): the publisher gets time to
        // publish again before viewers are told the stream ended; nobody else may take the id meanwhile.
        clearTimeout(this.pendingEnds.get(key)?.timer);
        const timer = setTimeout(
          guarded(this.log, 'republish grace end', () => {
            this.pendingEnds.delete(key);
            if (!this.publishers.has(key)) this.room.endStream(appid, roomId, s.streamId, idName);
          }),
          REPUBLISH_GRACE_MS,
        );
        unref(timer);
        this.pendingEnds.set(key, { timer, idName });
      }
    }
    const janus = this.janus;
    if (janus && s.handle && s.generation === janus.generation)
      s.handle.then((h) => janus.detach(h)).catch(() => {});
  }

  private playersOf(key: string): Session[] {
    const out: Session[] = [];
    for (const c of this.conns)
      for (const p of c.sessions.values())
        if (p.type === 1 && `${c.appid}:${p.streamId}` === key) out.push(p);
    return out;
  }

  /** The room session of a user ended (logout, kick, heartbeat expiry): its media sessions end too. */
  memberLeft(appid: number, roomId: string, idName: string): void {
    for (const c of this.conns)
      if (c.appid === appid && c.idName === idName && c.roomId === roomId)
        for (const s of [...c.sessions.values()]) this.closeSession(s, CloseReason.RoomLeft, 'left the room');
  }

  /** Janus went away: every session is gone; clients are told to start again (SessionResetPush). */
  private resetAll(): void {
    for (const c of this.conns) {
      const ids = [...c.sessions.keys()];
      if (!ids.length) continue;
      for (const s of [...c.sessions.values()]) {
        s.handle = null;
        // Everyone hears SessionResetPush below; no separate notice to players.
        this.closeSession(s, null, '', 'grace', false);
      }
      c.push('SessionResetPush', 0, { cResetType: 1, session_ids: ids });
    }
  }

  /** A media socket is gone: its sessions end, publishers with a grace to come back. */
  connClosed(conn: MediaConn): void {
    if (!this.conns.delete(conn)) return;
    for (const s of [...conn.sessions.values()]) this.closeSession(s, null, '', 'grace');
  }

  /** Heartbeat expiry (sockets with sessions) and the idle reaper (logged-in sockets without any). */
  private sweep(): void {
    const now = Date.now();
    const limit = now - this.config.media.heartbeatMs * HB_MISSES;
    for (const c of [...this.conns]) {
      if (c.sessions.size > 0 && c.lastSeen < limit)
        c.close(CloseCode.HeartbeatTimeout, 'media heartbeat timeout');
      else if (c.loggedIn && c.sessions.size === 0 && now - c.idleSince > this.config.media.idleTimeoutMs)
        c.close(CloseCode.Idle, 'no session');
    }
  }

  closeAll(): void {
    for (const c of [...this.conns]) c.close(CloseCode.Shutdown, 'shutdown');
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.sweeper);
    this.closeAll();
    for (const e of this.pendingEnds.values()) clearTimeout(e.timer);
    this.pendingEnds.clear();
  }
}
