/**
 * Media orchestration behind `/media` (the URL our dispatch hands out): media sessions, who publishes
 * what, players and their publishers, and what each hears when something ends. The SFU is a MediaBackend
 * (JanusBackend; FakeBackend in unit tests); losses and their grace are Presence's.
 *
 * Publish: the client offers, the backend answers (MediaDescPush type 1). Play: with `negotiate_mode: 1`
 * the backend offers (MediaDescPush type 0) and the client answers (MediaDescReq type 1). A player that
 * offers (the original SDK, `negotiate_mode` 0) plays through the bridge when its app allows it
 * (bridge/BridgeService: the bridge answers, MediaDescPush type 1, then its candidates in a
 * CandidateInfoPush, which the original waits for); otherwise it gets CreateSessionRsp result 7 at once.
 *
 * When a publisher ends:
 * - it stopped (CloseSessionReq reason 0): the room hears 12002 first (Presence streamGone), then its
 *   players get CloseSessionPush reason 4 and end;
 * - its media was lost (socket, client retry, SFU loss): it gets the grace to publish again; players get
 *   reason 2 and retry; a player asking meanwhile hears NotYet (11), not "not found"; when the publisher
 *   is live again the room re-announces the stream (12001) so every viewer, pages included, plays again.
 * A media-server loss resets every session (SessionResetPush); once it is back every such socket hears
 * MediaReadyPush, so clients retry at once instead of waiting out their backoff. When one SFU of a pool
 * dies (the backend's `lost`), only the sessions on it are reset, and told to retry at once.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { CloseCode, ServerCode } from '../../protocol/errors';
import {
  CloseReason,
  MEDIA_ACKS,
  MEDIA_READY_PUSH,
  MEDIA_RESULT_MESSAGES,
  MediaResult,
  NOT_YET_RETRY_MS,
  PUBLISH_EVENT_PUSH,
  type IceFields,
  replyName,
  type MediaReplyMap,
  type MediaReqBody,
  type MediaRequest,
} from '../../protocol/media';
import { MEDIA_REQUESTS } from '../../protocol/mediaSchema';
import { validateMediaBody } from '../../protocol/validate';
import { proxyRefusal, type ProxyVerdict } from '../auth/proxyToken';
import { mayPublish, verifyRoomToken } from '../auth/roomToken';
import { checkStreamParams } from '../auth/streamToken';
import { systemClock, type Clock } from '../clock';
import { clientOfferPlayOf, type ResolvedConfig } from '../config';
import { newCounters, type FrameHeader } from '../gateway/FrameSocket';
import type { Presence, UserRef } from '../presence/Presence';
import { guarded, unref } from '../timers';
import { BridgeCallError } from './bridge/BridgeProcess';
import type { BridgeLeg, BridgeService } from './bridge/BridgeService';
import type { PublisherDirectory, PublisherDirectoryEvents } from '../LiveStreams';
import { Caps, capLimitsFrom, refusalText, type Lease } from '../caps/Caps';
import { MemoryCapCounters } from '../caps/CapCounters';
import type { LegMedia, MediaBackend, MediaLeg } from './MediaBackend';
import { MediaSocket } from './MediaSocket';
import { sdpCandidates } from './sdpCandidates';

/** What the media plane needs from the room plane (its state may be in Redis: answers may be promises). */
export interface RoomLink {
  /** The user is logged in to that room right now (on any node). */
  isMember(appid: number, roomId: string, idName: string): boolean | Promise<boolean>;
  /** When the user's live room session logged in (ms), if it is logged in to that room now. */
  memberSince(
    appid: number,
    roomId: string,
    idName: string,
  ): number | undefined | Promise<number | undefined>;
  /** The room lists the stream (announced; its media may not be live). */
  isListed(appid: number, roomId: string, streamId: string): boolean | Promise<boolean>;
  /** The publisher's media is live again after a loss: the room tells its viewers (12001). */
  streamBack(appid: number, roomId: string, streamId: string, idName: string): void;
}

/**
 * The ICE fields (TURN) of a media session of `idName`, whose page reached /media through `host` (through
 * the cloud proxy when `viaProxy`).
 */
export type IceProvider = (appid: number, idName: string, host: string, viaProxy: boolean) => IceFields;

const NO_ICE: IceFields = { turn_server: '', stun_server: '', turn_username: '', turn_auth_key: '' };

const MAX_SESSIONS_PER_SOCKET = 32;
const HB_MISSES = 5;
/** A player waits at most this for its publisher's media to be up, ms. */
const PUBLISHER_UP_WAIT_MS = 10_000;
const MEDIA_REQUEST_SET: ReadonlySet<string> = new Set(MEDIA_REQUESTS);
const MEDIA_ACK_SET: ReadonlySet<string> = new Set(MEDIA_ACKS);

