/**
 * A preview's media, whatever it comes from: camera and microphone (getUserMedia with 1.12's
 * constraints), a page's own MediaStream (`externalMediaStream`), the element's own `captureStream()`
 * (`externalCapture`), or a page's stream that came from our screen capture (`externalMediaStream` of a
 * startScreenSharing stream: 'screen', whose end ScreenCapture reports). It knows the tracks to publish,
 * turns them on and off, swaps a device (switchDevice), and can put an audio processing chain between the
 * captured microphone track and the published one.
 *
 * The chain (off by default) is a Web Audio graph: source(captured track) -> processors... ->
 * MediaStreamDestination, whose track is what publishers send. Turning it on or off, or changing its
 * processors, never renegotiates: publishers swap the audio track with replaceTrack, and a processor
 * change rewires the graph behind the same output track. A published stream's effects and mixing
 * (AudioMixer) use a chain of their own: extra sources mixed into the output, the input muted while one
 * of them replaces the microphone.
 */
import type { Logger } from '../core/Logger';
import type {
  AudioContextLike,
  AudioDestinationLike,
  AudioNodeLike,
  MediaPlatform,
} from '../platform/Platform';
import { buildConstraints, videoInfoOf, type PreviewOptions, type VideoInfo } from './capture';

export type SourceKind = 'camera' | 'external' | 'element' | 'screen';

export class AudioChain {
  private input: AudioNodeLike;
  private readonly dest: AudioDestinationLike;
  private processors: AudioNodeLike[] = [];
  private muted = false;

  constructor(
    readonly ctx: AudioContextLike,
    private readonly media: MediaPlatform,
    track: MediaStreamTrack,
    private readonly log: Logger,
  ) {
    this.dest = ctx.createMediaStreamDestination();
    this.input = this.sourceOf(track);
    this.wire();
    // A context made before any user gesture starts suspended: a suspended graph outputs silence.
    if (ctx.state === 'suspended')
      ctx.resume().catch((e: unknown) => this.log.warn('audio chain: AudioContext not resumed:', e));
  }

  /** The processed track (the same one for the chain's whole life). */
  get output(): MediaStreamTrack | undefined {
    return this.dest.stream.getAudioTracks()[0];
  }

  /** The processing nodes, in order, between the captured track and the output. */
  setProcessors(nodes: AudioNodeLike[]): void {
    this.unwire();
    this.processors = [...nodes];
    this.wire();
  }

  /** Another source mixed into the output (an effect's or a mix's gain). */
  mix(node: AudioNodeLike): void {
    node.connect(this.dest);
  }

  /** Cuts the captured input off (or back on): `replace` in effects and mixing. */
  mute(on: boolean): void {
    if (on === this.muted) return;
    this.unwire();
    this.muted = on;
    this.wire();
  }

  /** A new captured track (switchDevice): the output track stays, so publishers need not change. */
  setInput(track: MediaStreamTrack): void {
    this.unwire();
    this.input = this.sourceOf(track);
    this.wire();
  }

  close(): void {
    this.unwire();
    this.ctx.close().catch((e: unknown) => this.log.debug('audio chain: close:', e));
  }

  private sourceOf(track: MediaStreamTrack): AudioNodeLike {
    return this.ctx.createMediaStreamSource(this.media.createMediaStream([track]));
  }

  private wire(): void {
    const nodes = [this.input, ...this.processors, this.dest];
    for (let i = this.muted ? 1 : 0; i + 1 < nodes.length; i++) nodes[i]!.connect(nodes[i + 1]!);
  }

  private unwire(): void {
    for (const n of [this.input, ...this.processors]) n.disconnect();
  }
}

export class LocalSource {
  /** Whether the page turned the camera / microphone on (enableCamera / enableMicrophone). */
  camera = true;
  mic = true;
  private chain: AudioChain | null = null;

  constructor(
    readonly kind: SourceKind,
    /** The captured stream: what the preview shows and the sound-level meter reads. */
    readonly stream: MediaStream,
    /** The video parameters asked for (the publish bitrate cap and size). */
    readonly info: VideoInfo,
    private readonly media: MediaPlatform,
    private readonly log: Logger,
  ) {}

