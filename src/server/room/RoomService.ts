/**
 * The room plane: rooms by (appid, room id), login, heartbeat expiry, and the handler for every command
 * of the legacy room protocol. Connections come from the gateway; state lives in Room.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  HEARTBEAT_MISSES,
  MAX_CUSTOM_MSG_BYTES,
  MAX_ID_BYTES,
  MAX_TRANS_TYPE_BYTES,
  MAX_TRANS_TYPES_PER_ROOM,
  USER_LIST_PAGE,
  utf8Length,
} from '../../protocol/constants';
import { CloseCode, ServerCode } from '../../protocol/errors';
import {
  PUSH_SIGNAL_OFFSET,
  StreamPushCmd,
  StreamSubCmd,
  type RoomReqBody,
  type WireStream,
} from '../../protocol/room';
import { BIZ_BODY_SCHEMAS } from '../../protocol/bizSchema';
import { LiveError, type Caller, type LiveStreams, type RoomStreams, type StreamUrls } from '../LiveStreams';
import { proxyRefusal } from '../auth/proxyToken';
import { mayPublish, verifyRoomToken } from '../auth/roomToken';
import { checkThirdToken } from '../auth/thirdToken';
import { postJson } from '../httpPost';
import { Caps, capLimitsFrom, refusalText, type Lease } from '../caps/Caps';
import { MemoryCapCounters } from '../caps/CapCounters';
import { CallLimiter, CallsBusy, callBoundsFrom, type CallKeys } from '../outbound/CallLimiter';
import type { ResolvedConfig } from '../config';
import { HandlerError, type Connection, type HandlerReply, type HandlerTable } from '../gateway/Connection';
import { newCounters } from '../gateway/FrameSocket';
import type { Presence, UserRef } from '../presence/Presence';
import { MemoryBus } from './Bus';
import type { Member, Room } from './Room';
import type { LeaveReason, RoomEvents } from './RoomEvents';
import { MemoryRoomStore, type RoomStore } from './RoomStore';
import { guarded, unref } from '../timers';

/** What startServer (or a test) may put in place of the defaults. */
export interface RoomSeams {
  /** The rooms (a store that reports every stream it removes to the service, see MemoryRoomStore). */
  store?: RoomStore;
  calls?: CallLimiter;
  caps?: Caps;
}

/** A room socket: the gateway's connection speaking for one of our members. */
export type RoomConn = Connection<Member>;

