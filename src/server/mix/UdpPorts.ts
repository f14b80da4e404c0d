/**
 * UDP ports ffmpeg children receive forwarded RTP on (`mix.rtpPortRange`, kept outside Janus's own
 * range): blocks of four, one per input (audio, audio RTCP, video, video RTCP), handed back when the input
 * goes. A block is only handed out when its ports can be bound right now (a port held by another program
 * is skipped, never shared). ffmpeg binds an SDP input's ports on all addresses (0.0.0.0: a unicast RTP
 * input has no local address to bind), so that is where a block is checked: the ports are reachable at
 * `mix.forwardHost` (or 127.0.0.1) and at every other address of the host; firewall the range to the Janus
 * hosts (docs/deployment.md, "Ports and firewall").
 */
import { createSocket } from 'node:dgram';

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

export class UdpPorts {
  private readonly used = new Set<number>();
  private next: number;

  constructor(
    private readonly min: number,
    private readonly max: number,
  ) {
    this.next = min + (min % 2);
  }

  /** Ports in use now (leak checks). */
  get inUse(): number {
    return this.used.size * 4;
  }

  /** A block: audio RTP at `base`, video RTP at `base + 2` (RTCP at +1 each); null when the range is full. */
  async take(): Promise<{ audio: number; video: number } | null> {
    const span = Math.floor((this.max - this.min + 1) / 4);
    for (let tries = 0; tries < span; tries++) {
      const base = this.next;
      this.next = base + 4 + 3 > this.max ? this.min + (this.min % 2) : base + 4;
      if (this.used.has(base)) continue;
      const free = await Promise.all([base, base + 1, base + 2, base + 3].map(udpFree));
      if (this.used.has(base) || !free.every(Boolean)) continue;
      this.used.add(base);
      return { audio: base, video: base + 2 };
    }
    return null;
  }

  give(block: { audio: number } | null | undefined): void {
    if (block) this.used.delete(block.audio);
  }
}
