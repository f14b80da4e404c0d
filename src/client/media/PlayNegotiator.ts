/**
 * Playing: the server offers, we answer (our extension, negotiate_mode 1: Janus always offers to
 * subscribers). The offer comes as MediaDescPush{type 0}; only the kinds played are received (the others'
 * transceivers go inactive, so an audio-only element never holds a never-fed video track); the answer
 * goes as MediaDescReq{type 1} and our candidates may follow it at once.
 */
import { describe, pcOp, StepError, type NegotiationContext, type Negotiator } from './negotiation';

/**
 * The kinds a player receives for a legacy playType: 'audio' or 'video' alone, anything else (1.12: 'all',
 * and pages' 'auto', '', undefined) both.
 */
export function playKinds(playType: string | undefined): ('audio' | 'video')[] {
  if (playType === 'audio') return ['audio'];
  if (playType === 'video') return ['video'];
  return ['audio', 'video'];
}

export interface PlayParams {
  playType?: string;
  /** A new, empty MediaStream (through the Platform seam). */
  createStream(): MediaStream;
  /** The remote stream has a (new) track. */
  onStream(stream: MediaStream): void;
}

export class PlayNegotiator implements Negotiator {
  constructor(private readonly p: PlayParams) {}

  async exchange(ctx: NegotiationContext): Promise<string> {
    const offer = await ctx.waitPush('MediaDescPush', 'RemoteOfferTimeout');
    ctx.mark('server offer');
    if (Number(offer.type) !== 0 || typeof offer.sdp !== 'string') throw new StepError('RemoteOfferError');
    const serverSdp = offer.sdp;
    const stream = this.p.createStream();
    const kinds: string[] = playKinds(this.p.playType);
    ctx.pc.ontrack = (ev) => {
      if (!kinds.includes(ev.track.kind)) return;
      stream.addTrack(ev.track);
      if (ctx.alive()) this.p.onStream(stream);
    };
    await pcOp(ctx, 'RemoteOfferError', async (pc) => {
      await pc.setRemoteDescription({ type: 'offer', sdp: serverSdp });
      for (const t of pc.getTransceivers()) {
        const kind = t.receiver.track?.kind ?? '';
        t.direction = kinds.includes(kind) ? 'recvonly' : 'inactive';
      }
    });
    const created = await pcOp(ctx, 'CreateAnswer', (pc) => pc.createAnswer());
    // DTLS server (Chromium answers `active`): Janus, which offered `actpass`, then starts the handshake
    // once its own ICE side is ready. As client the browser sent its first flight before Janus had a
    // selected pair, Janus dropped it, and the handshake waited ~50 ms for the retransmission, on every
    // play, direct or through TURN (bench/turn.js "where the time goes"; docs/protocol.md).

    const answer = {
      type: 'answer' as const,
      sdp: (created.sdp ?? '').replace(/a=setup:active/g, 'a=setup:passive'),
    };
    await pcOp(ctx, 'LocalDesc', (pc) => pc.setLocalDescription(answer));
    ctx.mark('answer');
    // The server's offer is applied: our candidates may go now, alongside the answer (Janus queues
    // trickles that arrive before it), which saves a round trip before ICE can complete.
    const described = describe(ctx, { type: 1, sdp: answer.sdp }, 'SessionError');
    ctx.openTrickle();
    await described;
    return serverSdp;
  }
}
