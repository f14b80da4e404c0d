/**
 * The legacy `ZegoClient` facade: the only place that knows legacy signatures. Each method checks its
 * arguments synchronously, returns the legacy boolean, calls the promise core (ClientEngine) and maps
 * the outcome to the page's success(...) / error({code, msg}) callbacks. Everything else the page hears
 * comes from one table, ENGINE_EVENTS (legacyEvents.ts): engine event -> `onXxx` handler and its legacy
 * arguments. The handlers stay plain writable properties, read when an event is delivered (pages assign
 * them in loops and reassign them later); one that throws is logged and never breaks the SDK.
 *
 * @example
 *   var zg = new ZegoClient();
 *   zg.config({ appid: 1, idName: 'alice', nickName: 'Alice', server: 'ws://127.0.0.1:8080/ws', logLevel: 2 });
 *   zg.login('room1', 1, token, function (streams) {}, function (err) { console.log(err.code, err.msg); });
 */
import { SDK_VERSION } from '../../protocol/constants';
import { ClientErrorCode } from '../../protocol/errors';
import { ClientEngine, type ClientConfig, type EngineEvents } from '../core/ClientEngine';
import { RequestFailure, type Reply } from '../core/requests';
import { ZegoError } from '../core/ZegoError';
import { paramError } from '../media/AudioEffects';
import { AudioInfo } from '../media/AudioInfo';
import type { AudioMixer, EffectOptions } from '../media/AudioMixer';
import type { AudioBufferLike } from '../platform/Platform';
import type { PreviewOptions } from '../media/capture';
import { enumDevices } from '../media/MediaPlane';
import { Recorder, type RecordOptions } from '../media/Recorder';
import type { ScreenOptions } from '../media/ScreenCapture';
import { setSink } from '../media/sink';
import * as snapshot from '../media/Snapshot';
import { viaCloudProxy, type CloudProxy } from '../platform/cloudProxy';
import { browserPlatform, type Platform } from '../platform/Platform';
import { invoke, staticLog, type Cb } from './callbacks';
import * as detection from './detection';
import { ENGINE_EVENTS, toLegacyStream, type OnName } from './legacyEvents';
import { missingInputs, mixInfos, mixOutput, startMixBody, type MixStreamConfig } from './mixConfig';
import { createStateCenter, type StateCenterView } from './stateCenter';

export type ZegoConfig = ClientConfig;

const isWsUrl = (s: unknown) => typeof s === 'string' && /^wss?:\/\//.test(s);
const isId = (s: unknown): s is string => typeof s === 'string' && s !== '';
/** 1.12.5: an effect id is a number other than 0. */
const isEffectId = (id: unknown): id is number => typeof id === 'number' && !!id;
const isMediaElement = (e: unknown): e is HTMLMediaElement =>
  !!e && typeof (e as HTMLMediaElement).play === 'function';
/** startScreenShotFirFox's mediaSource as getDisplayMedia's displaySurface hint. */
const SURFACES: Record<string, string> = { screen: 'monitor', window: 'window', application: 'window' };

/** setCloudProxyConfig's proxies (null: off), read by every client created after it. */
let cloudProxy: CloudProxy | null = null;

/**
 * A proxy of setCloudProxyConfig's list as `host[:port]` (port optional: 443; an IPv6 literal in brackets,
 * as the Express SDK takes it), or '' when it is not one.
 */
const proxyHost = (p: { hostName?: unknown; port?: unknown } | null): string => {
  const h = p && p.hostName;
  const port = p && p.port;
  return typeof h === 'string' &&
    /^[\w.:[\]-]+$/.test(h) &&
    (!port || (port === ((port as number) & 65535) && (port as number) > 0))
    ? h + (port ? `:${port as number}` : '')
    : '';
};

/** The recorder of the statics (1.12.5 kept one on the class). */
let recorder: Recorder | undefined;
const theRecorder = () => (recorder = recorder || new Recorder(browserPlatform, staticLog));