/** A media header's session id: a safe integer or its decimal string; 0 otherwise. */
function sessionIdOf(v: FrameHeader['session_id']): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : 0;
  return typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : 0;
}

class MediaError extends Error {
  constructor(
    readonly result: number,
    message?: string,
    readonly extra: object = {},
    /** What to do once the error reply is sent. */
    readonly after?: () => void,
  ) {
    super(message ?? MEDIA_RESULT_MESSAGES[result] ?? 'error');
  }
}

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      // Unref'd: a wait still pending when the server closes must not hold the process.
      t = unref(setTimeout(() => reject(new MediaError(MediaResult.MediaServer, `${what} timed out`)), ms));
    }),
  ]);
}

/** How a session ends: the client stopped it; its media was lost; its owner published anew; a reset. */
type EndHow = 'stop' | 'lost' | 'replaced' | 'reset';

interface Session {
  id: number;
  type: 0 | 1;
  streamId: string;
  conn: Conn;
  /** The backend leg (opened at CreateSessionReq). */
  leg: Promise<MediaLeg>;
  /** The leg once opened (publishers: what live production forwards). */
  openLeg?: MediaLeg;
  /** Publisher: its media is up (the backend's webrtcup) and players may subscribe. */
  live: boolean;
  closed: boolean;
  /** Its place under the per-user and per-app session (and publisher) caps. */
  lease: Lease;
  camera: number;
  mic: number;
  /** A player that offers, played through the bridge (its leg is this one). */
  bridged?: BridgeLeg;
}

type Conn = MediaSocket<Session>;

interface Reply {
  body: object;
  sessionId?: number;
  after?: () => void;
}

type MediaHandler<K extends MediaRequest> = (
  conn: Conn,
  b: MediaReqBody<K>,
  sessionId: number,
) => Reply | Promise<Reply>;

const userOf = (c: Conn): UserRef => ({ appid: c.appid, roomId: c.roomId, idName: c.idName });

