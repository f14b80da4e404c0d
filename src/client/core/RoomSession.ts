/**
 * The room session engine (promise-based): login, heartbeat, stream/user/reliable-message sync, pushes,
 * and reconnection with re-sync. Emits plain events; the compat facade maps them to legacy callbacks.
 */
import {
  DEFAULT_RETRY_TIME_S,
  LOGIN_TIMEOUT_MS,
  MIN_HEARTBEAT_MS,
  RESTART_RETRY_MS,
  RESTART_WINDOW_MS,
  SDK_VERSION,
} from '../../protocol/constants';
import { ClientErrorCode, CloseCode, NO_RETRY_LOGIN_CODES, ServerCode } from '../../protocol/errors';
import type {
  ClientLogLine,
  LoginRsp,
  PushStreamUpdate,
  PushUserlistUpdate,
  UserActionItem,
  WireStream,
  WireUser,
} from '../../protocol/room';
import type { Platform } from '../platform/Platform';
import { legacyBackoff } from './backoff';
import type { Logger } from './Logger';
import { RoomConnection } from './RoomConnection';
import { ZegoError } from './ZegoError';

export interface SessionOptions {
  appid: number | string;
  idName: string;
  nickName: string;
  servers: string[];
  roomId: string;
  role: 1 | 2;
  token: string;
  thirdToken: string;
  userStateUpdate: boolean;
  roomCreateFlag: 0 | 1;
  retryTimeS?: number;
  /** Floor for the server's heartbeat interval, ms (legacy 3000; tests lower it). */
  heartbeatFloorMs?: number;
  /** Backoff before reconnection attempt n (0-based), ms. */
  backoffMs?: (attempt: number) => number;
}

export type SessionState = 'idle' | 'logging-in' | 'logged-in' | 'reconnecting' | 'closed';

export interface SessionEvents {
  anchorInfo(id: string, name: string): void;
  streamsAdded(list: WireStream[]): void;
  streamsDeleted(list: WireStream[]): void;
  streamsUpdated(list: WireStream[]): void;
  totalUserList(list: WireUser[]): void;
  userActions(list: UserActionItem[]): void;
  onlineCount(n: number): void;
  push(cmd: string, body: Record<string, unknown>): void;
  reliable(type: string, seq: number, data: string): void;
  tempBroken(): void;
  reconnected(): void;
  disconnected(err: ZegoError): void;
  kickedOut(reason: number): void;
}

/** What the facade's stateCenter reads of a room session (stateCenter.ts). */
export interface RoomView {
  readonly state: SessionState;
  /** From the login reply ('' before it). */
  readonly userId: string | undefined;
  readonly sessionId: string | undefined;
  readonly streamList: WireStream[];
  readonly anchorInfo: { anchor_id: string; anchor_id_name: string; anchor_nick_name: string };
  readonly heartbeatMs: number;
  readonly serverOffsetMs: number;
}

/** A heartbeat reply with this code (or session-not-found) means "log in again" (1.12). */
const HB_RELOGIN_CODE = 1000002001;

export class RoomSession implements RoomView {
  private _state: SessionState = 'idle';
  private conn: RoomConnection | null = null;
  /** The login reply said the server takes client_log (our extension). */
  acceptsClientLogs = false;
  private streams = new Map<string, WireStream>();
  private streamSeq = 0;
  private userSeq = 0;
  private readonly transSeqs = new Map<string, number>();
  private hbTimer: unknown = null;
  private hbInterval = 10_000;
  private unanswered = 0;
  private serverIndex = 0;
  bigimWindowMs = 0;
  /** Relay pacing window from the server (dati_time_window), ms; 0 sends at once. */
  datiWindowMs = 0;
  /** Server clock minus ours, from the login reply's ret_timestamp, ms. */
  serverOffsetMs = 0;
  /** The login reply's anchor_info (stateCenter.anchor_info). */
  anchorInfo = { anchor_id: '', anchor_id_name: '', anchor_nick_name: '' };
  /** Own streams the room accepted (stream 2001), for stateCenter.streamList. */
  private readonly own = new Map<string, WireStream>();

  constructor(
    private readonly o: SessionOptions,
    private readonly platform: Platform,
    private readonly ev: SessionEvents,
    private readonly log: Logger,
  ) {}

  get state(): SessionState {
    return this._state;
  }