export interface EffectConfig extends EffectOptions {
  streamId: string;
  effectId: number;
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
  /** The user ended a screen capture from the browser: `(stream)` (1.12.5; the seed documents none). */
  onScreenSharingEnded: Cb = null;
  /** `({deviceName, deviceType: 'camera' | 'micro', errorCode: -6})`: a capture's device failed or went. */
  onDeviceError: Cb = null;
  /** `({deviceType: 'Input' | 'Output', deviceInfo: {deviceName, deviceID}, state: 'ADD' | 'DELETE'})`. */
  OnAudioDeviceStateChanged: Cb = null;
  /** `({deviceInfo: {deviceName, deviceID}, state: 'ADD' | 'DELETE'})`. */
  OnVideoDeviceStateChanged: Cb = null;

  /** Read-only view of the original's internal state that pages read (see stateCenter.ts). */
  readonly stateCenter: StateCenterView;
  /** The promise core (not legacy API: diagnostics and tests reach the media plane through it). */
  readonly engine: ClientEngine;
  private readonly platform: Platform;

  constructor(platform?: Platform) {
    const base = platform ?? browserPlatform;
    // The cloud proxy reaches the core through its platform seam: every connection goes through it.
    this.platform = cloudProxy ? viaCloudProxy(base, cloudProxy) : base;
    const engine = new ClientEngine(this.platform);
    this.engine = engine;
    for (const event of Object.keys(ENGINE_EVENTS) as (keyof EngineEvents)[]) {
      const [name, args] = ENGINE_EVENTS[event] as [OnName, (...a: unknown[]) => unknown[]];
      engine.on(event, (...a: unknown[]) => this.call(this[name], ...args(...a)));
    }
    this.stateCenter = createStateCenter({
      config: () => engine.config,
      login: () => engine.lastLogin,
      session: () => engine.room,
      userStateUpdate: () => engine.userStateUpdates,
      publishers: () => engine.media.publishedStreams(),
    });
  }

  private call(fn: Cb, ...args: unknown[]): void {
    invoke(this.engine.log, fn, ...args);
  }

  /** A request's outcome to the page: ok(reply), or error(err, seq, ...extra) unless dropped silently. */
  private settle<T>(p: Promise<Reply<T>>, ok: (r: Reply<T>) => void, error: Cb, ...extra: unknown[]): void {
    p.then(ok, (f: unknown) => {
      const failure = f instanceof RequestFailure ? f : new RequestFailure(ZegoError.from(f), 0);
      if (!failure.silent) this.call(error, failure.error.toLegacy(), failure.seq, ...extra);
    });
  }

