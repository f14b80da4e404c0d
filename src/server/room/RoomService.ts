/**
 * The room plane: sessions (login, heartbeat expiry, logout, kick), the handler of every command of the
 * legacy room protocol, and what the other planes and the operator ask of rooms. Connections come from the
 * gateway; a room's state is in the RoomStore (memory on one node, Redis across nodes), each change one
 * atomic step; its events reach the members this node holds through LocalRooms.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { HEARTBEAT_MISSES, MAX_ID_BYTES, USER_LIST_PAGE, utf8Length } from '../../protocol/constants';
import { CloseCode, ServerCode } from '../../protocol/errors';
import { StreamSubCmd, type RoomReqBody, type WireStream } from '../../protocol/room';
import { BIZ_BODY_SCHEMAS } from '../../protocol/bizSchema';
import { LiveError, type Caller, type LiveStreams, type RoomStreams, type StreamUrls } from '../LiveStreams';
import { proxyRefusal } from '../auth/proxyToken';
import { mayPublish, verifyRoomToken } from '../auth/roomToken';
import { checkThirdToken } from '../auth/thirdToken';
import { Caps, capLimitsFrom, refusalText, type Lease } from '../caps/Caps';
import { CapFull, MemoryCapCounters } from '../caps/CapCounters';
import { CallLimiter, callBoundsFrom } from '../outbound/CallLimiter';
import type { ResolvedConfig } from '../config';
import { HandlerError, type Connection, type HandlerReply, type HandlerTable } from '../gateway/Connection';
import { newCounters } from '../gateway/FrameSocket';
import type { Presence, UserRef } from '../presence/Presence';
import { guarded, unref } from '../timers';
import { MemoryBus, type Bus } from './Bus';
import { LocalRooms } from './LocalRooms';
import type { Member } from './Member';
import type { LeaveReason, RoomEvents, RoomUserRef } from './RoomEvents';
import { MemoryRoomStore } from './MemoryRoomStore';
import { actorOf, parseJson, RoomMessages, sessionOf, step } from './RoomMessages';
import type { MemberInfo, RoomStore, RoomSummary, StoreLimits, StreamsAfter } from './RoomStore';

/** The room state: a store and the bus its events come by (memory by default; Redis for many nodes). */
export interface RoomState {
  store: RoomStore;
  bus: Bus;
}

/** What startServer (or a test) may put in place of the defaults. */
export interface RoomSeams {
  state?: RoomState;
  calls?: CallLimiter;
  caps?: Caps;
}

/** A room socket: the gateway's connection speaking for one of our members. */
export type RoomConn = Connection<Member>;

/**
 * Dispatch: the media signalling URL for a stream ('' = no media plane now). With many nodes it names the
 * node whose SFU holds (or will hold) the stream.
 */
export type MediaUrlOf = (c: RoomConn, streamId: string, ptype: 'push' | 'pull') => string | Promise<string>;

const NO_URLS: StreamUrls = {
  urls_flv: [],
  urls_m3u8: [],
  urls_rtmp: [],
  urls_https_flv: [],
  urls_https_m3u8: [],
};

/** Leaves the store could not record (Redis unreachable) are retried for this long, ms. */
const LEAVE_RETRY_MS = 120_000;
const MAX_PENDING_LEAVES = 100_000;

export function storeLimitsFrom(c: ResolvedConfig): StoreLimits {
  return {
    maxRooms: c.limits.maxRooms,
    maxUsersPerRoom: c.room.maxUsersPerRoom,
    maxStreamsPerRoom: c.room.maxStreamsPerRoom,
    maxStreamsPerUser: c.room.maxStreamsPerUser,
    maxStreamsPerApp: c.limits.maxStreamsPerApp,
  };
}

/** One node's rooms in this process. */
function memoryState(config: ResolvedConfig): RoomState {
  const bus = new MemoryBus();
  return { store: new MemoryRoomStore(storeLimitsFrom(config), bus), bus };
}

