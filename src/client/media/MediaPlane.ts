/**
 * The shim's media plane behind the legacy methods: previews (one capture per <video>), publishers and
 * players (StreamSession each), the shared media sockets, the quality timer, and device control.
 * The facade (ZegoClient) validates arguments, returns the legacy booleans and routes the callbacks.
 */
import type { LegacyError } from '../../protocol/errors';
import type { MediaPlatform, Platform } from '../platform/Platform';
import { buildConstraints, videoInfoOf, type PreviewOptions, type VideoInfo } from './capture';
import { MediaSignal } from './MediaSignal';
import { SoundLevels, type LevelSource, type SoundLevelItem } from './SoundLevels';
import { StreamSession, type StreamHooks } from './StreamSession';
import type { VideoCodec } from './sdp';

export interface PlaneHooks {
  /** Identity for the media socket's LoginReq (the room login token). */
  identity(): { appid: number | string; idName: string; token: string; roomId: string } | null;
  dispatch: StreamHooks['dispatch'];
  announce(streamId: string, extraInfo: string): Promise<void>;
  endStream(streamId: string): void;
  publishState(type: 0 | 1 | 2, streamId: string, error?: LegacyError): void;
  playState(type: 0 | 1 | 2, streamId: string, error?: LegacyError): void;
  publishQuality(streamId: string, q: Record<string, number>): void;
  playQuality(streamId: string, q: Record<string, number>): void;
  videoSize(streamId: string, w: number, h: number): void;
  remoteCamera(streamId: string, status: number): void;
  remoteMic(streamId: string, status: number): void;
  soundLevels(items: SoundLevelItem[]): void;
  customUrls(): string[];
  retryTimeS(): number;
  backoffMs(): ((n: number) => number) | undefined;
}

interface Preview {
  stream: MediaStream;
  info: VideoInfo;
  camera: boolean;
  mic: boolean;
}

interface Publisher {
  session: StreamSession;
  video: HTMLMediaElement;
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

/** Previous getStats counters per stream, for rates. */
interface Sample {
  t: number;
  videoBytes: number;
  audioBytes: number;
  frames: number;
  framesTransfer: number;
}

export class MediaPlane {
  readonly previews = new Map<HTMLMediaElement, Preview>();
  readonly publishers = new Map<string, Publisher>();
  readonly players = new Map<string, Player>();
  private readonly signals = new Map<string, MediaSignal>();
  private qualityTimer: unknown = null;
  private cycleMs = 3000;
  private readonly samples = new Map<string, Sample>();
  readonly levels: SoundLevels;

  constructor(
    private readonly platform: Platform,
    private readonly hooks: PlaneHooks,
  ) {
    this.levels = new SoundLevels(platform, () => this.levelSources(), hooks.soundLevels);
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
    let stream: MediaStream;
    if (o.externalMediaStream) stream = o.externalMediaStream;
    else if (o.externalCapture) {
      const cap = (video as HTMLMediaElement & { captureStream?: () => MediaStream }).captureStream?.();
      if (!cap || cap.getTracks().length === 0) throw new Error('external capture fail');
      stream = cap;
    } else stream = await media.getUserMedia(buildConstraints(o));
    const old = this.previews.get(video);
    if (old && old.stream !== stream) old.stream.getTracks().forEach((t) => t.stop());
    this.previews.set(video, { stream, info: videoInfoOf(o), camera: true, mic: true });
    this.levels.refresh();
    if (!o.externalCapture) {
      video.srcObject = stream;
      void video.play?.()?.catch?.(() => {});
    }
  }

  stopPreview(video: HTMLMediaElement): boolean {
    const p = this.previews.get(video);
    if (!p) return false;
    this.previews.delete(video);
    p.stream.getTracks().forEach((t) => t.stop());
    if (video.srcObject === p.stream) video.srcObject = null;
    this.levels.refresh();
    return true;
  }

  /** enableCamera / enableMicrophone: track.enabled, and players are told (StreamStatusNotify). */
  enable(video: HTMLMediaElement, kind: 'video' | 'audio', on: boolean): boolean {
    const p = this.previews.get(video);
    if (!p) return false;
    p.stream.getTracks().forEach((t) => {
      if (t.kind === kind) t.enabled = on;
    });
    if (kind === 'video') p.camera = on;
    else p.mic = on;
    for (const pub of this.publishers.values())
      if (pub.video === video) {
        pub.session.camera = p.camera ? 0 : 2;
        pub.session.mic = p.mic ? 0 : 2;
        pub.session.sendStatus();
      }
    return true;
  }

