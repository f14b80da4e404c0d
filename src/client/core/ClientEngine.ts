/**
 * The promise-based core behind the legacy facade: it owns the room session (RoomSession) and the media
 * plane (MediaPlane) and does, each in its own small class, what ties them together: dispatch
 * (Dispatcher), our streams on the room and their re-announce after a reconnection (StreamAnnouncer),
 * relay pacing (RelayPacer), big-room batching (BigRoomBatcher), join-live (JoinLive), and the remote
 * log (RemoteLog). Everything the page hears comes out as a typed event (EngineEvents); requests resolve
 * with a Reply carrying the legacy seq, or reject with a RequestFailure.
 */
import { MAX_CUSTOM_MSG_BYTES, ROOM_MSG_INTERVAL_MS, utf8Length } from '../../protocol/constants';
import { ClientErrorCode, type LegacyError } from '../../protocol/errors';
import type {
  ChatData,
  CustomMsgPayload,
  RelayRsp,
  RoomCmd,
  RoomReqBody,
  RoomRspBody,
  UserActionItem,
  WireStream,
  WireUser,
} from '../../protocol/room';
import type { DeviceChange } from '../media/DeviceWatcher';
import { MediaPlane, type DeviceError } from '../media/MediaPlane';
import type { QualityReport } from '../media/QualityMonitor';
import type { SoundLevelItem } from '../media/SoundLevels';
import type { Platform } from '../platform/Platform';
import { BigRoomBatcher, receivedBigRoomMessages, type BigRoomMessage } from './BigRoomBatcher';
import { Dispatcher } from './Dispatcher';
import { JoinLive, type JoinLiveNotice } from './JoinLive';
import { parseObject } from './parseObject';
import { Logger } from './Logger';
import { RelayPacer } from './RelayPacer';
import { RemoteLog, REMOTE_LOG_FLUSH_MS } from './RemoteLog';
import { withSeq, type Reply } from './requests';
import { RoomSession, type RoomView } from './RoomSession';
import { StreamAnnouncer } from './StreamAnnouncer';
import { TypedEmitter } from './TypedEmitter';
import { ZegoError } from './ZegoError';

export interface ClientConfig {
  appid: number | string;
  idName: string;
  nickName: string;
  server: string | string[];
  logLevel?: number;
  remoteLogLevel?: number;
  /** Read only to switch remote logs on (as 1.12.5); lines go to our room server, never to this URL. */
  logUrl?: string;
  audienceCreateRoom?: boolean;
  roomRetryTime?: number;
  streamRetryTime?: number;
  maxRetryTime?: number;
  /** Extension for tests: lower the heartbeat floor, the reconnection backoff, the log batch interval. */
  testing?: { heartbeatFloorMs?: number; backoffMs?: number; logFlushMs?: number };
}

/** Every event of the engine: name -> arguments. */
export interface EngineEvents {
  anchorInfo: [idName: string, nickName: string];
  streamsAdded: [streams: WireStream[]];
  streamsDeleted: [streams: WireStream[]];
  streamsUpdated: [streams: WireStream[]];
  totalUserList: [roomId: string, users: WireUser[]];
  userActions: [roomId: string, actions: UserActionItem[]];
  onlineCount: [roomId: string, count: number];
  reliableMessage: [type: string, seq: number, data: string];
  customCommand: [from: string, fromName: string, content: string];
  roomMessage: [chat: ChatData[], serverMsgId: unknown, retMsgId: unknown];
  bigRoomMessages: [messages: BigRoomMessage[], roomId: string];
  joinLiveRequest: JoinLiveNotice;
  joinLiveInvite: JoinLiveNotice;
  joinLiveEnd: JoinLiveNotice;
  tempBroken: [];
  reconnected: [];
  disconnected: [error: ZegoError];
  kickedOut: [reason: number];
  publishState: [type: 0 | 1 | 2, streamId: string, error: LegacyError | undefined];
  playState: [type: 0 | 1 | 2, streamId: string, error: LegacyError | undefined];
  publishQuality: [streamId: string, quality: QualityReport];
  playQuality: [streamId: string, quality: QualityReport];
  videoSize: [streamId: string, width: number, height: number];
  remoteCamera: [streamId: string, status: number];
  remoteMic: [streamId: string, status: number];
  soundLevels: [items: SoundLevelItem[]];
  screenEnded: [stream: MediaStream];
  deviceError: [info: DeviceError];
  videoDevice: [change: DeviceChange];
  audioDevice: [change: DeviceChange];
}

