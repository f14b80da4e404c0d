/**
 * ZegoClient.getAudioInfo(element, error) (seed 3.5): a meter on the element's stream whose `instant`
 * reads the live level. 1.12.5 returned its SoundMeter (a ScriptProcessorNode): `instant` the RMS of the
 * latest buffer, `slow` a running average of it, `clip` the share of samples at full scale, updated on
 * every buffer. Ours reads an AnalyserNode when the page reads the property (ScriptProcessorNode is
 * deprecated and runs on the main thread): `instant` and `clip` over the latest 2048 samples (~43 ms),
 * `slow` over the latest 32768 (~0.7 s). Each meter has its AudioContext, closed by `stop()`, as 1.12.5.
 */
import type { AnalyserLike, AudioContextLike, AudioNodeLike, MediaPlatform } from '../platform/Platform';

const WINDOW = 2048;
const SLOW_WINDOW = 32768;

export class AudioInfo {
  private analyser: AnalyserLike | null = null;
  private source: AudioNodeLike | null = null;
  private ctx: AudioContextLike | null = null;
  private readonly buf = new Float32Array(SLOW_WINDOW);

  /** Errors (no Web Audio, a stream without audio) go to `onError`; the meter then reads 0. */
  constructor(media: MediaPlatform | undefined, stream: MediaStream, onError: (e: unknown) => void) {
    try {
      const ctx = (this.ctx = media!.createAudioContext!());
      const source = ctx.createMediaStreamSource(stream);
      const analyser = ctx.createAnalyser();
      analyser.fftSize = SLOW_WINDOW;
      source.connect(analyser);
      this.source = source;
      this.analyser = analyser;
      if (ctx.state === 'suspended') ctx.resume().catch(onError);
    } catch (e) {
      onError(e);
    }
  }

  get instant(): number {
    return rms(this.read(WINDOW));
  }

  get slow(): number {
    return rms(this.read(SLOW_WINDOW));
  }

  get clip(): number {
    const w = this.read(WINDOW);
    let n = 0;
    for (const x of w) if (Math.abs(x) > 0.99) n++;
    return w.length ? n / w.length : 0;
  }

  stop(): void {
    if (this.source) this.source.disconnect();
    this.analyser = this.source = null;
    if (this.ctx) this.ctx.close().catch(() => undefined);
  }

  /** The latest `n` samples (none without a meter). */
  private read(n: number): Float32Array {
    if (!this.analyser) return new Float32Array(0);
    this.analyser.getFloatTimeDomainData(this.buf);
    return this.buf.subarray(SLOW_WINDOW - n);
  }
}

function rms(w: Float32Array): number {
  let sum = 0;
  for (const x of w) sum += x * x;
  return w.length ? Math.sqrt(sum / w.length) : 0;
}
