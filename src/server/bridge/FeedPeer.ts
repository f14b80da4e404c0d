/**
 * One publisher's feed inside the bridge: a werift PeerConnection subscribed to it in Janus (Janus
 * offers, the feed answers receive-only with exactly the offer's codecs), shared by every viewer of
 * that publisher. Each packet from Janus goes out to every viewer (ViewerPeer rewrites it for its page).
 *
 * The feed keeps its video from the last keyframe on (at most GOP_MAX_PACKETS): a viewer that joins gets
 * those packets first, so its first frame does not wait for a keyframe from the publisher (Janus passes
 * at most one keyframe request a second on to it; a page joining within that second would wait for the
 * next one, up to the room's FIR interval).
 *
 * What goes upstream, to Janus (which passes keyframe requests on to the publisher):
 * - PLI: at each viewer's join and whenever a viewer asks (PLI or FIR), at most one per KEYFRAME_GAP_MS
 *   (a later request within the gap is sent when it ends, never dropped);
 * - NACK: werift's receiver NACKs the gaps it sees itself; a viewer's NACK for a packet its sender no
 *   longer holds is sent on too, in the upstream numbering;
 * - receiver reports: werift reports what the bridge receives; when a viewer reports more loss than that,
 *   a report with the worst viewer's loss and jitter is sent too (REPORT_MS), so Janus sees the worst link.
 */
import {
  GenericNack,
  RTCPeerConnection,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpTransportLayerFeedback,
  type MediaStreamTrack,
  type RTCRtpReceiver,
  type RtpPacket,
} from 'werift';
import type { BridgeWorkerConfig } from './ipc';
import { dtlsServerAnswer, noPublicStun, peerConfig, weriftCodec } from './peerConfig';
import { isKeyframeStart } from './keyframes';
import { feedCodecs, type FeedCodecs } from './sdpCodecs';

export const KEYFRAME_GAP_MS = 300;
const REPORT_MS = 1000;
/** Video packets kept since the last keyframe (beyond, nothing is kept until the next keyframe). */
const GOP_MAX_PACKETS = 400;

export type Kind = 'audio' | 'video';

/** What a feed asks of each of its viewers. */
export interface FeedViewer {
  forward(kind: Kind, rtp: RtpPacket): void;
  /** The worst loss the page reported since the last call (fraction 0-255, jitter in RTP units). */
  takeReport(kind: Kind): { fractionLost: number; jitter: number } | null;
}

export class FeedPeer {
  readonly codecs: FeedCodecs;
  readonly viewers = new Set<FeedViewer>();
  private readonly pc: RTCPeerConnection;
  private readonly receivers = new Map<Kind, { receiver: RTCRtpReceiver; ssrc: number; maxSeq: number }>();
  private lastKeyframeAt = 0;
  private keyframeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly reportTimer: ReturnType<typeof setInterval>;
  private closed = false;
  /** Video packets from the last keyframe on (clones), and that keyframe's RTP timestamp. */
  private gop: RtpPacket[] = [];
  private gopTs: number | null = null;
  counters = { packetsOut: 0, nacksUpstream: 0, plisUpstream: 0 };