/** The last login call (stateCenter: roomid, role, token, third_token). */
export interface LoginCall {
  roomId: string;
  role: 1 | 2;
  token: string;
  thirdToken: string;
}

const notLoggedIn = () => new ZegoError(ClientErrorCode.Network, 'not logged in');

export class ClientEngine extends TypedEmitter<EngineEvents> {
  readonly log: Logger;
  readonly media: MediaPlane;
  private cfg: ClientConfig | null = null;
  private session: RoomSession | null = null;
  private last: LoginCall | undefined;
  private userStateUpdate = false;
  /** setCustomSignalUrl: media signalling URLs that bypass dispatch. */
  private customSignalUrls: string[] = [];
  /** Request seqs handed out without a socket (and big-room client ids): one counter, as the original. */
  private localSeq = 0;
  /**
   * Request ids "{idName}-N" of custom commands and join-live signals share one counter whose first id is
   * "{idName}-2", as observed against jZego-rtc 1.12.5 (spec/compat).
   */
  private requestCounter = 1;
  private lastRoomMsg = -Infinity;
  private readonly remoteLog: RemoteLog;
  private readonly announcer: StreamAnnouncer;
  private readonly relay: RelayPacer;
  private readonly bigRoom: BigRoomBatcher;
  private readonly joinLive: JoinLive;

  constructor(private readonly platform: Platform) {
    const log = new Logger(() => platform.now());
    super((event, e) => log.error(`a listener of ${event} threw:`, e));
    this.log = log;
    this.remoteLog = new RemoteLog(platform, (e) => log.local(0, 'remote log batch not delivered:', e));
    const dispatcher = new Dispatcher(() => this.session);
    this.announcer = new StreamAnnouncer(
      () => this.session,
      () => this.media,
      log,
    );
    this.media = new MediaPlane(
      platform,
      {
        identity: () =>
          this.cfg && this.session && this.last
            ? {
                appid: this.cfg.appid,
                idName: this.cfg.idName,
                token: this.last.token,
                roomId: this.last.roomId,
              }
            : null,
        dispatch: (id, ptype, cdn) => dispatcher.urls(id, ptype, cdn),
        announce: (id, extra) => this.announcer.announce(id, extra),
        endStream: (id) => this.announcer.end(id),
        publishState: (type, id, err) => this.emit('publishState', type, id, err),
        playState: (type, id, err) => this.emit('playState', type, id, err),
        publishQuality: (id, q) => this.emit('publishQuality', id, q),
        playQuality: (id, q) => this.emit('playQuality', id, q),
        videoSize: (id, w, h) => this.emit('videoSize', id, w, h),
        remoteCamera: (id, st) => this.emit('remoteCamera', id, st),
        remoteMic: (id, st) => this.emit('remoteMic', id, st),
        soundLevels: (items) => this.emit('soundLevels', items),
        screenEnded: (s) => this.emit('screenEnded', s),
        deviceError: (e) => this.emit('deviceError', e),
        videoDevice: (c) => this.emit('videoDevice', c),
        audioDevice: (c) => this.emit('audioDevice', c),
        customUrls: () => this.customSignalUrls,
        retryTimeS: () => {
          const c = this.cfg;
          return c?.maxRetryTime && c.maxRetryTime < 3600 ? c.maxRetryTime : (c?.streamRetryTime ?? 300);
        },
        backoffMs: () => {
          const b = this.cfg?.testing?.backoffMs;
          return b === undefined ? undefined : () => b;
        },
      },
      log,
    );
    const pacing = {
      platform,
      serverOffsetMs: () => this.session?.serverOffsetMs ?? 0,
    };
    this.relay = new RelayPacer({
      ...pacing,
      windowMs: () => this.session?.datiWindowMs ?? 0,
      send: (type, data) =>
        this.request((s) => s.request().request('relay', { relay_type: type, relay_data: data })),
    });
    this.bigRoom = new BigRoomBatcher({
      ...pacing,
      windowMs: () => this.session?.bigimWindowMs ?? 0,
      nextLocalSeq: () => ++this.localSeq,
      send: (msgs) => {
        const result = this.attempt((s) => s.request().request('bigim_chat', { msgs }));
        return { wireSeq: this.session?.lastSeq, result };
      },
    });
    this.joinLive = new JoinLive({
      me: () => this.cfg,
      roomId: () => this.session?.wireRoomId ?? '',
      nextRequestId: () => this.nextRequestId(),
      send: (subCmd, dest, msg) =>
        this.request((s) =>
          s.request().request('signal', { sub_cmd: subCmd, signal_msg: msg, dest_id_name: [dest] }),
        ),
      request: (...n) => this.emit('joinLiveRequest', ...n),
      invite: (...n) => this.emit('joinLiveInvite', ...n),
      end: (...n) => this.emit('joinLiveEnd', ...n),
    });
    // As the original: leaving the page logs out, so others see the user leave at once, not after the
    // heartbeat expires; offline starts the reconnection at once, online retries without waiting.
    platform.onPageEvent?.('leave', () => {
      if (this.session) this.logout();
    });
    platform.onPageEvent?.('offline', () => this.session?.networkOffline());
    platform.onPageEvent?.('online', () => this.session?.networkOnline());
  }