  /** The one setter: logs `from -> to` on a change. */
  private setState(next: SessionState): void {
    if (next === this._state) return;
    this.log.debug(`room ${this.o.roomId}: ${this._state} -> ${next}`);
    this._state = next;
  }

  /** The seq of the last request on the room socket (undefined without a socket). */
  get lastSeq(): number | undefined {
    return this.conn?.lastSeq;
  }

  /** The room id the socket's headers carry ('' before the first connection). */
  get wireRoomId(): string {
    return this.conn?.identity.room_id ?? '';
  }

  get userId(): string | undefined {
    return this.conn?.identity.user_id;
  }

  get sessionId(): string | undefined {
    return this.conn?.identity.session_id;
  }

  /** Ships log lines (client_log, our extension); only when the login reply accepted them. */
  async sendClientLogs(logs: ClientLogLine[]): Promise<void> {
    if (!this.acceptsClientLogs) return;
    await this.request().request('client_log', { logs });
  }

  /** A background request's failure: logged, never thrown (the next sync repairs what it missed). */
  private logged(what: string): (e: unknown) => void {
    return (e) => this.log.debug(`room ${this.o.roomId}: ${what} failed:`, e);
  }

  /** First login; resolves with the login stream list minus own streams. */
  async login(): Promise<WireStream[]> {
    this.setState('logging-in');
    try {
      const rsp = await this.connectAndLogin();
      this.setState('logged-in');
      const own = rsp.stream_info.filter((s) => s.anchor_id_name === this.o.idName);
      for (const s of own) void this.endStream(s.stream_id).catch(this.logged(`ending stale ${s.stream_id}`));
      if (rsp.anchor_info) this.anchorInfo = { ...rsp.anchor_info };
      this.ev.anchorInfo(rsp.anchor_info.anchor_id_name, rsp.anchor_info.anchor_nick_name);
      void this.afterLogin(rsp, false);
      return rsp.stream_info.filter((s) => s.anchor_id_name !== this.o.idName);
    } catch (e) {
      this.setState('closed');
      this.conn?.close();
      // A socket lost before the login reply is a network failure, not a message timeout.
      if (e instanceof ZegoError && e.code === ClientErrorCode.Timeout && e.msg === 'send customsg timeout.')
        throw new ZegoError(ClientErrorCode.Network, 'network is broken and login fail.');
      throw e;
    }
  }

  private async connectAndLogin(): Promise<LoginRsp> {
    const conn = new RoomConnection(this.platform, this.o.appid, this.o.roomId);
    this.conn = conn;
    const url = this.o.servers[this.serverIndex % this.o.servers.length]!;
    // One attempt (connect + login reply) has LOGIN_TIMEOUT_MS in all, as the original.
    const started = this.platform.now();
    await conn.open(url, LOGIN_TIMEOUT_MS);
    conn.onPush = (cmd, body) => this.onPush(cmd, body);
    conn.onClosed = (code) => this.onSocketLost(code === CloseCode.Shutdown);
    const rsp = await conn.request(
      'login',
      {
        id_name: this.o.idName,
        nick_name: this.o.nickName,
        role: this.o.role,
        token: this.o.token,
        version: SDK_VERSION,
        room_name: this.o.roomId,
        user_state_flag: this.o.userStateUpdate ? 1 : 0,
        room_create_flag: this.o.roomCreateFlag,
        client_type: 3,
        third_token: this.o.thirdToken,
      },
      Math.max(1, LOGIN_TIMEOUT_MS - (this.platform.now() - started)),
    );
    conn.identity = {
      appid: this.o.appid,
      user_id: rsp.user_id,
      session_id: rsp.session_id,
      room_id: this.o.roomId,
    };
    this.hbInterval = Math.max(this.o.heartbeatFloorMs ?? MIN_HEARTBEAT_MS, rsp.hearbeat_interval || 0);
    this.bigimWindowMs = rsp.bigim_time_window || 0;
    this.datiWindowMs = rsp.dati_time_window || 0;
    const serverNow = parseFloat(String(rsp.ret_timestamp ?? '0'));
    this.serverOffsetMs = serverNow > 0 ? serverNow - this.platform.now() : 0;
    this.acceptsClientLogs = rsp.client_log === 1;
    return rsp;
  }

