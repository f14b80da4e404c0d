/**
 * One page playing a feed through the bridge: a werift PeerConnection answering the page's recvonly offer
 * with the feed's codecs under the page's own payload types, one send-only track per kind the page
 * receives, both in one MediaStream (the original SDK plays `ontrack`'s `streams[0]`).
 *
 * Each packet from the feed goes out rewritten (RtpRewriter: this page's sequence numbers and timestamps;
 * werift's sender sets its SSRC and payload type and keeps the last 128 packets to answer NACKs). From
 * the page: PLI or FIR -> a keyframe request upstream; a NACK the sender cannot answer -> upstream; its
 * receiver reports are kept for the feed's upstream report.
 */
import {
  GenericNack,
  PictureLossIndication,
  RTCPeerConnection,
  RtcpPayloadSpecificFeedback,
  RtcpRrPacket,
  RtcpTransportLayerFeedback,
  type RTCRtpSender,
  type RtcpPacket,
  type RtpPacket,
} from 'werift';
import type { FeedPeer, FeedViewer, Kind } from './FeedPeer';
import type { BridgeWorkerConfig } from './ipc';
import { dtlsServerAnswer, noPublicStun, peerConfig, weriftCodec } from './peerConfig';
import { RtpRewriter } from './RtpRewriter';
import { planViewer } from './sdpCodecs';

const FIR_FMT = 4;
/**
 * RTP packets kept for a page that is not connected yet: the feed's video since its last keyframe (at
 * most 400 packets) and what arrives until the page is up.
 */
const PENDING_PACKETS = 1024;

interface Out {
  sender: RTCRtpSender;
  rewriter: RtpRewriter;
  report: { fractionLost: number; jitter: number } | null;
}

export class ViewerPeer implements FeedViewer {
  private readonly pc: RTCPeerConnection;
  private readonly out = new Map<Kind, Out>();
  private readonly plan: ReturnType<typeof planViewer>;
  private closed = false;
  resent = 0;

  constructor(
    readonly id: number,
    private readonly feed: FeedPeer,
    private readonly offer: string,
    private readonly cfg: BridgeWorkerConfig,
    private readonly events: { up(): void; down(why: string): void },
  ) {
    // Throws CodecError / SdpError before anything is allocated.
    this.plan = planViewer(offer, feed.codecs);
    const { audio, video } = this.plan;
    this.pc = new RTCPeerConnection({
      ...peerConfig(cfg, {
        audio: audio ? [weriftCodec('audio', audio.codec)] : [],
        video: video ? [weriftCodec('video', video.codec)] : [],
      }),
      // What arrives while ICE and DTLS are still being set up is kept and sent the moment they are up:
      // the keyframe asked for at the answer is then the page's first frame, without another round trip.
      pendingRtp: { enabled: true, maxLength: PENDING_PACKETS },
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (this.closed) return;
      if (state === 'connected') {
        this.events.up();
        // The keyframe asked for at the answer may have been lost on the way: ask again now it is up.
        this.feed.requestKeyframe();
      } else if (state === 'failed' || state === 'closed') this.events.down(`peer connection ${state}`);
    });
  }

  /** The answer (with the bridge's host candidates). */
  async answer(): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: this.offer });
    noPublicStun(this.pc, this.cfg);
    const streamId = `zego-bridge-${this.id}`;
    for (const t of this.pc.getTransceivers()) {
      const kind = t.kind as Kind;
      const planned = this.plan[kind];
      if (!planned || planned.mid !== t.mid || this.out.has(kind)) {
        t.setDirection('inactive');
        continue;
      }
      t.setDirection('sendonly');
      t.sender.streamId = streamId;
      const clockRate = planned.codec.clockRate;
      this.out.set(kind, { sender: t.sender, rewriter: new RtpRewriter(clockRate), report: null });
      t.sender.onRtcp.subscribe((p: RtcpPacket) => this.onRtcp(kind, p));
    }
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription({ type: 'answer', sdp: dtlsServerAnswer(answer.sdp) });
    this.feed.join(this);
    // The page connects within a few hundred ms: a fresh keyframe is on its way meanwhile (pendingRtp).
    this.feed.requestKeyframe();
    return this.pc.localDescription!.sdp;
  }

  addCandidate(c: {
    candidate: string;
    sdpMid?: string | null;
    sdpMLineIndex?: number | null;
  }): Promise<void> {
    if (!c.candidate) return Promise.resolve();
    return this.pc.addIceCandidate({
      candidate: c.candidate,
      sdpMid: c.sdpMid ?? undefined,
      sdpMLineIndex: c.sdpMLineIndex ?? undefined,
    });
  }

  forward(kind: Kind, rtp: RtpPacket): void {
    const o = this.out.get(kind);
    if (!o) return;
    const h = rtp.header;
    const { seq, ts } = o.rewriter.rewrite(h.ssrc, h.sequenceNumber, h.timestamp, Date.now());
    // The feed's packet is shared by its viewers: werift's sender copies it before its first await
    // (RTCRtpSender.dispatchRtp clones), so setting this page's numbers just before the call is safe.
    const [upSeq, upTs] = [h.sequenceNumber, h.timestamp];
    h.sequenceNumber = seq;
    h.timestamp = ts;
    void o.sender.sendRtp(rtp).catch(() => {});
    h.sequenceNumber = upSeq;
    h.timestamp = upTs;
  }

  takeReport(kind: Kind): { fractionLost: number; jitter: number } | null {
    const o = this.out.get(kind);
    if (!o) return null;
    const r = o.report;
    o.report = null;
    return r;
  }

  private onRtcp(kind: Kind, p: RtcpPacket): void {
    const o = this.out.get(kind);
    if (!o) return;
    if (p instanceof RtcpPayloadSpecificFeedback) {
      // PLI, or FIR (RFC 5104 FMT 4; werift parses it but does not export its class).
      if (p.feedback.count === PictureLossIndication.count || p.feedback.count === FIR_FMT)
        this.feed.requestKeyframe();
    } else if (p instanceof RtcpTransportLayerFeedback && p.feedback instanceof GenericNack) {
      // werift's sender answered those it still holds; the rest are asked of Janus.
      const missing: number[] = [];
      for (const seq of p.feedback.lost) {
        if (o.rewriter.sentRecently(seq)) this.resent++;
        else missing.push(o.rewriter.toUpstream(seq));
      }
      if (missing.length) this.feed.nackUpstream(kind, missing);
    } else if (p instanceof RtcpRrPacket) {
      for (const r of p.reports)
        if (r.ssrc === o.sender.ssrc && (!o.report || r.fractionLost > o.report.fractionLost))
          o.report = { fractionLost: r.fractionLost, jitter: r.jitter };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.feed.viewers.delete(this);
    await this.pc.close().catch(() => {});
  }
}