function parseJson(s: string, field: string): Record<string, unknown> {
  try {
    const v = JSON.parse(s) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new HandlerError(ServerCode.InvalidBody, `${field} must be a JSON object string`);
}

/** client_log line levels (the shim's: 1.12.5's ENUM_LOG_LEVEL). */
const CLIENT_LOG_LEVELS = ['debug', 'info', 'warn', 'error'];

const NO_URLS: StreamUrls = {
  urls_flv: [],
  urls_m3u8: [],
  urls_rtmp: [],
  urls_https_flv: [],
  urls_https_m3u8: [],
};

export class RoomService implements RoomStreams {
  /** Mixing and CDN relay (biz_channel, stream URLs); null = off (no media plane). Set once by index.ts. */
  live: LiveStreams | null = null;
  /** Told of rooms, users and streams coming and going (webhooks); null = nobody. Set once by index.ts. */
  events: RoomEvents | null = null;
  /** Why a socket's user is leaving, when the plane itself ends it (else: logout or connection lost). */
  private readonly leaving = new WeakMap<RoomConn, LeaveReason>();
  /** The rooms (RoomStore: memory on one node). */
  readonly rooms: RoomStore;
  private readonly conns = new Set<RoomConn>();
  private readonly byMember = new Map<Member, RoomConn>();
  private lastChat = new WeakMap<RoomConn, number>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  readonly handlers: HandlerTable<Member>;
  /** Socket counters of the room plane (health details). */
  readonly counters = newCounters();
  /** Calls to the apps' business servers in flight (shared with every plane that calls them). */
  readonly calls: CallLimiter;
  /** Per-user and per-app caps (shared with the media plane). */
  readonly caps: Caps;
  /** Each logged-in socket's place under the socket caps. */
  private readonly socketLeases = new Map<RoomConn, Lease>();
  /** Each listed stream's place under the stream caps, by `${appid}\0${streamId}` (ids are unique per app). */
  private readonly streamLeases = new Map<string, Lease>();
  /** Stream ids are unique per app: `${appid}\0${streamId}` -> the key of the room that lists it. */

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly presence: Presence,
    /** The media signalling URL handed to a room socket by dispatch ('' = no media plane now). */
    private readonly mediaUrl: (c: RoomConn) => string = () => '',
    seams: RoomSeams = {},
  ) {
    this.calls = seams.calls ?? new CallLimiter(callBoundsFrom(config.limits));
    this.caps = seams.caps ?? new Caps(new MemoryCapCounters(), capLimitsFrom(config));
    this.rooms =
      seams.store ??
      new MemoryRoomStore(config.room, new MemoryBus(), (appid, id) => this.streamRemoved(appid, id));
    this.sweeper = unref(
      setInterval(
        guarded(log, 'room sweep', () => this.sweep()),
        Math.max(50, Math.floor(config.room.heartbeatMs / 2)),
      ),
    );
    this.handlers = {
      login: (c, b) => this.login(c, b),
      logout: (c) => {
        c.loggedOut = true;
        this.leaving.set(c, 'logout');
        setTimeout(() => c.close(CloseCode.Normal, 'logout'), 0);
        return {};
      },
      hb: (c) => this.hb(c),
      stream: (c, b) => this.stream(c, b),
      stream_info: (c) => {
        const room = this.roomOf(c);
        return { stream_seq: room.streamSeq, stream_info: room.streamList() };
      },
      user_list: (c, b) => this.userList(c, b),
      custommsg: (c, b) => this.custommsg(c, b),
      im_chat: (c, b) => this.imChat(c, b),
      trans: (c, b) => this.trans(c, b),
      trans_fetch: (c, b) => {
        const room = this.roomOf(c);
        const type = b.trans_type;
        const e = room.trans.get(type);
        return {
          trans_type: type,
          trans_seq: e ? e.seq : 0,
          trans_data: e ? e.data : '',
          trans_user_idname: e ? e.idName : '',
          trans_user_nickname: e ? e.nickName : '',
        };
      },
      relay: (c, b) => this.relay(c, b),
      bigim_chat: (c, b) => this.bigim(c, b),
      signal: (c, b) => this.signal(c, b),
      webrtc_url: (c, b) => this.dispatch(c, b),
      client_log: (c, b) => this.clientLog(c, b),
      biz_channel: (c, b) => this.biz(c, b),
    };
  }

  attach(conn: RoomConn): void {
    this.conns.add(conn);
  }

  stats(): { rooms: number; users: number; streams: number; sockets: number } {
    let users = 0;
    for (const r of this.rooms.all()) users += r.members.size;
    return { rooms: this.rooms.size, users, streams: this.rooms.streamCount, sockets: this.conns.size };
  }

  /** Closes every socket (shutdown; tests use it to force reconnection). */
  closeAll(code: number = CloseCode.Shutdown, reason = 'shutdown'): void {
    for (const c of [...this.conns]) c.close(code, reason);
  }

  dispose(): void {
    clearInterval(this.sweeper);
    this.closeAll();
    this.rooms.dispose();
  }

  private roomOf(c: RoomConn): Room {
    const s = c.session;
    const room = s && this.rooms.get(s.appid, s.roomId);
    if (!s || !room) throw new HandlerError(ServerCode.SessionNotFound);
    return room;
  }

  private member(c: RoomConn): Member {
    if (!c.session) throw new HandlerError(ServerCode.SessionNotFound);
    return c.session.member;
  }

  /** A connection went away: its member leaves the room, its streams end. */
  closed(c: RoomConn): void {
    this.conns.delete(c);
    this.socketLeases.get(c)?.release();
    this.socketLeases.delete(c);
    const s = c.session;
    if (!s) return;
    c.session = null;
    const room = this.rooms.get(s.appid, s.roomId);
    if (!room || room.members.get(s.member.idName) !== s.member) return;
    room.members.delete(s.member.idName);
    this.byMember.delete(s.member);
    room.userAction(s.member, 2);
    const why = this.leaving.get(c) ?? (c.loggedOut ? 'logout' : 'connection_lost');
    this.tell((e) => e.userLoggedOut(s.appid, s.roomId, s.member, why));
    // Logout, heartbeat expiry and kick: the user is gone now (its streams and media end). A socket that
    // just dropped leaves the user in its grace (Presence): a client that logs in again in time (its
    // reconnection) keeps publishing and playing, and viewers never see its streams end. A room left
    // empty is closed at once, its streams with it.
    if (room.members.size === 0) room.endStreamsOf(s.member.idName);
    this.presence.roomDown({ appid: s.appid, roomId: s.roomId, idName: s.member.idName }, c.loggedOut);
    if (room.empty) {
      this.live?.roomEmpty(s.appid, s.roomId);
      room.flushBig();
      room.dispose();
      this.rooms.delete(s.appid, s.roomId);
      this.tell((e) => e.roomClosed(s.appid, s.roomId));
    }
  }

  /** Tells the listener (webhooks) what happened; whatever it does wrong stays out of the room plane. */
  private tell(what: (e: RoomEvents) => void): void {
    const e = this.events;
    if (!e) return;
    try {
      what(e);
    } catch (err) {
      this.log.error({ err: (err as Error)?.stack ?? String(err) }, 'room event listener failed');
    }
  }

  /** A new room reports its streams coming and going to the listener. */
  private watch(appid: number, room: Room): Room {
    room.onStream = (change, st) =>
      this.tell((e) =>
        change === 'added' ? e.streamStarted(appid, room.id, st) : e.streamStopped(appid, room.id, st),
      );
    this.tell((e) => e.roomCreated(appid, room.id));
    return room;
  }

  /**
   * The operator kicks a member (admin API): it hears push_kickout (the page's onKickOut) and its socket
   * closes as a user gone for good (its streams and media end). False when it is not in the room.
   */
  kick(appid: number, roomId: string, idName: string, reason: number): boolean {
    const m = this.rooms.get(appid, roomId)?.members.get(idName);
    const c = m && this.byMember.get(m);
    if (!m || !c) return false;
    m.push('push_kickout', { reason });
    c.loggedOut = true;
    this.leaving.set(c, 'kicked');
    c.close(CloseCode.Kickout, 'kicked');
    return true;
  }

  private sweep(): void {
    const limit = Date.now() - this.config.room.heartbeatMs * HEARTBEAT_MISSES;
    for (const c of [...this.conns]) {
      if (c.session && c.lastSeen < limit) {
        this.log.info(
          { appid: c.session.appid, room: c.session.roomId, user: c.session.member.idName },
          'heartbeat expired',
        );
        c.loggedOut = true; // gone for good: streams and media end now
        this.leaving.set(c, 'heartbeat_timeout');
        c.close(CloseCode.HeartbeatTimeout, 'heartbeat timeout');
      }
    }
  }

  private async login(c: RoomConn, b: RoomReqBody<'login'>): Promise<HandlerReply<'login'>> {
    if (c.session) throw new HandlerError(ServerCode.BadLoginState, 'already logged in');
    if (c.loggingIn) throw new HandlerError(ServerCode.LoginInProgress);
    c.loggingIn = true;
    try {
      return await this.doLogin(c, b);
    } finally {
      c.loggingIn = false;
    }
  }

  private async doLogin(c: RoomConn, b: RoomReqBody<'login'>): Promise<HandlerReply<'login'>> {
    const appid = Number(c.appidEcho);
    if (!Number.isInteger(appid) || appid <= 0)
      throw new HandlerError(ServerCode.InvalidBody, 'header appid must be a positive integer');
    // Through the cloud proxy: its token first (the proxy lets in only the app it was minted for).
    const refused = c.proxy && proxyRefusal(c.proxy, appid);
    if (refused) throw new HandlerError(refused.code, refused.message);
    const idName = b.id_name;
    const roomId = b.room_name;
    const verdict = verifyRoomToken({ config: this.config, appid, idName, roomId, token: b.token });
    if (verdict.code !== ServerCode.OK) throw new HandlerError(verdict.code, verdict.message);
    const app = this.config.apps.find((a) => a.appid === appid);
    if (app?.requireThirdToken && !b.third_token)
      throw new HandlerError(
        ServerCode.ThirdTokenRejected,
        'this app requires a third token (loginWithAuthor)',
      );
    if (app?.thirdTokenUrl && b.third_token) {
      const url = app.thirdTokenUrl;
      const why = await this.call({ appid, user: idName, socket: c }, () =>
        checkThirdToken({
          url,
          timeoutMs: this.config.http.thirdTokenTimeoutMs,
          appid,
          roomId,
          idName,
          thirdToken: b.third_token!,
        }),
      );
      if (why) throw new HandlerError(ServerCode.ThirdTokenRejected, why);
      // The client may have gone while we waited: register nothing for a socket that is closing or
      // closed (no member, no room, nothing against maxRooms; its close was already handled).
      if (c.isClosed || c.ws.readyState !== c.ws.OPEN)
        throw new HandlerError(ServerCode.BadLoginState, 'the socket closed during login');
    }
    // The same idName in the same room takes over its session (a page reconnecting before we saw its old
    // socket go): it takes over that socket's place under the caps too, so a user at its cap gets back in.
    const previous = this.rooms.get(appid, roomId)?.members.get(idName);
    const oldConn = previous && this.byMember.get(previous);
    const inherited = oldConn ? this.socketLeases.get(oldConn) : undefined;
    if (oldConn && inherited) {
      this.socketLeases.delete(oldConn);
      return this.register(c, b, appid, verdict.privileges, inherited);
    }
    // One place under the socket caps for the session, across planes (and nodes, with shared counters).
    const claim = await this.caps.socket(appid, idName);
    if ('refused' in claim) throw new HandlerError(ServerCode.TooManySockets, refusalText(claim.refused));
    if (c.isClosed) {
      claim.lease.release();
      throw new HandlerError(ServerCode.BadLoginState, 'the socket closed during login');
    }
    try {
      return this.register(c, b, appid, verdict.privileges, claim.lease);
    } catch (e) {
      claim.lease.release();
      throw e;
    }
  }

  /** The login's checks passed: the member joins its room (or fails on the room's own limits). */
  private register(
    c: RoomConn,
    b: RoomReqBody<'login'>,
    appid: number,
    privileges: Member['privileges'],
    lease: Lease,
  ): HandlerReply<'login'> {
    const idName = b.id_name;
    const roomId = b.room_name;
    let room = this.rooms.get(appid, roomId);
    if (!room) {
      if (b.role === 2 && b.room_create_flag === 0) throw new HandlerError(ServerCode.RoomNotExist);
      if (this.rooms.size >= this.config.limits.maxRooms) throw new HandlerError(ServerCode.RoomFull);
      room = this.watch(appid, this.rooms.create(appid, roomId));
    }
    const previous = room.members.get(idName);
    if (!previous && room.members.size >= this.config.room.maxUsersPerRoom)
      throw new HandlerError(ServerCode.RoomFull);
    if (previous) {
      // Same idName logs in again: the first session is kicked (its streams end, others see it leave),
      // as the original server did for a duplicate login.
      const old = this.byMember.get(previous);
      previous.push('push_kickout', { reason: 1 });
      if (old) {
        // The same idName takes over (usually the same page reconnecting before the server saw its old
        // socket go): not a departure, so its streams and media stay for the new session.
        this.leaving.set(old, 'replaced');
        old.close(CloseCode.Kickout, 'kickout');
        this.closed(old);
      }
      // Closing the old session may have emptied and removed the room: register it again.
      if (!this.rooms.get(appid, roomId)) {
        this.rooms.keep(appid, room);
        this.tell((e) => e.roomCreated(appid, roomId));
      }
    }
    const member: Member = {
      userId: idName,
      sessionId: randomUUID().replace(/-/g, ''),
      idName,
      nickName: b.nick_name,
      role: b.role,
      loginTime: Date.now(),
      userStateFlag: b.user_state_flag === 1,
      joinedUserSeq: 0,
      privileges,
      push: (cmd, body, ser) => c.push(cmd, body, ser),
    };
    c.session = { member, roomId, appid };
    this.socketLeases.set(c, lease);
    c.loginDone({ appid, room: roomId, user: idName });
    this.presence.roomUp({ appid, roomId, idName });
    room.members.set(idName, member);
    this.byMember.set(member, c);
    room.userAction(member, 1);
    this.tell((e) => e.userLoggedIn(appid, roomId, member));
    const anchor = room.anchor();
    return {
      user_id: member.userId,
      session_id: member.sessionId,
      hearbeat_interval: this.config.room.heartbeatMs,
      stream_seq: room.streamSeq,
      stream_info: room.streamList(),
      anchor_info: {
        anchor_id: anchor?.userId ?? '',
        anchor_id_name: anchor?.idName ?? '',
        anchor_nick_name: anchor?.nickName ?? '',
      },
      online_count: room.members.size,
      config_info: { log_level: 3, log_url: '' },
      ret_timestamp: String(Date.now()),
      bigim_time_window: this.config.room.bigimTimeWindowMs,
      dati_time_window: this.config.room.datiTimeWindowMs,
      cluster_env: 0,
      userlist_interval: 0,
      userlist_merge_timeout: this.config.room.userlistMergeMs,
      server_user_seq: room.userSeq,
      trans_seqs: room.transSeqs(),
      ...(this.config.clientLogs.enabled ? { client_log: 1 } : {}),
    };
  }

  private hb(c: RoomConn): HandlerReply<'hb'> {
    const room = this.roomOf(c);
    return {
      hearbeat_interval: this.config.room.heartbeatMs,
      stream_seq: room.streamSeq,
      server_user_seq: room.userSeq,
      online_count: room.members.size,
      trans_seqs: room.transSeqs(),
      bigim_time_window: this.config.room.bigimTimeWindowMs,
      dati_time_window: this.config.room.datiTimeWindowMs,
    };
  }

  private async stream(c: RoomConn, b: RoomReqBody<'stream'>): Promise<HandlerReply<'stream'>> {
    const room = this.roomOf(c);
    const me = this.member(c);
    const { appid } = c.session!;
    const msg = parseJson(b.stream_msg, 'stream_msg');
    const streamId = msg.stream_id;
    const extra = msg.extra_info ?? '';
    if (typeof streamId !== 'string' || streamId === '' || utf8Length(streamId) > MAX_ID_BYTES) {
      throw new HandlerError(ServerCode.InvalidBody, 'stream_msg.stream_id must be a non-empty string');
    }
    const maxExtra = this.config.room.maxExtraInfoBytes;
    if (typeof extra !== 'string' || utf8Length(extra) > maxExtra) {
      throw new HandlerError(ServerCode.TooLarge, `extra_info must be a string of at most ${maxExtra} bytes`);
    }
    const existing = room.streams.get(streamId);
    if (b.sub_cmd === StreamSubCmd.Added) {
      if (!mayPublish(me, streamId))
        throw new HandlerError(
          ServerCode.NotAllowed,
          'the login token does not allow publishing this stream',
        );
      if (existing && existing.anchor_id_name !== me.idName) throw new HandlerError(ServerCode.StreamExists);
      // Announced again unchanged (a re-publish after a retry): nothing for others to hear.
      if (existing && existing.extra_info === extra) return this.streamReply(room, me);
      if (!existing) {
        const lease = await this.claimStreamId(c, appid, streamId, room, me);
        // The claim may have waited (shared counters): this request goes on only in the state it checked.
        if (lease && (room.streams.has(streamId) || this.roomOf(c) !== room)) {
          lease.release();
          throw new HandlerError(ServerCode.StreamExists);
        }
        if (lease) this.streamLeases.set(`${appid}\u0000${streamId}`, lease);
      }
      const s: WireStream = {
        stream_id: streamId,
        anchor_id_name: me.idName,
        anchor_nick_name: me.nickName,
        extra_info: extra,
        stream_gid: streamId,
        ...(this.live?.urlsFor(appid, streamId, c.host) ?? NO_URLS),
      };
      room.setStream(s);
      room.streamChange(existing ? StreamPushCmd.Updated : StreamPushCmd.Added, [s], me);
    } else {
      if (!existing || existing.anchor_id_name !== me.idName)
        throw new HandlerError(ServerCode.StreamNotFound);
      if (b.sub_cmd === StreamSubCmd.Deleted) {
        room.deleteStream(streamId);
      } else {
        existing.extra_info = extra;
      }
      room.streamChange(
        b.sub_cmd === StreamSubCmd.Deleted ? StreamPushCmd.Deleted : StreamPushCmd.Updated,
        [existing],
        me,
      );
    }
    return this.streamReply(room, me);
  }

  /**
   * The reply to `stream`: the room's streams, the caller's own first. The original SDK walks this list
   * to confirm its announcement and stops at the first stream that is not its own, so in a room that
   * already had a stream it would never report onPublishStateUpdate(0).
   */
  private streamReply(room: Room, me: Member): HandlerReply<'stream'> {
    const all = room.streamList();
    const own = all.filter((s) => s.anchor_id_name === me.idName);
    return { stream_seq: room.streamSeq, stream_info: [...own, ...all.filter((s) => !own.includes(s))] };
  }

  /**
   * A new stream id in a room: within the caps, and unique in the app (media stream ids are app-wide, so a
   * second room listing the same id would hand its viewers someone else's media). The same user moving the
   * id to another room (a page that changed rooms within its grace) takes it along.
   */
  private async claimStreamId(
    c: RoomConn,
    appid: number,
    streamId: string,
    room: Room,
    me: Member,
  ): Promise<Lease | null> {
    const { maxStreamsPerRoom } = this.config.room;
    if (room.streams.size >= maxStreamsPerRoom)
      throw new HandlerError(ServerCode.TooManyStreams, `at most ${maxStreamsPerRoom} streams per room`);
    const other = this.rooms.roomOfStream(appid, streamId);
    const held = other?.streams.get(streamId);
    if (other && other !== room && held) {
      if (held.anchor_id_name !== me.idName) throw new HandlerError(ServerCode.StreamExists);
      // The user takes its stream along: its lease moves with it (nothing is counted twice).
      const key = `${appid}\u0000${streamId}`;
      const lease = this.streamLeases.get(key);
      this.streamLeases.delete(key);
      other.deleteStream(streamId);
      other.streamChange(12002, [held], other.members.get(me.idName));
      if (lease) this.streamLeases.set(key, lease);
      return null;
    }
    // Per user and per app across every room (and node, with shared counters): room.maxStreamsPerUser,
    // limits.maxStreamsPerApp.
    const claim = await this.caps.stream(appid, me.idName);
    if ('refused' in claim) throw new HandlerError(ServerCode.TooManyStreams, refusalText(claim.refused));
    if (c.isClosed) {
      claim.lease.release();
      throw new HandlerError(ServerCode.SessionNotFound, 'the socket closed');
    }
    return claim.lease;
  }

  /**
   * A stream id left a room of the app (the store reports every removal): its place under the caps is
   * given back, unless it is still listed (it moved to another room of the app).
   */
  private streamRemoved(appid: number, streamId: string): void {
    if (this.rooms.roomOfStream(appid, streamId)) return;
    const key = `${appid}\u0000${streamId}`;
    this.streamLeases.get(key)?.release();
    this.streamLeases.delete(key);
  }

  /** Legacy dispatch: the media signalling server for a stream; a publish's cdnUrl (header_kvs) is relayed. */
  private async dispatch(c: RoomConn, b: RoomReqBody<'webrtc_url'>): Promise<HandlerReply<'webrtc_url'>> {
    this.roomOf(c);
    const url = this.mediaUrl(c);
    if (!url) throw new HandlerError(ServerCode.DispatchError, 'no media server on this deployment');
    const cdn = b.header_kvs?.find((kv) => kv.key === 'grpc-metadata-push')?.value;
    if (b.ptype === 'push' && cdn) {
      if (!this.live)
        throw new HandlerError(ServerCode.MixUnavailable, 'cdnUrl: no CDN relay on this server');
      try {
        await this.live.cdnUrl(this.caller(c), b.stream_id, cdn);
      } catch (e) {
        if (e instanceof LiveError) throw new HandlerError(e.code, `cdnUrl: ${e.message}`);
        throw e;
      }
    }
    return { stream_id: b.stream_id, ptype: b.ptype, urls: [url], need_action: 0, action_delay: 0 };
  }

  private caller(c: RoomConn): Caller {
    const s = c.session!;
    return {
      appid: s.appid,
      roomId: s.roomId,
      idName: s.member.idName,
      nickName: s.member.nickName,
      host: c.host,
    };
  }

  /**
   * `biz_channel` (legacy-sdk.md section 4): mixing on channel "zeus", CDN relay on channel "media". The
   * JSON string `req_body` is parsed and checked by its schema before live production sees it. Relay
   * answers carry their outcome in `rsp_body {code, message}` as the legacy server did (1.12.5 hands that
   * to the page's error callback); mixing errors are err_codes, 1000000150 with `non_exist_streams`.
   */
  private async biz(c: RoomConn, b: RoomReqBody<'biz_channel'>): Promise<HandlerReply<'biz_channel'>> {
    this.roomOf(c);
    const mixing = b.cmd === 'start_mix' || b.cmd === 'stop_mix';
    if (mixing !== (b.channel === 'zeus'))
      throw new HandlerError(ServerCode.InvalidBody, `cmd ${b.cmd} is not on channel ${b.channel}`, {
        cmd: b.cmd,
      });
    const body = parseJson(b.req_body, 'req_body');
    const schema = mixing ? BIZ_BODY_SCHEMAS[b.cmd as 'start_mix' | 'stop_mix'] : BIZ_BODY_SCHEMAS.push;
    const bad = schema.check(body, 'req_body');
    if (bad)
      throw new HandlerError(bad.tooLarge ? ServerCode.TooLarge : ServerCode.InvalidBody, bad.message, {
        cmd: b.cmd,
      });
    const who = this.caller(c);
    const reply = (o: object) => ({ cmd: b.cmd, rsp_body: JSON.stringify(o) });
    try {
      if (!this.live)
        throw new LiveError(ServerCode.MixUnavailable, 'mixing and relay are off (no media plane)');
      if (b.cmd === 'start_mix') {
        const r = await this.live.startMix(who, body as Parameters<LiveStreams['startMix']>[1]);
        return reply({ play: r.play, non_exist_streams: [] });
      }
      if (b.cmd === 'stop_mix') {
        await this.live.stopMix(who, body as Parameters<LiveStreams['stopMix']>[1]);
        return reply({});
      }
      await this.live.push(who, b.cmd, body as Parameters<LiveStreams['push']>[2]);
      return reply({ code: 0, message: 'ok' });
    } catch (e) {
      if (!(e instanceof LiveError)) throw e;
      if (!mixing) return reply({ code: e.code, message: e.message });
      throw new HandlerError(e.code, e.message, e.rspBody ? reply(e.rspBody) : { cmd: b.cmd });
    }
  }

  addStream(appid: number, roomId: string, owner: string, streamId: string, urls: StreamUrls): boolean {
    const room = this.rooms.get(appid, roomId);
    if (!room || this.rooms.roomOfStream(appid, streamId)) return false;
    const m = room.members.get(owner);
    const s: WireStream = {
      stream_id: streamId,
      anchor_id_name: owner,
      anchor_nick_name: m?.nickName ?? owner,
      extra_info: '',
      stream_gid: streamId,
      ...urls,
    };
    room.setStream(s);
    room.streamChange(StreamPushCmd.Added, [s], m);
    return true;
  }

  removeStream(appid: number, roomId: string, streamId: string): void {
    const room = this.rooms.get(appid, roomId);
    const s = room?.streams.get(streamId);
    if (!room || !s) return;
    room.deleteStream(streamId);
    room.streamChange(StreamPushCmd.Deleted, [s], room.members.get(s.anchor_id_name));
  }

  ownerOf(appid: number, streamId: string): string | undefined {
    return this.rooms.roomOfStream(appid, streamId)?.streams.get(streamId)?.anchor_id_name;
  }

  streamTaken(appid: number, streamId: string): boolean {
    return !!this.rooms.roomOfStream(appid, streamId);
  }

  memberSince(appid: number, roomId: string, idName: string): number | undefined {
    return this.rooms.get(appid, roomId)?.members.get(idName)?.loginTime;
  }

  isMember(appid: number, roomId: string, idName: string): boolean {
    return !!this.rooms.get(appid, roomId)?.members.get(idName);
  }

  /** The room lists the stream (announced; its media may not be live). */
  isListed(appid: number, roomId: string, streamId: string): boolean {
    return !!this.rooms.get(appid, roomId)?.streams.has(streamId);
  }

  /**
   * The publisher's media is live again after a loss: the room announces the stream again (12001, even
   * unchanged), so every viewer plays it again: pages whose play ended on the loss included.
   */
  streamBack(appid: number, roomId: string, streamId: string, idName: string): void {
    const room = this.rooms.get(appid, roomId);
    const s = room?.streams.get(streamId);
    if (!room || !s || s.anchor_id_name !== idName) return;
    room.streamChange(StreamPushCmd.Added, [s], room.members.get(idName));
  }

  /** A user left for good (Presence userGone): its streams leave the room. */
  userGone(u: UserRef): void {
    const room = this.rooms.get(u.appid, u.roomId);
    if (room && !room.members.has(u.idName)) room.endStreamsOf(u.idName);
  }

  /** A published stream is over (Presence streamGone): it leaves the room (12002) if its owner lists it. */
  streamGone(u: UserRef, streamId: string): void {
    const { appid, roomId, idName } = u;
    const room = this.rooms.get(appid, roomId);
    const s = room?.streams.get(streamId);
    if (!room || !s || s.anchor_id_name !== idName) return;
    room.deleteStream(streamId);
    room.streamChange(StreamPushCmd.Deleted, [s], room.members.get(idName));
  }

  private userList(c: RoomConn, b: RoomReqBody<'user_list'>): HandlerReply<'user_list'> {
    const room = this.roomOf(c);
    const all = [...room.members.values()];
    const from = b.user_index;
    const page = all.slice(from, from + USER_LIST_PAGE);
    return {
      user_baseinfos: page.map((m) => ({ id_name: m.idName, nick_name: m.nickName, role: m.role })),
      ret_user_index: Math.min(all.length, from + page.length),
      server_user_index: all.length,
      server_user_seq: room.userSeq,
    };
  }

  private custommsg(c: RoomConn, b: RoomReqBody<'custommsg'>): HandlerReply<'custommsg'> {
    const room = this.roomOf(c);
    const dest = b.dest_id_name;
    if (dest.length === 0)
      throw new HandlerError(ServerCode.InvalidBody, 'dest_id_name must not be empty (no broadcast)');
    const msg = parseJson(b.custom_msg, 'custom_msg');
    const content = msg.custom_content;
    const size =
      typeof content === 'string' ? utf8Length(content) : utf8Length(JSON.stringify(content ?? ''));
    if (size > MAX_CUSTOM_MSG_BYTES)
      throw new HandlerError(ServerCode.TooLarge, `custom_content over ${MAX_CUSTOM_MSG_BYTES} bytes`);
    const body = { custommsg: b.custom_msg };
    room.sendTo(dest, 'push_custommsg', body);
    return {};
  }

  private imChat(c: RoomConn, b: RoomReqBody<'im_chat'>): HandlerReply<'im_chat'> {
    const room = this.roomOf(c);
    const me = this.member(c);
    const now = Date.now();
    const last = this.lastChat.get(c);
    if (last !== undefined && now - last < this.config.room.imChatIntervalMs)
      throw new HandlerError(ServerCode.RateLimited);
    this.lastChat.set(c, now);
    const msgId = ++room.msgId;
    room.broadcast(
      'push_im_chat',
      {
        chat_data: [
          {
            id_name: me.idName,
            nick_name: me.nickName,
            role: me.role,
            msg_id: msgId,
            msg_category: b.msg_category,
            msg_type: b.msg_type,
            msg_content: b.msg_content,
            send_time: now,
          },
        ],
        server_msg_id: msgId,
        ret_msg_id: msgId,
      },
      me,
    );
    return { msg_id: msgId };
  }

  private trans(c: RoomConn, b: RoomReqBody<'trans'>): HandlerReply<'trans'> {
    const room = this.roomOf(c);
    const me = this.member(c);
    const type = b.trans_type;
    const bytes = utf8Length(type);
    if (bytes === 0) throw new HandlerError(ServerCode.InvalidBody, 'trans_type must not be empty');
    if (bytes > MAX_TRANS_TYPE_BYTES)
      throw new HandlerError(ServerCode.TooLarge, `trans_type over ${MAX_TRANS_TYPE_BYTES} bytes`);
    const prev = room.trans.get(type);
    if (!prev && room.trans.size >= MAX_TRANS_TYPES_PER_ROOM)
      throw new HandlerError(ServerCode.TooManyTransTypes);
    const entry = {
      seq: (prev?.seq ?? 0) + 1,
      data: b.trans_data,
      idName: me.idName,
      nickName: me.nickName,
    };
    room.trans.set(type, entry);
    room.broadcast(
      'push_trans',
      {
        trans_type: type,
        trans_seq: entry.seq,
        trans_data: entry.data,
        trans_user_idname: me.idName,
        trans_user_nickname: me.nickName,
      },
      me,
    );
    return { trans_type: type, trans_seq: entry.seq };
  }

  private async relay(c: RoomConn, b: RoomReqBody<'relay'>): Promise<HandlerReply<'relay'>> {
    const s = c.session!;
    const app = this.config.apps.find((a) => a.appid === s.appid);
    if (!app?.relayUrl) throw new HandlerError(ServerCode.RelayFailed, 'no relayUrl configured for this app');
    const url = app.relayUrl;
    const res = await this.call({ appid: s.appid, user: s.member.idName, socket: c }, () =>
      postJson(
        url,
        {
          app_id: s.appid,
          room_id: s.roomId,
          id_name: s.member.idName,
          relay_type: b.relay_type,
          relay_data: b.relay_data,
        },
        this.config.http.relayTimeoutMs,
      ).catch((e: Error) => {
        throw new HandlerError(ServerCode.RelayFailed, `relay failed: ${e.message}`);
      }),
    );
    if (res.status < 200 || res.status >= 300)
      throw new HandlerError(ServerCode.RelayFailed, `relay failed: status ${res.status}`);
    return { relay_result: res.text };
  }

  /**
   * A call to the app's business server within the in-flight bounds (per socket, user, app): over one,
   * the request is answered "too many requests" (1000000004) at once and nothing is sent.
   */
  private async call<T>(keys: CallKeys, run: () => Promise<T>): Promise<T> {
    try {
      return await this.calls.run(keys, run);
    } catch (e) {
      if (e instanceof CallsBusy) throw new HandlerError(ServerCode.RateLimited, e.message);
      throw e;
    }
  }

  private bigim(c: RoomConn, b: RoomReqBody<'bigim_chat'>): HandlerReply<'bigim_chat'> {
    const room = this.roomOf(c);
    const me = this.member(c);
    const now = Date.now();
    const out = b.msgs.map((m) => {
      const id = `${now}-${++room.bigMsgId}`;
      room.addBigMessage({
        id_name: me.idName,
        nick_name: me.nickName,
        bigmsg_id: id,
        msg_category: m.msg_category,
        msg_type: m.msg_type,
        msg_content: m.msg_content,
        send_time: now,
      });
      return { bigmsg_client_id: String(m.bigmsg_client_id ?? ''), bigmsg_id: id };
    });
    return { msgs: out, bigim_time_window: this.config.room.bigimTimeWindowMs };
  }

  /** Per room socket: the minute window of its client_log lines (clientLogs.maxLinesPerMinute). */
  private readonly clientLogWindows = new WeakMap<
    RoomConn,
    { start: number; lines: number; dropped: number }
  >();

  /**
   * client_log (our extension): a shim's log lines into this server's log, each with the socket's appid,
   * room and user; at most clientLogs.maxLinesPerMinute per socket, the rest dropped and counted.
   */
  private clientLog(c: RoomConn, b: RoomReqBody<'client_log'>): HandlerReply<'client_log'> {
    this.roomOf(c);
    if (!this.config.clientLogs.enabled)
      throw new HandlerError(ServerCode.UnknownCmd, 'client_log is off on this server');
    const { appid, roomId: room, member } = c.session!;
    const who = { appid, room, idName: member.idName };
    const now = Date.now();
    let w = this.clientLogWindows.get(c);
    if (!w || now - w.start >= 60_000) {
      if (w?.dropped) this.log.warn({ ...who, dropped: w.dropped }, 'client log lines dropped (rate)');
      w = { start: now, lines: 0, dropped: 0 };
      this.clientLogWindows.set(c, w);
    }
    for (const line of b.logs) {
      if (w.lines >= this.config.clientLogs.maxLinesPerMinute) {
        if (w.dropped++ === 0) this.log.warn(who, 'client log lines over the rate: dropping for this minute');
        continue;
      }
      w.lines++;
      this.log.info(
        { ...who, src: 'client', clientLevel: CLIENT_LOG_LEVELS[line.level], clientTime: line.time },
        line.text,
      );
    }
    return {};
  }

  private signal(c: RoomConn, b: RoomReqBody<'signal'>): HandlerReply<'signal'> {
    const room = this.roomOf(c);
    parseJson(b.signal_msg, 'signal_msg');
    const body = { sub_cmd: b.sub_cmd + PUSH_SIGNAL_OFFSET, signal_msg: b.signal_msg };
    room.sendTo(b.dest_id_name, 'push_signal', body);
    return {};
  }
}