export class MediaService implements PublisherDirectory {
  private readonly conns = new Set<Conn>();
  /** `${appid}:${streamId}` -> the publishing session. */
  private readonly publishers = new Map<string, Session>();
  /** `${appid}:${streamId}` -> a mix output players subscribe to (no session of its own). */
  private readonly virtual = new Map<string, { roomId: string; leg: MediaLeg }>();
  /** Publishers up and down, for live production (mix inputs, relays). */
  private readonly events = new EventEmitter<PublisherDirectoryEvents>();
  readonly on = this.events.on.bind(this.events) as PublisherDirectory['on'];
  readonly off = this.events.off.bind(this.events) as PublisherDirectory['off'];
  private nextSession = 1;
  private disposed = false;
  private sweepTimer: unknown = null;
  /** Socket counters of the media plane (health details). */
  readonly counters = newCounters();
  private readonly handlers: { [K in MediaRequest]: MediaHandler<K> };
  /** Each logged-in socket's place under the socket caps. */
  private readonly socketLeases = new Map<Conn, Lease>();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly backend: MediaBackend | null,
    private readonly room: RoomLink,
    private readonly presence: Presence,
    private readonly clock: Clock = systemClock,
    private readonly ice: IceProvider = () => NO_ICE,
    /** The client-offer play path (null: offering players get result 7). */
    private readonly bridge: BridgeService | null = null,
    /** Per-user and per-app caps, shared with the room plane. */
    private readonly caps: Caps = new Caps(new MemoryCapCounters(), capLimitsFrom(config)),
  ) {
    const sweep = guarded(log, 'media sweep', () => this.sweep());
    const every = Math.max(500, Math.min(config.media.heartbeatMs, config.media.idleTimeoutMs) / 2);
    const tick = () => {
      sweep();
      if (!this.disposed) this.sweepTimer = clock.setTimeout(tick, every);
    };
    this.sweepTimer = clock.setTimeout(tick, every);
    backend?.on(
      'down',
      guarded(log, 'media reset after a backend loss', () => this.resetAll()),
    );
    // The worker died: its players play again by the legacy retry (CloseSessionPush reason 10: state 2, then 0).
    bridge?.on(
      'down',
      guarded(log, 'bridged players after a bridge loss', () => this.bridgeLost()),
    );
    backend?.on(
      'up',
      guarded(log, 'media ready after a backend loss', () => this.mediaReady()),
    );
    // One SFU of a pool died: its sessions are reset, and retry at once (after the reset pushes left).
    backend?.on(
      'lost',
      guarded(log, 'media reset after an SFU loss', (isDead: (leg: MediaLeg) => boolean) => {
        this.resetWhere(isDead);
        unref(
          setTimeout(
            guarded(log, 'media ready after an SFU loss', () => this.mediaReady()),
            0,
          ),
        );
      }),
    );
    this.handlers = {
      LoginReq: async (c, b) => ({ body: await this.login(c, b) }),
      ClientHBReq: () => ({ body: { hb_interval: this.config.media.heartbeatMs } }),
      QualityReportReq: () => ({ body: {} }),
      CreateSessionReq: (c, b) => this.createSession(c, b),
      MediaDescReq: (c, b, id) => this.mediaDesc(this.session(c, id), b),
      CandidateInfoReq: (c, b, id) => {
        const s = this.session(c, id);
        return { body: {}, after: () => void this.candidates(s, b.infos) };
      },
      // reason 0 = the page stopped; otherwise the client tears down to retry: keep the room stream.
      CloseSessionReq: (c, b, id) => {
        const s = this.session(c, id);
        return {
          body: {},
          after: () => this.closeSession(s, null, '', (b.reason ?? 0) === 0 ? 'stop' : 'lost'),
        };
      },
      StreamStatusNotify: (c, b, id) => {
        const s = this.session(c, id);
        s.camera = b.camera_status ?? s.camera;
        s.mic = b.mic_status ?? s.mic;
        return { body: {}, after: () => this.notifyStatus(s) };
      },
    };
  }

  stats(): object {
    let sessions = 0;
    for (const c of this.conns) sessions += c.sessions.size;
    return {
      sockets: this.conns.size,
      sessions,
      publishers: this.publishers.size,
      mixOutputs: this.virtual.size,
      inGrace: this.presence.inGrace,
      mediaSockets: this.counters,
    };
  }

  /**
   * A new /media socket; `host` is the Host header it was opened with, `proxy` the verdict on its proxy
   * token when it came through the cloud proxy.
   */
  attach(ws: WebSocket, host = '', proxy?: ProxyVerdict): Conn {
    const conn = new MediaSocket<Session>(ws, this, this.config, this.log, this.counters);
    conn.host = host;
    conn.proxy = proxy;
    this.conns.add(conn);
    return conn;
  }

  /** A shape-checked frame from a media socket (the socket base catches and answers whatever throws here). */
  async onFrame(conn: Conn, h: FrameHeader, rawBody: unknown): Promise<void> {
    const { cmd, seq } = h;
    if (MEDIA_ACK_SET.has(cmd)) return; // acknowledgements need nothing
    if (!MEDIA_REQUEST_SET.has(cmd)) {
      if (!conn.strike())
        conn.send('ErrorRsp', seq, 0, { result: MediaResult.BadRequest, err_info: `unknown cmd ${cmd}` });
      return;
    }
    const req = cmd as MediaRequest;
    const sessionId = sessionIdOf(h.session_id);
    // A request before login is a protocol error (no SDK sends one); a body its schema refuses is only
    // answered: an odd value a page passed through the API must not cost the page its socket.
    if (req !== 'LoginReq' && !conn.loggedIn) {
      if (conn.strike()) return;
      conn.send(replyName(req), seq, sessionId, {
        result: MediaResult.NotLoggedIn,
        err_info: MEDIA_RESULT_MESSAGES[MediaResult.NotLoggedIn],
      });
      return;
    }
    const invalid = validateMediaBody(req, rawBody);
    if (invalid) {
      conn.send(replyName(req), seq, sessionId, {
        result: MediaResult.BadRequest,
        err_info: invalid.message,
      });
      return;
    }
    try {
      if (req === 'LoginReq') this.loginHeader(conn, h);
      // The schema admitted the body for this request (validateMediaBody above).
      const handler = this.handlers[req] as MediaHandler<MediaRequest>;
      const reply = await handler(conn, rawBody as MediaReqBody<MediaRequest>, sessionId);
      conn.send(replyName(req), seq, reply.sessionId ?? sessionId, { result: MediaResult.Ok, ...reply.body });
      reply.after?.();
    } catch (e) {
      const known = e instanceof MediaError;
      if (!known)
        this.log.error({ err: (e as Error).stack, cmd, idName: conn.idName }, 'media handler failed');
      conn.send(replyName(req), seq, sessionId, {
        result: known ? e.result : MediaResult.MediaServer,
        err_info: (e as Error).message,
        ...(known ? e.extra : {}),
      });
      if (known) e.after?.();
    }
  }

  private session(conn: Conn, id: number): Session {
    const s = conn.sessions.get(id);
    if (!s) throw new MediaError(MediaResult.NoSession);
    return s;
  }

  /** The LoginReq header carries who logs in (appid, user_id = idName). */
  private loginHeader(conn: Conn, h: FrameHeader): void {
    if (conn.loggedIn) throw new MediaError(MediaResult.BadRequest, 'already logged in');
    const appid = Number(h.appid);
    const idName = typeof h.user_id === 'string' ? h.user_id : '';
    if (!Number.isInteger(appid) || appid <= 0 || !idName)
      throw new MediaError(MediaResult.BadRequest, 'header appid and user_id (idName) are required');
    conn.appid = appid;
    conn.appidEcho = h.appid ?? appid;
    conn.idName = idName;
  }

  private async login(conn: Conn, b: MediaReqBody<'LoginReq'>): Promise<MediaReplyMap['LoginReq'] | object> {
    const roomId = b.roomid ?? null;
    // The media plane trusts the live room session: the token is checked as of that session's login, so
    // a page logged in longer than its token's lifetime still publishes and plays (the room would have
    // ended a session it no longer trusts).
    const refused = conn.proxy && proxyRefusal(conn.proxy, conn.appid);
    if (refused) throw new MediaError(MediaResult.TokenError, refused.message);
    const since = roomId === null ? undefined : await this.room.memberSince(conn.appid, roomId, conn.idName);
    const verdict = verifyRoomToken({
      config: this.config,
      appid: conn.appid,
      idName: conn.idName,
      roomId,
      token: b.token,
      now: since,
    });
    if (verdict.code !== ServerCode.OK)
      throw new MediaError(
        MediaResult.TokenError,
        verdict.code === ServerCode.TokenError ? `token error: ${verdict.message}` : verdict.message,
      );
    // One place under the socket caps, shared with the room plane (a user's room and media sockets).
    const claim = await this.caps.socket(conn.appid, conn.idName);
    if ('refused' in claim) throw new MediaError(MediaResult.Limited, refusalText(claim.refused));
    if (conn.isClosed || this.socketLeases.has(conn)) {
      claim.lease.release();
      throw new MediaError(MediaResult.BadRequest, 'already logged in or closed');
    }
    this.socketLeases.set(conn, claim.lease);
    conn.privileges = verdict.privileges;
    conn.roomId = roomId ?? '';
    conn.loginDone({ appid: conn.appid, room: conn.roomId, user: conn.idName });
    return { hb_interval: this.config.media.heartbeatMs, report: false, report_interval_ms: 30_000 };
  }

  private backendUp(): MediaBackend {
    if (!this.backend || !this.backend.up) throw new MediaError(MediaResult.MediaServer);
    return this.backend;
  }

  private async createSession(conn: Conn, b: MediaReqBody<'CreateSessionReq'>): Promise<Reply> {
    const { type, stream_id: streamId } = b;
    if (conn.sessions.size >= MAX_SESSIONS_PER_SOCKET)
      throw new MediaError(MediaResult.Limited, `at most ${MAX_SESSIONS_PER_SOCKET} sessions per socket`);
    if (!conn.roomId || !(await this.room.isMember(conn.appid, conn.roomId, conn.idName)))
      throw new MediaError(MediaResult.NotLoggedIn, 'log in to the room first (LoginReq roomid)');
    const app = this.config.apps.find((a) => a.appid === conn.appid);
    if (app?.streamAuth) {
      const why = checkStreamParams({
        appid: conn.appid,
        appSign: app.appSign,
        streamId,
        params: b.strAuthParam ?? '',
        maxLifetimeS: this.config.auth.maxTokenLifetimeS,
      });
      if (why) throw new MediaError(MediaResult.StreamAuth, why);
    }
    if (type === 0 && !mayPublish(conn, streamId))
      throw new MediaError(MediaResult.StreamAuth, 'the login token does not allow publishing this stream');
    const offers = type === 1 && b.negotiate_mode !== 1;
    if (offers && (!this.bridge || !clientOfferPlayOf(this.config, conn.appid)))
      throw new MediaError(MediaResult.OfferNotSupported);
    const backend = this.backendUp();
    const key = `${conn.appid}:${streamId}`;
    if (type === 0) {
      const existing = this.publishers.get(key);
      const owner = existing?.conn.idName ?? this.presence.lostStreamOwner(conn.appid, streamId)?.idName;
      // Another user may not take the id, neither while it is live nor during its owner's grace.
      if ((owner !== undefined && owner !== conn.idName) || this.virtual.has(key))
        throw new MediaError(MediaResult.StreamExists);
      if (existing) this.closeSession(existing, CloseReason.Normal, 'republished', 'replaced');
    } else {
      const pub = this.publishers.get(key);
      const virt = this.virtual.get(key);
      if (virt && app && !app.crossRoomPlay && virt.roomId !== conn.roomId)
        throw new MediaError(MediaResult.StreamNotFound, 'stream not found in this room');
      if (!pub && !virt) {
        // Listed, or coming back within its grace: not an error, ask again shortly.
        if (
          this.presence.lostStreamOwner(conn.appid, streamId) ||
          (await this.room.isListed(conn.appid, conn.roomId, streamId))
        )
          throw new MediaError(MediaResult.NotYet, undefined, { retry_after_ms: NOT_YET_RETRY_MS });
        throw new MediaError(MediaResult.StreamNotFound);
      }
      // Stream ids are app-wide; an app may keep its rooms apart (legacy default: co-hosts across rooms).
      if (pub && app && !app.crossRoomPlay && pub.conn.roomId !== conn.roomId)
        throw new MediaError(MediaResult.StreamNotFound, 'stream not found in this room');
    }
    // Per user and per app across every media socket (and node, with shared counters).
    const claim = await this.caps.session(conn.appid, conn.idName, type === 0);
    if ('refused' in claim) throw new MediaError(MediaResult.Limited, refusalText(claim.refused));
    // The claim may have waited: go on only in the state checked above.
    const raced =
      conn.isClosed ||
      conn.sessions.size >= MAX_SESSIONS_PER_SOCKET ||
      (type === 0 && this.publishers.has(key));
    if (raced) {
      claim.lease.release();
      throw new MediaError(conn.isClosed ? MediaResult.NoSession : MediaResult.Limited, 'try again');
    }
    let bridged: BridgeLeg | undefined;
    if (offers)
      try {
        bridged = this.bridge!.openLeg(`${conn.appid}:${conn.idName}`);
      } catch (e) {
        claim.lease.release();
        throw new MediaError(MediaResult.Limited, (e as Error).message);
      }
    const s: Session = {
      id: this.nextSession++,
      type,
      streamId,
      conn,
      leg: bridged ? Promise.resolve(bridged) : backend.openLeg(),
      live: false,
      closed: false,
      lease: claim.lease,
      camera: 0,
      mic: 0,
      bridged,
    };
    // The bridge lost this player (its connection failed, its feed or the worker died): play again.
    void bridged?.lost.then(
      guarded(this.log, 'bridged player lost', (why: string) =>
        this.closeSession(s, CloseReason.MediaServerRestart, why, 'lost'),
      ),
    );
    // A leg that opens after its session ended is given back at once.
    s.leg.then(
      (leg) => {
        s.openLeg = leg;
        if (s.closed) void leg.close();
      },
      (e: Error) => this.log.debug({ err: e.message, session: s.id }, 'media leg not opened'),
    );
    conn.sessions.set(s.id, s);
    if (type === 0) this.publishers.set(key, s);
    const body = {
      session_id: s.id,
      session_token: '',
      ...this.ice(conn.appid, conn.idName, conn.host, !!conn.proxy),
    };
    const serverOffers = type === 1 && !bridged;
    return { body, sessionId: s.id, after: serverOffers ? () => void this.offerToPlayer(s) : undefined };
  }

  private async mediaDesc(s: Session, b: MediaReqBody<'MediaDescReq'>): Promise<Reply> {
    this.backendUp();
    if (s.bridged) return this.bridgedOffer(s, s.bridged, b);
    const leg = await s.leg;
    if (s.type === 1) {
      if (b.type !== 1) throw new MediaError(MediaResult.BadRequest, 'a player answers (type 1)');
      await leg.answer(b.sdp);
      return { body: {} };
    }
    if (b.type !== 0) throw new MediaError(MediaResult.BadRequest, 'a publisher sends an offer (type 0)');
    const answer = await leg.publish(`${s.conn.appid}:${s.conn.roomId}`, s.streamId, b.sdp);
    if (s.closed) throw new MediaError(MediaResult.NoSession, 'session closed');
    void leg.up.then(
      guarded(this.log, 'publisher up', () => this.publisherUp(s)),
      (e: Error) => this.log.debug({ err: e.message }, 'publisher never up'),
    );
    return {
      body: {},
      after: () => {
        s.conn.push('MediaDescPush', s.id, { type: 1, sdp: answer });
        // The original SDK sends its own candidates only once it has the server's (else
        // ZegoPublish.Timeout.ServerCandidate after 5 s): the answer's candidates, pushed too.
        s.conn.push('CandidateInfoPush', s.id, { infos: sdpCandidates(answer) });
      },
    };
  }

  /** A publisher's media is up: players may subscribe; after a loss, the room re-announces it. */
  private publisherUp(s: Session): void {
    if (s.closed || this.publishers.get(`${s.conn.appid}:${s.streamId}`) !== s) return;
    s.live = true;
    const user = userOf(s.conn);
    const wasLost = this.presence.lostStreamOwner(user.appid, s.streamId) !== undefined;
    this.presence.streamUp(user, s.streamId);
    if (wasLost) this.room.streamBack(user.appid, user.roomId, s.streamId, user.idName);
    // The original SDK's onPublishStateUpdate(0) waits for this (ICE connected is not enough).
    s.conn.push(PUBLISH_EVENT_PUSH, s.id, { event: 0, stream_id: s.streamId });
    this.log.debug({ session: s.id, stream: s.streamId }, 'publisher live');
    if (s.openLeg) this.events.emit('publisherUp', user.appid, s.streamId, s.openLeg);
  }

  private async offerToPlayer(s: Session): Promise<void> {
    try {
      const key = `${s.conn.appid}:${s.streamId}`;
      const virt = this.virtual.get(key);
      if (virt) {
        const offer = await (await s.leg).subscribe(virt.leg);
        if (!s.closed) s.conn.push('MediaDescPush', s.id, { type: 0, sdp: offer });
        return;
      }
      const pub = this.publishers.get(key);
      if (!pub) throw new MediaError(MediaResult.StreamNotFound);
      // The SFU lists a publisher only once its PeerConnection is up: a viewer that asks right after the
      // stream was announced waits for that (bounded).
      const pubLeg = await pub.leg;
      await bounded(pubLeg.up, PUBLISHER_UP_WAIT_MS, 'publisher media');
      const leg = await s.leg;
      const offer = await leg.subscribe(pubLeg);
      if (s.closed) return;
      s.conn.push('MediaDescPush', s.id, { type: 0, sdp: offer });
      // A player joining a publisher whose camera or microphone is off learns it at once.
      if (pub.camera !== 0 || pub.mic !== 0)
        s.conn.push('StreamStatusNotifyPush', s.id, {
          stream_id: pub.streamId,
          camera_status: pub.camera,
          mic_status: pub.mic,
        });
      // The player is up: ask its publisher for a keyframe now, so the first frame does not wait for the
      // next one (the SFU's own PLI at subscribe time can come before the player can decrypt it).
      void leg.up.then(() => this.requestKeyframe(pub));
    } catch (e) {
      this.closeSession(s, CloseReason.Error, (e as Error).message);
    }
  }

  /**
   * An offering player's offer: the bridge answers it (one shared Janus subscription per publisher). The
   * answer goes out as MediaDescPush type 1, then the bridge's candidates as CandidateInfoPush: the
   * original SDK sends its own candidates only once it has received some (and gives up after 5 s).
   * An offer the bridge cannot serve (no codec in common, not an SDP) ends the session with a clear
   * error and no retry; a bridge failure has the page play again.
   */
  private async bridgedOffer(s: Session, leg: BridgeLeg, b: MediaReqBody<'MediaDescReq'>): Promise<Reply> {
    if (b.type !== 0)
      throw new MediaError(MediaResult.BadRequest, 'a player that offers sends its offer (type 0)');
    const pub = this.publishers.get(`${s.conn.appid}:${s.streamId}`);
    if (!pub) throw new MediaError(MediaResult.StreamNotFound);
    const pubLeg = await pub.leg;
    await bounded(pubLeg.up, PUBLISHER_UP_WAIT_MS, 'publisher media');
    let r: Awaited<ReturnType<BridgeLeg['offerTo']>>;
    try {
      r = await leg.offerTo(pubLeg, b.sdp);
    } catch (e) {
      const code = e instanceof BridgeCallError ? e.code : 'internal';
      const message = (e as Error).message;
      const permanent = code === 'codec' || code === 'sdp' || code === 'bad';
      const result =
        code === 'codec'
          ? MediaResult.NoCommonCodec
          : permanent
            ? MediaResult.BadRequest
            : code === 'limit'
              ? MediaResult.Limited
              : MediaResult.MediaServer;
      this.log.info({ session: s.id, stream: s.streamId, code, err: message }, 'bridged play refused');
      throw new MediaError(result, message, {}, () =>
        this.closeSession(s, permanent ? CloseReason.Error : CloseReason.MediaServerRestart, message, 'lost'),
      );
    }
    if (s.closed) throw new MediaError(MediaResult.NoSession, 'session closed');
    void leg.up.then(() => this.requestKeyframe(pub));
    return {
      body: {},
      after: () => {
        s.conn.push('MediaDescPush', s.id, { type: 1, sdp: r.answer });
        s.conn.push('CandidateInfoPush', s.id, { infos: r.candidates });
        if (pub.camera !== 0 || pub.mic !== 0)
          s.conn.push('StreamStatusNotifyPush', s.id, {
            stream_id: pub.streamId,
            camera_status: pub.camera,
            mic_status: pub.mic,
          });
      },
    };
  }

  private async requestKeyframe(pub: Session): Promise<void> {
    if (pub.closed) return;
    try {
      await (await pub.leg).requestKeyframe();
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'keyframe request failed');
    }
  }

  private async candidates(s: Session, infos: MediaReqBody<'CandidateInfoReq'>['infos']): Promise<void> {
    try {
      const leg = await s.leg;
      // The SFU decides which of these it can use (Janus's ice_enforce_list).
      for (const c of infos) await leg.trickle(c.candidate ? c : null);
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
   * Ends a session: frees its leg; what its stream's room and players hear depends on `how` (file
   * header). With a reason, the client itself is told (CloseSessionPush); null = the client asked.
   */
  private closeSession(s: Session, reason: number | null, info = '', how: EndHow = 'stop'): void {
    if (s.closed) return;
    s.closed = true;
    s.lease.release();
    s.conn.removeSession(s.id);
    if (reason !== null) this.tellClosed(s, reason, info);
    const key = `${s.conn.appid}:${s.streamId}`;
    // Shutting down: every socket is being closed 4005 (reconnect now); nothing else to tell anyone.
    if (this.disposed) {
      this.publishers.delete(key);
      this.releaseLeg(s);
      return;
    }
    if (s.type === 0 && this.publishers.get(key) === s) {
      this.publishers.delete(key);
      this.events.emit('publisherDown', s.conn.appid, s.streamId);
      const user = userOf(s.conn);
      const stopped = how === 'stop';
      // A stopped stream leaves the room first (Presence -> the room's 12002), so its viewers hear the
      // deletion before their media is closed, as pages of the original service did.
      this.presence.streamDown(user, s.streamId, stopped);
      // Its players are on a feed that is gone: a stopped one ends them (reason 4), one that may come
      // back makes them play again (reason 2, retried). A reset tells everyone itself.
      if (how !== 'reset')
        for (const p of this.playersOf(key))
          this.closeSession(
            p,
            stopped ? CloseReason.StreamEnded : CloseReason.MediaServerRestart,
            stopped ? 'stream ended' : 'publisher reconnecting',
          );
    }
    this.releaseLeg(s);
  }

  /**
   * Tells a client its session ended. The original SDK (the bridged players) reads CloseSessionPush
   * differently from the shim: it JSON-parses `err_info`, and it plays again only for reasons 4, 8,
   * 10-12, 14, 24, 26-28 (jZego-rtc 1.12.5 onRecvCloseSession; any other reason is final, state 1). Its
   * SessionResetPush handler throws for a player (TryStreamHandler.retryNextSignal reads "reason:N" from
   * a message that has none), so a bridged player is never reset that way: one that should play again
   * gets CloseSessionPush reason 10 (CloseReason.PlayAgain), an error gets its reason, both with JSON.
   */
  private tellClosed(s: Session, reason: number, info: string): void {
    if (!s.bridged) return void s.conn.push('CloseSessionPush', s.id, { reason, err_info: info });
    const again = reason === CloseReason.MediaServerRestart;
    s.conn.push('CloseSessionPush', s.id, {
      reason: again ? CloseReason.PlayAgain : reason,
      err_info: JSON.stringify({ message: info }),
    });
  }

  /** The bridge worker died: every bridged player plays again (the worker restarts at once). */
  private bridgeLost(): void {
    for (const c of this.conns)
      for (const s of [...c.sessions.values()])
        if (s.bridged) this.closeSession(s, CloseReason.MediaServerRestart, 'the bridge restarted', 'lost');
  }

  /** Frees a session's leg (a leg that never opened was logged when it failed: nothing to free). */
  private releaseLeg(s: Session): void {
    s.leg.then(
      (leg) => leg.close(),
      () => undefined,
    );
  }

  private playersOf(key: string): Session[] {
    const out: Session[] = [];
    for (const c of this.conns)
      for (const p of c.sessions.values())
        if (p.type === 1 && `${c.appid}:${p.streamId}` === key) out.push(p);
    return out;
  }

  liveLeg(appid: number, streamId: string): MediaLeg | undefined {
    const s = this.publishers.get(`${appid}:${streamId}`);
    return s?.live && !s.closed ? s.openLeg : undefined;
  }

  mediaOf(appid: number, streamId: string): LegMedia | undefined {
    return this.publishers.get(`${appid}:${streamId}`)?.openLeg?.media;
  }

  roomOf(appid: number, streamId: string): string | undefined {
    return this.publishers.get(`${appid}:${streamId}`)?.conn.roomId;
  }

  addVirtualPublisher(appid: number, roomId: string, streamId: string, leg: MediaLeg): void {
    this.virtual.set(`${appid}:${streamId}`, { roomId, leg });
  }

  /** A mix output ended: its players end as on a stopped stream (reason 4). */
  removeVirtualPublisher(appid: number, streamId: string): void {
    const key = `${appid}:${streamId}`;
    if (!this.virtual.delete(key)) return;
    for (const p of this.playersOf(key)) this.closeSession(p, CloseReason.StreamEnded, 'stream ended');
  }

  /**
   * The operator ends a stream (admin API): its publisher's session is closed as an error its page hears
   * (CloseSessionPush reason 1: onPublishStateUpdate(1), no retry), and the stream ends as a stopped one
   * (the room's 12002 first, then its players, reason 4). Its room, or null when nobody publishes it here.
   */
  endPublisher(appid: number, streamId: string): string | null {
    const s = this.publishers.get(`${appid}:${streamId}`);
    if (!s || s.closed) return null;
    this.closeSession(s, CloseReason.Error, 'ended by the operator', 'stop');
    return s.conn.roomId;
  }

  /** A user left its room for good (Presence userGone): its media sessions end too. */
  userGone(u: UserRef): void {
    for (const c of this.conns)
      if (c.appid === u.appid && c.idName === u.idName && c.roomId === u.roomId)
        for (const s of [...c.sessions.values()]) this.closeSession(s, CloseReason.RoomLeft, 'left the room');
  }

  /** The backend lost everything: sessions end (publishers keep their grace), clients are told to start again. */
  private resetAll(): void {
    this.resetWhere(() => true);
  }

  /**
   * The sessions on dead legs end (publishers keep their grace) and their clients are told to start again.
   * A bridged player's own leg is the bridge's: it is on a dead SFU when its publisher is.
   */
  private resetWhere(isDead: (leg: MediaLeg) => boolean): void {
    const onDead = (s: Session): boolean => {
      const leg = s.bridged ? this.publishers.get(`${s.conn.appid}:${s.streamId}`)?.openLeg : s.openLeg;
      return leg ? isDead(leg) : true; // a leg still opening, a bridged player whose publisher is gone
    };
    for (const c of this.conns) {
      const dead = [...c.sessions.values()].filter(onDead);
      // Bridged players (the original SDK) are told one by one, in a way it retries (tellClosed).
      for (const s of dead)
        if (s.bridged)
          this.closeSession(s, CloseReason.MediaServerRestart, 'media server restarted', 'reset');
      const rest = dead.filter((s) => !s.bridged);
      if (!rest.length) continue;
      for (const s of rest) this.closeSession(s, null, '', 'reset');
      c.resetPending = true;
      c.push('SessionResetPush', 0, { cResetType: 1, session_ids: rest.map((s) => s.id) });
    }
  }

  /** The backend is back: sockets whose sessions were reset retry now. */
  private mediaReady(): void {
    for (const c of this.conns)
      if (c.resetPending) {
        c.resetPending = false;
        c.push(MEDIA_READY_PUSH, 0, {});
      }
  }

  /** A media socket is gone: its sessions end; publishers keep a grace to come back. */
  connClosed(conn: Conn): void {
    this.socketLeases.get(conn)?.release();
    this.socketLeases.delete(conn);
    if (!this.conns.delete(conn)) return;
    for (const s of [...conn.sessions.values()]) this.closeSession(s, null, '', 'lost');
  }

  /** Heartbeat expiry (sockets with sessions) and the idle reaper (logged-in sockets without any). */
  private sweep(): void {
    // Socket activity is stamped on the wall clock (FrameSocket), so the sweep reads the same clock.
    const now = Date.now();
    const limit = now - this.config.media.heartbeatMs * HB_MISSES;
    for (const c of [...this.conns]) {
      if (c.sessions.size > 0 && c.lastSeen < limit)
        c.close(CloseCode.HeartbeatTimeout, 'media heartbeat timeout');
      else if (c.loggedIn && c.sessions.size === 0 && now - c.idleSince > this.config.media.idleTimeoutMs)
        c.close(CloseCode.Idle, 'no session');
    }
  }

  /** Closes every socket with `code` (shutdown: clients reconnect elsewhere or to the restarted server). */
  closeAll(code: number = CloseCode.Shutdown, reason = 'shutdown'): void {
    for (const c of [...this.conns]) c.close(code, reason);
  }

  dispose(code: number = CloseCode.Shutdown): void {
    this.disposed = true;
    this.clock.clearTimeout(this.sweepTimer);
    this.closeAll(code);
  }
}