interface PendingLeave {
  appid: number;
  roomId: string;
  idName: string;
  sessionId: string;
  graceful: boolean;
  since: number;
}

export class RoomService implements RoomStreams {
  /** Mixing and CDN relay (biz_channel, stream URLs); null = off (no media plane). Set once by index.ts. */
  live: LiveStreams | null = null;
  /** Told of rooms, users and streams coming and going (webhooks); null = nobody. Set once by index.ts. */
  events: RoomEvents | null = null;
  /** Why a socket's user is leaving, when the plane itself ends it (else: logout or connection lost). */
  private readonly leaving = new WeakMap<RoomConn, LeaveReason>();
  /** The rooms (RoomStore: memory on one node, Redis across nodes). */
  readonly store: RoomStore;
  /** The members this node holds, and the pushes they hear. */
  readonly locals: LocalRooms;
  private readonly conns = new Set<RoomConn>();
  private readonly byMember = new Map<Member, RoomConn>();
  /** Sockets whose session a new login of the same idName took over: their close is not a departure. */
  private readonly replaced = new WeakSet<RoomConn>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  readonly handlers: HandlerTable<Member>;
  /** Socket counters of the room plane (health details). */
  readonly counters = newCounters();
  /** Calls to the apps' business servers in flight (shared with every plane that calls them). */
  readonly calls: CallLimiter;
  /** Per-user and per-app caps (shared with the media plane). */
  readonly caps: Caps;
  private readonly messages: RoomMessages;
  /** Each logged-in socket's place under the socket caps. */
  private readonly socketLeases = new Map<RoomConn, Lease>();
  /** Leaves the store refused (unreachable), retried by the sweep. */
  private readonly pendingLeaves = new Map<string, PendingLeave>();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly presence: Presence,
    /** The media signalling URL handed to a room socket by dispatch ('' = no media plane now). */
    private readonly mediaUrl: MediaUrlOf = () => '',
    seams: RoomSeams = {},
  ) {
    this.calls = seams.calls ?? new CallLimiter(callBoundsFrom(config.limits));
    this.caps = seams.caps ?? new Caps(new MemoryCapCounters(), capLimitsFrom(config));
    const state = seams.state ?? memoryState(config);
    this.store = state.store;
    this.locals = new LocalRooms(config.room, state.bus);
    this.locals.onGap = (appid, roomId) => {
      this.store.snapshot(appid, roomId).then(
        (snap) => snap && this.locals.resync(appid, roomId, snap),
        (e: Error) => this.log.warn({ err: e.message, appid, room: roomId }, 'room mirror resync failed'),
      );
    };
    this.messages = new RoomMessages(config, log, this.store, this.calls);
    // Streams entering and leaving a list, whichever path they take (webhooks).
    this.store.onStream = (appid, roomId, change, st, key) =>
      this.tell((e) =>
        change === 'added'
          ? e.streamStarted(appid, roomId, st, key)
          : e.streamStopped(appid, roomId, st, key),
      );
    const m = this.messages;
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
      stream_info: async (c) => {
        const s = sessionOf(c);
        const r = await step(this.store.streams(s.appid, s.roomId));
        return { stream_seq: r.seq, stream_info: r.list };
      },
      user_list: (c, b) => this.userList(c, b),
      custommsg: (c, b) => m.custommsg(c, b),
      im_chat: (c, b) => m.imChat(c, b),
      trans: (c, b) => m.trans(c, b),
      trans_fetch: (c, b) => m.transFetch(c, b),
      relay: (c, b) => m.relay(c, b),
      bigim_chat: (c, b) => m.bigim(c, b),
      signal: (c, b) => m.signal(c, b),
      webrtc_url: (c, b) => this.dispatch(c, b),
      client_log: (c, b) => m.clientLog(c, b),
      biz_channel: (c, b) => this.biz(c, b),
    };
  }

  attach(conn: RoomConn): void {
    this.conns.add(conn);
  }

  /** What this node holds: its rooms, members and the streams listed in those rooms. */
  stats(): { rooms: number; users: number; streams: number; sockets: number } {
    let streams = 0;
    for (const r of this.locals.held()) streams += r.mirror?.streams.size ?? 0;
    const l = this.locals.stats();
    return { rooms: l.rooms, users: l.members, streams, sockets: this.conns.size };
  }

  /**
   * Per app, what this node holds (the operator's node list with many nodes): the rooms with members here,
   * those members, and the streams they list.
   */
  heldCounts(): Record<number, { rooms: number; users: number; streams: number }> {
    const out: Record<number, { rooms: number; users: number; streams: number }> = {};
    for (const h of this.locals.held()) {
      if (h.members.length === 0) continue;
      const c = (out[h.appid] ??= { rooms: 0, users: 0, streams: 0 });
      const here = new Set(h.members.map((m) => m.idName));
      c.rooms++;
      c.users += here.size;
      for (const s of h.mirror?.streams.values() ?? []) if (here.has(s.anchor_id_name)) c.streams++;
    }
    return out;
  }

  /** Closes every socket (shutdown; tests use it to force reconnection). */
  closeAll(code: number = CloseCode.Shutdown, reason = 'shutdown'): void {
    for (const c of [...this.conns]) c.close(code, reason);
  }

  dispose(): void {
    clearInterval(this.sweeper);
    this.closeAll();
    this.locals.dispose();
    this.store.dispose();
  }

  /** A connection went away: its member leaves the room (its streams wait out the grace, Presence). */
  closed(c: RoomConn): void {
    this.conns.delete(c);
    this.socketLeases.get(c)?.release();
    this.socketLeases.delete(c);
    const s = c.session;
    if (!s) return;
    c.session = null;
    this.byMember.delete(s.member);
    this.locals.leave(s.appid, s.roomId, s.member);
    const why = this.replaced.has(c)
      ? 'replaced'
      : (this.leaving.get(c) ?? (c.loggedOut ? 'logout' : 'connection_lost'));
    this.tell((e) => e.userLoggedOut(s.appid, s.roomId, s.member, why));
    // Replaced by a new login of the same idName: the room already holds the new session.
    if (this.replaced.has(c)) return;
    // Logout, heartbeat expiry and kick: the user is gone now (its streams and media end). A socket that
    // just dropped leaves the user in its grace (Presence): a client that logs in again in time (its
    // reconnection, on this node or another) keeps publishing and playing. A room left empty is closed at
    // once, its streams with it.
    void this.leave({
      appid: s.appid,
      roomId: s.roomId,
      idName: s.member.idName,
      sessionId: s.member.sessionId,
      graceful: c.loggedOut,
      since: Date.now(),
    });
  }

  private async leave(l: PendingLeave): Promise<boolean> {
    let r: { left: boolean; closed: boolean; gen?: string };
    try {
      r = await this.store.leave(l.appid, l.roomId, l.idName, l.sessionId);
    } catch (e) {
      // The store is unreachable: the leave is recorded when it is back (the sweep retries).
      if (this.pendingLeaves.size < MAX_PENDING_LEAVES) this.pendingLeaves.set(l.sessionId, l);
      this.log.warn(
        { err: (e as Error).message, idName: l.idName, room: l.roomId },
        'leave not recorded yet',
      );
      return false;
    }
    this.pendingLeaves.delete(l.sessionId);
    if (!r.left) return false;
    this.presence.roomDown({ appid: l.appid, roomId: l.roomId, idName: l.idName }, l.graceful);
    if (r.closed) {
      this.live?.roomEmpty(l.appid, l.roomId);
      this.tell((e) => e.roomClosed(l.appid, l.roomId, r.gen));
    }
    return true;
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
    const now = Date.now();
    for (const l of [...this.pendingLeaves.values()]) {
      if (now - l.since > LEAVE_RETRY_MS) this.pendingLeaves.delete(l.sessionId);
      else void this.leave(l);
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
      const why = await this.messages.call({ appid, user: idName, socket: c }, () =>
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
    // The same idName in the same room on this node takes over its session (a page reconnecting before we
    // saw its old socket go): it takes over that socket's place under the caps too, so a user at its cap
    // gets back in. (On another node, that node gives its place back when it closes the kicked socket.)
    const previous = this.locals.member(appid, roomId, idName) as Member | undefined;
    const oldConn = previous && this.byMember.get(previous);
    const inherited = oldConn ? this.socketLeases.get(oldConn) : undefined;
    if (oldConn && inherited) {
      this.socketLeases.delete(oldConn);
      try {
        return await this.register(c, b, appid, verdict.privileges, inherited);
      } catch (e) {
        // Not taken over after all: the old socket keeps its place (or gives it back if it is gone).
        if (!oldConn.isClosed && !this.socketLeases.has(oldConn)) this.socketLeases.set(oldConn, inherited);
        else inherited.release();
        throw e;
      }
    }
    // One place under the socket caps for the session, across planes (and nodes, with shared counters),
    // taken by the join step itself (one round trip to Redis for a login).
    return this.register(c, b, appid, verdict.privileges, null);
  }

  /** The login's checks passed: the member joins its room (or fails on the room's own limits). */
  private async register(
    c: RoomConn,
    b: RoomReqBody<'login'>,
    appid: number,
    privileges: Member['privileges'],
    /** The place under the socket caps this login takes over; null: the join takes one. */
    inherited: Lease | null,
  ): Promise<HandlerReply<'login'>> {
    const idName = b.id_name;
    const roomId = b.room_name;
    const info: MemberInfo = {
      userId: idName,
      sessionId: randomUUID().replace(/-/g, ''),
      idName,
      nickName: b.nick_name,
      role: b.role,
      loginTime: Date.now(),
      userStateFlag: b.user_state_flag === 1,
      node: this.store.node,
    };
    const member: Member = {
      ...info,
      privileges,
      push: (cmd, body, ser) => c.push(cmd, body, ser),
      kicked: (reason, gone) => this.kicked(c, reason, gone),
    };
    try {
      await this.locals.enter(appid, roomId, member);
    } catch (e) {
      this.log.warn({ err: (e as Error).message, room: roomId }, 'room not reachable for a login');
      throw new HandlerError(ServerCode.StoreUnavailable);
    }
    let joined: Awaited<ReturnType<RoomStore['join']>>;
    const take = inherited ? undefined : this.caps.socketTake(appid, idName);
    try {
      const mayCreate = !(b.role === 2 && b.room_create_flag === 0);
      joined = await step(this.store.join(appid, roomId, info, mayCreate, take));
    } catch (e) {
      this.locals.leave(appid, roomId, member);
      if (e instanceof CapFull && take)
        throw new HandlerError(ServerCode.TooManySockets, refusalText(this.caps.refusalOf(take, e.item)));
      if (e instanceof HandlerError) throw e;
      // Shared caps out of reach: refused, never let in uncounted.
      this.log.warn({ err: (e as Error).message, idName }, 'socket cap not reachable for a login');
      throw new HandlerError(ServerCode.StoreUnavailable);
    }
    const lease = inherited ?? this.caps.leaseOf(take!);
    // The socket may have gone while the step ran: it leaves again at once.
    if (c.isClosed || c.ws.readyState !== c.ws.OPEN) {
      if (!inherited) lease.release();
      this.locals.leave(appid, roomId, member);
      void this.leave({
        appid,
        roomId,
        idName,
        sessionId: info.sessionId,
        graceful: false,
        since: Date.now(),
      });
      throw new HandlerError(ServerCode.BadLoginState, 'the socket closed during login');
    }
    c.session = { member, roomId, appid };
    this.socketLeases.set(c, lease);
    this.byMember.set(member, c);
    c.loginDone({ appid, room: roomId, user: idName });
    this.presence.roomUp({ appid, roomId, idName });
    this.locals.activate(appid, roomId, member, joined);
    if (joined.created) this.tell((e) => e.roomCreated(appid, roomId, joined.gen));
    this.tell((e) => e.userLoggedIn(appid, roomId, member));
    return {
      user_id: member.userId,
      session_id: member.sessionId,
      hearbeat_interval: this.config.room.heartbeatMs,
      stream_seq: joined.streamSeq,
      stream_info: joined.streams,
      anchor_info: {
        anchor_id: joined.anchor?.userId ?? '',
        anchor_id_name: joined.anchor?.idName ?? '',
        anchor_nick_name: joined.anchor?.nickName ?? '',
      },
      online_count: joined.count,
      config_info: { log_level: 3, log_url: '' },
      ret_timestamp: String(Date.now()),
      bigim_time_window: this.config.room.bigimTimeWindowMs,
      dati_time_window: this.config.room.datiTimeWindowMs,
      cluster_env: 0,
      userlist_interval: 0,
      userlist_merge_timeout: this.config.room.userlistMergeMs,
      server_user_seq: joined.userSeq,
      trans_seqs: joined.trans.map(([trans_type, e]) => ({ trans_type, trans_seq: e.seq })),
      ...(this.config.clientLogs.enabled ? { client_log: 1 } : {}),
    };
  }

  /**
   * The room ended this socket's session: a new login of the same idName replaced it (`gone` false: not a
   * departure, its streams and media stay for the new session), or it was kicked for good.
   */
  private kicked(c: RoomConn, reason: number, gone: boolean): void {
    if (c.isClosed) return;
    c.push('push_kickout', { reason });
    if (gone) {
      c.loggedOut = true;
      this.leaving.set(c, 'kicked');
    } else this.replaced.add(c);
    c.close(CloseCode.Kickout, 'kickout');
    this.closed(c);
  }

  private hb(c: RoomConn): HandlerReply<'hb'> {
    const s = sessionOf(c);
    // From this node's mirror of the room: no round trip, and an answer even while Redis is away (a
    // heartbeat error would end the original SDK's session).
    const h = this.locals.header(s.appid, s.roomId);
    if (!h) throw new HandlerError(ServerCode.SessionNotFound);
    return {
      hearbeat_interval: this.config.room.heartbeatMs,
      stream_seq: h.streamSeq,
      server_user_seq: h.userSeq,
      online_count: h.count,
      trans_seqs: h.transSeqs,
      bigim_time_window: this.config.room.bigimTimeWindowMs,
      dati_time_window: this.config.room.datiTimeWindowMs,
    };
  }

  private async stream(c: RoomConn, b: RoomReqBody<'stream'>): Promise<HandlerReply<'stream'>> {
    const { appid, roomId, member: me } = sessionOf(c);
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
    const by = actorOf(me);
    let after: StreamsAfter;
    if (b.sub_cmd === StreamSubCmd.Added) {
      if (!mayPublish(me, streamId))
        throw new HandlerError(
          ServerCode.NotAllowed,
          'the login token does not allow publishing this stream',
        );
      const s: WireStream = {
        stream_id: streamId,
        anchor_id_name: me.idName,
        anchor_nick_name: me.nickName,
        extra_info: extra,
        stream_gid: streamId,
        ...(this.live?.urlsFor(appid, streamId, c.host) ?? NO_URLS),
      };
      after = await step(this.store.announce(appid, roomId, by, s));
    } else if (b.sub_cmd === StreamSubCmd.Deleted) {
      after = await step(this.store.unannounce(appid, roomId, by, streamId));
    } else {
      after = await step(this.store.updateExtra(appid, roomId, by, streamId, extra));
    }
    return this.streamReply(after, me.idName);
  }

  /**
   * The reply to `stream`: the room's streams, the caller's own first. The original SDK walks this list
   * to confirm its announcement and stops at the first stream that is not its own, so in a room that
   * already had a stream it would never report onPublishStateUpdate(0).
   */
  private streamReply(after: StreamsAfter, idName: string): HandlerReply<'stream'> {
    const own = after.list.filter((s) => s.anchor_id_name === idName);
    const others = after.list.filter((s) => s.anchor_id_name !== idName);
    return { stream_seq: after.seq, stream_info: [...own, ...others] };
  }

  private async userList(c: RoomConn, b: RoomReqBody<'user_list'>): Promise<HandlerReply<'user_list'>> {
    const s = sessionOf(c);
    const from = b.user_index;
    const page = await step(this.store.users(s.appid, s.roomId, from, USER_LIST_PAGE));
    return {
      user_baseinfos: page.list.map((m) => ({ id_name: m.idName, nick_name: m.nickName, role: m.role })),
      ret_user_index: Math.min(page.total, from + page.list.length),
      server_user_index: page.total,
      server_user_seq: page.seq,
    };
  }

  /** Legacy dispatch: the media signalling server for a stream; a publish's cdnUrl (header_kvs) is relayed. */
  private async dispatch(c: RoomConn, b: RoomReqBody<'webrtc_url'>): Promise<HandlerReply<'webrtc_url'>> {
    sessionOf(c);
    const url = await this.mediaUrl(c, b.stream_id, b.ptype === 'push' ? 'push' : 'pull');
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
    const s = sessionOf(c);
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
    sessionOf(c);
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

  // ---- What live production asks (RoomStreams) --------------------------------------------------------

  async addStream(
    appid: number,
    roomId: string,
    owner: string,
    streamId: string,
    urls: StreamUrls,
  ): Promise<boolean> {
    const m = await this.store.member(appid, roomId, owner);
    return this.store.addServerStream(appid, roomId, {
      stream_id: streamId,
      anchor_id_name: owner,
      anchor_nick_name: m?.nickName ?? owner,
      extra_info: '',
      stream_gid: streamId,
      ...urls,
    });
  }

  async removeStream(appid: number, roomId: string, streamId: string): Promise<void> {
    await this.store.remove(appid, roomId, streamId);
  }

  async ownerOf(appid: number, streamId: string): Promise<string | undefined> {
    return (await this.store.whereIs(appid, streamId))?.owner;
  }

  async streamTaken(appid: number, streamId: string): Promise<boolean> {
    return !!(await this.store.whereIs(appid, streamId));
  }

  // ---- What the media plane asks (RoomLink) -----------------------------------------------------------

  async memberSince(appid: number, roomId: string, idName: string): Promise<number | undefined> {
    return (await this.store.member(appid, roomId, idName))?.loginTime;
  }

  async isMember(appid: number, roomId: string, idName: string): Promise<boolean> {
    return !!(await this.store.member(appid, roomId, idName));
  }

  /** The room lists the stream (announced; its media may not be live). */
  isListed(appid: number, roomId: string, streamId: string): Promise<boolean> {
    return this.store.isListed(appid, roomId, streamId);
  }

  /**
   * The publisher's media is live again after a loss: the room announces the stream again (12001, even
   * unchanged), so every viewer plays it again: pages whose play ended on the loss included.
   */
  streamBack(appid: number, roomId: string, streamId: string, idName: string): void {
    this.store
      .reannounce(appid, roomId, streamId, idName)
      .catch((e: Error) => this.log.warn({ err: e.message, stream: streamId }, 'stream re-announce failed'));
  }

  // ---- What other nodes' fate decides (many nodes: index.ts wires the node lease) ---------------------

  /**
   * A member of a node that died: it leaves as a lost socket does (others hear it go; its streams wait out
   * the grace here, and end unless it logged in again, on any node).
   */
  async memberLost(appid: number, roomId: string, idName: string, sessionId: string): Promise<void> {
    // Who it was (for its user-left), read before it leaves; one node reaps each dead node, and the leave
    // holds only for this session, so its user-left is told once.
    const who = await this.store.member(appid, roomId, idName).catch(() => undefined);
    const left = await this.leave({ appid, roomId, idName, sessionId, graceful: false, since: Date.now() });
    if (left)
      this.tell((e) =>
        e.userLoggedOut(
          appid,
          roomId,
          { idName, nickName: who?.nickName ?? '', role: who?.role ?? 0, sessionId },
          'node_lost',
        ),
      );
  }

  /**
   * A session of a node that died, replaced by a login of the same user on another node before the dead
   * node was reaped: the replacement was told to the dead node, which could not tell the old session's
   * user-left. The reaping node tells it (`node_lost`, the old session's id); the room is not touched (the
   * user is in it with its new session).
   */
  replacedLost(appid: number, roomId: string, u: RoomUserRef): void {
    this.tell((e) => e.userLoggedOut(appid, roomId, u, 'node_lost'));
  }

  /**
   * The shared room state lost this node's members (Redis restarted empty, or this node was reaped after a
   * stall): each room this node holds is written back from what its members hold (membership, their
   * streams, reliable messages, the counters of its mirror), so clients notice nothing. Resolves false if
   * it could not be done (tried again at the next lease beat).
   */
  async stateLost(): Promise<boolean> {
    const rebuild = this.store.rebuild?.bind(this.store);
    if (!rebuild) return true;
    try {
      for (const h of [...this.locals.held()]) {
        const members = h.members as Member[];
        if (!h.mirror || members.length === 0) continue;
        const mine = new Set(members.map((m) => m.idName));
        const mi = h.mirror;
        await rebuild(
          h.appid,
          h.roomId,
          {
            ev: mi.ev,
            streamSeq: mi.streamSeq,
            userSeq: mi.userSeq,
            count: mi.count,
            msgId: mi.msgId,
            bigMsgId: mi.bigMsgId,
            streams: [...mi.streams.values()].filter((s) => mine.has(s.anchor_id_name)),
            trans: [...mi.trans.entries()],
          },
          members,
        );
      }
      this.log.info({ rooms: this.locals.stats().rooms }, 'room state written back');
      return true;
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'room state not written back yet');
      return false;
    }
  }

  // ---- What Presence decides (index.ts wires it) -----------------------------------------------------

  /** A user left for good (Presence userGone): its streams leave the room (unless it is back). */
  async userGone(u: UserRef): Promise<void> {
    await this.store.endStreamsOf(u.appid, u.roomId, u.idName);
  }

  /** A published stream is over (Presence streamGone): it leaves the room (12002) if its owner lists it. */
  async streamGone(u: UserRef, streamId: string): Promise<void> {
    await this.store.remove(u.appid, u.roomId, streamId, u.idName);
  }

  // ---- What an operator asks (admin API) -------------------------------------------------------------

  /** Rooms of an app (or all), with their user and stream counts (every node's). */
  roomList(appid?: number): Promise<RoomSummary[]> {
    return this.store.rooms(appid);
  }

  /** Every member of a room (paged reads of the store). */
  async roomUsers(appid: number, roomId: string): Promise<MemberInfo[]> {
    const out: MemberInfo[] = [];
    for (let from = 0; from < this.config.room.maxUsersPerRoom; from += 1000) {
      const page = await this.store.users(appid, roomId, from, 1000);
      out.push(...page.list);
      if (out.length >= page.total || page.list.length === 0) break;
    }
    return out;
  }

  async roomStreams(appid: number, roomId: string): Promise<WireStream[]> {
    return (await this.store.streams(appid, roomId)).list;
  }

  /**
   * The operator kicks a member (admin API), on whichever node holds it: it hears push_kickout (the page's
   * onKickOut) and its socket closes as a user gone for good (its streams and media end). False when it is
   * not in the room.
   */
  kick(appid: number, roomId: string, idName: string, reason = 0): Promise<boolean> {
    return this.store.kick(appid, roomId, idName, reason);
  }

  /** Closes a room: every member, on every node, is kicked for good (push_kickout with `reason`). */
  closeRoom(appid: number, roomId: string, reason = 0): Promise<boolean> {
    return this.store.close(appid, roomId, reason);
  }
}