  // ------------------------------------------------------------------------------------ state

  get config(): ClientConfig | null {
    return this.cfg;
  }

  get lastLogin(): LoginCall | undefined {
    return this.last;
  }

  get room(): RoomView | null {
    return this.session;
  }

  get loggedIn(): boolean {
    return this.session?.state === 'logged-in';
  }

  get userStateUpdates(): boolean {
    return this.userStateUpdate;
  }

  configure(cfg: ClientConfig): void {
    this.cfg = cfg;
    this.log.configure(cfg);
    this.log.setSink(this.log.remoteWanted ? (line) => this.remoteLog.add(line) : null);
    this.remoteLog.flushMs = cfg.testing?.logFlushMs ?? REMOTE_LOG_FLUSH_MS;
  }

  setUserStateUpdate(on: boolean): void {
    this.userStateUpdate = on;
  }

  setCustomSignalUrls(urls: string[]): void {
    this.customSignalUrls = urls;
  }

  // ------------------------------------------------------------------------------------ room

  /**
   * Logs in (over a live session: that one ends, with its streams and media sockets). As 1.12 the
   * attempt starts on a 0 ms timer; resolves with the room's streams other than ours.
   */
  login(call: LoginCall): Promise<WireStream[]> {
    const cfg = this.cfg!;
    const servers = Array.isArray(cfg.server) ? cfg.server : [cfg.server];
    const retry =
      cfg.maxRetryTime && cfg.maxRetryTime < 3600 ? cfg.maxRetryTime : (cfg.roomRetryTime ?? undefined);
    if (this.session) {
      this.media.stopAll();
      this.endSession(this.session);
    }
    this.last = call;
    const { roomId } = call;
    const session: RoomSession = new RoomSession(
      {
        appid: cfg.appid,
        idName: cfg.idName,
        nickName: cfg.nickName,
        servers,
        roomId,
        role: call.role,
        token: call.token,
        thirdToken: call.thirdToken,
        userStateUpdate: this.userStateUpdate,
        roomCreateFlag: cfg.audienceCreateRoom === false ? 0 : 1,
        retryTimeS: retry,
        heartbeatFloorMs: cfg.testing?.heartbeatFloorMs,
        backoffMs: cfg.testing?.backoffMs !== undefined ? () => cfg.testing!.backoffMs! : undefined,
      },
      this.platform,
      {
        anchorInfo: (id, name) => this.emit('anchorInfo', id, name),
        streamsAdded: (l) => {
          this.media.roomStreamsAdded(l.map((s) => s.stream_id));
          this.emit('streamsAdded', l);
        },
        streamsDeleted: (l) => {
          // Players of these streams end without an error (1.12 pages stop them in this callback).
          this.media.roomStreamsDeleted(l.map((s) => s.stream_id));
          this.emit('streamsDeleted', l);
        },
        streamsUpdated: (l) => this.emit('streamsUpdated', l),
        totalUserList: (l) => this.emit('totalUserList', roomId, l),
        userActions: (l) => this.emit('userActions', roomId, l),
        onlineCount: (n) => this.emit('onlineCount', roomId, n),
        reliable: (type, seq, data) => this.emit('reliableMessage', type, seq, data),
        push: (cmd, body) => this.onPush(roomId, cmd, body),
        tempBroken: () => {
          this.remoteLog.detach();
          this.emit('tempBroken');
        },
        reconnected: () => {
          // The room ended our streams with the old session: announce the live ones again; streams
          // waiting to retry (they need the room to dispatch) go now rather than after their backoff.
          this.announcer.reannounce();
          this.media.retryAllNow();
          this.shipLogs(session);
          this.emit('reconnected');
        },
        disconnected: (e) => {
          this.remoteLog.detach();
          this.emit('disconnected', e);
        },
        kickedOut: (reason) => {
          this.remoteLog.detach();
          this.emit('kickedOut', reason);
        },
      },
      this.log,
    );
    this.session = session;
    return new Promise((resolve, reject) => {
      this.platform.setTimeout(() => {
        session.login().then((list) => {
          this.shipLogs(session);
          resolve(list);
        }, reject);
      }, 0);
    });
  }

