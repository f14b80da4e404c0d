/**
 * The shim's media plane: previews (one LocalSource per <video>), publishers and players (a
 * StreamSession each, with a PublishNegotiator or a PlayNegotiator), the shared media sockets, quality
 * and sound-level reports, device control and device events (DeviceWatcher), effects and mixing (an
 * AudioMixer per publisher, effect files in AudioEffects) and screen capture (ScreenCapture). The engine
 * (ClientEngine) owns it and turns its hooks into typed events; the facade validates arguments and
 * returns the legacy booleans.
 */
import type { LegacyError } from '../../protocol/errors';
import type { Logger } from '../core/Logger';
import type { AudioNodeLike, MediaPlatform, Platform } from '../platform/Platform';
import { AudioEffects } from './AudioEffects';
import { AudioMixer } from './AudioMixer';
import type { PreviewOptions } from './capture';
import { DeviceWatcher, type DeviceChange } from './DeviceWatcher';
import { LocalSource } from './LocalSource';
import { MediaSignal } from './MediaSignal';
import { PlayNegotiator } from './PlayNegotiator';
import { PublishNegotiator } from './PublishNegotiator';
import { QualityMonitor, type QualityReport, type QualityTarget } from './QualityMonitor';
import { ScreenCapture } from './ScreenCapture';
import type { VideoCodec } from './sdp';
import { setSink } from './sink';
import { SoundLevels, type LevelSource, type SoundLevelItem } from './SoundLevels';
import { StreamSession, type StreamHooks } from './StreamSession';

export interface PlaneHooks {
  /** Identity for the media socket's LoginReq (the room login token). */
  identity(): { appid: number | string; idName: string; token: string; roomId: string } | null;
  dispatch: StreamHooks['dispatch'];
  announce(streamId: string, extraInfo: string): Promise<void>;
  endStream(streamId: string): void;
  publishState(type: 0 | 1 | 2, streamId: string, error?: LegacyError): void;
  playState(type: 0 | 1 | 2, streamId: string, error?: LegacyError): void;
  publishQuality(streamId: string, q: QualityReport): void;
  playQuality(streamId: string, q: QualityReport): void;
  videoSize(streamId: string, w: number, h: number): void;
  remoteCamera(streamId: string, status: number): void;
  remoteMic(streamId: string, status: number): void;
  soundLevels(items: SoundLevelItem[]): void;
  screenEnded(stream: MediaStream): void;
  deviceError(info: DeviceError): void;
  videoDevice(change: DeviceChange): void;
  audioDevice(change: DeviceChange): void;
  customUrls(): string[];
  retryTimeS(): number;
  backoffMs(): ((n: number) => number) | undefined;
}

/** onDeviceError's argument (1.12.5: errorCode -6 for a device that went away). */
export interface DeviceError {
  deviceName: string;
  deviceType: 'camera' | 'micro';
  errorCode: number;
}

interface Publisher {
  session: StreamSession;
  video: HTMLMediaElement;
  source: LocalSource;
  mixer: AudioMixer;
}

interface Player {
  session: StreamSession;
  video: HTMLMediaElement;
  camera: number;
  mic: number;
  /** The <video> resize listener (onVideoSizeChanged), removed when the player ends. */
  onSize: () => void;
  /** The remote stream on the element (sound level). */
  stream: MediaStream | null;
  /**
   * Its stream ended in the room and the player stopped without an error (1.12 showed none). It stays
   * listed until the page stops it, so stopPlayingStream still answers true; a new play replaces it.
   */
  ended: boolean;
}

export class MediaPlane {
  readonly previews = new Map<HTMLMediaElement, LocalSource>();
  readonly publishers = new Map<string, Publisher>();
  readonly players = new Map<string, Player>();
  private readonly signals = new Map<string, MediaSignal>();
  readonly levels: SoundLevels;
  readonly effects: AudioEffects;
  readonly screen: ScreenCapture;
  private readonly devices: DeviceWatcher;
  private readonly quality: QualityMonitor;