  private async afterLogin(rsp: LoginRsp, reconnect: boolean): Promise<void> {
    const before = new Map(this.streams);
    this.streams = new Map(
      rsp.stream_info.filter((s) => s.anchor_id_name !== this.o.idName).map((s) => [s.stream_id, s]),
    );
    this.streamSeq = rsp.stream_seq;
    if (reconnect) this.diffStreams(before);
    this.userSeq = rsp.server_user_seq ?? 0;
    this.startHeartbeat();
    if (this.o.userStateUpdate) await this.fetchUsers().catch(this.logged('user list'));
    if (rsp.trans_seqs) await this.catchUpTrans(rsp.trans_seqs, !reconnect);
  }

  private diffStreams(before: Map<string, WireStream>): void {
    const added = [...this.streams.values()].filter((s) => !before.has(s.stream_id));
    const deleted = [...before.values()].filter((s) => !this.streams.has(s.stream_id));
    const updated = [...this.streams.values()].filter(
      (s) => before.has(s.stream_id) && before.get(s.stream_id)!.extra_info !== s.extra_info,
    );
    if (added.length) this.ev.streamsAdded(added);
    if (deleted.length) this.ev.streamsDeleted(deleted);
    if (updated.length) this.ev.streamsUpdated(updated);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.unanswered = 0;
    const beat = () => {
      if (this.state !== 'logged-in' || !this.conn) return;
      if (this.unanswered >= 3) {
        this.conn.close();
        this.onSocketLost();
        return;
      }
      this.unanswered++;
      this.conn
        .request('hb', { reserve: 0 })
        .then((r) => {
          this.unanswered = 0;
          if (typeof r.bigim_time_window === 'number') this.bigimWindowMs = r.bigim_time_window;
          if (typeof r.dati_time_window === 'number') this.datiWindowMs = r.dati_time_window;
          if (r.online_count) this.ev.onlineCount(r.online_count);
          if (r.stream_seq !== this.streamSeq) void this.refetchStreams();
          if (this.o.userStateUpdate) this.checkUserSeq(r.server_user_seq);
          void this.catchUpTrans(r.trans_seqs ?? [], false);
        })
        .catch((e: ZegoError) => {
          // As 1.12: these server codes mean "log in again"; any other server error is final. A timeout
          // is only a missed beat.
          const code = e.serverCode;
          if (code === undefined) return;
          if (code === ServerCode.SessionNotFound || code === HB_RELOGIN_CODE) {
            this.conn?.close();
            this.onSocketLost();
          } else if (this.state === 'logged-in') {
            this.stopHeartbeat();
            this.setState('closed');
            this.conn?.close();
            this.ev.disconnected(e);
          }
        });
      this.hbTimer = this.platform.setTimeout(beat, this.hbInterval);
    };
    beat();
  }

  private stopHeartbeat(): void {
    if (this.hbTimer !== null) this.platform.clearTimeout(this.hbTimer);
    this.hbTimer = null;
  }

  /** The server seq a heartbeat showed us behind of, still unreached; null when in step. */
  private behindAt: number | null = null;

  /**
   * A heartbeat's user seq. Being behind is normal for up to one merge window (the push is on its way), so
   * the list is refetched only when the next heartbeat finds the same seq still unreached, or at once when
   * the server's seq went backwards (a new room).
   */
  private checkUserSeq(serverSeq: number): void {
    if (serverSeq === this.userSeq) {
      this.behindAt = null;
      return;
    }
    const stale = serverSeq < this.userSeq || (this.behindAt !== null && this.userSeq < this.behindAt);
    if (stale) {
      this.behindAt = null;
      void this.fetchUsers().catch(this.logged('user list'));
    } else if (serverSeq > this.userSeq) this.behindAt = serverSeq;
  }

  private async refetchStreams(): Promise<void> {
    if (!this.conn) return;
    const r = await this.conn.request('stream_info', { reserve: 0 }).catch((e: unknown) => {
      this.logged('stream list')(e);
      return null;
    });
    if (!r) return;
    const before = new Map(this.streams);
    this.streams = new Map(
      r.stream_info.filter((s) => s.anchor_id_name !== this.o.idName).map((s) => [s.stream_id, s]),
    );
    this.streamSeq = r.stream_seq;
    this.diffStreams(before);
  }

  private async fetchUsers(): Promise<void> {
    if (!this.conn) return;
    const users: WireUser[] = [];
    let index = 0;
    for (let page = 0; page < 10_000; page++) {
      const r = await this.conn.request('user_list', { user_index: index, sort_type: 0 });
      users.push(...r.user_baseinfos);
      this.userSeq = r.server_user_seq;
      if (r.ret_user_index >= r.server_user_index || r.user_baseinfos.length === 0) break;
      index = r.ret_user_index;
    }
    this.ev.totalUserList(users);
  }