  /** switchDevice: a new capture of one kind; the published track is replaced without renegotiation. */
  async switchDevice(kind: 'audio' | 'video', video: HTMLMediaElement, deviceId: string): Promise<void> {
    const p = this.previews.get(video);
    const media = this.media;
    if (!p || !media) throw new Error('no preview on this element');
    const c: MediaStreamConstraints =
      kind === 'video'
        ? {
            video: {
              deviceId: { exact: deviceId },
              width: p.info.width,
              height: p.info.height,
              frameRate: p.info.frameRate,
            },
          }
        : { audio: { deviceId: { exact: deviceId } } };
    const fresh = await media.getUserMedia(c);
    const track = fresh.getTracks().find((t) => t.kind === kind);
    if (!track) throw new Error(`no ${kind} track from device ${deviceId}`);
    track.enabled = kind === 'video' ? p.camera : p.mic;
    for (const old of p.stream.getTracks().filter((t) => t.kind === kind)) {
      p.stream.removeTrack(old);
      old.stop();
    }
    p.stream.addTrack(track);
    this.levels.refresh();
    for (const pub of this.publishers.values())
      if (pub.video === video) await pub.session.replaceTrack(track);
  }

  async enumDevices(): Promise<{ microphones: Dev[]; speakers: Dev[]; cameras: Dev[] }> {
    return enumDevices(this.media);
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
    const p = this.previews.get(video);
    if (!media || !p || this.publishers.has(streamId)) return false;
    const session = new StreamSession(
      {
        publish: true,
        streamId,
        local: p.stream,
        extraInfo,
        streamParams: opt.streamParams,
        cdnUrl: opt.cdnUrl,
        codec: codecOf(opt.videoDecodeType),
        videoKbps: p.info.bitrate,
        width: p.info.width,
        height: p.info.height,
        frameRate: p.info.frameRate,
        ...this.retryOptions(),
      },
      this.platform,
      media,
      {
        ...this.transport(),
        announce: this.hooks.announce,
        state: (type, id, err) => {
          if (type === 1 && this.publishers.get(id)?.session === session) {
            // Failed for good: the stream leaves the room too (others must not keep seeing it).
            this.publishers.delete(id);
            this.levels.refresh();
            if (session.announced) this.hooks.endStream(id);
          }
          this.hooks.publishState(type, id, err);
        },
      },
    );
    session.camera = p.camera ? 0 : 2;
    session.mic = p.mic ? 0 : 2;
    this.publishers.set(streamId, { session, video });
    session.start();
    this.ensureQualityTimer();
    this.levels.refresh();
    return true;
  }