  constructor(
    private readonly platform: Platform,
    private readonly hooks: PlaneHooks,
    private readonly log: Logger,
  ) {
    this.levels = new SoundLevels(platform, () => this.levelSources(), hooks.soundLevels, log);
    this.effects = new AudioEffects(platform);
    this.screen = new ScreenCapture(platform, hooks.screenEnded);
    this.devices = new DeviceWatcher(
      platform,
      {
        failed: (t) => this.deviceFailed(t),
        video: hooks.videoDevice,
        audio: hooks.audioDevice,
      },
      log,
    );
    this.quality = new QualityMonitor(
      platform,
      () => this.qualityTargets(),
      (publish, id, q) => {
        if (publish && this.publishers.has(id)) this.hooks.publishQuality(id, q);
        if (!publish && this.players.has(id)) this.hooks.playQuality(id, q);
      },
    );
  }

  /** Publishers (their preview's capture) and players still playing, as 1.12 listed them. */
  private levelSources(): LevelSource[] {
    const out: LevelSource[] = [];
    for (const [id, p] of this.publishers)
      out.push({ streamID: id, type: 'push', stream: this.previews.get(p.video)?.stream ?? null });
    for (const [id, p] of this.players)
      if (!p.ended) out.push({ streamID: id, type: 'pull', stream: p.stream });
    return out;
  }

  private qualityTargets(): QualityTarget[] {
    const out: QualityTarget[] = [];
    for (const [id, p] of this.publishers) out.push({ publish: true, streamId: id, pc: p.session.pc });
    for (const [id, p] of this.players) out.push({ publish: false, streamId: id, pc: p.session.pc });
    return out;
  }

  /** setSoundLevelDelegate (arguments checked by the facade). */
  setSoundLevelDelegate(enable: boolean, intervalMs?: number): void {
    this.levels.setDelegate(enable, intervalMs);
  }

  /** The room deleted these streams (onStreamUpdated(1)): their players end without an error. */
  roomStreamsDeleted(ids: string[]): void {
    for (const id of ids) this.players.get(id)?.session.roomStreamDeleted();
  }

  /** The room lists these streams (again). */
  roomStreamsAdded(ids: string[]): void {
    for (const id of ids) this.players.get(id)?.session.roomStreamAdded();
  }

  get media(): MediaPlatform | undefined {
    return this.platform.media;
  }

  // ---- capture ----

  async preview(video: HTMLMediaElement, o: PreviewOptions): Promise<void> {
    const media = this.media;
    if (!media) throw new Error("browser don't support");
    const source = await LocalSource.open(media, video, o, this.log, (s) => this.screen.owns(s));
    // A page's own stream shown again keeps its tracks; anything else replaced is stopped.
    this.previews.get(video)?.stop(this.previews.get(video)?.stream === source.stream);
    this.previews.set(video, source);
    this.levels.refresh();
    if (source.kind === 'camera') source.stream.getTracks().forEach((t) => this.devices.watch(t));
    this.devices.start();
    if (!o.externalCapture) {
      video.srcObject = source.stream;
      this.playElement(video);
    }
  }

  stopPreview(video: HTMLMediaElement): boolean {
    const p = this.previews.get(video);
    if (!p) return false;
    this.previews.delete(video);
    p.stop();
    if (video.srcObject === p.stream) video.srcObject = null;
    this.levels.refresh();
    if (!this.previews.size) this.devices.stop();
    return true;
  }

  /** enableCamera / enableMicrophone: track.enabled, and players are told (StreamStatusNotify). */
  enable(video: HTMLMediaElement, kind: 'video' | 'audio', on: boolean): boolean {
    const p = this.previews.get(video);
    if (!p) return false;
    p.setEnabled(kind, on);
    this.sendStatus(video, p);
    return true;
  }

