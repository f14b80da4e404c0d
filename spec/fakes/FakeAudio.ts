/**
 * A fake Web Audio (jsdom has none) for the sound-level meter, the audio processing chain and mixing: an
 * AudioContext whose analysers read the samples the test sets per audio track, silence for a disabled
 * track (as a browser: a disabled track renders zeros), the browser's refusal of a stream without audio,
 * MediaStreamDestination nodes whose stream holds one (processed) audio track, gains, buffer sources the
 * test ends (`finish()`), a clock the test moves (`currentTime`), and `heard(destination)`: which sources
 * reach a destination, at which gain (what a listener of the published track would hear).
 */
import type {
  AnalyserLike,
  AudioBufferLike,
  AudioContextLike,
  AudioDestinationLike,
  AudioNodeLike,
  BufferSourceLike,
  GainLike,
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

export class FakeGain extends FakeNode implements GainLike {
  readonly gain = { value: 1 };
  constructor() {
    super('gain');
  }
}

/** A decoded file (FakeMediaPlatform.decodeAudio): its name is the file's text. */
export interface FakeBuffer extends AudioBufferLike {
  name: string;
}

export class FakeBufferSource extends FakeNode implements BufferSourceLike {
  buffer: AudioBufferLike | null = null;
  loop = false;
  onended: (() => void) | null = null;
  /** start()'s offset, s (null until started). */
  offset: number | null = null;
  stopped = false;
  constructor() {
    super('buffer source');
  }
  start = (_when = 0, offset = 0): void => {
    if (this.offset !== null) throw new Error('InvalidStateError: start() twice');
    this.offset = offset;
  };
  /** As a browser: stop() also fires `ended`. */
  stop = (): void => {
    if (this.offset === null) throw new Error('InvalidStateError: stop() before start()');
    if (this.stopped) return;
    this.stopped = true;
    this.onended?.();
  };
  get playing(): boolean {
    return this.offset !== null && !this.stopped;
  }
  /** The buffer played to its end. */
  finish(): void {
    if (!this.playing) throw new Error('finish: not playing');
    this.stopped = true;
    this.onended?.();
  }
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
  currentTime = 0;
  readonly analysers: FakeAnalyser[] = [];
  readonly sources: FakeSourceNode[] = [];
  readonly destinations: FakeDestination[] = [];
  readonly gains: FakeGain[] = [];
  readonly bufferSources: FakeBufferSource[] = [];
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
  createGain = (): GainLike => {
    const g = new FakeGain();
    this.gains.push(g);
    return g;
  };
  createBufferSource = (): BufferSourceLike => {
    const b = new FakeBufferSource();
    this.bufferSources.push(b);
    return b;
  };
  /**
   * What reaches `dest` (the first destination by default), by source: a live, enabled track by its
   * label, a playing buffer by its name; the value is the product of the gains on the way (0 entries left
   * out). Nothing once the context is closed.
   */
  heard(dest: AudioNodeLike | undefined = this.destinations[0]): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.state === 'closed' || !dest) return out;
    const through = (node: AudioNodeLike | null, g: number): number => {
      for (let hops = 0; node && hops < 10; hops++) {
        if (node === dest) return g;
        if (node instanceof FakeGain) g *= node.gain.value;
        node = node instanceof FakeNode || node instanceof FakeSourceNode ? node.connectedTo : null;
      }
      return 0;
    };
    const add = (name: string, v: number) => {
      if (v) out[name] = (out[name] ?? 0) + v;
    };
    for (const s of this.sources)
      if (s.track.enabled && s.track.readyState === 'live') add(s.track.label, through(s.connectedTo, 1));
    for (const b of this.bufferSources)
      if (b.playing) add((b.buffer as FakeBuffer).name, through(b.connectedTo, 1));
    return out;
  }
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
