/**
 * A published stream's audio effects and mixing (seed 1.34-1.40, and 1.8's mixingBuffer) on an
 * AudioChain of its own: the stream's audio goes through Web Audio only while something is mixed in, and
 * the publisher swaps tracks with replaceTrack (no renegotiation) when mixing starts and again when the
 * last mix ends (1.12.5's "rebackMic"). As 1.12.5:
 *  - one slot per stream for an effect (playEffect) or a buffer queue (mixingBuffer): another one is
 *    refused while it is taken; `<audio>` elements mix beside it, any number, each once;
 *  - `replace` cuts the microphone off while the effect plays (a paused effect gives it back);
 *  - pause / resume restart the buffer where it was (an AudioBufferSourceNode cannot pause); `end` fires
 *    when a non-looping effect reaches its end, never on a stop;
 *  - mixingBuffer's buffers play one after another; the slot stays taken until stopMixingBuffer (or
 *    stopMixingAudio without a list), which also stop an effect.
 * Differences, on purpose: the volume (setMixingAudioVolume) applies to every mix of the stream and lasts
 * across effects (the seed says it covers both kinds; 1.12.5 set the effect's gain only, reset at each
 * play), and `<audio>` mixing honours `replace` (1.12.5 dropped the flag on the way).
 */
import type { Logger } from '../core/Logger';
import type {
  AudioBufferLike,
  AudioNodeLike,
  BufferSourceLike,
  GainLike,
  MediaPlatform,
} from '../platform/Platform';
import { AudioChain } from './LocalSource';

interface Effect {
  buffer: AudioBufferLike;
  loop: boolean;
  /** Where it (re)starts, s. */
  pos: number;
  /** The context time it (re)started at. */
  t0: number;
  end: () => void;
}

/** One source mixed in: an effect or mixingBuffer's queue (the slot), or an element. */
interface Mix {
  gain: GainLike;
  replace: boolean;
  /** Sounding (a paused effect keeps its slot but neither sounds nor replaces the microphone). */
  on: boolean;
  /** The buffer playing (the effect, or the head of the queue). */
  src?: BufferSourceLike | null;
  effect?: Effect;
  queue?: AudioBufferLike[];
  /** An element's captured sound. */
  node?: AudioNodeLike;
}

export interface EffectOptions {
  loop?: unknown;
  playTime?: unknown;
  replace?: unknown;
}

type Capturing = HTMLMediaElement & { captureStream?(): MediaStream; mozCaptureStream?(): MediaStream };

