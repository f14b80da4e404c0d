/**
 * A MediaBackend without an SFU, for the media orchestration's unit tests: legs answer with canned SDP at
 * once, go `up` when the test says so (or at once with `autoUp`), and record what was asked of them; the
 * backend goes `down` (every leg dead) and `up` again on demand, as Janus dying and restarting would.
 */
import { EventEmitter } from 'node:events';
import type {
  ForwardTarget,
  LegMedia,
  MediaBackend,
  MediaBackendEvents,
  MediaBackendHealth,
  MediaLeg,
  RemotePublisher,
  TrickleCandidate,
} from '../../src/server/media/MediaBackend';

const SDP = (what: string, id: number) =>
  `v=0\r\no=- ${id} 1 IN IP4 127.0.0.2\r\ns=${what}\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=candidate:1 1 udp 2015363327 127.0.0.2 20000 typ host\r\n`;

export class FakeLeg implements MediaLeg {
  readonly up: Promise<void>;
  private markUp!: () => void;
  isUp = false;
  role: 'publisher' | 'subscriber' | null = null;
  room?: string;
  publisher?: FakeLeg;
  answered = false;
  closed = false;
  keyframes = 0;
  readonly trickles: (TrickleCandidate | null)[] = [];
  readonly forwards: ForwardTarget[] = [];
  /** Publisher: what it sends (set by publish). */
  media?: LegMedia;
  /** Publisher: the remote publishers it is relayed to (publishRemotely), by port. */
  readonly remotes: number[] = [];
  /** A remote publisher: added as the relay of a live publisher (`relay` of addRemotePublisher). */
  relay?: boolean;
  /** Publisher: the hosts of those relays (publishRemotely's `host`), in the same order. */
  readonly remoteHosts: string[] = [];

  constructor(
    readonly id: number,
    private readonly backend: FakeBackend,
  ) {
    this.up = new Promise<void>((r) => (this.markUp = r));
  }

  /** The leg's PeerConnection is up (the SFU's webrtcup). */
  goUp(): void {
    this.isUp = true;
    this.markUp();
  }

  private alive(): void {
    if (this.closed) throw new Error(`leg ${this.id} closed`);
    if (!this.backend.up) throw new Error('media server unavailable');
  }

  async publish(room: string, _display: string, _offer: string): Promise<string> {
    this.alive();
    this.role = 'publisher';
    this.room = room;
    this.media = { audio: true, video: true, videoCodec: 'vp8' };
    if (this.backend.autoUp) queueMicrotask(() => this.goUp());
    return SDP('answer', this.id);
  }

  async subscribe(publisher: MediaLeg): Promise<string> {
    this.alive();
    this.role = 'subscriber';
    this.publisher = publisher as FakeLeg;
    return SDP('offer', this.id);
  }

  async answer(_sdp: string): Promise<void> {
    this.alive();
    this.answered = true;
    if (this.backend.autoUp) queueMicrotask(() => this.goUp());
  }

  async trickle(c: TrickleCandidate | null): Promise<void> {
    this.alive();
    this.trickles.push(c);
  }

  async requestKeyframe(): Promise<void> {
    this.alive();
    this.keyframes++;
  }

  async forward(t: ForwardTarget): Promise<() => Promise<void>> {
    this.alive();
    this.forwards.push(t);
    return async () => {
      this.forwards.splice(this.forwards.indexOf(t), 1);
    };
  }

  async publishRemotely(to: { host: string; port: number }): Promise<() => Promise<void>> {
    this.alive();
    this.remotes.push(to.port);
    this.remoteHosts.push(to.host);
    return async () => {
      const i = this.remotes.indexOf(to.port);
      this.remotes.splice(i, 1);
      this.remoteHosts.splice(i, 1);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class FakeBackend extends EventEmitter<MediaBackendEvents> implements MediaBackend {
  up = true;
  /** The address remote publishers are sent to (a Janus's rtpHost). */
  rtpHost = '127.0.0.1';
  /** Legs go up as soon as they are negotiated (publish answered / subscriber answer taken). */
  autoUp = true;
  readonly legs: FakeLeg[] = [];
  private nextId = 1;

  async openLeg(): Promise<MediaLeg> {
    if (!this.up) throw new Error('media server unavailable');
    const leg = new FakeLeg(this.nextId++, this);
    this.legs.push(leg);
    return leg;
  }

  /** A remote publisher: a leg that is up at once, on made-up ports. */
  async addRemotePublisher(
    room: string,
    _display: string,
    o?: { videoCodec: 'h264' | 'vp8'; audio: boolean; relay?: boolean },
  ): Promise<RemotePublisher> {
    if (!this.up) throw new Error('media server unavailable');
    const leg = new FakeLeg(this.nextId++, this);
    leg.room = room;
    leg.relay = o?.relay;
    this.legs.push(leg);
    return {
      leg,
      host: this.rtpHost,
      port: 40000 + leg.id,
      rtcpPort: 41000 + leg.id,
      close: () => leg.close(),
    };
  }

  /** Legs not closed yet. */
  get open(): FakeLeg[] {
    return this.legs.filter((l) => !l.closed);
  }

  /** The SFU died: every leg is dead, `down` once. */
  down(): void {
    this.up = false;
    for (const l of this.legs) l.closed = true;
    this.emit('down');
  }

  /** The SFU is back. */
  comeBack(): void {
    this.up = true;
    this.emit('up');
  }

  health(): MediaBackendHealth {
    return { up: this.up, legs: this.open.length, rooms: new Set(this.open.map((l) => l.room)).size };
  }

  async close(): Promise<void> {
    this.up = false;
  }
}
