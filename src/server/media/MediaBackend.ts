/**
 * The seam between media orchestration (MediaService: sessions, grace, player notification) and the SFU.
 * One `MediaLeg` per PeerConnection a client opens: a publisher leg takes the client's offer and answers;
 * a subscriber leg offers (the SFU always offers to subscribers) and takes the client's answer. The real
 * implementation is JanusBackend (Janus VideoRoom through janode); spec/fakes/FakeBackend.ts drives the
 * orchestration in unit tests without Janus, on an injected clock.
 *
 * Every method settles within the backend's own bound (a hung SFU call rejects, never hangs), and a
 * backend that goes down emits `down` once: every leg it had is dead from then on (the orchestration
 * resets its sessions), and `up` once it can serve again.
 */
import type { EventEmitter } from 'node:events';

export interface TrickleCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** Where an RTP forward sends a publisher's media (mixing, CDN relay). */
export interface ForwardTarget {
  host: string;
  audioPort?: number;
  videoPort?: number;
  /** Payload types forced on the forwarded RTP (so a static SDP can describe it). */
  audioPt?: number;
  videoPt?: number;
}

/** What a publisher leg sends, from the negotiated SDP (forwards need the codec of their SDP). */
export interface LegMedia {
  audio: boolean;
  video: boolean;
  videoCodec: 'h264' | 'vp8';
}

/** An RTP source (a mix's ffmpeg) entered into a room as a publisher players subscribe to like any other. */
export interface RemotePublisher {
  /** A publisher leg for `subscribe` (its `up` is resolved). */
  leg: MediaLeg;
  /** The SFU's address as this node reaches it (127.0.0.1 for a Janus on this host; `janus.pool` rtpHost). */
  host: string;
  /** Where the source sends all its RTP (audio SSRC 1000, video SSRC 1010) at `host`. */
  port: number;
  /** Where the SFU sends RTCP feedback from. */
  rtcpPort: number;
  /** Leaves the room (idempotent, never throws). */
  close(): Promise<void>;
}

export interface MediaLeg {
  /** Unique within the backend (logs). */
  readonly id: number;
  /** Resolves when the leg's PeerConnection is up (ICE + DTLS): Janus's webrtcup. */
  readonly up: Promise<void>;
  /** Publisher: joins `room` (created on first use) as `display` with the client's offer; the answer. */
  publish(room: string, display: string, offerSdp: string): Promise<string>;
  /** Subscriber: subscribes to a live publisher leg; the SFU's offer. */
  subscribe(publisher: MediaLeg): Promise<string>;
  /** Subscriber: the client's answer to the SFU's offer. */
  answer(answerSdp: string): Promise<void>;
  /** A client candidate; null = end of candidates. */
  trickle(candidate: TrickleCandidate | null): Promise<void>;
  /** Publisher: ask the client's encoder for a keyframe now (PLI/FIR through the SFU). */
  requestKeyframe(): Promise<void>;
  /** Publisher: what it sends, once `publish` answered. */
  readonly media?: LegMedia;
  /** Publisher: forward its RTP to a host:port (mixing, CDN); resolves to the stop function. */
  forward(target: ForwardTarget): Promise<() => Promise<void>>;
  /**
   * Publisher (SFUs that can): relay its streams into a remote publisher of another SFU (its `port` and
   * `rtcpPort` at `host`, as this SFU reaches it); resolves to the stop function.
   */
  publishRemotely?(to: { host: string; port: number; rtcpPort: number }): Promise<() => Promise<void>>;
  /** Frees the leg (idempotent, never throws). A room left without publishers is destroyed. */
  close(): Promise<void>;
}

export interface MediaBackendHealth {
  up: boolean;
  /** Legs open now (leak checks). */
  legs: number;
  /** SFU rooms open now. */
  rooms: number;
  /** Backend-specific details (Janus pid, starts, url...). */
  [key: string]: unknown;
}

export interface MediaBackendEvents {
  /** The backend can serve (first connection, or again after a loss). */
  up: [];
  /** Every leg is dead (SFU crashed or connection lost). Emitted once per loss. */
  down: [];
  /**
   * Some legs are dead, the backend still serves (one SFU of a pool died): `isDead` says which. New legs
   * go to the SFUs that are up, so sessions on dead legs may start again at once.
   */
  lost: [isDead: (leg: MediaLeg) => boolean];
}

export interface MediaBackend extends Pick<EventEmitter<MediaBackendEvents>, 'on' | 'off' | 'once'> {
  readonly up: boolean;
  /** A new leg (one per PeerConnection). Rejects when the backend is down or does not answer in time. */
  openLeg(): Promise<MediaLeg>;
  /**
   * An RTP source as a publisher of `room` (Janus VideoRoom `add_remote_publisher`): Opus audio and
   * `videoCodec` video, payload types Opus 111, H.264 107, VP8 96. `relay`: the source is a live publisher
   * of another SFU (`publishRemotely`), which answers keyframe requests; the SFU then asks for none of its own
   * beyond its subscribers' (the source's room already asks periodically, and Janus 1.1.2 passes a remote
   * publisher at most one keyframe request a second: one spent when the relay starts would hold back the
   * first viewer's by up to that second).
   */
  addRemotePublisher(
    room: string,
    display: string,
    o: { videoCodec: 'h264' | 'vp8'; audio: boolean; relay?: boolean },
  ): Promise<RemotePublisher>;
  health(): MediaBackendHealth;
  /** Stops everything (the SFU process too, when the backend owns one). */
  close(): Promise<void>;
}