  /** Players hear the preview's camera / microphone status (off also for a kind whose device failed). */
  private sendStatus(video: HTMLMediaElement, p: LocalSource, failed?: string): void {
    for (const pub of this.publishersOf(video)) {
      pub.session.camera = p.camera && failed !== 'video' ? 0 : 2;
      pub.session.mic = p.mic && failed !== 'audio' ? 0 : 2;
      pub.session.sendStatus();
    }
  }

  /**
   * A capture's device failed: onDeviceError, and players are told the kind is off (1.12.5 sent -6,
   * which our media protocol does not carry; 2 is "off").
   */
  private deviceFailed(track: MediaStreamTrack): void {
    this.hooks.deviceError({
      deviceName: track.label,
      deviceType: track.kind === 'video' ? 'camera' : 'micro',
      errorCode: -6,
    });
    for (const [video, p] of this.previews)
      if (p.stream.getTracks().includes(track)) this.sendStatus(video, p, track.kind);
  }

  /** switchDevice: a new capture of one kind; the published track is replaced without renegotiation. */
  async switchDevice(kind: 'audio' | 'video', video: HTMLMediaElement, deviceId: string): Promise<void> {
    const p = this.previews.get(video);
    if (!p || !this.media) throw new Error('no preview on this element');
    const track = await p.switchDevice(kind, deviceId);
    this.levels.refresh();
    this.devices.watch(p.stream.getTracks().find((t) => t.kind === kind)!);
    this.sendStatus(video, p);
    if (track) for (const pub of this.publishersOf(video)) await this.replace(pub, track);
  }

  /** A new track of the preview goes on the wire (through the publisher's mixing chain when it mixes). */
  private async replace(pub: Publisher, track: MediaStreamTrack): Promise<void> {
    const t = pub.mixer.route(track);
    if (t) await pub.session.replaceTrack(t);
  }

  /**
   * The audio processing chain of a preview (off by default; see LocalSource): on with these processors,
   * or off. Its publishers swap their audio track without renegotiation. Not legacy API: the seam that
   * audio effects and mixing plug into.
   */
  async setAudioProcessing(
    video: HTMLMediaElement,
    on: boolean,
    processors?: AudioNodeLike[],
  ): Promise<void> {
    const p = this.previews.get(video);
    if (!p) throw new Error('no preview on this element');
    const track = p.setAudioProcessing(on, processors);
    if (track) for (const pub of this.publishersOf(video)) await this.replace(pub, track);
  }

  async enumDevices(): Promise<{ microphones: Dev[]; speakers: Dev[]; cameras: Dev[] }> {
    return enumDevices(this.media);
  }

  private publishersOf(video: HTMLMediaElement): Publisher[] {
    return [...this.publishers.values()].filter((p) => p.video === video);
  }

  private playElement(video: HTMLMediaElement): void {
    // Autoplay may be refused (no user gesture yet); the page can still start it itself.
    void video.play?.()?.catch?.((e: unknown) => this.log.debug('media element play() refused:', e));
  }

  // ---- publish / play ----

  private signal(url: string): MediaSignal {
    let s = this.signals.get(url);
    if (!s) {
      const id = this.hooks.identity();
      if (!id) throw new Error('not logged in');
      const fresh = new MediaSignal(url, this.platform, id);
      fresh.onGone = () => {
        if (this.signals.get(url) === fresh) this.signals.delete(url);
      };
      // The server's media server is back: every stream waiting to retry goes now, not after its backoff.
      fresh.onMediaReady = () => this.retryAllNow();
      this.signals.set(url, fresh);
      s = fresh;
    }
    return s;
  }

  /** What publishers and players share: signal URLs and the retry budget of the moment. */
  private retryOptions() {
    return {
      customUrls: this.hooks.customUrls(),
      retryTimeS: this.hooks.retryTimeS(),
      backoffMs: this.hooks.backoffMs(),
    };
  }

  private transport(): Pick<StreamHooks, 'dispatch' | 'signal'> {
    return { dispatch: this.hooks.dispatch, signal: (u) => this.signal(u) };
  }