  /** Fetches the latest reliable message of every type whose server seq moved past ours. */
  private async catchUpTrans(
    seqs: { trans_type: string; trans_seq: number }[],
    silent: boolean,
  ): Promise<void> {
    for (const { trans_type, trans_seq } of seqs) {
      const local = this.transSeqs.get(trans_type) ?? 0;
      if (trans_seq <= local || !this.conn) continue;
      if (silent) {
        // At first login the current value is history, not news: remember the seq, report nothing.
        this.transSeqs.set(trans_type, trans_seq);
        continue;
      }
      const r = await this.conn
        .request('trans_fetch', { trans_type, trans_local_seq: local })
        .catch((e: unknown) => {
          this.logged(`reliable message ${trans_type}`)(e);
          return null;
        });
      if (!r || r.trans_seq <= (this.transSeqs.get(trans_type) ?? 0)) continue;
      this.transSeqs.set(trans_type, r.trans_seq);
      if (r.trans_user_idname !== this.o.idName) this.ev.reliable(trans_type, r.trans_seq, r.trans_data);
    }
  }

  noteOwnTrans(type: string, seq: number): void {
    if (seq > (this.transSeqs.get(type) ?? 0)) this.transSeqs.set(type, seq);
  }

  private onPush(cmd: string, body: Record<string, unknown>): void {
    switch (cmd) {
      case 'push_kickout':
        if (Number(body.need_relogin) === 1) {
          // 1.12: the server asks for a fresh login rather than ending the session.
          this.conn?.close();
          this.onSocketLost();
          return;
        }
        this.stopHeartbeat();
        this.setState('closed');
        this.conn?.close();
        this.ev.kickedOut(Number(body.reason ?? 0));
        return;
      case 'push_stream_update': {
        const p = body as unknown as PushStreamUpdate;
        const items = p.stream_info.filter((s) => s.anchor_id_name !== this.o.idName);
        if (p.stream_seq !== this.streamSeq + 1) {
          void this.refetchStreams();
          return;
        }
        this.streamSeq = p.stream_seq;
        if (p.stream_cmd === 12001) items.forEach((s) => this.streams.set(s.stream_id, s));
        if (p.stream_cmd === 12002) items.forEach((s) => this.streams.delete(s.stream_id));
        if (p.stream_cmd === 12003) items.forEach((s) => this.streams.set(s.stream_id, s));
        if (!items.length) return;
        if (p.stream_cmd === 12001) this.ev.streamsAdded(items);
        else if (p.stream_cmd === 12002) this.ev.streamsDeleted(items);
        else this.ev.streamsUpdated(items);
        return;
      }
      case 'push_userlist_update': {
        const p = body as unknown as PushUserlistUpdate;
        if (!this.o.userStateUpdate) return;
        if (p.user_list_seq <= this.userSeq) return; // already seen (e.g. through a refetch)
        // The actions carry seqs firstSeq..user_list_seq. Some may be known already (a refetch raced the
        // push): report only the new ones. A gap means actions were missed: refetch the full list.
        const firstSeq = p.user_list_seq - p.user_actions.length + 1;
        if (firstSeq > this.userSeq + 1) {
          this.userSeq = p.user_list_seq;
          void this.fetchUsers().catch(this.logged('user list'));
          return;
        }
        const fresh = p.user_actions.slice(this.userSeq + 1 - firstSeq);
        this.userSeq = p.user_list_seq;
        if (fresh.length) this.ev.userActions(fresh);
        return;
      }
      case 'push_trans': {
        const type = String(body.trans_type);
        const seq = Number(body.trans_seq);
        if (seq <= (this.transSeqs.get(type) ?? 0)) return;
        this.transSeqs.set(type, seq);
        if (body.trans_user_idname !== this.o.idName) this.ev.reliable(type, seq, String(body.trans_data));
        return;
      }
      default:
        this.ev.push(cmd, body);
    }
  }

  private wake: (() => void) | null = null;

  /** Browser `offline`: the connection is as good as gone; start the retry cycle now (legacy 1.10+). */
  networkOffline(): void {
    if (this.state !== 'logged-in') return;
    this.conn?.close();
    this.onSocketLost();
  }

  /** Browser `online`: retry at once instead of waiting out the backoff. */
  networkOnline(): void {
    this.wake?.();
  }