  /** startPreview's capture, by the options' kind. */
  static async open(
    media: MediaPlatform,
    element: HTMLMediaElement,
    o: PreviewOptions,
    log: Logger,
    isScreen: (s: MediaStream) => boolean = () => false,
  ): Promise<LocalSource> {
    const info = videoInfoOf(o);
    const ext = o.externalMediaStream;
    if (ext) return new LocalSource(isScreen(ext) ? 'screen' : 'external', ext, info, media, log);
    if (o.externalCapture) {
      const cap = (element as HTMLMediaElement & { captureStream?: () => MediaStream }).captureStream?.();
      if (!cap || cap.getTracks().length === 0) throw new Error('external capture fail');
      return new LocalSource('element', cap, info, media, log);
    }
    return new LocalSource('camera', await media.getUserMedia(buildConstraints(o)), info, media, log);
  }

  /** The tracks publishers send, in capture order: the chain's output in place of the microphone. */
  publishTracks(): MediaStreamTrack[] {
    const out = this.chain?.output;
    if (!out) return this.stream.getTracks();
    let audio = false;
    const tracks: MediaStreamTrack[] = [];
    for (const t of this.stream.getTracks()) {
      if (t.kind !== 'audio') tracks.push(t);
      else if (!audio) {
        audio = true;
        tracks.push(out);
      }
    }
    return tracks;
  }

  /** enableCamera / enableMicrophone: track.enabled (a disabled track sends black / silence). */
  setEnabled(kind: 'audio' | 'video', on: boolean): void {
    for (const t of this.stream.getTracks()) if (t.kind === kind) t.enabled = on;
    if (kind === 'video') this.camera = on;
    else this.mic = on;
  }

  /**
   * switchDevice: a new capture of one kind replaces the old track in the stream. Resolves with the
   * track publishers must now send, or null when the chain's output stays the same.
   */
  async switchDevice(kind: 'audio' | 'video', deviceId: string): Promise<MediaStreamTrack | null> {
    const c: MediaStreamConstraints =
      kind === 'video'
        ? {
            video: {
              deviceId: { exact: deviceId },
              width: this.info.width,
              height: this.info.height,
              frameRate: this.info.frameRate,
            },
          }
        : { audio: { deviceId: { exact: deviceId } } };
    const fresh = await this.media.getUserMedia(c);
    const track = fresh.getTracks().find((t) => t.kind === kind);
    if (!track) throw new Error(`no ${kind} track from device ${deviceId}`);
    track.enabled = kind === 'video' ? this.camera : this.mic;
    for (const old of this.stream.getTracks().filter((t) => t.kind === kind)) {
      this.stream.removeTrack(old);
      old.stop();
    }
    this.stream.addTrack(track);
    if (kind === 'audio' && this.chain) {
      this.chain.setInput(track);
      return null;
    }
    return track;
  }

  /**
   * Turns the audio processing chain on (with these processors) or off. Returns the audio track
   * publishers must now send (null: nothing to swap, or no audio at all).
   */
  setAudioProcessing(on: boolean, processors: AudioNodeLike[] = []): MediaStreamTrack | null {
    const mic = this.stream.getAudioTracks()[0];
    if (!on) {
      if (!this.chain) return null;
      this.chain.close();
      this.chain = null;
      return mic ?? null;
    }
    if (this.chain) {
      this.chain.setProcessors(processors);
      return null;
    }
    if (!mic) return null;
    const ctx = this.media.createAudioContext?.();
    if (!ctx || typeof ctx.createMediaStreamDestination !== 'function')
      throw new Error('no Web Audio here: audio processing unavailable');
    const chain = new AudioChain(ctx, this.media, mic, this.log);
    chain.setProcessors(processors);
    this.chain = chain;
    return chain.output ?? null;
  }

  /** The preview ends: the capture (unless `keepTracks`, a page's stream shown again) and the chain. */
  stop(keepTracks = false): void {
    this.chain?.close();
    this.chain = null;
    if (!keepTracks) this.stream.getTracks().forEach((t) => t.stop());
  }
}