  /**
   * The cloud proxy (the Express SDK's API, seed 000): with `enable` true, every connection of the clients
   * created after this call (room and media sockets, ICE) goes only to the proxies of `proxyList`, tried in
   * order, over TLS on their one port; the proxy checks `token` (minted by your business server:
   * docs/deployment.md, "Cloud proxy"). `enable` false turns it off for the clients created after.
   * Call it before `new ZegoClient()`: a client keeps the proxy it was created with.
   *
   * The Express SDK checks nothing here and fails later, at connect time; this returns `false` (logged,
   * nothing changed) for a list that is not a non-empty array of `{hostName, port}` (port 1-65535, or
   * absent for 443), a token that is not a non-empty string, or an `enable` that is not a boolean.
   *
   * @example
   *   ZegoClient.setCloudProxyConfig([{ hostName: 'proxy1.example.com', port: 443 },
   *     { hostName: 'proxy2.example.com', port: 443 }], tokenFromYourServer, true);
   *   var zg = new ZegoClient();
   */
  static setCloudProxyConfig(
    proxyList: { hostName: string; port?: number }[],
    token: string,
    enable: boolean,
  ): boolean {
    const hosts = Array.isArray(proxyList) ? proxyList.map(proxyHost) : [];
    const ok =
      typeof enable === 'boolean' &&
      (!enable || (hosts.length > 0 && hosts.every(Boolean) && typeof token === 'string' && token !== ''));
    if (!ok) staticLog.error('setCloudProxyConfig: input error.');
    else cloudProxy = enable ? { hosts, token } : null;
    return ok;
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
      this.engine.log.error('setSoundLevelDelegate: param 1 must be boolean');
      return;
    }
    if (intervalMs && (typeof intervalMs !== 'number' || intervalMs < 100 || intervalMs > 3000)) {
      this.engine.log.error('setSoundLevelDelegate: interval must be a number between 100 and 3000');
      return;
    }
    this.engine.media.setSoundLevelDelegate(enable, intervalMs);
  }

  config(option: ZegoConfig): boolean {
    if (!option || typeof option !== 'object') return false;
    const servers = Array.isArray(option.server) ? option.server : [option.server];
    if (!servers.length || !servers.every(isWsUrl)) return false;
    if (typeof option.idName !== 'string' || option.idName === '') return false;
    if (option.appid === undefined || option.appid === null || !(Number(option.appid) > 0)) return false;
    this.engine.configure({
      ...option,
      nickName: typeof option.nickName === 'string' ? option.nickName : option.idName,
    });
    return true;
  }

  setUserStateUpdate(update: boolean): boolean {
    if (typeof update !== 'boolean') return false;
    this.engine.setUserStateUpdate(update);
    return true;
  }

  setCustomSignalUrl(url: string | string[]): boolean {
    const urls = Array.isArray(url) ? url : [url];
    if (!urls.length || !urls.every(isWsUrl)) return false;
    this.engine.setCustomSignalUrls(urls);
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
    if (!this.engine.config) {
      this.call(error, { code: ClientErrorCode.Param, msg: 'call config first' });
      return;
    }
    const thirdToken = typeof authToken === 'string' ? authToken : '';
    this.engine.login({ roomId, role, token, thirdToken }).then(
      (list) => this.call(success, list.map(toLegacyStream)),
      (e: unknown) => this.call(error, ZegoError.from(e).toLegacy()),
    );
  }

  logout(): boolean {
    return this.engine.logout();
  }

  release(): void {
    this.engine.release();
  }

  /** Internal (not legacy API): announce / end a published stream on the room. */
  _announceStream(streamId: string, extraInfo = ''): Promise<void> {
    return this.engine.roomStream('announce', streamId, extraInfo);
  }

  _endStream(streamId: string): Promise<void> {
    return this.engine.roomStream('end', streamId);
  }

  updateStreamExtraInfo(streamId: string, extraInfo: string): boolean {
    if (typeof streamId !== 'string' || typeof extraInfo !== 'string') return false;
    return this.engine.updateStreamExtraInfo(streamId, extraInfo);
  }

  sendCustomCommand(dstMembers: string[], customContent: unknown, success?: Cb, error?: Cb): boolean {
    if (!Array.isArray(dstMembers) || dstMembers.length === 0) return false;
    // As the original: false before config and when not logged in (no callback).
    if (!this.engine.config || !this.engine.loggedIn) return false;
    const content = typeof customContent === 'string' ? customContent : JSON.stringify(customContent);
    if (typeof content !== 'string') return false;
    // False over 1024 UTF-8 bytes too.
    const sent = this.engine.sendCustomCommand(dstMembers, content);
    if (!sent) return false;
    this.settle(sent, (r) => this.call(success, r.seq, r.body), error, content);
    return true;
  }

  sendRoomMsg(category: number, type: number, content: string, success?: Cb, error?: Cb): void {
    // As the original: a bad argument gets error(PARAM) with that single argument.
    if (
      (category !== 1 && category !== 2) ||
      (type !== 1 && type !== 2 && type !== 3) ||
      typeof content !== 'string'
    ) {
      this.call(error, { code: ClientErrorCode.Param, msg: 'input error.' });
      return;
    }
    if (!this.engine.roomMessageSlot()) {
      this.call(
        error,
        { code: ClientErrorCode.FrequencyLimited, msg: 'Frequency Limited.' },
        0,
        category,
        type,
        content,
      );
      return;
    }
    this.settle(
      this.engine.sendRoomMessage(category, type, content),
      (r) => this.call(success, r.seq, r.body.msg_id, category, type, content),
      error,
      category,
      type,
      content,
    );
  }

  sendReliableMessage(type: string, data: string, success?: Cb, error?: Cb): void {
    this.settle(this.engine.sendReliableMessage(type, data), (r) => this.call(success, r.seq), error);
  }

  /** With a server relay window the message waits a random delay (RelayPacer). */
  sendRelayMessage(type: string, data: string, success?: Cb, error?: Cb): void {
    this.settle(
      this.engine.sendRelayMessage(type, data),
      (r) => this.call(success, r.seq, r.body.relay_result),
      error,
    );
  }

  /** With a server batching window the message may wait for the next one (BigRoomBatcher). */
  sendBigRoomMessage(category: number, type: number, content: string, success?: Cb, error?: Cb): void {
    this.settle(
      this.engine.sendBigRoomMessage(category, type, content),
      (r) => this.call(success, r.seq, r.body),
      error,
    );
  }

  requestJoinLive(destIdName: string, success?: Cb, error?: Cb, resultCallback?: Cb): boolean {
    return this.ask('request', destIdName, success, error, resultCallback);
  }

  inviteJoinLive(destIdName: string, success?: Cb, error?: Cb, resultCallback?: Cb): boolean {
    return this.ask('invite', destIdName, success, error, resultCallback);
  }

  private ask(kind: 'request' | 'invite', dest: string, success: Cb, error: Cb, result: Cb): boolean {
    if (typeof dest !== 'string' || !dest || typeof result !== 'function') return false;
    const asked = this.engine.requestJoinLive(kind, dest);
    if (!asked) return false;
    this.settle(asked.sent, (r) => this.call(success, r.seq), error);
    void asked.answer.then((a) => this.call(result, a.accepted, a.from, a.fromName));
    return true;
  }

  respondJoinLive(requestId: string, respondResult: boolean, success?: Cb, error?: Cb): boolean {
    if (typeof respondResult !== 'boolean') return false;
    const sent = this.engine.respondJoinLive(requestId, respondResult);
    if (!sent) return false;
    this.settle(sent, (r) => this.call(success, r.seq), error);
    return true;
  }

  endJoinLive(destIdName: string, success?: Cb, error?: Cb): boolean {
    if (typeof destIdName !== 'string' || !destIdName) return false;
    const sent = this.engine.endJoinLive(destIdName);
    if (!sent) return false;
    this.settle(sent, (r) => this.call(success, r.seq), error);
    return true;
  }

  /* ------------------------------------------------------------ media plane (legacy 1.6-1.20) ---- */

  /** Static and instance (1.6): `success({microphones, speakers, cameras})` with `{label, deviceId}` items. */
  static enumDevices(success?: Cb, error?: Cb): void {
    enumDevices(browserPlatform.media).then(
      (d) => invoke(staticLog, success, d),
      (e: unknown) => invoke(staticLog, error, e),
    );
  }

  enumDevices(success?: Cb, error?: Cb): void {
    enumDevices(this.platform.media).then(
      (d) => this.call(success, d),
      (e: unknown) => this.call(error, e),
    );
  }

  /** 1.7: returns false at once for a missing element or options; the capture outcome comes later. */
  startPreview(video: HTMLMediaElement, constraints: PreviewOptions, success?: Cb, error?: Cb): boolean {
    if (!video || typeof video !== 'object' || !constraints || typeof constraints !== 'object') return false;
    if (!this.platform.media) {
      this.call(error, "browser don't support");
      return false;
    }
    this.engine.media.preview(video, constraints).then(
      () => this.call(success),
      (e: unknown) => this.call(error, e),
    );
    return true;
  }

  stopPreview(video: HTMLMediaElement): boolean {
    return !!video && this.engine.media.stopPreview(video);
  }

  enableCamera(video: HTMLMediaElement, enable: boolean): boolean {
    if (typeof enable !== 'boolean') return false;
    return this.engine.media.enable(video, 'video', enable);
  }

  enableMicrophone(video: HTMLMediaElement, enable: boolean): boolean {
    if (typeof enable !== 'boolean') return false;
    return this.engine.media.enable(video, 'audio', enable);
  }

  setLocalAudioOutput(video: HTMLMediaElement, audioOutput: string | null): boolean {
    return setSink(video, audioOutput ?? '', this.engine.log);
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
    this.engine.media.switchDevice(type, video, deviceId).then(
      () => this.call(success),
      (e: unknown) => this.call(error, e),
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
    if (!this.canStream(streamId, video)) return false;
    return this.engine.media.publish(
      streamId,
      video,
      typeof extraInfo === 'string' ? extraInfo : '',
      publishOption ?? {},
    );
  }

  stopPublishingStream(streamId: string): boolean {
    return isId(streamId) && this.engine.media.stopPublish(streamId);
  }

  /** 1.17: false when not logged in or without an element; the outcome is onPlayStateUpdate. */
  startPlayingStream(
    streamId: string,
    video: HTMLMediaElement,
    audioOutput?: string,
    playOption?: { playType?: string; streamParams?: string; videoDecodeType?: string },
  ): boolean {
    // Our media server checks the room login token: playing needs a login, even with setCustomSignalUrl.
    if (!this.canStream(streamId, video)) return false;
    return this.engine.media.play(streamId, video, audioOutput || undefined, playOption ?? {});
  }

  stopPlayingStream(streamId: string): boolean {
    return isId(streamId) && this.engine.media.stopPlay(streamId);
  }

  /** Publish and play need a stream id, an element and a logged-in room. */
  private canStream(streamId: unknown, video: unknown): streamId is string {
    return isId(streamId) && !!video && this.engine.loggedIn;
  }

  setPlayAudioOutput(streamId: string, audioOutput: string): boolean {
    if (typeof streamId !== 'string' || typeof audioOutput !== 'string') return false;
    return this.engine.media.setPlayAudioOutput(streamId, audioOutput);
  }

  /* ---------------------------------------------------------- stream mixing and CDN (1.16, 1.31-1.41) ---- */

  /**
   * 1.31: starts or changes the mix of `outputStreamId` (or `outputUrl`); `success(outputStreamId,
   * [{rtmpUrls, hlsUrls, flvUrls}])`, `error(err, missingStreams)`. False (nothing sent) as 1.12.5 for a
   * config without output, inputs, bitrate, fps, width or height.
   */
  updateMixStream(config: MixStreamConfig, success?: Cb, error?: Cb): boolean {
    const body = config && startMixBody(config);
    if (!body) return false;
    this.engine.biz('zeus', 'start_mix', body).then(
      (r) => this.call(success, config.outputStreamId, mixInfos(r.body)),
      (e: RequestFailure) => this.call(error, e.error.toLegacy(), missingInputs(e.error.reply)),
    );
    return true;
  }

  /** 1.32: `success()` once the mix of `outputStreamId` (or `outputUrl`) ended, `error(err)`. */
  stopMixStream(config: MixStreamConfig, success?: Cb, error?: Cb): boolean {
    const out = config && mixOutput(config);
    if (!out) return false;
    this.settle(this.engine.biz('zeus', 'stop_mix', out), () => this.call(success), error);
    return true;
  }

  /**
   * 1.41: relays a stream this client publishes to `pushUrl` ('addpush', several allowed), stops one
   * ('delpush') or all ('clearpush'). `success()`, or `error({code, message})` as 1.12.5 (a refused URL
   * says why). False without a call for a bad type, id or URL, or a stream not published here.
   */
  publishTarget(
    config: { streamId: string; type: string; pushUrl: string },
    success?: Cb,
    error?: Cb,
  ): boolean {
    const { streamId, type, pushUrl } = config || ({} as { streamId: string; type: string; pushUrl: string });
    const op = type as 'addpush' | 'delpush' | 'clearpush';
    if (['addpush', 'delpush', 'clearpush'].indexOf(op) < 0 || !isId(streamId) || typeof pushUrl !== 'string')
      return false;
    if (!this.engine.media.publishers.has(streamId)) return false;
    this.engine.biz('media', op, { stream_id: streamId, pushurl: pushUrl }).then(
      (r) =>
        r.body.code ? this.call(error, { code: r.body.code, message: r.body.message }) : this.call(success),
      (e: RequestFailure) =>
        this.call(error, { code: e.error.serverCode ?? e.error.code, message: e.error.msg }),
    );
    return true;
  }

  /**
   * 1.16: the CDN URLs of a stream (the first of the room's streams without an id) this page can play, as
   * 1.12.5 chose them: HLS on Safari, else HTTP-FLV on http(s) pages (https: only https URLs), RTMP on rtmp:.
   */
  filterStreamList(streamId?: string): string[] {
    const list = this.engine.room?.streamList ?? [];
    const s = list.find((x) => x.stream_id === streamId) ?? list[0];
    const d = this.platform.device;
    const proto = d?.protocol ?? '';
    if (!s) return [];
    const pick = (urls: string[], has: string) => urls.filter((u) => u.indexOf(has) >= 0);
    const out =
      /Safari/.test(d?.userAgent ?? '') && !/Chrome/.test(d?.userAgent ?? '')
        ? pick([...s.urls_m3u8, ...s.urls_https_m3u8], proto)
        : proto === 'rtmp:'
          ? pick(s.urls_rtmp, proto)
          : pick(
              [...s.urls_flv, ...s.urls_https_flv],
              proto === 'http:' ? 'http' : proto === 'https:' ? proto : '\0',
            );
    return out.filter((u, i) => out.indexOf(u) === i);
  }

  /* ------------------------------------------------------- effects and mixing (1.33-1.40, 1.8) ---- */

  /**
   * A mixing call on a stream this client publishes: `fn`'s answer (undefined = done), or false, logged
   * (as 1.12.5), for a stream not published or arguments that are not `valid`.
   */
  private mix(
    what: string,
    streamId: unknown,
    valid: unknown,
    fn: (m: AudioMixer) => boolean | void,
  ): boolean {
    const p = this.engine.media.publishers.get(streamId as string);
    if (p && valid && fn(p.mixer) !== false) return true;
    this.engine.log.error(`${what}: refused`);
    return false;
  }

  /**
   * 1.33: fetched and decoded; `callBack()` then, or `callBack(err)`: the HTTP status text, the browser's
   * decoding error, or `{code, msg}` for a bad id or URL or an id already loaded (1.12.5: no callback).
   */
  preloadEffect(id: number, effectUrl: string, callBack?: Cb): void {
    const loading =
      isEffectId(id) && isId(effectUrl)
        ? this.engine.media.effects.preload(id, effectUrl)
        : Promise.reject(paramError('params error'));
    loading.then(
      () => this.call(callBack),
      (e: unknown) => {
        this.engine.log.error('preloadEffect failed:', e);
        this.call(callBack, e);
      },
    );
  }

  /**
   * 1.34: `false` (1.12.5: nothing) for an unknown effect, a stream not published (or without audio) or
   * one that already plays an effect or buffers; `start()` when it starts, `end()` at its end.
   */
  playEffect(config: EffectConfig, start?: Cb, end?: Cb): boolean {
    const { streamId, effectId } = config || ({} as EffectConfig);
    const buffer = isEffectId(effectId) && this.engine.media.effects.get(effectId);
    return this.mix('playEffect', streamId, buffer, (m) =>
      m.playEffect(
        buffer as AudioBufferLike,
        config,
        () => this.call(start),
        () => this.call(end),
      ),
    );
  }

  pauseEffect(streamId: string): boolean {
    return this.mix('pauseEffect', streamId, 1, (m) => m.pauseEffect());
  }

  resumeEffect(streamId: string): boolean {
    return this.mix('resumeEffect', streamId, 1, (m) => m.resumeEffect());
  }

  /** 1.37: true for any effect id (loaded or not), as 1.12.5. */
  unloadEffect(effectId: number): boolean {
    if (isEffectId(effectId)) this.engine.media.effects.unload(effectId);
    return isEffectId(effectId);
  }

  /** 1.38: an `<audio>` (or 1.8's array of them) mixed into a published stream; `replace` mutes the mic. */
  startMixingAudio(
    streamId: string,
    audio: HTMLMediaElement | HTMLMediaElement[],
    replace?: boolean,
  ): boolean {
    const list = Array.isArray(audio) ? audio : [audio];
    return this.mix('startMixingAudio', streamId, list.length && list.every(isMediaElement), (m) =>
      list.map((el) => m.mixElement(el, !!replace)).every(Boolean),
    );
  }

  /** 1.39: these elements, or (none given) every mix of the stream, an effect included (as 1.12.5). */
  stopMixingAudio(streamId: string, audio?: HTMLMediaElement[]): boolean {
    return this.mix(
      'stopMixingAudio',
      streamId,
      audio === undefined || (Array.isArray(audio) && audio.length),
      (m) => m.stopMixing(audio),
    );
  }

  /** 1.40: 0-100 (100 = as recorded), for every mix of the stream, effects and `<audio>` alike. */
  setMixingAudioVolume(streamId: string, volume: number): boolean {
    return this.mix(
      'setMixingAudioVolume',
      streamId,
      volume >= 0 && volume <= 100 && typeof volume === 'number',
      (m) => m.setVolume(volume / 100),
    );
  }

  /**
   * 1.8: an encoded audio chunk (ArrayBuffer) mixed into a published stream, after the chunks still
   * playing; `callBack()` once decoded and queued, else `callBack(err)` (1.12.5: nothing for a stream
   * not published). `sourceId` is not used (neither was it by 1.12.5).
   */
  mixingBuffer(streamId: string, sourceId: string, arrayBuffer: ArrayBuffer, callBack?: Cb): void {
    const bad = () => this.call(callBack, paramError('params error'));
    if (
      !this.mix('mixingBuffer', streamId, arrayBuffer instanceof ArrayBuffer, (m) => {
        m.mixBuffer(this.engine.media.effects.decode(arrayBuffer)).then(
          (ok) => (ok ? this.call(callBack) : bad()),
          (e: unknown) => this.call(callBack, e),
        );
      })
    )
      bad();
  }

  /** 1.8: stops the buffers (or an effect: the stream's one slot, as 1.12.5). */
  stopMixingBuffer(streamId: string): boolean {
    return this.mix('stopMixingBuffer', streamId, 1, (m) => m.stopSlot());
  }

  /* ------------------------------------------------------------------ screen sharing (4, 2.23) ---- */

  /** 4.3.3: `callBack(true, stream)` or `callBack(false, null, err)`; frameRate 15 unless given. */
  startScreenSharing(screenConfig: ScreenOptions, audio: boolean, callBack?: Cb): boolean {
    return this.share(screenConfig, audio, callBack);
  }

  /** 4.3.2: on getDisplayMedia (1.12.5 needed its extension); `callBack(true, stream)` or `(false, null, err)`. */
  startScreenShotChrome(callBack?: Cb): boolean {
    return this.share({}, false, callBack);
  }

  /**
   * The older name of the Chrome path (legacy-sdk §1; not in 1.12.5): `(true, cb)` shares as
   * startScreenShotChrome, `(false)` stops what is shared. Anything else: false.
   */
  startScreenSharingChrome(start: boolean, callBack?: Cb): boolean {
    if (start === true) return this.share({}, false, callBack);
    if (start !== false) return false;
    this.stopScreenShot();
    return true;
  }

  /**
   * 4.3.1, on getDisplayMedia: the seed's (1.0.3) `(mediaSource, audio, callBack)` and 1.12's
   * `(config, mediaSource, audio, callBack)`; mediaSource 'screen' | 'window' | 'application' is the
   * picker's suggestion.
   */
  startScreenShotFirFox(...a: unknown[]): boolean {
    const [config, source, audio, callBack] = typeof a[0] === 'string' ? [{}, ...a] : a;
    return this.share(
      { ...(config as ScreenOptions), displaySurface: SURFACES[String(source)] },
      audio,
      callBack as Cb,
    );
  }

  /** 4.3.4: that capture, or (no argument, as the seed) every one; no onScreenSharingEnded. */
  stopScreenShot(stream?: MediaStream): void {
    this.engine.media.screen.stop(stream);
  }

  private share(config: unknown, audio: unknown, callBack: Cb): boolean {
    this.engine.media.screen.start(config && typeof config === 'object' ? config : {}, audio === true).then(
      (s) => this.call(callBack, true, s),
      (e: unknown) => this.call(callBack, false, null, e),
    );
    return true;
  }

  /* ------------------------------------------------------ tools (3.5-3.11, statics as 1.12.5) ---- */

  /**
   * 3.5: a meter on the element's stream: `.instant` (RMS of the latest ~43 ms), `.slow`, `.clip`,
   * `.stop()`. `false` without a srcObject (as 1.12.5); `error(e)` when it cannot measure (1.12.5 also
   * called it with null on success).
   */
  static getAudioInfo(element: HTMLMediaElement, error?: Cb): AudioInfo | false {
    const stream = element && (element.srcObject as MediaStream | null);
    if (!stream) {
      staticLog.error('getAudioInfo: srcObject is empty');
      return false;
    }
    return new AudioInfo(browserPlatform.media, stream, (e) => invoke(staticLog, error, e));
  }

  /** 3.6: the `<img>` gets the frame (JPEG) at the video's size; `false` before the video has one. */
  static takeSnapShot(video: HTMLVideoElement, img: HTMLImageElement): boolean {
    return snapshot.takeSnapShot(browserPlatform.page, video, img);
  }

  /** 3.6: downloads the frame as "<name>.png". */
  static saveSnapShot(video: HTMLVideoElement, name: string): boolean {
    return snapshot.saveSnapShot(browserPlatform.page, video, name);
  }

  /** 3.7: `callBack()` once recording, `callBack(err)` if it cannot (one recording at a time). */
  static startRecord(element: HTMLMediaElement, constraints?: RecordOptions, callBack?: Cb): Promise<void> {
    return theRecorder()
      .start(element, constraints)
      .then(
        () => invoke(staticLog, callBack),
        (e: unknown) => invoke(staticLog, callBack, e),
      );
  }

  static pauseRecord(): void {
    theRecorder().pause();
  }

  static resumeRecord(): void {
    theRecorder().resume();
  }

  static stopRecord(): void {
    theRecorder().stop();
  }

  /** 3.11: an object URL of the recording (webm); with a name, also downloads "<name>.webm". */
  static saveRecord(name?: string): string | undefined {
    return theRecorder().save(name);
  }

  /** 1.20: at least 1000 ms (default 3000). */
  setQualityMonitorCycle(timeInMS: number): boolean {
    if (typeof timeInMS !== 'number' || !(timeInMS >= 1000)) return false;
    this.engine.media.setCycle(timeInMS);
    return true;
  }
}
