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
import { ServerCode } from '../../protocol/errors';
import {
  CloseReason,
  MEDIA_ACKS,
  MEDIA_HEADER_VERSION,
  MEDIA_REQUESTS,
  MEDIA_RESULT_MESSAGES,
  MediaResult,
  replyName,
  validateMediaBody,
  type CandidateInfo,
  type MediaHeader,
  type MediaRequest,
} from '../../protocol/media';
import { mayPublish, verifyRoomToken, type TokenPrivileges } from '../auth/roomToken';
import { checkStreamParams } from '../auth/streamToken';
import type { ResolvedConfig } from '../config';
import { TokenBucket } from '../gateway/TokenBucket';
import { JANUS_EVENTS, type JanodeHandle, type JanusGateway } from './JanusGateway';

/** What the media plane needs from the room plane. */
export interface RoomLink {
  /** The user is logged in to that room right now. */
  isMember(appid: number, roomId: string, idName: string): boolean;
  /** The stream ended on the media side: end it in the room too (2002), if still listed. */
  endStream(appid: number, roomId: string, streamId: string, idName: string): void;
}

const JANUS_CALL_TIMEOUT_MS = 10_000;
const MAX_SESSIONS_PER_SOCKET = 32;
const MAX_MALFORMED = 10;
const HB_MISSES = 5;
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

class MediaConn {
  appid = 0;
  appidEcho: string | number = '';
  idName = '';
  roomId = '';
  /** What the LoginReq token allows (a 04 token's payload); absent = no restriction. */
  privileges?: TokenPrivileges;
  loggedIn = false;
  lastSeen = Date.now();
  readonly sessions = new Map<number, Session>();
  private pushSeq = 0;
  malformed = 0;
  closed = false;

  constructor(readonly ws: WebSocket) {}