  constructor(
    readonly id: number,
    janusOffer: string,
    private readonly cfg: BridgeWorkerConfig,
    private readonly onDown: (why: string) => void,
  ) {
    this.codecs = feedCodecs(janusOffer);
    const { audio, video } = this.codecs;
    this.pc = new RTCPeerConnection(
      peerConfig(cfg, {
        audio: audio ? [weriftCodec('audio', audio)] : [],
        video: video ? [weriftCodec('video', video)] : [],
      }),
    );
    this.pc.onTrack.subscribe((track: MediaStreamTrack) => this.onTrack(track));
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed' || (state === 'closed' && !this.closed))
        this.onDown(`janus subscription ${state}`);
    });
    this.reportTimer = setInterval(() => this.reportUpstream(), REPORT_MS);
  }

  /** Answers Janus's offer (receive only); the answer carries the bridge's host candidates. */
  async answer(janusOffer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: janusOffer });
    noPublicStun(this.pc, this.cfg);
    for (const t of this.pc.getTransceivers()) t.setDirection('recvonly');
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription({ type: 'answer', sdp: dtlsServerAnswer(answer.sdp) });
    return this.pc.localDescription!.sdp;
  }

  private onTrack(track: MediaStreamTrack): void {
    const kind = track.kind as Kind;
    const transceiver = this.pc.getTransceivers().find((t) => t.receiver.tracks.includes(track));
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      if (transceiver) {
        const r = this.receivers.get(kind);
        if (!r || r.ssrc !== rtp.header.ssrc)
          this.receivers.set(kind, {
            receiver: transceiver.receiver,
            ssrc: rtp.header.ssrc,
            maxSeq: rtp.header.sequenceNumber,
          });
        else r.maxSeq = rtp.header.sequenceNumber;
      }
      // The page negotiated its own header extension ids (and the bridge none): none goes out.
      rtp.header.extension = false;
      rtp.header.extensions = [];
      if (kind === 'video') this.keep(rtp);
      for (const v of this.viewers) v.forward(kind, rtp);
      this.counters.packetsOut += this.viewers.size;
    });
  }

  private keep(rtp: RtpPacket): void {
    const name = this.codecs.video?.name ?? '';
    if (isKeyframeStart(name, rtp.payload)) {
      if (this.gopTs !== rtp.header.timestamp) this.gop = [];
      this.gopTs = rtp.header.timestamp;
    } else if (this.gopTs === null) return;
    if (this.gop.length >= GOP_MAX_PACKETS) {
      this.gop = [];
      this.gopTs = null;
      return;
    }
    this.gop.push(rtp.clone());
  }

  /** A new viewer: the video since the last keyframe first (it is sent once the page is connected). */
  join(v: FeedViewer): void {
    for (const p of this.gop) v.forward('video', p);
    this.viewers.add(v);
  }

  /** A keyframe from the publisher: a PLI to Janus now, or when the gap since the last one ends. */
  requestKeyframe(): void {
    if (this.closed || this.keyframeTimer) return;
    const wait = this.lastKeyframeAt + KEYFRAME_GAP_MS - Date.now();
    const send = () => {
      this.keyframeTimer = null;
      const v = this.receivers.get('video');
      if (!v || this.closed) return;
      this.lastKeyframeAt = Date.now();
      this.counters.plisUpstream++;
      void v.receiver.sendRtcpPLI(v.ssrc);
    };
    if (wait <= 0) send();
    else this.keyframeTimer = setTimeout(send, wait);
  }

  /** A viewer's NACK its sender could not answer, in the upstream numbering. */
  nackUpstream(kind: Kind, seqs: number[]): void {
    const r = this.receivers.get(kind);
    if (!r || !seqs.length || this.closed) return;
    this.counters.nacksUpstream++;
    const nack = new GenericNack({ senderSsrc: r.receiver.rtcpSsrc, mediaSourceSsrc: r.ssrc, lost: seqs });
    void r.receiver.dtlsTransport
      .sendRtcp([new RtcpTransportLayerFeedback({ feedback: nack })])
      .catch(() => {});
  }

  /** The worst viewer's loss, when it is worse than none, as a receiver report to Janus. */
  private reportUpstream(): void {
    for (const [kind, r] of this.receivers) {
      let worst: { fractionLost: number; jitter: number } | null = null;
      for (const v of this.viewers) {
        const rep = v.takeReport(kind);
        if (rep && (!worst || rep.fractionLost > worst.fractionLost)) worst = rep;
      }
      if (!worst || worst.fractionLost === 0) continue;
      const report = new RtcpReceiverInfo({
        ssrc: r.ssrc,
        fractionLost: worst.fractionLost,
        packetsLost: 0,
        highestSequence: r.maxSeq,
        jitter: worst.jitter,
        lsr: 0,
        dlsr: 0,
      });
      const rr = new RtcpRrPacket({ ssrc: r.receiver.rtcpSsrc, reports: [report] });
      void r.receiver.dtlsTransport.sendRtcp([rr]).catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.reportTimer);
    if (this.keyframeTimer) clearTimeout(this.keyframeTimer);
    this.viewers.clear();
    this.gop = [];
    await this.pc.close().catch(() => {});
  }
}
