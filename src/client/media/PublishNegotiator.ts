/**
 * Publishing: we offer, the server answers (legacy negotiate_mode 0). One sendonly transceiver per
 * published track; the offer is munged as 1.12 did (one video codec family, the bitrate cap, Opus
 * parameters) before setLocalDescription; MediaDescReq{type 0} carries it with the capture's size; the
 * answer comes as MediaDescPush{type 1}.
 */
import { describe, pcOp, StepError, type NegotiationContext, type Negotiator } from './negotiation';
import { keepVideoCodec, setOpusParams, setVideoBitrate, type VideoCodec } from './sdp';

export interface PublishParams {
  /** The tracks to send, read when the attempt starts (a retry sends the current ones). */
  tracks(): MediaStreamTrack[];
  /** The stream the tracks are announced in (the SDP's msid). */
  stream(): MediaStream | undefined;
  codec: VideoCodec;
  /** Bitrate cap, kbps. */
  videoKbps?: number;
  width?: number;
  height?: number;
  frameRate?: number;
  /** Firefox takes `b=TIAS` instead of `b=AS`. */
  isFirefox: boolean;
}

export class PublishNegotiator implements Negotiator {
  constructor(private readonly p: PublishParams) {}

  async exchange(ctx: NegotiationContext): Promise<string> {
    const stream = this.p.stream();
    for (const track of this.p.tracks())
      ctx.pc.addTransceiver(track, { direction: 'sendonly', streams: stream ? [stream] : [] });
    const offer = await pcOp(ctx, 'CreateOffer', (pc) => pc.createOffer());
    let sdp = keepVideoCodec(offer.sdp ?? '', this.p.codec);
    if (this.p.videoKbps) sdp = setVideoBitrate(sdp, this.p.videoKbps, this.p.isFirefox);
    sdp = setOpusParams(sdp, { maxaveragebitrate: 48_000, stereo: 0 });
    await pcOp(ctx, 'LocalDesc', (pc) => pc.setLocalDescription({ type: 'offer', sdp }));
    const answerP = ctx.waitPush('MediaDescPush', 'ServerAnswerTimeout');
    // Awaited below, after MediaDescRsp: until then its timeout must not surface as an unhandled
    // rejection (the await below still sees it).
    answerP.catch(() => undefined);
    await describe(
      ctx,
      {
        type: 0,
        sdp,
        width: this.p.width ?? 0,
        height: this.p.height ?? 0,
        framerate: this.p.frameRate ?? 0,
        video_min_kpbs: 0,
        video_max_kpbs: this.p.videoKbps ?? 0,
        audio_kpbs: 48,
      },
      'ServerAnswerError',
    );
    const answer = await answerP;
    if (Number(answer.type) !== 1 || typeof answer.sdp !== 'string') throw new StepError('ServerAnswerError');
    const serverSdp = answer.sdp;
    await pcOp(ctx, 'RemoteDesc', (pc) => pc.setRemoteDescription({ type: 'answer', sdp: serverSdp }));
    return serverSdp;
  }
}