  send(cmd: string, seq: number, sessionId: number | string, body: object): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const header: MediaHeader = {
      version: MEDIA_HEADER_VERSION,
      cmd,
      appid: this.appidEcho,
      seq,
      user_id: this.idName,
      session_id: sessionId,
    };
    this.ws.send(JSON.stringify({ header, body }));
  }

  push(cmd: string, sessionId: number, body: object): void {
    this.send(cmd, ++this.pushSeq, sessionId, body);
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
    this.sweeper = setInterval(() => this.sweep(), Math.max(500, config.media.heartbeatMs / 2));
    janus?.on('down', () => this.resetAll());
  }

  stats(): { sockets: number; sessions: number; publishers: number } {
    let sessions = 0;
    for (const c of this.conns) sessions += c.sessions.size;
    return { sockets: this.conns.size, sessions, publishers: this.publishers.size };
  }

  attach(ws: WebSocket): void {
    const conn = new MediaConn(ws);
    this.conns.add(conn);
    // Media signalling is burstier than room signalling (candidates trickle): twice the room's budget.
    const bucket = new TokenBucket(this.config.limits.messagesPerSecond * 2, this.config.limits.burst * 2);
    const loginDeadline = setTimeout(() => {
      if (!conn.loggedIn) ws.close(4006, 'no login');
    }, this.config.room.loginDeadlineMs);
    ws.on('message', (data, isBinary) => {
      conn.lastSeen = Date.now();
      if (!bucket.take()) {
        if (bucket.strikes >= 50) ws.close(4001, 'flood');
        else this.refuse(conn, isBinary ? null : data.toString());
        return;
      }
      void this.onFrame(conn, isBinary ? null : data.toString());
    });
    ws.on('close', () => {
      clearTimeout(loginDeadline);
      this.connClosed(conn);
    });
    ws.on('error', (e) => this.log.debug({ err: e.message }, 'media socket error'));
  }

  /** Over the rate limit: the request is not executed, but its sender hears why at once. */
  private refuse(conn: MediaConn, text: string | null): void {
    let h: Partial<MediaHeader> = {};
    try {
      h = (JSON.parse(text ?? '') as { header?: Partial<MediaHeader> }).header ?? {};
    } catch {
      /* unreadable: answered generically */
    }
    const cmd = typeof h.cmd === 'string' && h.cmd.endsWith('Req') ? h.cmd.slice(0, 64) : 'ErrorReq';
    conn.send(replyName(cmd), typeof h.seq === 'number' ? h.seq : 0, Number(h.session_id) || 0, {
      result: MediaResult.Limited,
      err_info: 'too many requests',
    });
  }

  private async onFrame(conn: MediaConn, text: string | null): Promise<void> {
    let frame: { header?: Partial<MediaHeader>; body?: unknown };
    try {
      if (text === null) throw new Error('binary');
      frame = JSON.parse(text) as typeof frame;
      if (!frame || typeof frame !== 'object' || !frame.header || typeof frame.header !== 'object')
        throw new Error('shape');
    } catch {
      if (++conn.malformed >= MAX_MALFORMED) conn.ws.close(4004, 'malformed frames');
      else conn.send('ErrorRsp', 0, 0, { result: MediaResult.BadRequest, err_info: 'malformed frame' });
      return;
    }
    const h = frame.header;
    const cmd = typeof h.cmd === 'string' ? h.cmd.slice(0, 64) : '';
    const seq = typeof h.seq === 'number' && Number.isInteger(h.seq) ? h.seq : 0;
    if ((MEDIA_ACKS as readonly string[]).includes(cmd)) return; // acknowledgements need nothing
    if (!(MEDIA_REQUESTS as readonly string[]).includes(cmd)) {
      conn.send('ErrorRsp', seq, 0, { result: MediaResult.BadRequest, err_info: `unknown cmd ${cmd}` });
      return;
    }
    const req = cmd as MediaRequest;
    const sessionId = Number(h.session_id) || 0;
    const invalid = validateMediaBody(req, frame.body);
    if (invalid) {
      conn.send(replyName(req), seq, sessionId, { result: MediaResult.BadRequest, err_info: invalid });
      return;
    }
    const body = frame.body as Record<string, unknown>;
    try {
      if (req !== 'LoginReq' && !conn.loggedIn) throw new MediaError(MediaResult.NotLoggedIn);
      const reply = await this.handle(conn, req, body, h, sessionId);
      conn.send(replyName(req), seq, reply.sessionId ?? sessionId, { result: MediaResult.Ok, ...reply.body });
      reply.after?.();
    } catch (e) {
      const result = e instanceof MediaError ? e.result : MediaResult.MediaServer;
      if (!(e instanceof MediaError))
        this.log.error({ err: (e as Error).stack, cmd }, 'media handler failed');
      conn.send(replyName(req), seq, sessionId, { result, err_info: (e as Error).message });
    }
  }

  private async handle(
    conn: MediaConn,
    cmd: MediaRequest,
    b: Record<string, unknown>,
    h: Partial<MediaHeader>,
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

  private login(conn: MediaConn, b: Record<string, unknown>, h: Partial<MediaHeader>): object {
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
    conn.appidEcho = h.appid as string | number;
    conn.idName = idName;
    conn.roomId = typeof b.roomid === 'string' ? b.roomid : '';
    conn.loggedIn = true;
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
    s.conn.sessions.delete(s.id);
    if (reason !== null) s.conn.push('CloseSessionPush', s.id, { reason, err_info: info });
    const key = `${s.conn.appid}:${s.streamId}`;
    if (s.type === 0 && this.publishers.get(key) === s) {
      this.publishers.delete(key);
      // Its players are on a feed that is gone: a publisher that may come back (grace) makes them play
      // again (reason 2, retried), a stopped one ends them (reason 4).
      if (notifyPlayers)
        for (const p of this.playersOf(key))
          this.closeSession(
            p,
            endInRoom === 'now' ? CloseReason.StreamEnded : CloseReason.MediaServerRestart,
            endInRoom === 'now' ? 'stream ended' : 'publisher reconnecting',
          );
      const { appid, roomId, idName } = s.conn;
      if (endInRoom === 'now' || this.disposed) this.room.endStream(appid, roomId, s.streamId, idName);
      else {
        // Lost without a stop (socket loss, media-server restart, retry): the publisher gets time to
        // publish again before viewers are told the stream ended; nobody else may take the id meanwhile.
        clearTimeout(this.pendingEnds.get(key)?.timer);
        const timer = setTimeout(() => {
          this.pendingEnds.delete(key);
          if (!this.publishers.has(key)) this.room.endStream(appid, roomId, s.streamId, idName);
        }, REPUBLISH_GRACE_MS);
        timer.unref();
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

  private connClosed(conn: MediaConn): void {
    if (conn.closed) return;
    conn.closed = true;
    this.conns.delete(conn);
    for (const s of [...conn.sessions.values()]) this.closeSession(s, null, '', 'grace');
  }

  private sweep(): void {
    const limit = Date.now() - this.config.media.heartbeatMs * HB_MISSES;
    for (const c of this.conns)
      if (c.sessions.size > 0 && c.lastSeen < limit) {
        c.ws.close(4002, 'media heartbeat timeout');
        this.connClosed(c);
      }
  }

  closeAll(): void {
    for (const c of [...this.conns]) {
      c.ws.close(1001, 'shutdown');
      this.connClosed(c);
    }
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.sweeper);
    this.closeAll();
    for (const e of this.pendingEnds.values()) clearTimeout(e.timer);
    this.pendingEnds.clear();
  }
}
