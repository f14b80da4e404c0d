/**
 * setSoundLevelDelegate / onSoundLevelUpdate: one Web Audio analyser per published or played stream and
 * one timer for them all, as 1.12.5 did it (its ZegoStreamCenter + publisher/player `startSoundLevel`):
 *  - the level of a stream is 100 x the highest sample (positive peak, mono mix) of the latest 4096
 *    samples, unrounded: 1.12.5 kept that value from a ScriptProcessorNode(4096, 1, 1); an AnalyserNode
 *    with fftSize 4096 holds the same window (ScriptProcessorNode is deprecated);
 *  - every `intervalMs` (default 1000) the page gets `[{streamID, soundLevel, type: 'push' | 'pull'}]`
 *    for every publisher and player (0 until its audio is there), and nothing while there are none;
 *  - the timer runs only while enabled and some stream exists; disabling stops it and resets the interval
 *    to 1000 ms, as 1.12.5.
 * The AudioContext is made on the first stream to measure, not at load: a page may enable the delegate
 * before anything exists, and Chromium limits contexts made without a user gesture.
 */
import type { Logger } from '../core/Logger';
import type { AnalyserLike, AudioContextLike, AudioNodeLike, Platform } from '../platform/Platform';

/** 1.12.5's window: ScriptProcessorNode buffer of 4096 frames. */
export const LEVEL_WINDOW = 4096;
export const DEFAULT_LEVEL_INTERVAL_MS = 1000;

export interface SoundLevelItem {
  streamID: string;
  soundLevel: number;
  type: 'push' | 'pull';
}

/** A stream to report: its key is `${type}:${streamID}`. */
export interface LevelSource {
  streamID: string;
  type: 'push' | 'pull';
  /** The audio to measure, once there is some. */
  stream: MediaStream | null;
}

/** 1.12.5's scaling: 100 x the highest sample of the window (negative peaks are not looked at). */
export function levelOf(samples: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < samples.length; i++) if (samples[i]! > peak) peak = samples[i]!;
  return Math.min(100, peak * 100);
}

interface Meter {
  track: MediaStreamTrack;
  source: AudioNodeLike;
  analyser: AnalyserLike;
  buf: Float32Array;
}

export class SoundLevels {
  private enabled = false;
  private intervalMs = DEFAULT_LEVEL_INTERVAL_MS;
  private timer: unknown = null;
  private ctx: AudioContextLike | null = null;
  private readonly meters = new Map<string, Meter>();

  constructor(
    private readonly platform: Platform,
    /** Every publisher and player of the moment. */
    private readonly sources: () => LevelSource[],
    private readonly report: (items: SoundLevelItem[]) => void,
    private readonly log: Logger,
  ) {}

  get active(): boolean {
    return this.enabled;
  }

  get interval(): number {
    return this.intervalMs;
  }

  /** Arguments are checked by the facade (boolean; interval 100-3000 ms or falsy = keep). */
  setDelegate(enable: boolean, intervalMs?: number): void {
    if (intervalMs) this.intervalMs = intervalMs;
    this.enabled = enable;
    if (enable) {
      this.refresh();
      this.ensureTimer();
    } else {
      this.stopTimer();
      this.intervalMs = DEFAULT_LEVEL_INTERVAL_MS;
      this.closeAll();
    }
  }

  /**
   * Streams came, went or changed their audio: meters follow the current sources and the timer starts
   * or stops with them.
   */
  refresh(): void {
    if (!this.enabled) return;
    const live = new Set<string>();
    for (const s of this.sources()) {
      const key = `${s.type}:${s.streamID}`;
      live.add(key);
      this.watch(key, s.stream);
    }
    for (const key of [...this.meters.keys()]) if (!live.has(key)) this.unwatch(key);
    if (live.size === 0) {
      this.stopTimer();
      this.closeContext();
    } else this.ensureTimer();
  }

  /** release / logout: everything goes, the delegate setting stays. */
  stopAll(): void {
    this.stopTimer();
    this.closeAll();
  }

  private watch(key: string, stream: MediaStream | null): void {
    const track = stream?.getAudioTracks()[0] ?? null;
    const old = this.meters.get(key);
    if (old && old.track === track) return;
    if (old) this.unwatch(key);
    if (!stream || !track) return;
    const ctx = this.context();
    if (!ctx) return;
    try {
      const source = ctx.createMediaStreamSource(stream);
      const analyser = ctx.createAnalyser();
      analyser.fftSize = LEVEL_WINDOW;
      source.connect(analyser);
      this.meters.set(key, { track, source, analyser, buf: new Float32Array(LEVEL_WINDOW) });
      // As 1.12.5: a context made before any user gesture starts suspended; try to run it.
      if (ctx.state === 'suspended')
        ctx.resume().catch((e: unknown) => this.log.debug('sound level: AudioContext not resumed:', e));
    } catch (e) {
      this.log.warn('sound level unavailable for', key, e);
    }
  }

  private unwatch(key: string): void {
    const m = this.meters.get(key);
    if (!m) return;
    this.meters.delete(key);
    try {
      m.source.disconnect();
      m.analyser.disconnect();
    } catch {
      /* already disconnected */
    }
  }

  private context(): AudioContextLike | null {
    if (this.ctx) return this.ctx;
    const make = this.platform.media?.createAudioContext;
    if (!make) return null;
    try {
      this.ctx = make();
    } catch (e) {
      this.log.warn('no AudioContext for sound levels:', e);
    }
    return this.ctx;
  }

  private closeContext(): void {
    const ctx = this.ctx;
    this.ctx = null;
    ctx?.close().catch((e: unknown) => this.log.debug('sound level: AudioContext close:', e));
  }

  private closeAll(): void {
    for (const key of [...this.meters.keys()]) this.unwatch(key);
    this.closeContext();
  }

  private ensureTimer(): void {
    if (this.timer !== null || !this.enabled || this.sources().length === 0) return;
    this.timer = this.platform.setTimeout(() => this.tick(), this.intervalMs);
  }

  private stopTimer(): void {
    if (this.timer !== null) this.platform.clearTimeout(this.timer);
    this.timer = null;
  }

  private tick(): void {
    this.timer = null;
    if (!this.enabled) return;
    const items = this.sources().map((s): SoundLevelItem => {
      const m = this.meters.get(`${s.type}:${s.streamID}`);
      let level = 0;
      if (m) {
        m.analyser.getFloatTimeDomainData(m.buf);
        level = levelOf(m.buf);
      }
      return { streamID: s.streamID, soundLevel: level, type: s.type };
    });
    if (!items.length) return;
    this.timer = this.platform.setTimeout(() => this.tick(), this.intervalMs);
    this.report(items);
  }
}
