/**
 * A fake Web Audio (jsdom has none) for the sound-level meter and the audio processing chain: an
 * AudioContext whose analysers read the samples the test sets per audio track, silence for a disabled
 * track (as a browser: a disabled track renders zeros), the browser's refusal of a stream without audio,
 * and MediaStreamDestination nodes whose stream holds one (processed) audio track.
 */
import type {
  AnalyserLike,
  AudioContextLike,
  AudioDestinationLike,
  AudioNodeLike,
} from '../../src/client/platform/Platform';
import { FakeMediaStream, FakeMediaStreamTrack } from './FakeMedia';

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
  connectedTo: AudioNodeLike | null = null;
  constructor(readonly track: FakeMediaStreamTrack) {}
  connect = (dest: AudioNodeLike): unknown => {
    this.connectedTo = dest;
    if (dest instanceof FakeAnalyser) dest.source = this;
    return dest;
  };
  disconnect = (): void => {
    if (this.connectedTo instanceof FakeAnalyser) this.connectedTo.source = null;
    this.connectedTo = null;
  };
}

/** A processing node of a chain (gain, effect...): records where it is connected. */
export class FakeNode implements AudioNodeLike {
  connectedTo: AudioNodeLike | null = null;
  constructor(readonly name = 'node') {}
  connect = (dest: AudioNodeLike): unknown => {
    this.connectedTo = dest;
    return dest;
  };
  disconnect = (): void => {
    this.connectedTo = null;
  };
}

/** MediaStreamDestination: its stream's one audio track is what a chain publishes. */
export class FakeDestination extends FakeNode implements AudioDestinationLike {
  readonly track = new FakeMediaStreamTrack('audio', 'processed audio');
  readonly stream = new FakeMediaStream([this.track]) as unknown as MediaStream;
  constructor() {
    super('destination');
  }
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
  readonly sources: FakeSourceNode[] = [];
  readonly destinations: FakeDestination[] = [];
  resumes = 0;
  constructor(private readonly audio: FakeAudio) {}
  createMediaStreamSource = (stream: MediaStream): AudioNodeLike => {
    const track = (stream as unknown as FakeMediaStream).getAudioTracks()[0];
    // As Chromium: "MediaStream has no audio track" (InvalidStateError).
    if (!track) throw new Error('InvalidStateError: MediaStream has no audio track');
    const node = new FakeSourceNode(track);
    this.sources.push(node);
    return node;
  };
  createMediaStreamDestination = (): AudioDestinationLike => {
    const d = new FakeDestination();
    this.destinations.push(d);
    return d;
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