export class AudioMixer {
  private chain: AudioChain | null = null;
  private readonly mixes = new Set<Mix>();
  /** The effect or buffer queue (one per stream). */
  private slot: Mix | null = null;
  private readonly elements = new Map<HTMLMediaElement, Mix>();
  private volume = 1;
  private closed = false;
  /** mixingBuffer's decodings, so buffers queue in call order. */
  private order: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly media: MediaPlatform,
    /** The audio track the stream sends when nothing is mixed (the preview's). */
    private readonly plain: () => MediaStreamTrack | undefined,
    /** Puts this audio track on the wire (replaceTrack). */
    private readonly swap: (track: MediaStreamTrack) => void,
    private readonly log: Logger,
  ) {}

  /** The tracks an attempt sends: the chain's output in place of the plain audio track. */
  tracks(list: MediaStreamTrack[]): MediaStreamTrack[] {
    const out = this.chain && this.chain.output;
    return out ? list.map((t) => (t.kind === 'audio' ? out : t)) : list;
  }

  /** A new plain track (switchDevice): the chain takes an audio one; null when nothing must be swapped. */
  route(track: MediaStreamTrack): MediaStreamTrack | null {
    if (!this.chain || track.kind !== 'audio') return track;
    this.chain.setInput(track);
    return null;
  }

  /** 0-1 (setMixingAudioVolume / 100), for the mixes of now and later. */
  setVolume(v: number): void {
    this.volume = v;
    for (const m of this.mixes) m.gain.gain.value = v;
  }

  playEffect(buffer: AudioBufferLike, o: EffectOptions, start: () => void, end: () => void): boolean {
    const m = !this.slot && this.add(!!o.replace);
    if (!m) return false;
    const pos = typeof o.playTime === 'number' && o.playTime > 0 ? o.playTime / 1000 : 0;
    m.effect = { buffer, loop: !!o.loop, pos, t0: 0, end };
    this.slot = m;
    this.playFrom(m);
    start();
    return true;
  }

  pauseEffect(): boolean {
    const m = this.slot;
    const e = m && m.effect;
    if (!e || !m.src) return false;
    e.pos += this.chain!.ctx.currentTime - e.t0;
    if (e.loop) e.pos %= e.buffer.duration || 1;
    this.halt(m);
    m.on = false;
    this.update();
    return true;
  }

  resumeEffect(): boolean {
    const m = this.slot;
    if (!m || !m.effect || m.src) return false;
    m.on = true;
    this.update();
    this.playFrom(m);
    return true;
  }

  /**
   * mixingBuffer: once decoded (in call order), queued after the buffers still to play. False while an
   * effect holds the slot.
   */
  mixBuffer(decoded: Promise<AudioBufferLike>): Promise<boolean> {
    const r = this.order
      .then(() => decoded)
      .then((b) => {
        let m = this.slot;
        if (!m) {
          m = this.add(false);
          if (!m) return false;
          m.queue = [];
          this.slot = m;
        }
        if (!m.queue) return false;
        m.queue.push(b);
        if (!m.src) this.next(m);
        return true;
      });
    this.order = r.catch(() => undefined);
    return r;
  }

  /** startMixingAudio: the element's sound (as it plays) mixed in; an element already mixed stays. */
  mixElement(el: HTMLMediaElement, replace: boolean): boolean {
    if (this.elements.has(el)) return true;
    let cap: MediaStream;
    try {
      const c = el as Capturing;
      cap = (c.captureStream || c.mozCaptureStream)!.call(c);
    } catch {
      return false;
    }
    const m = this.add(replace);
    if (!m) return false;
    this.elements.set(el, m);
    const connect = () => {
      if (m.node || this.elements.get(el) !== m || !cap.getAudioTracks().length) return;
      m.node = this.chain!.ctx.createMediaStreamSource(cap);
      m.node.connect(m.gain);
    };
    connect();
    // An element that has not started yet has nothing to capture: its track comes with 'addtrack'.
    if (!m.node) cap.addEventListener('addtrack', connect);
    return true;
  }

  /** stopMixingAudio: these elements, or without a list every mix, an effect or buffers included. */
  stopMixing(els?: HTMLMediaElement[]): void {
    for (const el of els || [...this.elements.keys()]) {
      const m = this.elements.get(el);
      if (m && this.elements.delete(el)) this.remove(m);
    }
    if (!els) this.stopSlot();
  }

  /** The stream ends: every mix stops, and none starts again. */
  close(): void {
    this.closed = true;
    this.stopMixing();
  }

  /** stopMixingBuffer (as 1.12.5, whatever holds the slot). */
  stopSlot(): void {
    const m = this.slot;
    this.slot = null;
    if (m) this.remove(m);
  }

  private playFrom(m: Mix): void {
    const e = m.effect!;
    e.t0 = this.chain!.ctx.currentTime;
    this.source(m, e.buffer, e.loop, e.pos, () => {
      m.src = null;
      this.stopSlot();
      e.end();
    });
  }

  private next(m: Mix): void {
    const b = m.queue![0];
    if (b)
      this.source(m, b, false, 0, () => {
        m.src = null;
        m.queue!.shift();
        this.next(m);
      });
  }

  private source(m: Mix, buffer: AudioBufferLike, loop: boolean, offset: number, ended: () => void): void {
    const src = this.chain!.ctx.createBufferSource();
    src.buffer = buffer;
    src.loop = loop;
    src.connect(m.gain);
    src.onended = ended;
    src.start(0, offset);
    m.src = src;
  }

  /** Stops the mix's buffer without its `ended` (a stop is not an end). */
  private halt(m: Mix): void {
    const src = m.src;
    m.src = null;
    if (!src) return;
    src.onended = null;
    src.stop();
    src.disconnect();
  }

  private add(replace: boolean): Mix | null {
    const chain = this.open();
    if (!chain) return null;
    const gain = chain.ctx.createGain();
    gain.gain.value = this.volume;
    chain.mix(gain);
    const m: Mix = { gain, replace, on: true };
    this.mixes.add(m);
    this.update();
    return m;
  }

  private remove(m: Mix): void {
    this.halt(m);
    if (m.node) m.node.disconnect();
    m.gain.disconnect();
    this.mixes.delete(m);
    if (this.mixes.size) return this.update();
    // The last mix ended: the plain track goes back on the wire and the chain (its context) closes.
    this.chain!.close();
    this.chain = null;
    const plain = this.plain();
    if (plain) this.swap(plain);
  }

  private update(): void {
    if (this.chain) this.chain.mute([...this.mixes].some((m) => m.on && m.replace));
  }

  private open(): AudioChain | null {
    const track = this.plain();
    if (this.chain || !track || this.closed) return this.chain;
    try {
      this.chain = new AudioChain(this.media.createAudioContext!(), this.media, track, this.log);
    } catch {
      return null;
    }
    if (this.chain.output) this.swap(this.chain.output);
    return this.chain;
  }
}
