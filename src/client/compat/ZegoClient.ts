/**
 * The legacy `ZegoClient` facade: the only place that knows legacy signatures. It validates arguments
 * synchronously, returns the legacy boolean, drives the promise core and maps outcomes to the page's
 * success(...) / error({code, msg}) callbacks and assignable onXxx handlers.
 *
 * @example
 *   var zg = new ZegoClient();
 *   zg.config({ appid: 1, idName: 'alice', nickName: 'Alice', server: 'ws://127.0.0.1:8080/ws', logLevel: 2 });
 *   zg.login('room1', 1, token, function (streams) {}, function (err) { console.log(err.code, err.msg); });
 */
import {
  MAX_BIGIM_BATCH,
  MAX_CUSTOM_MSG_BYTES,
  ROOM_MSG_INTERVAL_MS,
  SDK_VERSION,
  utf8Length,
} from '../../protocol/constants';
import { ClientErrorCode, type LegacyError } from '../../protocol/errors';
import type {
  BigImData,
  ChatData,
  CustomMsgPayload,
  MergeMsgBody,
  SignalMsg,
  UserActionItem,
  WireStream,
  WireUser,
} from '../../protocol/room';
import { RoomSession } from '../core/RoomSession';
import type { PreviewOptions } from '../media/capture';
import { enumDevices, MediaPlane } from '../media/MediaPlane';
import { DispatchFailure } from '../media/StreamSession';
import { ZegoError } from '../core/ZegoError';
import { browserPlatform, type Platform } from '../platform/Platform';
import * as detection from './detection';
import { createStateCenter, type StateCenterView } from './stateCenter';

/* eslint-disable @typescript-eslint/no-explicit-any -- legacy callbacks take any arguments */
type Cb = ((...args: any[]) => void) | undefined | null;

export interface ZegoConfig {
  appid: number | string;
  idName: string;
  nickName: string;
  server: string | string[];
  logLevel?: number;
  remoteLogLevel?: number;
  logUrl?: string;
  audienceCreateRoom?: boolean;
  roomRetryTime?: number;
  streamRetryTime?: number;
  maxRetryTime?: number;
  /** Extension for tests: lower the heartbeat floor and the reconnection backoff. Not legacy API. */
  testing?: { heartbeatFloorMs?: number; backoffMs?: number };
}

/** Legacy stream item as handed to pages. */
function toLegacyStream(s: WireStream) {
  return {
    stream_id: s.stream_id,
    anchor_id_name: s.anchor_id_name,
    anchor_nick_name: s.anchor_nick_name,
    extra_info: s.extra_info,
    stream_gid: s.stream_gid,
    urls_flv: s.urls_flv || [],
    urls_hls: s.urls_m3u8 || [],
    urls_rtmp: s.urls_rtmp || [],
    urls_https_flv: s.urls_https_flv || [],
    urls_https_hls: s.urls_https_m3u8 || [],
  };
}

function call(fn: Cb, ...args: unknown[]): void {
  if (typeof fn !== 'function') return;
  try {
    fn(...args);
  } catch (e) {
    console.error('[ZegoClient] a callback threw:', e);
  }
}

function asLegacy(e: unknown): LegacyError {
  return e instanceof ZegoError
    ? e.toLegacy()
    : { code: ClientErrorCode.Unknown, msg: String((e as Error)?.message ?? e) };
}

export class ZegoClient {
  onDisconnect: Cb = null;
  onKickOut: Cb = null;
  onGetAnchorInfo: Cb = null;
  onRecvCustomCommand: Cb = null;
  onStreamUpdated: Cb = null;
  onStreamExtraInfoUpdated: Cb = null;
  onRecvRoomMsg: Cb = null;
  onUserStateUpdate: Cb = null;
  onGetTotalUserList: Cb = null;
  onUpdateOnlineCount: Cb = null;
  onRecvJoinLiveRequest: Cb = null;
  onRecvInviteJoinLiveRequest: Cb = null;
  onRecvEndJoinLiveCommand: Cb = null;
  onRecvReliableMessage: Cb = null;
  onRecvBigRoomMessage: Cb = null;
  onTempBroken: Cb = null;
  onReconnect: Cb = null;
  onPublishStateUpdate: Cb = null;
  onPlayStateUpdate: Cb = null;
  onPublishQualityUpdate: Cb = null;
  onPlayQualityUpdate: Cb = null;
  onVideoSizeChanged: Cb = null;
  onRemoteCameraStatusUpdate: Cb = null;
  onRemoteMicStatusUpdate: Cb = null;
  /** setSoundLevelDelegate: `([{streamID, soundLevel, type: 'push' | 'pull'}])`. */
  onSoundLevelUpdate: Cb = null;