  stopPublish(streamId: string): boolean {
    const pub = this.publishers.get(streamId);
    if (!pub) return false;
    this.publishers.delete(streamId);
    this.samples.delete(`pub:${streamId}`);
    pub.session.stop();
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
    const session = new StreamSession(
      {
        publish: false,
        streamId,
        streamParams: opt.streamParams,
        codec: codecOf(opt.videoDecodeType),
        playType: opt.playType ?? 'all',
        ...this.retryOptions(),
      },
      this.platform,
      media,
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
          this.samples.delete(`play:${streamId}`);
          video.removeEventListener?.('resize', player.onSize);
          this.levels.refresh();
        },
        remoteStream: (stream) => {
          player.stream = stream;
          if (video.srcObject !== stream) {
            video.srcObject = stream;
            void video.play?.()?.catch?.(() => {});
          }
          this.levels.refresh();
        },
        remoteStatus: (camera, mic) => {
          if (camera !== player.camera) this.hooks.remoteCamera(streamId, camera);
          if (mic !== player.mic) this.hooks.remoteMic(streamId, mic);
          player.camera = camera;
          player.mic = mic;
        },
      },
    );
    player.session = session;
    this.players.set(streamId, player);
    player.onSize = () => {
      const v = video as HTMLVideoElement;
      if (this.players.get(streamId) !== player || !v.videoWidth) return;
      this.hooks.videoSize(streamId, v.videoWidth, v.videoHeight);
    };
    video.addEventListener?.('resize', player.onSize);
    if (audioOutput) void setSink(video, audioOutput);
    session.start();
    this.ensureQualityTimer();
    this.levels.refresh();
    return true;
  }

  stopPlay(streamId: string): boolean {
    const p = this.players.get(streamId);
    if (!p) return false;
    this.players.delete(streamId);
    this.samples.delete(`play:${streamId}`);
    p.session.stop();
    p.video.removeEventListener?.('resize', p.onSize);
    p.video.srcObject = null;
    this.levels.refresh();
    return true;
  }

  setPlayAudioOutput(streamId: string, deviceId: string): boolean {
    const p = this.players.get(streamId);
    if (!p) return false;
    void setSink(p.video, deviceId);
    return true;
  }

  // ---- quality ----

  setCycle(ms: number): void {
    this.cycleMs = ms;
    if (this.qualityTimer !== null) {
      this.platform.clearTimeout(this.qualityTimer);
      this.qualityTimer = null;
      this.ensureQualityTimer();
    }
  }

  private ensureQualityTimer(): void {
    if (this.qualityTimer !== null) return;
    const tick = () => {
      if (this.publishers.size === 0 && this.players.size === 0) {
        this.qualityTimer = null;
        return;
      }
      this.qualityTimer = this.platform.setTimeout(tick, this.cycleMs);
      for (const [id, p] of this.publishers) void this.sample(`pub:${id}`, p.session.pc, true, id);
      for (const [id, p] of this.players) void this.sample(`play:${id}`, p.session.pc, false, id);
    };
    this.qualityTimer = this.platform.setTimeout(tick, this.cycleMs);
  }

  /** One getStats sample; the first per stream only primes the counters (as the original). */
  private async sample(
    key: string,
    pc: RTCPeerConnection | null,
    publish: boolean,
    id: string,
  ): Promise<void> {
    if (!pc) return;
    let report: RTCStatsReport;
    try {
      report = await pc.getStats();
    } catch {
      return;
    }
    let videoBytes = 0;
    let audioBytes = 0;
    let frames = 0;
    let framesTransfer = 0;
    let width = 0;
    let height = 0;
    let nack = 0;
    let pli = 0;
    let lost = 0;
    let rtt = 0;
    report.forEach((s: Record<string, unknown> & { type: string; kind?: string }) => {
      if (publish && s.type === 'outbound-rtp') {
        if (s.kind === 'video') {
          videoBytes += Number(s.bytesSent ?? 0);
          frames += Number(s.framesEncoded ?? 0);
          framesTransfer += Number(s.framesSent ?? s.framesEncoded ?? 0);
          width = Number(s.frameWidth ?? width);
          height = Number(s.frameHeight ?? height);
          nack += Number(s.nackCount ?? 0);
          pli += Number(s.pliCount ?? 0);
        } else if (s.kind === 'audio') audioBytes += Number(s.bytesSent ?? 0);
      } else if (!publish && s.type === 'inbound-rtp') {
        if (s.kind === 'video') {
          videoBytes += Number(s.bytesReceived ?? 0);
          frames += Number(s.framesDecoded ?? 0);
          framesTransfer += Number(s.framesReceived ?? s.framesDecoded ?? 0);
          width = Number(s.frameWidth ?? width);
          height = Number(s.frameHeight ?? height);
          nack += Number(s.nackCount ?? 0);
          pli += Number(s.pliCount ?? 0);
          lost += Number(s.packetsLost ?? 0);
        } else if (s.kind === 'audio') audioBytes += Number(s.bytesReceived ?? 0);
      } else if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined)
        rtt = Number(s.currentRoundTripTime) * 1000;
    });
    const t = this.platform.now();
    const prev = this.samples.get(key);
    this.samples.set(key, { t, videoBytes, audioBytes, frames, framesTransfer });
    if (!prev || t <= prev.t) return;
    const secs = (t - prev.t) / 1000;
    const q = {
      videoBitrate: Math.max(0, ((videoBytes - prev.videoBytes) * 8) / 1000 / secs),
      audioBitrate: Math.max(0, ((audioBytes - prev.audioBytes) * 8) / 1000 / secs),
      videoFPS: Math.max(0, (frames - prev.frames) / secs),
      videoTransferFPS: Math.max(0, (framesTransfer - prev.framesTransfer) / secs),
      frameWidth: width,
      frameHeight: height,
      nackCount: nack,
      pliCount: pli,
      packetsLost: lost,
      rtt,
    };
    if (publish && this.publishers.has(id)) this.hooks.publishQuality(id, q);
    if (!publish && this.players.has(id)) this.hooks.playQuality(id, q);
  }

  /** updateStreamExtraInfo: a retry or a room reconnection announces the current extra info. */
  setExtraInfo(streamId: string, extraInfo: string): void {
    const p = this.publishers.get(streamId);
    if (p) p.session.o.extraInfo = extraInfo;
  }

  /** Published streams that are up (stream id -> extra info), to announce again after a room reconnection. */
  liveStreams(): [string, string][] {
    return [...this.publishers.entries()]
      .filter(([, p]) => p.session.started)
      .map(([id, p]) => [id, p.session.o.extraInfo ?? '']);
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

async function setSink(el: HTMLMediaElement, deviceId: string): Promise<void> {
  const e = el as HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };
  await e.setSinkId?.(deviceId).catch(() => {});
}
