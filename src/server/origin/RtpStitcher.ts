/**
 * RTP that stays continuous when its sender restarts. A mix's ffmpeg restarts on a new layout or input
 * list, and every run starts its RTP at a random sequence number and timestamp with the same SSRC (Janus's
 * remote publisher demultiplexes by SSRC, so the SSRC cannot change): a browser playing the mix through
 * Janus drops a run whose sequence numbers land "behind" the previous one, and its video freezes. The
 * stitcher sits between ffmpeg and Janus (in the HTTP-FLV hub's process, never the signalling one): per
 * SSRC it shifts each new run so sequence numbers go on by one and timestamps by the wall-clock gap.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A forward jump larger than this (or any jump backwards beyond reordering) is a new run. */
const MAX_GAP = 3000;
const REORDER = 100;

interface SsrcState {
  inSeq: number;
  seqOff: number;
  tsOff: number;
  outSeq: number;
  outTs: number;
  at: number;
}

/** Rewrites one packet in place; exported for tests. */
export function stitch(states: Map<number, SsrcState>, p: Buffer, now: number): void {
  if (p.length < 12 || p[0]! >> 6 !== 2) return;
  const ssrc = p.readUInt32BE(8);
  const seq = p.readUInt16BE(2);
  const ts = p.readUInt32BE(4);
  const rate = (p[1]! & 0x7f) === 111 ? 48_000 : 90_000;
  let s = states.get(ssrc);
  if (!s) {
    s = { inSeq: seq, seqOff: 0, tsOff: 0, outSeq: seq, outTs: ts, at: now };
    states.set(ssrc, s);
  } else {
    const d = (seq - s.inSeq) & 0xffff;
    if (d > MAX_GAP && d < 0x10000 - REORDER) {
      s.seqOff = (s.outSeq + 1 - seq) & 0xffff;
      s.tsOff = (s.outTs + Math.max(1, Math.round(((now - s.at) * rate) / 1000)) - ts) >>> 0;
    }
  }
  const outSeq = (seq + s.seqOff) & 0xffff;
  const outTs = (ts + s.tsOff) >>> 0;
  p.writeUInt16BE(outSeq, 2);
  p.writeUInt32BE(outTs, 4);
  if (((outSeq - s.outSeq) & 0xffff) < 0x8000) {
    s.outSeq = outSeq;
    s.outTs = outTs;
  }
  s.inSeq = seq;
  s.at = now;
}

/** One stitched path: ffmpeg's RTP (and RTCP) in on 127.0.0.1, out to the Janus. */
interface Path {
  rtp: Socket;
  rtcp: Socket | null;
  out: Socket;
}

/** A UDP socket bound on 127.0.0.1 (a free port). */
function bindLocal(onMessage: (p: Buffer) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    sock.on('message', onMessage);
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => resolve(sock));
  });
}

export class RtpStitcher {
  private readonly socks = new Map<number, Path>();

  /**
   * A local UDP port whose RTP goes on to `host`:`target` (the Janus's remote publisher, as this node
   * reaches it: 127.0.0.1 for a Janus on this host), stitched; with `rtcpTarget`, a second local port whose
   * RTCP (ffmpeg's sender reports) goes on to `host`:`rtcpTarget` unchanged. A host name is resolved once.
   */
  async open(
    target: number,
    host = '127.0.0.1',
    rtcpTarget = 0,
  ): Promise<{ port: number; rtcpPort: number }> {
    const to = isIP(host) ? { address: host, family: isIP(host) } : await lookup(host);
    const out = createSocket(to.family === 6 ? 'udp6' : 'udp4');
    const states = new Map<number, SsrcState>();
    let rtp: Socket | null = null;
    let rtcp: Socket | null = null;
    try {
      rtp = await bindLocal((p) => {
        stitch(states, p, Date.now());
        out.send(p, target, to.address);
      });
      if (rtcpTarget) rtcp = await bindLocal((p) => out.send(p, rtcpTarget, to.address));
    } catch (e) {
      for (const s of [rtp, rtcp, out]) s?.close();
      throw e;
    }
    const port = rtp.address().port;
    this.socks.set(port, { rtp, rtcp, out });
    return { port, rtcpPort: rtcp?.address().port ?? 0 };
  }

  close(port: number): void {
    const p = this.socks.get(port);
    if (!p) return;
    for (const s of [p.rtp, p.rtcp, p.out]) s?.close();
    this.socks.delete(port);
  }

  get count(): number {
    return this.socks.size;
  }
}