  /** Read-only view of the original's internal state that pages read (see stateCenter.ts). */
  readonly stateCenter: StateCenterView;

  private cfg: ZegoConfig | null = null;
  private session: RoomSession | null = null;
  private userStateUpdate = false;
  private lastRoomMsg = -Infinity;
  // Request ids "{idName}-N" for custom commands and join-live signals share one counter whose first id is
  // "{idName}-2", as observed against jZego-rtc 1.12.5 (spec/compat).
  private requestCounter = 1;
  private readonly joinLiveResults = new Map<string, Cb>();
  private readonly receivedRequests = new Map<string, string>();
  private bigQueue: {
    msg: { msg_category: number; msg_type: number; msg_content: string; bigmsg_client_id: string };
    seq: number;
    ok: Cb;
    err: Cb;
  }[] = [];
  private bigTimer: unknown = null;
  private bigLastWindow = -1;
  private relayQueue: { type: string; data: string; ok: Cb; err: Cb }[] = [];
  private relayTimer: unknown = null;
  private seq = 0;
  private readonly platform: Platform;
  /** Kept for the media plane, where it bypasses dispatch (legacy setCustomSignalUrl). */
  private customSignalUrls: string[] = [];

  private loginToken = '';
  private roomId = '';
  /** The last login call (stateCenter: roomid, role, token, third_token). */
  private lastLogin: { roomId: string; role: number; token: string; thirdToken: string } | undefined;
  private readonly media: MediaPlane;

