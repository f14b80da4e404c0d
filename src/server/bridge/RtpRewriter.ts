/**
 * One viewer's view of one upstream RTP stream: sequence numbers and timestamps shifted by a fixed
 * offset, so the page sees a stream of its own that starts at a random point (RFC 3550 §5.1) and stays
 * continuous when the upstream changes under it (the feed re-subscribed to Janus after a loss: a new
 * SSRC, new sequence numbers and timestamps). Gaps upstream stay gaps (the page's NACK for one is sent
 * upstream: `toUpstream`). The SSRC and payload type are the viewer's sender's (set by werift's sender).
 *
 * It also remembers which outgoing sequence numbers were sent lately (`sentRecently`), the window of the
 * sender's retransmission buffer: a NACK for one of them is answered from that buffer, others go upstream.
 */

const SEQ_MOD = 0x10000;
const TS_MOD = 0x1_0000_0000;
/** werift's RTCRtpSender keeps the last 128 packets (RTP_HISTORY_SIZE) to answer NACKs. */
export const RESEND_WINDOW = 128;

export class RtpRewriter {
  private upstreamSsrc: number | null = null;
  private seqOffset: number;
  private tsOffset: number;
  /** The last packet out: its sequence number, timestamp and wall time (ms). */
  private lastSeq: number | null = null;
  private lastTs = 0;
  private lastAt = 0;
  private readonly sent = new Int32Array(RESEND_WINDOW).fill(-1);

  constructor(
    /** The stream's RTP clock, Hz (90,000 for video, 48,000 for Opus). */
    private readonly clockRate: number,
    random: () => number = Math.random,
  ) {
    this.seqOffset = Math.floor(random() * SEQ_MOD);
    this.tsOffset = Math.floor(random() * TS_MOD);
  }

  /**
   * The outgoing sequence number and timestamp for an upstream packet. A new upstream SSRC continues the
   * outgoing stream: next sequence number, timestamp advanced by the wall time since the last packet.
   */
  rewrite(ssrc: number, seq: number, ts: number, now: number): { seq: number; ts: number } {
    if (this.upstreamSsrc !== ssrc) {
      if (this.upstreamSsrc !== null && this.lastSeq !== null) {
        const elapsed = Math.max(1, Math.round(((now - this.lastAt) * this.clockRate) / 1000));
        this.seqOffset = (this.lastSeq + 1 - seq + SEQ_MOD * 2) % SEQ_MOD;
        this.tsOffset = (((this.lastTs + elapsed - ts) % TS_MOD) + TS_MOD) % TS_MOD;
      }
      this.upstreamSsrc = ssrc;
    }
    const out = { seq: (seq + this.seqOffset) % SEQ_MOD, ts: (ts + this.tsOffset) % TS_MOD };
    // Only forward progress moves "last" (a reordered or resent packet must not pull it back).
    if (this.lastSeq === null || (out.seq - this.lastSeq + SEQ_MOD) % SEQ_MOD < SEQ_MOD / 2) {
      this.lastSeq = out.seq;
      this.lastTs = out.ts;
      this.lastAt = now;
    }
    this.sent[out.seq % RESEND_WINDOW] = out.seq;
    return out;
  }

  /** The outgoing packet `seq` went out lately (it is in the sender's retransmission buffer). */
  sentRecently(seq: number): boolean {
    return this.sent[seq % RESEND_WINDOW] === seq;
  }

  /** The upstream sequence number of an outgoing one (for NACKs forwarded upstream). */
  toUpstream(seq: number): number {
    return (seq - this.seqOffset + SEQ_MOD) % SEQ_MOD;
  }

  /** The upstream SSRC now (null before the first packet). */
  get ssrc(): number | null {
    return this.upstreamSsrc;
  }
}
