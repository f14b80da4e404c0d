/**
 * A fake Web Audio for the sound-level meter (jsdom has none): an AudioContext whose analysers read the
 * samples the test sets per audio track, silence for a disabled track (as a browser: a disabled track
 * renders zeros), and the browser's refusal of a stream without audio.
 */
import type { AnalyserLike, AudioContextLike, AudioNodeLike } from '../../src/client/platform/Platform';
import type { FakeMediaStream, FakeMediaStreamTrack } from './FakeMedia';

export class FakeAudio {
  /** Every context made, in order. */
  readonly contexts: FakeAudioContext[] = [];
  private readonly samples = new Map<FakeMediaStreamTrack, Float32Array>();

  /** What a track "sounds" like from now on (repeated or cut to the analyser's window). */
  setSamples(track: FakeMediaStreamTrack, samples: number[] | Float32Array): void {
    this.samples.set(track, Float32Array.from(samples));
  }

  /** A constant-amplitude tone: +peak / -peak alternating. */
  tone(track: FakeMediaStreamTrack, peak: number): void {
    this.setSamples(track, [peak, -peak, peak / 2, -peak / 2]);
  }

  samplesOf(track: FakeMediaStreamTrack): Float32Array {
    return this.samples.get(track) ?? new Float32Array([0]);
  }

  /** For MediaPlatform.createAudioContext. */
  create = (): AudioContextLike => {
    const ctx = new FakeAudioContext(this);
    this.contexts.push(ctx);
    return ctx;
  };

  /** Analysers connected to a source, over every live context. */
  get liveAnalysers(): FakeAnalyser[] {
    return this.contexts
      .filter((c) => c.state !== 'closed')
      .flatMap((c) => c.analysers.filter((a) => a.source !== null));
  }
}

export class FakeSourceNode implements AudioNodeLike {
  connectedTo: FakeAnalyser | null = null;
  constructor(readonly track: FakeMediaStreamTrack) {}
  connect = (dest: AnalyserLike): unknown => {
    this.connectedTo = dest as FakeAnalyser;
    (dest as FakeAnalyser).source = this;
    return dest;
  };
  disconnect = (): void => {
    if (this.connectedTo) this.connectedTo.source = null;
    this.connectedTo = null;
  };
}

export class FakeAnalyser implements AnalyserLike {
  fftSize = 2048;
  source: FakeSourceNode | null = null;
  constructor(private readonly audio: FakeAudio) {}
  connect = (): unknown => undefined;
  disconnect = (): void => {};
  getFloatTimeDomainData = (into: Float32Array): void => {
    if (into.length < this.fftSize) throw new Error('buffer shorter than fftSize');
    const track = this.source?.track;
    const src = track && track.enabled && track.readyState === 'live' ? this.audio.samplesOf(track) : null;
    for (let i = 0; i < into.length; i++) into[i] = src ? src[i % src.length]! : 0;
  };
}

export class FakeAudioContext implements AudioContextLike {
  state = 'suspended';
  readonly analysers: FakeAnalyser[] = [];
  resumes = 0;
  constructor(private readonly audio: FakeAudio) {}
  createMediaStreamSource = (stream: MediaStream): AudioNodeLike => {
    const track = (stream as unknown as FakeMediaStream).getAudioTracks()[0];
    // As Chromium: "MediaStream has no audio track" (InvalidStateError).
    if (!track) throw new Error('InvalidStateError: MediaStream has no audio track');
    return new FakeSourceNode(track);
  };
  createAnalyser = (): AnalyserLike => {
    const a = new FakeAnalyser(this.audio);
    this.analysers.push(a);
    return a;
  };
  resume = (): Promise<void> => {
    this.resumes++;
    if (this.state !== 'closed') this.state = 'running';
    return Promise.resolve();
  };
  close = (): Promise<void> => {
    this.state = 'closed';
    return Promise.resolve();
  };
}