  publish(
    streamId: string,
    video: HTMLMediaElement,
    extraInfo: string,
    opt: { streamParams?: string; cdnUrl?: string; videoDecodeType?: string },
  ): boolean {
    const media = this.media;
    const source = this.previews.get(video);
    if (!media || !source || this.publishers.has(streamId)) return false;
    const mixer = new AudioMixer(
      media,
      () => source.publishTracks().find((t) => t.kind === 'audio'),
      (t) => void session.replaceTrack(t).catch((e: unknown) => this.log.warn('mixing: replaceTrack:', e)),
      this.log,
    );
    const negotiator = new PublishNegotiator({
      tracks: () => mixer.tracks(source.publishTracks()),
      stream: () => source.stream,
      codec: codecOf(opt.videoDecodeType),
      videoKbps: source.info.bitrate,
      width: source.info.width,
      height: source.info.height,
      frameRate: source.info.frameRate,
      isFirefox: media.isFirefox,
    });
    const session = new StreamSession(
      {
        publish: true,
        streamId,
        extraInfo,
        streamParams: opt.streamParams,
        cdnUrl: opt.cdnUrl,
        ...this.retryOptions(),
      },
      this.platform,
      media,
      negotiator,
      {
        ...this.transport(),
        announce: this.hooks.announce,
        state: (type, id, err) => {
          if (type === 1 && this.publishers.get(id)?.session === session) {
            // Failed for good: the stream leaves the room too (others must not keep seeing it).
            this.publishers.delete(id);
            mixer.close();
            this.levels.refresh();
            if (session.announced) this.hooks.endStream(id);
          }
          this.hooks.publishState(type, id, err);
        },
      },
      this.log,
    );
    session.camera = source.camera ? 0 : 2;
    session.mic = source.mic ? 0 : 2;
    this.publishers.set(streamId, { session, video, source, mixer });
    return this.started(session);
  }

  /** A publisher or player is listed: it starts, and the quality and sound-level reports follow it. */
  private started(session: StreamSession): true {
    session.start();
    this.quality.ensure();
    this.levels.refresh();
    return true;
  }

  stopPublish(streamId: string): boolean {
    const pub = this.publishers.get(streamId);
    if (!pub) return false;
    this.publishers.delete(streamId);
    this.quality.forget(true, streamId);
    pub.session.stop();
    pub.mixer.close();
    this.levels.refresh();
    this.hooks.endStream(streamId);
    return true;
  }

  play(
    streamId: string,
    video: HTMLMediaElement,
    audioOutput: string | undefined,
    opt: { playType?: string; streamParams?: string; videoDecodeType?: string },
  ): boolean {
    const media = this.media;
    if (!media) return false;
    // A player that ended with its stream gives way to a new play of the id (the stream came back).
    if (this.players.get(streamId)?.ended) this.stopPlay(streamId);
    // As 1.12: a second play of the same stream id is refused ("player already exist").
    if (this.players.has(streamId)) return false;
    // Status unknown until the first StreamStatusNotifyPush (which, as 1.12, reports both).
    const player: Player = {
      session: null as unknown as StreamSession,
      video,
      camera: -1,
      mic: -1,
      onSize: () => {},
      stream: null,
      ended: false,
    };
    const negotiator = new PlayNegotiator({
      playType: opt.playType ?? 'all',
      createStream: () => media.createMediaStream(),
      onStream: (stream) => {
        player.stream = stream;
        if (video.srcObject !== stream) {
          video.srcObject = stream;
          this.playElement(video);
        }
        this.levels.refresh();
      },
    });
    const session = new StreamSession(
      { publish: false, streamId, streamParams: opt.streamParams, ...this.retryOptions() },
      this.platform,
      media,
      negotiator,
      {
        ...this.transport(),
        announce: async () => {},
        state: (type, id, err) => {
          if (type === 1 && this.players.get(id)?.session === session) {
            this.players.delete(id);
            video.removeEventListener?.('resize', player.onSize);
            this.levels.refresh();
          }
          this.hooks.playState(type, id, err);
        },
        ended: () => {
          if (this.players.get(streamId) !== player) return;
          player.ended = true;
          this.quality.forget(false, streamId);
          video.removeEventListener?.('resize', player.onSize);
          this.levels.refresh();
        },
        remoteStatus: (camera, mic) => {
          if (camera !== player.camera) this.hooks.remoteCamera(streamId, camera);
          if (mic !== player.mic) this.hooks.remoteMic(streamId, mic);
          player.camera = camera;
          player.mic = mic;
        },
      },
      this.log,
    );
    player.session = session;
    this.players.set(streamId, player);
    player.onSize = () => {
      const v = video as HTMLVideoElement;
      if (this.players.get(streamId) !== player || !v.videoWidth) return;
      this.hooks.videoSize(streamId, v.videoWidth, v.videoHeight);
    };
    video.addEventListener?.('resize', player.onSize);
    if (audioOutput) setSink(video, audioOutput, this.log);
    return this.started(session);
  }

