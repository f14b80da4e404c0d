/**
 * The quality reports (onPublishQualityUpdate / onPlayQualityUpdate): every cycle (legacy 3000 ms,
 * setQualityMonitorCycle) one getStats sample per publisher and player; the first sample of a stream
 * only primes its counters (as the original), later ones give rates from the deltas. The timer runs
 * only while some stream exists.
 */
import type { Platform } from '../platform/Platform';

export interface QualityReport {
  videoBitrate: number;
  audioBitrate: number;
  videoFPS: number;
  videoTransferFPS: number;
  frameWidth: number;
  frameHeight: number;
  nackCount: number;
  pliCount: number;
  packetsLost: number;
  rtt: number;
}

export interface QualityTarget {
  publish: boolean;
  streamId: string;
  pc: RTCPeerConnection | null;
}

/** Previous getStats counters per stream, for rates. */
interface Sample {
  t: number;
  videoBytes: number;
  audioBytes: number;
  frames: number;
  framesTransfer: number;
}

const keyOf = (publish: boolean, streamId: string) => `${publish ? 'pub' : 'play'}:${streamId}`;

export class QualityMonitor {
  private timer: unknown = null;
  private cycleMs = 3000;
  private readonly samples = new Map<string, Sample>();

  constructor(
    private readonly platform: Platform,
    /** The streams of the moment. */
    private readonly targets: () => QualityTarget[],
    /** A report for a stream; the owner drops it when the stream is gone by then. */
    private readonly report: (publish: boolean, streamId: string, q: QualityReport) => void,
  ) {}

  setCycle(ms: number): void {
    this.cycleMs = ms;
    if (this.timer !== null) {
      this.platform.clearTimeout(this.timer);
      this.timer = null;
      this.ensure();
    }
  }

  /** A stream started: the timer runs (if it did not). */
  ensure(): void {
    if (this.timer !== null) return;
    const tick = () => {
      const targets = this.targets();
      if (targets.length === 0) {
        this.timer = null;
        return;
      }
      this.timer = this.platform.setTimeout(tick, this.cycleMs);
      for (const t of targets) void this.sample(t);
    };
    this.timer = this.platform.setTimeout(tick, this.cycleMs);
  }

  /** A stream ended: its counters go (a new stream of the same id primes again). */
  forget(publish: boolean, streamId: string): void {
    this.samples.delete(keyOf(publish, streamId));
  }

  private async sample({ publish, streamId, pc }: QualityTarget): Promise<void> {
    if (!pc) return;
    let report: RTCStatsReport;
    try {
      report = await pc.getStats();
    } catch {
      return; // a connection closing under us: no sample this cycle
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
    const rtp = publish ? 'outbound-rtp' : 'inbound-rtp';
    const bytes = publish ? 'bytesSent' : 'bytesReceived';
    const done = publish ? 'framesEncoded' : 'framesDecoded';
    const moved = publish ? 'framesSent' : 'framesReceived';
    report.forEach((s: Record<string, unknown> & { type: string; kind?: string }) => {
      if (s.type === rtp) {
        if (s.kind === 'video') {
          videoBytes += Number(s[bytes] ?? 0);
          frames += Number(s[done] ?? 0);
          framesTransfer += Number(s[moved] ?? s[done] ?? 0);
          width = Number(s.frameWidth ?? width);
          height = Number(s.frameHeight ?? height);
          nack += Number(s.nackCount ?? 0);
          pli += Number(s.pliCount ?? 0);
          if (!publish) lost += Number(s.packetsLost ?? 0);
        } else if (s.kind === 'audio') audioBytes += Number(s[bytes] ?? 0);
      } else if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined)
        rtt = Number(s.currentRoundTripTime) * 1000;
    });
    const t = this.platform.now();
    const key = keyOf(publish, streamId);
    const prev = this.samples.get(key);
    this.samples.set(key, { t, videoBytes, audioBytes, frames, framesTransfer });
    if (!prev || t <= prev.t) return;
    const secs = (t - prev.t) / 1000;
    this.report(publish, streamId, {
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
    });
  }
}