  /** `restarting`: the server said it shuts down (close 4005): reconnect now, not after the backoff. */
  private onSocketLost(restarting = false): void {
    if (this.state !== 'logged-in') return;
    this.stopHeartbeat();
    this.setState('reconnecting');
    this.ev.tempBroken();
    void this.reconnect(restarting);
  }

  private async reconnect(restarting: boolean): Promise<void> {
    const started = this.platform.now();
    const deadline = started + (this.o.retryTimeS ?? DEFAULT_RETRY_TIME_S) * 1000;
    const backoff = this.o.backoffMs ?? legacyBackoff(() => this.platform.random());
    let legacy = 0;
    for (let attempt = 0; this.state === 'reconnecting'; attempt++) {
      // A server that announced its restart comes back soon (or another node takes over): try at once,
      // then every few hundred ms (jittered, so a room does not come back in one burst) for a while.
      const quick = restarting && this.platform.now() - started < RESTART_WINDOW_MS;
      const wait = quick
        ? attempt === 0
          ? 0
          : RESTART_RETRY_MS + Math.floor(this.platform.random() * RESTART_RETRY_MS)
        : backoff(legacy++);
      if (this.platform.now() + wait > deadline) break;
      await new Promise<void>((r) => {
        const t = this.platform.setTimeout(() => {
          this.wake = null;
          r();
        }, wait);
        this.wake = () => {
          this.platform.clearTimeout(t);
          this.wake = null;
          r();
        };
      });
      if (this.state !== 'reconnecting') return;
      this.serverIndex++;
      try {
        const rsp = await this.connectAndLogin();
        this.setState('logged-in');
        await this.afterLogin(rsp, true);
        this.ev.reconnected();
        return;
      } catch (e) {
        this.conn?.close();
        const code = (e as ZegoError).serverCode;
        if (code !== undefined && NO_RETRY_LOGIN_CODES.has(code)) break;
      }
    }
    if (this.state !== 'reconnecting') return;
    this.setState('closed');
    this.ev.disconnected(new ZegoError(ClientErrorCode.Network, 'network is broken and login fail.'));
  }

  async announceStream(streamId: string, extraInfo: string): Promise<void> {
    const r = await this.request().request('stream', {
      sub_cmd: 2001,
      stream_msg: JSON.stringify({ stream_id: streamId, extra_info: extraInfo }),
    });
    const item = r.stream_info?.find((s) => s.stream_id === streamId);
    this.own.set(
      streamId,
      item ?? {
        stream_id: streamId,
        anchor_id_name: this.o.idName,
        anchor_nick_name: this.o.nickName,
        extra_info: extraInfo,
        stream_gid: '',
        urls_flv: [],
        urls_m3u8: [],
        urls_rtmp: [],
        urls_https_flv: [],
        urls_https_m3u8: [],
      },
    );
  }

  async updateStream(streamId: string, extraInfo: string): Promise<void> {
    const mine = this.own.get(streamId);
    if (mine) this.own.set(streamId, { ...mine, extra_info: extraInfo });
    await this.request().request('stream', {
      sub_cmd: 2003,
      stream_msg: JSON.stringify({ stream_id: streamId, extra_info: extraInfo }),
    });
  }

  async endStream(streamId: string): Promise<void> {
    this.own.delete(streamId);
    await this.request().request('stream', {
      sub_cmd: 2002,
      stream_msg: JSON.stringify({ stream_id: streamId, extra_info: '' }),
    });
  }

  /**
   * The room's streams as the SDK knows them (1.12 stateCenter.streamList): others' as the last sync left
   * them, then our own the room accepted. Wire items, copies.
   */
  get streamList(): WireStream[] {
    return [...this.streams.values(), ...this.own.values()].map((s) => ({ ...s }));
  }

  /** The heartbeat interval in use, ms (stateCenter.heartbeatInterval). */
  get heartbeatMs(): number {
    return this.hbInterval;
  }

  /** The live connection, or a Network error when there is none. */
  request(): RoomConnection {
    if (this.state !== 'logged-in' || !this.conn)
      throw new ZegoError(ClientErrorCode.Network, 'not logged in');
    return this.conn;
  }

  async logout(): Promise<void> {
    const conn = this.conn;
    const was = this.state;
    this.stopHeartbeat();
    this.setState('closed');
    if (conn && was === 'logged-in')
      await conn.request('logout', { reserve: 0 }, 1000).catch(this.logged('logout'));
    conn?.close();
  }
}