  stopPlay(streamId: string): boolean {
    const p = this.players.get(streamId);
    if (!p) return false;
    this.players.delete(streamId);
    this.quality.forget(false, streamId);
    p.session.stop();
    p.video.removeEventListener?.('resize', p.onSize);
    p.video.srcObject = null;
    this.levels.refresh();
    return true;
  }

  setPlayAudioOutput(streamId: string, deviceId: string): boolean {
    const p = this.players.get(streamId);
    if (!p) return false;
    setSink(p.video, deviceId, this.log);
    return true;
  }

  setCycle(ms: number): void {
    this.quality.setCycle(ms);
  }

  /** updateStreamExtraInfo: a retry or a room reconnection announces the current extra info. */
  setExtraInfo(streamId: string, extraInfo: string): void {
    const p = this.publishers.get(streamId);
    if (p) p.session.o.extraInfo = extraInfo;
  }

  /** Published streams that are up (stream id -> extra info), to announce again after a room reconnection. */
  /** Every stream waiting to retry goes now (the media server or the room is back). */
  retryAllNow(): void {
    for (const p of this.publishers.values()) p.session.retryNow();
    for (const p of this.players.values()) p.session.retryNow();
  }

  liveStreams(): [string, string][] {
    // Live now, not merely started once: a publish still retrying announces itself when it is live again
    // (announcing it earlier sends viewers to a stream whose media is not there).
    return [...this.publishers.entries()]
      .filter(([, p]) => p.session.state === 'live')
      .map(([id, p]) => [id, p.session.o.extraInfo ?? '']);
  }

  /** Own published streams: id, started (live at least once, not stopped) and extra info (stateCenter). */
  publishedStreams(): [string, { started: boolean; extraInfo: string }][] {
    return [...this.publishers].map(([id, p]) => [
      id,
      { started: p.session.started, extraInfo: p.session.o.extraInfo ?? '' },
    ]);
  }

  /** release / logout: everything stops. */
  stopAll(): void {
    for (const id of [...this.publishers.keys()]) this.stopPublish(id);
    for (const id of [...this.players.keys()]) this.stopPlay(id);
    for (const s of this.signals.values()) s.close();
    this.signals.clear();
    this.levels.stopAll();
  }
}

interface Dev {
  label: string;
  deviceId: string;
}

export async function enumDevices(
  media: MediaPlatform | undefined,
): Promise<{ microphones: Dev[]; speakers: Dev[]; cameras: Dev[] }> {
  if (!media) throw new Error("browser don't support");
  const list = await media.enumerateDevices();
  const pick = (kind: string) =>
    list.filter((d) => d.kind === kind).map((d) => ({ label: d.label, deviceId: d.deviceId }));
  return { microphones: pick('audioinput'), speakers: pick('audiooutput'), cameras: pick('videoinput') };
}

function codecOf(t: string | undefined): VideoCodec {
  return String(t ?? '').toUpperCase() === 'VP8' ? 'VP8' : 'H264';
}