  constructor(platform?: Platform) {
    this.platform = platform ?? browserPlatform;
    this.media = this.createMediaPlane();
    this.stateCenter = createStateCenter({
      config: () => this.cfg,
      login: () => this.lastLogin,
      session: () => this.session,
      userStateUpdate: () => this.userStateUpdate,
      publishers: () =>
        [...this.media.publishers].map(([id, p]) => [
          id,
          { started: p.session.started, extraInfo: p.session.o.extraInfo ?? '' },
        ]),
    });
    // As the original: leaving the page logs out, so others see the user leave at once, not after the
    // heartbeat expires (pagehide covers iOS, where beforeunload does not fire).
    if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
      const leave = () => {
        if (this.session) this.logout();
      };
      window.addEventListener('beforeunload', leave);
      window.addEventListener('pagehide', leave);
      window.addEventListener('offline', () => this.session?.networkOffline());
      window.addEventListener('online', () => this.session?.networkOnline());
    }
  }

  static getCurrentVersion(): string {
    return SDK_VERSION;
  }

  /**
   * 1.3+: `success({webRtc, capture, videoDecodeType: {H264, VP8}, screenSharing})`, measured from the
   * browser (see detection.ts); `error(e)` when the codec probe fails.
   */
  static supportDetection(success?: Cb, error?: Cb): void {
    const canShare = typeof (ZegoClient.prototype as unknown as Record<string, unknown>).startScreenSharing;
    detection.supportDetection(browserPlatform.support, canShare === 'function', success, error);
  }

  /** 1.1.1 (the seed's API): whether the browser has WebRTC. */
  static isSupportWebrtc(): boolean {
    return detection.isSupportWebrtc(browserPlatform.support);
  }

  /** 1.1.1 (the seed's API): `success(true | false)`: whether the browser can send H.264. */
  static isSupportH264(success?: Cb, error?: Cb): void {
    detection.isSupportH264(browserPlatform.support, success, error);
  }

  /** `success({H264, VP8, VP9, H265})`: the video codecs the browser can send. */
  static supportVideoCodeType(success?: Cb, error?: Cb): void {
    detection.supportVideoCodeType(browserPlatform.support, success, error);
  }

  /**
   * 1.12.5: `enable` must be a boolean and `intervalMs`, when given, a number within 100-3000 ms (else a
   * logged error and nothing changes); returns nothing. Levels come every `intervalMs` (default 1000)
   * through onSoundLevelUpdate for every published and played stream, none while there is none.
   */
  setSoundLevelDelegate(enable: boolean, intervalMs?: number): void {
    if (typeof enable !== 'boolean') {
      console.error('[ZegoClient] setSoundLevelDelegate: param 1 must be boolean');
      return;
    }
    if (intervalMs && (typeof intervalMs !== 'number' || intervalMs < 100 || intervalMs > 3000)) {
      console.error('[ZegoClient] setSoundLevelDelegate: interval must be a number between 100 and 3000');
      return;
    }
    this.media.setSoundLevelDelegate(enable, intervalMs);
  }

  config(option: ZegoConfig): boolean {
    if (!option || typeof option !== 'object') return false;
    const servers = Array.isArray(option.server) ? option.server : [option.server];
    if (!servers.length || !servers.every((s) => typeof s === 'string' && /^wss?:\/\//.test(s))) return false;
    if (typeof option.idName !== 'string' || option.idName === '') return false;
    if (option.appid === undefined || option.appid === null || !(Number(option.appid) > 0)) return false;
    this.cfg = { ...option, nickName: typeof option.nickName === 'string' ? option.nickName : option.idName };
    return true;
  }

  setUserStateUpdate(update: boolean): boolean {
    if (typeof update !== 'boolean') return false;
    this.userStateUpdate = update;
    return true;
  }

  setCustomSignalUrl(url: string | string[]): boolean {
    const urls = Array.isArray(url) ? url : [url];
    if (!urls.length || !urls.every((u) => typeof u === 'string' && /^wss?:\/\//.test(u))) return false;
    this.customSignalUrls = urls;
    return true;
  }

  login(roomId: string, role: number, token: string, success?: Cb, error?: Cb): void {
    this.loginWithAuthor(roomId, role, token, '', success, error);
  }

  loginWithAuthor(
    roomId: string,
    role: number,
    token: string,
    authToken: string,
    success?: Cb,
    error?: Cb,
  ): void {
    // 1.12: bad arguments return silently, with no callback.
    if (typeof roomId !== 'string' || typeof token !== 'string' || (role !== 1 && role !== 2)) return;
    const cfg = this.cfg;
    if (!cfg) {
      call(error, { code: ClientErrorCode.Param, msg: 'call config first' });
      return;
    }
    const servers = Array.isArray(cfg.server) ? cfg.server : [cfg.server];
    const retry =
      cfg.maxRetryTime && cfg.maxRetryTime < 3600 ? cfg.maxRetryTime : (cfg.roomRetryTime ?? undefined);
    // A login over a live one starts from scratch: the old room's streams and media sockets go.
    if (this.session) this.media.stopAll();
    void this.session?.logout();
    this.loginToken = token;
    this.roomId = roomId;
    this.lastLogin = {
      roomId,
      role,
      token,
      thirdToken: typeof authToken === 'string' ? authToken : '',
    };
    const session = new RoomSession(
      {
        appid: cfg.appid,
        idName: cfg.idName,
        nickName: cfg.nickName,
        servers,
        roomId,
        role,
        token,
        thirdToken: typeof authToken === 'string' ? authToken : '',
        userStateUpdate: this.userStateUpdate,
        roomCreateFlag: cfg.audienceCreateRoom === false ? 0 : 1,
        retryTimeS: retry,
        heartbeatFloorMs: cfg.testing?.heartbeatFloorMs,
        backoffMs: cfg.testing?.backoffMs !== undefined ? () => cfg.testing!.backoffMs! : undefined,
      },
      this.platform,
      {
        anchorInfo: (id, name) => call(this.onGetAnchorInfo, id, name),
        streamsAdded: (l) => {
          this.media.roomStreamsAdded(l.map((s) => s.stream_id));
          call(this.onStreamUpdated, 0, l.map(toLegacyStream));
        },
        streamsDeleted: (l) => {
          // Players of these streams end without an error (1.12 pages stop them in this callback).
          this.media.roomStreamsDeleted(l.map((s) => s.stream_id));
          call(this.onStreamUpdated, 1, l.map(toLegacyStream));
        },
        streamsUpdated: (l) => call(this.onStreamExtraInfoUpdated, l.map(toLegacyStream)),
        totalUserList: (l: WireUser[]) =>
          call(
            this.onGetTotalUserList,
            roomId,
            l.map((u) => ({ idName: u.id_name, nickName: u.nick_name, role: u.role })),
          ),
        userActions: (l: UserActionItem[]) =>
          call(
            this.onUserStateUpdate,
            roomId,
            l.map((u) => ({
              action: u.Action,
              idName: u.IdName,
              nickName: u.NickName,
              role: u.Role,
              loginTime: u.LoginTime,
            })),
          ),
        onlineCount: (n) => call(this.onUpdateOnlineCount, roomId, n),
        reliable: (type, seq, data) => call(this.onRecvReliableMessage, type, seq, data),
        push: (cmd, body) => this.onPush(roomId, cmd, body),
        tempBroken: () => call(this.onTempBroken),
        reconnected: () => {
          // The room ended our streams with the old session: announce the live ones again.
          for (const [id, extra] of this.media.liveStreams())
            void session.announceStream(id, extra).catch(() => {});
          call(this.onReconnect);
        },
        disconnected: (e) => call(this.onDisconnect, e.toLegacy()),
        kickedOut: (reason) =>
          call(this.onKickOut, { code: ClientErrorCode.Kickout, msg: `kickout reason=${reason}` }),
      },
    );
    this.session = session;
    // 1.12 starts the login on a 0 ms timer.
    this.platform.setTimeout(() => {
      session.login().then(
        (list) => call(success, list.map(toLegacyStream)),
        (e) => call(error, asLegacy(e)),
      );
    }, 0);
  }

  logout(): boolean {
    const s = this.session;
    this.session = null;
    this.media.stopAll();
    // Queued relay messages die with the session (their error would carry a dead socket's seq).
    if (this.relayTimer !== null) this.platform.clearTimeout(this.relayTimer);
    this.relayTimer = null;
    for (const m of this.relayQueue.splice(0))
      call(m.err, { code: ClientErrorCode.Network, msg: 'not logged in' }, 0);
    if (!s) return false;
    void s.logout();
    return true;
  }

  release(): void {
    this.logout();
    if (this.bigTimer !== null) this.platform.clearTimeout(this.bigTimer);
    if (this.relayTimer !== null) this.platform.clearTimeout(this.relayTimer);
    this.bigTimer = this.relayTimer = null;
    this.bigQueue = [];
    this.relayQueue = [];
  }

  /** Internal (not legacy API): announce / update / end a published stream on the room. */
  _announceStream(streamId: string, extraInfo = ''): Promise<void> {
    return this.live().announceStream(streamId, extraInfo);
  }

  _endStream(streamId: string): Promise<void> {
    return this.live().endStream(streamId);
  }

  updateStreamExtraInfo(streamId: string, extraInfo: string): boolean {
    if (typeof streamId !== 'string' || typeof extraInfo !== 'string' || !this.session) return false;
    this.media.setExtraInfo(streamId, extraInfo);
    this.session
      .updateStream(streamId, extraInfo)
      .catch((e) => console.warn('[ZegoClient] updateStreamExtraInfo:', asLegacy(e)));
    return true;
  }

  private live(): RoomSession {
    if (!this.session || this.session.state !== 'logged-in')
      throw new ZegoError(ClientErrorCode.Network, 'not logged in');
    return this.session;
  }

  /** Runs a request for a callback-style method: error(err, seq, ...extra) on failure. */
  private send<T>(
    run: (s: RoomSession) => Promise<T>,
    ok: (seq: number, r: T) => void,
    error: Cb,
    ...extra: unknown[]
  ): number {
    let p: Promise<T>;
    try {
      p = run(this.live());
    } catch (e) {
      p = Promise.reject(e);
    }
    // As the original: the seq a callback gets is the room socket's request seq.
    const seq = this.session?.conn?.lastSeq ?? ++this.seq;
    p.then(
      (r) => ok(seq, r),
      (e) => {
        if (!(e instanceof ZegoError && e.silent)) call(error, asLegacy(e), seq, ...extra);
      },
    );
    return seq;
  }

  sendCustomCommand(dstMembers: string[], customContent: unknown, success?: Cb, error?: Cb): boolean {
    if (!Array.isArray(dstMembers) || dstMembers.length === 0 || !this.cfg) return false;
    // As the original: false when not logged in (no callback).
    if (this.session?.state !== 'logged-in') return false;
    const content = typeof customContent === 'string' ? customContent : JSON.stringify(customContent);
    if (typeof content !== 'string' || utf8Length(content) > MAX_CUSTOM_MSG_BYTES) return false;
    const payload: CustomMsgPayload = {
      from_userid: this.cfg.idName,
      from_username: this.cfg.nickName,
      request_id: `${this.cfg.idName}-${++this.requestCounter}`,
      custom_content: content,
      room_id: this.session?.conn?.identity.room_id ?? '',
    };
    const msg = JSON.stringify(payload);
    this.send(
      (s) => s.request().request('custommsg', { dest_id_name: dstMembers, custom_msg: msg }),
      (seq) => call(success, seq, msg),
      error,
      content,
    );
    return true;
  }

  sendRoomMsg(category: number, type: number, content: string, success?: Cb, error?: Cb): void {
    // As the original: a bad argument gets error(PARAM) with that single argument.
    if (
      (category !== 1 && category !== 2) ||
      (type !== 1 && type !== 2 && type !== 3) ||
      typeof content !== 'string'
    ) {
      call(error, { code: ClientErrorCode.Param, msg: 'input error.' });
      return;
    }
    const now = this.platform.now();
    if (now - this.lastRoomMsg < ROOM_MSG_INTERVAL_MS) {
      call(
        error,
        { code: ClientErrorCode.FrequencyLimited, msg: 'Frequency Limited.' },
        0,
        category,
        type,
        content,
      );
      return;
    }
    if (this.session?.state === 'logged-in') this.lastRoomMsg = now;
    this.send(
      (s) => s.request().request('im_chat', { msg_category: category, msg_type: type, msg_content: content }),
      (seq, r) => call(success, seq, r.msg_id, category, type, content),
      error,
      category,
      type,
      content,
    );
  }

  sendReliableMessage(type: string, data: string, success?: Cb, error?: Cb): void {
    this.send(
      (s) => s.request().request('trans', { trans_type: type, trans_data: data }),
      (seq, r) => {
        this.session?.noteOwnTrans(type, r.trans_seq);
        call(success, seq);
      },
      error,
    );
  }

  /**
   * As the original: with a server relay window (dati_time_window) the messages are queued and each goes
   * out after a random delay within the window, so a whole quiz audience does not answer in one burst.
   */
  sendRelayMessage(type: string, data: string, success?: Cb, error?: Cb): void {
    if ((this.session?.datiWindowMs ?? 0) > 0) {
      this.relayQueue.push({ type, data, ok: success, err: error });
      if (this.relayQueue.length === 1) this.armRelay();
      return;
    }
    this.relayNow(type, data, success, error);
  }

  private armRelay(): void {
    const w = this.session?.datiWindowMs ?? 0;
    const t = this.platform.now() + (this.session?.serverOffsetMs ?? 0);
    const span = w > 0 ? 2 * w - (t % w) : 0;
    const delay = Math.floor(this.platform.random() * (span + 1));
    this.relayTimer = this.platform.setTimeout(() => {
      this.relayTimer = null;
      const m = this.relayQueue.shift();
      if (m) this.relayNow(m.type, m.data, m.ok, m.err);
      if (this.relayQueue.length) this.armRelay();
    }, delay);
  }

  private relayNow(type: string, data: string, success: Cb, error: Cb): void {
    this.send(
      (s) => s.request().request('relay', { relay_type: type, relay_data: data }),
      (seq, r) => call(success, seq, r.relay_result),
      error,
    );
  }

  /**
   * As the original: with no server window a message goes at once; with one, the first message of a
   * window goes at once and later ones are batched (at most 20 per request) and sent at a random point
   * of the next window.
   */
  sendBigRoomMessage(category: number, type: number, content: string, success?: Cb, error?: Cb): void {
    const seq = ++this.seq;
    const item = {
      msg: { msg_category: category, msg_type: type, msg_content: content, bigmsg_client_id: String(seq) },
      seq,
      ok: success,
      err: error,
    };
    const w = this.session?.bigimWindowMs ?? 0;
    const t = this.platform.now() + (this.session?.serverOffsetMs ?? 0);
    if (w <= 0) {
      this.sendBig([item]);
      return;
    }
    const index = Math.floor(t / w);
    if (this.bigLastWindow < index && this.bigQueue.length === 0) {
      this.bigLastWindow = index;
      this.sendBig([item]);
      return;
    }
    this.bigQueue.push(item);
    if (this.bigQueue.length === 1 && this.bigTimer === null) this.armBig();
  }

  private armBig(): void {
    const w = this.session?.bigimWindowMs ?? 0;
    const t = this.platform.now() + (this.session?.serverOffsetMs ?? 0);
    const delay = w > 0 ? w - (t % w) + Math.floor(this.platform.random() * (w + 1)) : 0;
    this.bigTimer = this.platform.setTimeout(() => {
      this.bigTimer = null;
      const w2 = this.session?.bigimWindowMs ?? 0;
      if (w2 > 0)
        this.bigLastWindow = Math.floor((this.platform.now() + (this.session?.serverOffsetMs ?? 0)) / w2);
      this.sendBig(this.bigQueue.splice(0, MAX_BIGIM_BATCH));
      if (this.bigQueue.length) this.armBig();
    }, delay);
  }

  private sendBig(batch: ZegoClient['bigQueue']): void {
    if (!batch.length) return;
    let p;
    try {
      p = this.live()
        .request()
        .request('bigim_chat', { msgs: batch.map((b) => b.msg) });
    } catch (e) {
      p = Promise.reject(e);
    }
    // As the original: success gets the seq of the bigim_chat request on the room socket.
    const wireSeq = this.session?.conn?.lastSeq;
    if (wireSeq !== undefined) for (const b of batch) b.seq = wireSeq;
    p.then(
      (r) => {
        for (const b of batch) {
          const m = r.msgs.find((x) => x.bigmsg_client_id === b.msg.bigmsg_client_id);
          call(b.ok, b.seq, m?.bigmsg_id ?? '');
        }
      },
      (e) => {
        if (!(e instanceof ZegoError && e.silent)) batch.forEach((b) => call(b.err, asLegacy(e), b.seq));
      },
    );
  }

  private signal(
    subCmd: number,
    dest: string,
    requestId: string,
    extra: Partial<SignalMsg>,
    ok: Cb,
    error: Cb,
  ): number {
    const cfg = this.cfg!;
    const msg: SignalMsg = {
      request_id: requestId,
      room_id: this.session?.conn?.identity.room_id ?? '',
      from_userid: cfg.idName,
      from_username: cfg.nickName,
      to_userid: dest,
      ...extra,
    };
    return this.send(
      (s) =>
        s
          .request()
          .request('signal', { sub_cmd: subCmd, signal_msg: JSON.stringify(msg), dest_id_name: [dest] }),
      (seq) => call(ok, seq),
      error,
    );
  }

  requestJoinLive(destIdName: string, success?: Cb, error?: Cb, resultCallback?: Cb): boolean {
    return this.ask(1001, destIdName, success, error, resultCallback);
  }

  inviteJoinLive(destIdName: string, success?: Cb, error?: Cb, resultCallback?: Cb): boolean {
    return this.ask(1003, destIdName, success, error, resultCallback);
  }

  private ask(subCmd: number, dest: string, success: Cb, error: Cb, result: Cb): boolean {
    if (typeof dest !== 'string' || !dest || typeof result !== 'function' || !this.cfg) return false;
    const requestId = `${this.cfg.idName}-${++this.requestCounter}`;
    this.joinLiveResults.set(requestId, result);
    this.signal(subCmd, dest, requestId, {}, success, error);
    return true;
  }

  respondJoinLive(requestId: string, respondResult: boolean, success?: Cb, error?: Cb): boolean {
    const from = this.receivedRequests.get(requestId);
    if (from === undefined || typeof respondResult !== 'boolean') return false;
    this.receivedRequests.delete(requestId);
    this.signal(1002, from, requestId, { result: respondResult ? 1 : 0 }, success, error);
    return true;
  }

  endJoinLive(destIdName: string, success?: Cb, error?: Cb): boolean {
    if (typeof destIdName !== 'string' || !destIdName || !this.cfg) return false;
    this.signal(1004, destIdName, `${this.cfg.idName}-${++this.requestCounter}`, {}, success, error);
    return true;
  }

  /* ------------------------------------------------------------ media plane (legacy 1.6-1.20) ---- */

  private createMediaPlane(): MediaPlane {
    return new MediaPlane(this.platform, {
      identity: () =>
        this.cfg && this.session
          ? { appid: this.cfg.appid, idName: this.cfg.idName, token: this.loginToken, roomId: this.roomId }
          : null,
      dispatch: async (streamId, ptype, cdnUrl) => {
        const session = this.session;
        if (!session || session.state !== 'logged-in') throw new DispatchFailure(false);
        try {
          const r = await session.request().request('webrtc_url', {
            stream_id: streamId,
            ptype,
            signals: [],
            header_kvs: [{ key: 'grpc-metadata-push', value: cdnUrl }],
            retry: 0,
          });
          return r.urls ?? [];
        } catch (e) {
          throw new DispatchFailure(e instanceof ZegoError && e.code === ClientErrorCode.Timeout);
        }
      },
      announce: async (streamId, extraInfo) => {
        if (this.session?.state === 'logged-in') await this.session.announceStream(streamId, extraInfo);
      },
      endStream: (streamId) => {
        if (this.session?.state === 'logged-in') void this.session.endStream(streamId).catch(() => {});
      },
      publishState: (type, id, err) => call(this.onPublishStateUpdate, type, id, type === 0 ? 0 : err),
      playState: (type, id, err) => call(this.onPlayStateUpdate, type, id, type === 0 ? 0 : err),
      publishQuality: (id, q) => call(this.onPublishQualityUpdate, id, q),
      playQuality: (id, q) => call(this.onPlayQualityUpdate, id, q),
      videoSize: (id, w, h) => call(this.onVideoSizeChanged, id, w, h),
      remoteCamera: (id, st) => call(this.onRemoteCameraStatusUpdate, id, st),
      remoteMic: (id, st) => call(this.onRemoteMicStatusUpdate, id, st),
      soundLevels: (items) => call(this.onSoundLevelUpdate, items),
      customUrls: () => this.customSignalUrls,
      retryTimeS: () => {
        const c = this.cfg;
        return c?.maxRetryTime && c.maxRetryTime < 3600 ? c.maxRetryTime : (c?.streamRetryTime ?? 300);
      },
      backoffMs: () => {
        const b = this.cfg?.testing?.backoffMs;
        return b === undefined ? undefined : () => b;
      },
    });
  }

  /** Static and instance (1.6): `success({microphones, speakers, cameras})` with `{label, deviceId}` items. */
  static enumDevices(success?: Cb, error?: Cb): void {
    enumDevices(browserPlatform.media).then(
      (d) => call(success, d),
      (e) => call(error, e),
    );
  }

  enumDevices(success?: Cb, error?: Cb): void {
    enumDevices(this.platform.media).then(
      (d) => call(success, d),
      (e) => call(error, e),
    );
  }

  /** 1.7: returns false at once for a missing element or options; the capture outcome comes later. */
  startPreview(video: HTMLMediaElement, constraints: PreviewOptions, success?: Cb, error?: Cb): boolean {
    if (!video || typeof video !== 'object' || !constraints || typeof constraints !== 'object') return false;
    if (!this.platform.media) {
      call(error, "browser don't support");
      return false;
    }
    this.media.preview(video, constraints).then(
      () => call(success),
      (e) => call(error, e),
    );
    return true;
  }

  stopPreview(video: HTMLMediaElement): boolean {
    return !!video && this.media.stopPreview(video);
  }

  enableCamera(video: HTMLMediaElement, enable: boolean): boolean {
    if (typeof enable !== 'boolean') return false;
    return this.media.enable(video, 'video', enable);
  }

  enableMicrophone(video: HTMLMediaElement, enable: boolean): boolean {
    if (typeof enable !== 'boolean') return false;
    return this.media.enable(video, 'audio', enable);
  }

  setLocalAudioOutput(video: HTMLMediaElement, audioOutput: string | null): boolean {
    const el = video as HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };
    if (!el || typeof el.setSinkId !== 'function') return false;
    el.setSinkId(audioOutput ?? '').catch(() => {});
    return true;
  }

  /** 1.13: replaces the published track in place (no renegotiation). */
  switchDevice(
    type: 'audio' | 'video',
    video: HTMLMediaElement,
    deviceId: string,
    success?: Cb,
    error?: Cb,
  ): boolean {
    if ((type !== 'audio' && type !== 'video') || !video || typeof deviceId !== 'string') return false;
    this.media.switchDevice(type, video, deviceId).then(
      () => call(success),
      (e) => call(error, e),
    );
    return true;
  }

  /** 1.12: false when not logged in, without a preview on the element, or already publishing the id. */
  startPublishingStream(
    streamId: string,
    video: HTMLMediaElement,
    extraInfo?: string,
    publishOption?: { streamParams?: string; cdnUrl?: string; videoDecodeType?: string },
  ): boolean {
    if (typeof streamId !== 'string' || !streamId || !video) return false;
    if (this.session?.state !== 'logged-in') return false;
    return this.media.publish(
      streamId,
      video,
      typeof extraInfo === 'string' ? extraInfo : '',
      publishOption ?? {},
    );
  }

  stopPublishingStream(streamId: string): boolean {
    if (typeof streamId !== 'string' || !streamId) return false;
    return this.media.stopPublish(streamId);
  }

  /** 1.17: false when not logged in or without an element; the outcome is onPlayStateUpdate. */
  startPlayingStream(
    streamId: string,
    video: HTMLMediaElement,
    audioOutput?: string,
    playOption?: { playType?: string; streamParams?: string; videoDecodeType?: string },
  ): boolean {
    if (typeof streamId !== 'string' || !streamId || !video) return false;
    // Our media server checks the room login token: playing needs a login, even with setCustomSignalUrl.
    if (this.session?.state !== 'logged-in') return false;
    return this.media.play(streamId, video, audioOutput || undefined, playOption ?? {});
  }

  stopPlayingStream(streamId: string): boolean {
    if (typeof streamId !== 'string' || !streamId) return false;
    return this.media.stopPlay(streamId);
  }

  setPlayAudioOutput(streamId: string, audioOutput: string): boolean {
    if (typeof streamId !== 'string' || typeof audioOutput !== 'string') return false;
    return this.media.setPlayAudioOutput(streamId, audioOutput);
  }

  /** 1.20: at least 1000 ms (default 3000). */
  setQualityMonitorCycle(timeInMS: number): boolean {
    if (typeof timeInMS !== 'number' || !(timeInMS >= 1000)) return false;
    this.media.setCycle(timeInMS);
    return true;
  }

  private onPush(roomId: string, cmd: string, body: Record<string, unknown>): void {
    switch (cmd) {
      case 'push_custommsg': {
        try {
          const m = JSON.parse(String(body.custommsg)) as CustomMsgPayload;
          call(this.onRecvCustomCommand, m.from_userid, m.from_username, m.custom_content);
        } catch {
          /* malformed payload from a peer: ignored */
        }
        return;
      }
      case 'push_im_chat':
        call(this.onRecvRoomMsg, body.chat_data as ChatData[], body.server_msg_id, body.ret_msg_id);
        return;
      case 'push_merge_message':
        for (const m of (body.messages as { sub_cmd: number; msg_body: string }[]) || []) {
          if (m.sub_cmd !== 14001) continue;
          try {
            const inner = JSON.parse(m.msg_body) as MergeMsgBody;
            const list = inner.msg_data
              .filter((d: BigImData) => d.id_name !== this.cfg?.idName)
              .map((d: BigImData) => ({
                idName: d.id_name,
                nickName: d.nick_name,
                messageId: d.bigmsg_id,
                category: d.msg_category,
                type: d.msg_type,
                content: d.msg_content,
                time: d.send_time,
              }));
            if (list.length) call(this.onRecvBigRoomMessage, list, inner.room_id || roomId);
          } catch {
            /* malformed payload: ignored */
          }
        }
        return;
      case 'push_signal': {
        let m: SignalMsg;
        try {
          m = JSON.parse(String(body.signal_msg)) as SignalMsg;
        } catch {
          return;
        }
        const sub = Number(body.sub_cmd);
        if (sub === 11001 || sub === 11003) {
          this.receivedRequests.set(m.request_id, m.from_userid);
          call(
            sub === 11001 ? this.onRecvJoinLiveRequest : this.onRecvInviteJoinLiveRequest,
            m.request_id,
            m.from_userid,
            m.from_username,
            m.room_id,
          );
        } else if (sub === 11002) {
          const cb = this.joinLiveResults.get(m.request_id);
          this.joinLiveResults.delete(m.request_id);
          call(cb, m.result === 1, m.from_userid, m.from_username);
        } else if (sub === 11004) {
          call(this.onRecvEndJoinLiveCommand, m.request_id, m.from_userid, m.from_username, m.room_id);
        }
        return;
      }
    }
  }
}