  /** Remote log lines go to this session from now on, if its server takes them. */
  private shipLogs(session: RoomSession): void {
    if (session !== this.session || !session.acceptsClientLogs) return;
    this.remoteLog.attach((logs) => session.sendClientLogs(logs));
  }

  private endSession(s: RoomSession): void {
    // What waits is shipped before the logout request (while the session can still send it).
    this.remoteLog.flush();
    this.remoteLog.detach();
    void s.logout().catch((e: unknown) => this.log.debug('logout:', e));
  }

  /** False when there was no session. */
  logout(): boolean {
    const s = this.session;
    this.session = null;
    this.media.stopAll();
    // Queued relay messages die with the session (their error would carry a dead socket's seq).
    this.relay.cancel(notLoggedIn());
    if (!s) return false;
    this.endSession(s);
    return true;
  }

  release(): void {
    this.logout();
    this.bigRoom.cancel();
    this.relay.cancel(notLoggedIn());
    this.remoteLog.dispose();
  }

  private liveSession(): RoomSession {
    if (!this.session || this.session.state !== 'logged-in') throw notLoggedIn();
    return this.session;
  }

  /** Runs a request on the live session; a synchronous failure (not logged in) becomes a rejection. */
  private attempt<T>(run: (s: RoomSession) => Promise<T>): Promise<T> {
    try {
      return run(this.liveSession());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A request for a callback-style method: its outcome with the legacy seq (see requests.ts). */
  private request<T>(run: (s: RoomSession) => Promise<T>): Promise<Reply<T>> {
    const p = this.attempt(run);
    return withSeq(p, this.session?.lastSeq ?? ++this.localSeq);
  }

  private send<K extends RoomCmd>(cmd: K, body: RoomReqBody<K>): Promise<Reply<RoomRspBody<K>>> {
    return this.request((s) => s.request().request(cmd, body));
  }

  private nextRequestId(): string {
    return `${this.cfg!.idName}-${++this.requestCounter}`;
  }

  /**
   * sendCustomCommand: null when not logged in or the content is over 1024 UTF-8 bytes (the legacy
   * false); else resolves with the custom_msg JSON string sent.
   */
  sendCustomCommand(dest: string[], content: string): Promise<Reply<string>> | null {
    if (!this.cfg || !this.loggedIn || utf8Length(content) > MAX_CUSTOM_MSG_BYTES) return null;
    const payload: CustomMsgPayload = {
      from_userid: this.cfg.idName,
      from_username: this.cfg.nickName,
      request_id: this.nextRequestId(),
      custom_content: content,
      room_id: this.session?.wireRoomId ?? '',
    };
    const msg = JSON.stringify(payload);
    return this.send('custommsg', { dest_id_name: dest, custom_msg: msg }).then((r) => ({ ...r, body: msg }));
  }

  /**
   * sendRoomMsg's legacy limit: one message per ROOM_MSG_INTERVAL_MS. False (refused) within it; a
   * message sent while logged in starts the interval.
   */
  roomMessageSlot(): boolean {
    const now = this.platform.now();
    if (now - this.lastRoomMsg < ROOM_MSG_INTERVAL_MS) return false;
    if (this.loggedIn) this.lastRoomMsg = now;
    return true;
  }

  sendRoomMessage(category: number, type: number, content: string): Promise<Reply<{ msg_id: number }>> {
    return this.send('im_chat', { msg_category: category, msg_type: type, msg_content: content });
  }

  sendReliableMessage(type: string, data: string): Promise<Reply<unknown>> {
    return this.send('trans', { trans_type: type, trans_data: data }).then((r) => {
      this.session?.noteOwnTrans(type, r.body.trans_seq);
      return r;
    });
  }

  sendRelayMessage(type: string, data: string): Promise<Reply<RelayRsp>> {
    return this.relay.submit(type, data);
  }

  /** Resolves with the message's bigmsg_id. */
  sendBigRoomMessage(category: number, type: number, content: string): Promise<Reply<string>> {
    return this.bigRoom.submit(category, type, content);
  }

  requestJoinLive(kind: 'request' | 'invite', dest: string) {
    return this.joinLive.ask(kind, dest);
  }

  respondJoinLive(requestId: string, accept: boolean): Promise<Reply<unknown>> | null {
    return this.joinLive.respond(requestId, accept);
  }

  endJoinLive(dest: string): Promise<Reply<unknown>> | null {
    return this.joinLive.end(dest);
  }

  /**
   * `biz_channel` (mixing on channel "zeus", CDN relay on "media"): resolves with the parsed `rsp_body`.
   * The server takes the room and user from the session, so the body leaves out what 1.12.5 repeats there
   * (id_name, live_channel, appid, version): the bundle stays small.
   */
  biz(
    channel: 'zeus' | 'media',
    cmd: RoomReqBody<'biz_channel'>['cmd'],
    body: object,
  ): Promise<Reply<Record<string, unknown>>> {
    return this.send('biz_channel', { channel, cmd, req_body: JSON.stringify(body) }).then((r) => ({
      seq: r.seq,
      body: parseObject<Record<string, unknown>>(r.body.rsp_body) ?? {},
    }));
  }

  updateStreamExtraInfo(streamId: string, extraInfo: string): boolean {
    return this.announcer.update(streamId, extraInfo);
  }

  /** Test hook (not legacy API): announce (2001) or end (2002) a stream on the room directly. */
  roomStream(op: 'announce' | 'end', streamId: string, extraInfo = ''): Promise<void> {
    const s = this.liveSession();
    return op === 'announce' ? s.announceStream(streamId, extraInfo) : s.endStream(streamId);
  }

  private onPush(roomId: string, cmd: string, body: Record<string, unknown>): void {
    switch (cmd) {
      case 'push_custommsg': {
        const m = parseObject<CustomMsgPayload>(body.custommsg);
        if (!m) return this.log.debug('a malformed custom command was ignored');
        return this.emit('customCommand', m.from_userid, m.from_username, m.custom_content);
      }
      case 'push_im_chat':
        return this.emit('roomMessage', body.chat_data as ChatData[], body.server_msg_id, body.ret_msg_id);
      case 'push_merge_message':
        for (const [list, room] of receivedBigRoomMessages(body, this.cfg?.idName, roomId))
          this.emit('bigRoomMessages', list, room);
        return;
      case 'push_signal':
        return this.joinLive.onPush(body);
    }
  }
}
