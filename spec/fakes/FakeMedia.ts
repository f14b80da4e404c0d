/**
 * Fakes for the shim's media plane in jsdom (which has no WebRTC and no MediaStream):
 *  - FakeMediaStreamTrack / FakeMediaStream (what FakeMediaPlatform.createMediaStream makes);
 *  - FakePeerConnection: canned SDP, injectable failures, transceivers / senders with replaceTrack, ICE
 *    candidates emitted on demand, ICE / connection states the test drives, getStats the test controls;
 *  - FakeMediaPlatform: the Platform `media` seam (peer connections, getUserMedia, enumerateDevices);
 *  - FakeMediaServer: the legacy media-signalling protocol on the FakeSockets created for media URLs
 *    (`ws://media.test/...` by default; other sockets still go to the FakeRoomServer), with switches to
 *    withhold any reply or push, to answer with a result code, and to push CloseSessionPush /
 *    SessionResetPush / StreamStatusNotifyPush / CandidateInfoPush.
 *
 * Like the FakeRoomServer, the media server opens sockets and sends replies and pushes on fake timers
 * (`latencyMs`, default 0), so `platform.advance(0)` runs a negotiation to its next wait.
 */
import type { MediaPlatform } from '../../src/client/platform/Platform';
import {
  MEDIA_HEADER_VERSION,
  MEDIA_RESULT_MESSAGES,
  replyName,
  type CandidateInfo,
  type MediaFrame,
} from '../../src/protocol/media';
import type { FakeBuffer } from './FakeAudio';
import { FakePlatform, FakeSocket, type Frame } from './FakePlatform';

// ------------------------------------------------------------------------------------------ SDP samples

const crlf = (lines: string[]) => lines.join('\r\n') + '\r\n';

const AUDIO_SECTION = (dir: string, mid = '0') => [
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Qx7c',
  'a=ice-pwd:4kTq1oQ6w3XvRt9Ub2ZsYpLm',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 5B:0E:7C:21:9A:3F:D4:6C:88:19:2B:AF:41:E0:7D:36:95:C2:18:6A:0F:BB:73:4D:E9:12:58:C6:A1:03:7F:44',
  'a=setup:actpass',
  `a=mid:${mid}`,
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  `a=${dir}`,
  'a=msid:stream-1 audio-track-1',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:1001 cname:9rW3aQ2bJ0eS',
  'a=ssrc:1001 msid:stream-1 audio-track-1',
];

const VIDEO_SECTION = (dir: string, mid = '1') => [
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107 98 99 114 115 116',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Qx7c',
  'a=ice-pwd:4kTq1oQ6w3XvRt9Ub2ZsYpLm',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 5B:0E:7C:21:9A:3F:D4:6C:88:19:2B:AF:41:E0:7D:36:95:C2:18:6A:0F:BB:73:4D:E9:12:58:C6:A1:03:7F:44',
  'a=setup:actpass',
  `a=mid:${mid}`,
  'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  `a=${dir}`,
  'a=msid:stream-1 video-track-1',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 transport-cc',
  'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 goog-remb',
  'a=rtcp-fb:102 transport-cc',
  'a=rtcp-fb:102 ccm fir',
  'a=rtcp-fb:102 nack',
  'a=rtcp-fb:102 nack pli',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:106 H264/90000',
  'a=rtcp-fb:106 goog-remb',
  'a=rtcp-fb:106 nack',
  'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:107 rtx/90000',
  'a=fmtp:107 apt=106',
  'a=rtpmap:98 VP9/90000',
  'a=rtcp-fb:98 goog-remb',
  'a=rtcp-fb:98 nack',
  'a=fmtp:98 profile-id=0',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  'a=rtpmap:114 red/90000',
  'a=rtpmap:115 rtx/90000',
  'a=fmtp:115 apt=114',
  'a=rtpmap:116 ulpfec/90000',
  'a=ssrc-group:FID 2001 2002',
  'a=ssrc:2001 cname:9rW3aQ2bJ0eS',
  'a=ssrc:2001 msid:stream-1 video-track-1',
  'a=ssrc:2002 cname:9rW3aQ2bJ0eS',
  'a=ssrc:2002 msid:stream-1 video-track-1',
];

const SESSION_HEAD = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS stream-1',
];

/** A Chrome sendonly offer: audio (Opus, RED, G722, ...) and video (VP8, H264 x2, VP9, RED, ULPFEC, RTX). */
export const CHROME_OFFER = crlf([
  ...SESSION_HEAD,
  ...AUDIO_SECTION('sendonly'),
  ...VIDEO_SECTION('sendonly'),
]);

/** A Chrome recvonly answer (the player's). */
export const CHROME_ANSWER = crlf([
  ...SESSION_HEAD.slice(0, 5),
  ...AUDIO_SECTION('recvonly').map((l) => (l === 'a=setup:actpass' ? 'a=setup:active' : l)),
  ...VIDEO_SECTION('recvonly').map((l) => (l === 'a=setup:actpass' ? 'a=setup:active' : l)),
]);

/** A local host candidate as Chrome gathers it. */
export const HOST_CANDIDATE: RTCIceCandidateInit = {
  candidate: 'candidate:842163049 1 udp 2122260223 192.168.1.20 54321 typ host generation 0 ufrag Qx7c',
  sdpMid: '0',
  sdpMLineIndex: 0,
};

/** A server (Janus-like) candidate line. */
export const SERVER_CANDIDATE = 'candidate:1 1 udp 2015363327 10.0.0.2 20000 typ host';

/** Server SDP (answer to a publisher, or offer to a player) with or without its candidates inline. */
export function serverSdp(kind: 'answer' | 'offer', withCandidates: boolean): string {
  const cands = withCandidates ? [`a=${SERVER_CANDIDATE}`, 'a=end-of-candidates'] : [];
  const dir = kind === 'answer' ? 'recvonly' : 'sendonly';
  const setup = kind === 'answer' ? 'a=setup:passive' : 'a=setup:actpass';
  return crlf([
    'v=0',
    'o=- 1700000000000000 1 IN IP4 10.0.0.2',
    's=Janus',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=msid-semantic: WMS janus',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 10.0.0.2',
    'a=ice-ufrag:srv1',
    'a=ice-pwd:srvpwdsrvpwdsrvpwdsrvpwd',
    'a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00',
    setup,
    'a=mid:0',
    `a=${dir}`,
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    ...cands,
    'm=video 9 UDP/TLS/RTP/SAVPF 102 103',
    'c=IN IP4 10.0.0.2',
    'a=ice-ufrag:srv1',
    'a=ice-pwd:srvpwdsrvpwdsrvpwdsrvpwd',
    'a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00',
    setup,
    'a=mid:1',
    `a=${dir}`,
    'a=rtcp-mux',
    'a=rtpmap:102 H264/90000',
    'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    'a=rtpmap:103 rtx/90000',
    'a=fmtp:103 apt=102',
    ...cands,
  ]);
}

// ------------------------------------------------------------------------------------- tracks, streams

let nextId = 1;

/** addEventListener / removeEventListener / fire, for the fakes that have DOM events. */
class FakeEvents {
  private readonly listeners = new Map<string, (() => void)[]>();
  addEventListener = (type: string, fn: () => void): void => {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  };
  removeEventListener = (type: string, fn: () => void): void => {
    this.listeners.set(
      type,
      (this.listeners.get(type) ?? []).filter((f) => f !== fn),
    );
  };
  /** Calls the listeners of `type`, then `on<type>` if set. */
  fire(type: string): void {
    for (const fn of this.listeners.get(type) ?? []) fn();
    (this as unknown as Record<string, (() => void) | null>)[`on${type}`]?.();
  }
}

export class FakeMediaStreamTrack extends FakeEvents {
  readonly id = `track-${nextId++}`;
  enabled = true;
  readyState: 'live' | 'ended' = 'live';
  contentHint = '';
  constructor(
    readonly kind: 'audio' | 'video',
    readonly label = `fake ${kind}`,
    readonly deviceId = 'default',
  ) {
    super();
  }
  /** As a browser: no `ended` event for our own stop(). */
  stop = (): void => {
    this.readyState = 'ended';
  };
  /** The browser ends the track (device unplugged or failing, the user stopped sharing): `ended` fires. */
  end(): void {
    if (this.readyState === 'ended') return;
    this.readyState = 'ended';
    this.fire('ended');
  }
  getSettings(): { deviceId: string } {
    return { deviceId: this.deviceId };
  }
}

export class FakeMediaStream extends FakeEvents {
  readonly id = `stream-${nextId++}`;
  private readonly tracks: FakeMediaStreamTrack[];
  constructor(tracks: FakeMediaStreamTrack[] = []) {
    super();
    this.tracks = [...tracks];
  }
  getTracks = (): FakeMediaStreamTrack[] => [...this.tracks];
  getAudioTracks = (): FakeMediaStreamTrack[] => this.tracks.filter((t) => t.kind === 'audio');
  getVideoTracks = (): FakeMediaStreamTrack[] => this.tracks.filter((t) => t.kind === 'video');
  addTrack = (t: FakeMediaStreamTrack): void => {
    if (!this.tracks.includes(t)) this.tracks.push(t);
  };
  removeTrack = (t: FakeMediaStreamTrack): void => {
    const i = this.tracks.indexOf(t);
    if (i >= 0) this.tracks.splice(i, 1);
  };
}

/** A stand-in `<video>`: srcObject, play(), resize events, setSinkId. */
export class FakeVideo {
  srcObject: unknown = null;
  videoWidth = 0;
  videoHeight = 0;
  plays = 0;
  sinkId = '';
  private readonly listeners = new Map<string, (() => void)[]>();
  play = (): Promise<void> => {
    this.plays++;
    return Promise.resolve();
  };
  setSinkId = (id: string): Promise<void> => {
    this.sinkId = id;
    return Promise.resolve();
  };
  addEventListener = (type: string, fn: () => void): void => {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  };
  removeEventListener = (type: string, fn: () => void): void => {
    this.listeners.set(
      type,
      (this.listeners.get(type) ?? []).filter((f) => f !== fn),
    );
  };
  /** captureStream(): what the element plays (`captured`: the test sets its tracks, e.g. an audio one). */
  readonly captured = new FakeMediaStream();
  captures = 0;
  captureStream = (): MediaStream => {
    this.captures++;
    return this.captured as unknown as MediaStream;
  };
  /** The decoded size changes (fires `resize`). */
  resize(w: number, h: number): void {
    this.videoWidth = w;
    this.videoHeight = h;
    for (const fn of this.listeners.get('resize') ?? []) fn();
  }
  get el(): HTMLMediaElement {
    return this as unknown as HTMLMediaElement;
  }
}

// ------------------------------------------------------------------------------------ peer connection

/** Failures to inject: the named method rejects with the error. */
export interface PcFailures {
  createOffer?: Error;
  createAnswer?: Error;
  setLocalDescription?: Error;
  setRemoteDescription?: Error;
  addIceCandidate?: Error;
  getStats?: Error;
}

export class FakeSender {
  readonly replaced: (FakeMediaStreamTrack | null)[] = [];
  constructor(public track: FakeMediaStreamTrack | null) {}
  replaceTrack = (t: FakeMediaStreamTrack | null): Promise<void> => {
    this.replaced.push(t);
    this.track = t;
    return Promise.resolve();
  };
}

export class FakeTransceiver {
  readonly sender: FakeSender;
  readonly receiver: { track: FakeMediaStreamTrack };
  constructor(
    readonly kind: 'audio' | 'video',
    public direction: string,
    sendTrack: FakeMediaStreamTrack | null,
    readonly mid: string | null = null,
  ) {
    this.sender = new FakeSender(sendTrack);
    this.receiver = { track: new FakeMediaStreamTrack(kind, `remote ${kind}`) };
  }
}

type Desc = { type?: string; sdp?: string };
type Handler<E = unknown> = ((ev: E) => void) | null;

export class FakePeerConnection {
  iceConnectionState = 'new';
  connectionState = 'new';
  signalingState = 'stable';
  localDescription: Desc | null = null;
  remoteDescription: Desc | null = null;
  onicecandidate: Handler<{ candidate: unknown }> = null;
  oniceconnectionstatechange: Handler = null;
  onconnectionstatechange: Handler = null;
  ontrack: Handler<{ track: FakeMediaStreamTrack; transceiver: FakeTransceiver }> = null;
  readonly transceivers: FakeTransceiver[] = [];
  /** Candidates handed to addIceCandidate. */
  readonly remoteCandidates: RTCIceCandidateInit[] = [];
  /** Method calls in order (createOffer, setLocalDescription:offer, ...). */
  readonly calls: string[] = [];
  /** Injected failures (shared with the platform's `fail` unless replaced). */
  fail: PcFailures;
  /** What getStats() resolves with (a fresh Map each call). */
  stats: Record<string, unknown>[] = [];
  closed = false;

  constructor(
    readonly config: RTCConfiguration,
    private readonly owner: FakeMediaPlatform,
  ) {
    this.fail = owner.fail;
  }

  addTransceiver = (trackOrKind: FakeMediaStreamTrack | 'audio' | 'video', init?: { direction?: string }) => {
    const track = typeof trackOrKind === 'string' ? null : trackOrKind;
    const kind = typeof trackOrKind === 'string' ? trackOrKind : trackOrKind.kind;
    const t = new FakeTransceiver(kind, init?.direction ?? 'sendrecv', track);
    this.transceivers.push(t);
    this.calls.push(`addTransceiver:${kind}`);
    return t;
  };
  getTransceivers = (): FakeTransceiver[] => [...this.transceivers];
  getSenders = (): FakeSender[] => this.transceivers.map((t) => t.sender);
  getReceivers = () => this.transceivers.map((t) => t.receiver);

  createOffer = async (): Promise<Desc> => {
    this.calls.push('createOffer');
    if (this.fail.createOffer) throw this.fail.createOffer;
    return { type: 'offer', sdp: this.owner.offerSdp };
  };

  createAnswer = async (): Promise<Desc> => {
    this.calls.push('createAnswer');
    if (this.fail.createAnswer) throw this.fail.createAnswer;
    return { type: 'answer', sdp: this.owner.answerSdp };
  };

  setLocalDescription = async (d: Desc): Promise<void> => {
    this.calls.push(`setLocalDescription:${d.type}`);
    if (this.fail.setLocalDescription) throw this.fail.setLocalDescription;
    this.localDescription = { type: d.type, sdp: d.sdp };
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
    // As a browser: gathering starts now and candidates come in later tasks (here: a microtask later).
    const gather = [...this.owner.gather];
    if (gather.length) void Promise.resolve().then(() => gather.forEach((c) => this.emitCandidate(c)));
  };

  /** An offer creates one recvonly transceiver per m-line and fires ontrack for each, as a browser. */
  setRemoteDescription = async (d: Desc): Promise<void> => {
    this.calls.push(`setRemoteDescription:${d.type}`);
    if (this.fail.setRemoteDescription) throw this.fail.setRemoteDescription;
    this.remoteDescription = { type: d.type, sdp: d.sdp };
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
    if (d.type !== 'offer') return;
    const kinds = [...String(d.sdp).matchAll(/^m=(audio|video) /gm)].map((m) => m[1] as 'audio' | 'video');
    kinds.forEach((kind, i) => {
      const t = new FakeTransceiver(kind, 'recvonly', null, String(i));
      this.transceivers.push(t);
      this.ontrack?.({ track: t.receiver.track, transceiver: t });
    });
  };

  addIceCandidate = async (c: RTCIceCandidateInit): Promise<void> => {
    this.calls.push('addIceCandidate');
    if (this.fail.addIceCandidate) throw this.fail.addIceCandidate;
    this.remoteCandidates.push(c);
  };

  getStats = async (): Promise<Map<string, Record<string, unknown>>> => {
    if (this.fail.getStats) throw this.fail.getStats;
    return new Map(this.stats.map((s, i) => [String(s.id ?? `s${i}`), s]));
  };

  /** As a browser: no state-change event on close(). */
  close = (): void => {
    this.calls.push('close');
    this.closed = true;
    this.iceConnectionState = 'closed';
    this.connectionState = 'closed';
    this.signalingState = 'closed';
  };

  // --- test controls ---

  /** A local ICE candidate (or `null`: end of candidates) is gathered. */
  emitCandidate(init: RTCIceCandidateInit | null): void {
    const candidate = init && { ...init, toJSON: () => ({ ...init }) };
    this.onicecandidate?.({ candidate });
  }

  /**
   * The ICE state changes; the connection state follows as a browser derives it (connected / completed ->
   * connected, checking -> connecting, failed, disconnected, closed) unless `conn` is given. Fires
   * oniceconnectionstatechange, then onconnectionstatechange when that changed.
   */
  setIceState(state: string, conn?: string): void {
    const derived: Record<string, string> = {
      new: 'new',
      checking: 'connecting',
      connected: 'connected',
      completed: 'connected',
      disconnected: 'disconnected',
      failed: 'failed',
      closed: 'closed',
    };
    const before = this.connectionState;
    this.iceConnectionState = state;
    this.connectionState = conn ?? derived[state] ?? before;
    this.oniceconnectionstatechange?.({});
    if (this.connectionState !== before) this.onconnectionstatechange?.({});
  }

  /** Only the connection (DTLS) state changes. */
  setConnectionState(conn: string): void {
    this.connectionState = conn;
    this.onconnectionstatechange?.({});
  }
}

// -------------------------------------------------------------------------------------- media platform

export class FakeMediaPlatform implements MediaPlatform {
  readonly pcs: FakePeerConnection[] = [];
  /** Failures every new peer connection starts with (the same object, so later changes apply too). */
  readonly fail: PcFailures = {};
  offerSdp = CHROME_OFFER;
  answerSdp = CHROME_ANSWER;
  /** Local candidates every peer connection gathers after setLocalDescription (`null`: end of candidates). */
  gather: (RTCIceCandidateInit | null)[] = [HOST_CANDIDATE, null];
  isFirefox = false;
  /** getUserMedia constraints, in order. */
  readonly gumCalls: MediaStreamConstraints[] = [];
  /** Tracks getUserMedia handed out, in order. */
  readonly tracks: FakeMediaStreamTrack[] = [];
  /** When set, getUserMedia rejects with it. */
  gumError: Error | null = null;
  devices: { kind: string; label: string; deviceId: string; groupId: string }[] = [
    { kind: 'audioinput', label: 'Mic 1', deviceId: 'mic1', groupId: 'g1' },
    { kind: 'videoinput', label: 'Cam 1', deviceId: 'cam1', groupId: 'g2' },
    { kind: 'audiooutput', label: 'Speaker 1', deviceId: 'spk1', groupId: 'g1' },
    { kind: 'videoinput', label: 'Cam 2', deviceId: 'cam2', groupId: 'g3' },
  ];

  createPeerConnection = (config: RTCConfiguration): RTCPeerConnection => {
    const pc = new FakePeerConnection(config, this);
    this.pcs.push(pc);
    return pc as unknown as RTCPeerConnection;
  };

  createMediaStream = (tracks: MediaStreamTrack[] = []): MediaStream =>
    new FakeMediaStream(tracks as unknown as FakeMediaStreamTrack[]) as unknown as MediaStream;

  getUserMedia = async (c: MediaStreamConstraints): Promise<MediaStream> => {
    this.gumCalls.push(c);
    if (this.gumError) throw this.gumError;
    const devOf = (x: unknown) =>
      String(((x as MediaTrackConstraints | undefined)?.deviceId as { exact?: string })?.exact ?? 'default');
    const tracks: FakeMediaStreamTrack[] = [];
    if (c.audio) tracks.push(new FakeMediaStreamTrack('audio', 'fake mic', devOf(c.audio)));
    if (c.video) tracks.push(new FakeMediaStreamTrack('video', 'fake camera', devOf(c.video)));
    this.tracks.push(...tracks);
    return new FakeMediaStream(tracks) as unknown as MediaStream;
  };

  enumerateDevices = async (): Promise<MediaDeviceInfo[]> => this.devices as unknown as MediaDeviceInfo[];

  /** `devicechange` listeners (fireDeviceChange calls them). */
  readonly deviceListeners = new Set<() => void>();
  onDeviceChange = (fn: () => void): (() => void) => {
    this.deviceListeners.add(fn);
    return () => this.deviceListeners.delete(fn);
  };
  /** The device list changes: `devicechange` fires (the list is read when the client asks). */
  fireDeviceChange(devices = this.devices): void {
    this.devices = devices;
    for (const fn of this.deviceListeners) fn();
  }

  /** Seconds of every decoded file; a file whose text starts with "bad" is not audio (EncodingError). */
  audioDuration = 2;
  decodeAudio = async (bytes: ArrayBuffer): Promise<FakeBuffer> => {
    const name = String.fromCharCode(...new Uint8Array(bytes));
    if (name.startsWith('bad')) throw new Error('EncodingError: Unable to decode audio data');
    return { name, duration: this.audioDuration };
  };

  /** getDisplayMedia constraints, in order; `displayError` makes it reject (the user cancelled). */
  readonly displayCalls: MediaStreamConstraints[] = [];
  displayError: Error | null = null;
  getDisplayMedia = async (c: MediaStreamConstraints): Promise<MediaStream> => {
    this.displayCalls.push(c);
    if (this.displayError) throw this.displayError;
    const tracks = [new FakeMediaStreamTrack('video', 'screen:0:0')];
    if (c.audio) tracks.push(new FakeMediaStreamTrack('audio', 'system audio'));
    return new FakeMediaStream(tracks) as unknown as MediaStream;
  };

  /** The peer connection created last. */
  get pc(): FakePeerConnection {
    const pc = this.pcs[this.pcs.length - 1];
    if (!pc) throw new Error('no peer connection was created');
    return pc;
  }
}

/** Attaches a FakeMediaPlatform as `platform.media` (FakePlatform has none). */
export function attachMedia(platform: FakePlatform, media = new FakeMediaPlatform()): FakeMediaPlatform {
  Object.assign(platform, { media });
  return media;
}

// ---------------------------------------------------------------------------------------- media server

export interface FakeMediaSession {
  id: number;
  /** 0 publish, 1 play. */
  type: number;
  streamId: string;
  socket: FakeSocket;
  closed: boolean;
}

export type MFrame = MediaFrame<Record<string, unknown>>;

export class FakeMediaServer {
  /** Fake-time delay of every open, reply and push, ms. */
  latencyMs = 0;
  /** When set, new media sockets are dropped instead of opened. */
  refuseConnections = false;
  /** Reply (`…Rsp`) and push (`…Push`) cmds never sent. */
  readonly withhold = new Set<string>();
  /** `result` to answer a request cmd with (e.g. `{ LoginReq: 1 }`); 0 when absent. */
  readonly results: Record<string, number> = {};
  /** Extra fields of an error reply, by request cmd (e.g. NotYet's `retry_after_ms`). */
  readonly errorExtra: Record<string, Record<string, unknown>> = {};
  /** hb_interval in LoginRsp / ClientHBRsp. */
  hbInterval = 10_000;
  /** The publisher's answer (MediaDescPush type 1) and the player's offer (MediaDescPush type 0). */
  answerSdp = serverSdp('answer', true);
  offerSdp = serverSdp('offer', true);
  /** `type` of those pushes (change to send the wrong one). */
  answerType = 1;
  offerType = 0;
  /** The ICE fields of CreateSessionRsp (our server sends empty strings until TURN lands). */
  ice = { turn_server: '', stun_server: '', turn_username: '', turn_auth_key: '' };
  /** When set, a CandidateInfoPush with these follows the answer / offer. */
  pushCandidates: CandidateInfo[] | null = null;
  readonly sockets: FakeSocket[] = [];
  readonly sessions: FakeMediaSession[] = [];
  private nextSession = 1001;
  private pushSeq = 0;

  constructor(
    private readonly platform: FakePlatform,
    readonly urlPrefix = 'ws://media.test/',
  ) {
    const room = platform.onConnect;
    platform.onConnect = (s) => (s.url.startsWith(urlPrefix) ? this.accept(s) : room?.(s));
  }

  /** The media socket created last. */
  get socket(): FakeSocket {
    const s = this.sockets[this.sockets.length - 1];
    if (!s) throw new Error('no media socket was created');
    return s;
  }

  /** The session created last. */
  get session(): FakeMediaSession {
    const s = this.sessions[this.sessions.length - 1];
    if (!s) throw new Error('no media session was created');
    return s;
  }

  /** Every frame the client sent on media sockets, in order. */
  get frames(): MFrame[] {
    return this.sockets.flatMap((s) => s.sent as unknown as MFrame[]);
  }

  /** The cmds of those frames, heartbeats left out unless asked. */
  cmds(withHb = false): string[] {
    return this.frames.map((f) => f.header.cmd).filter((c) => withHb || c !== 'ClientHBReq');
  }

  /** Frames of one cmd. */
  sent(cmd: string): MFrame[] {
    return this.frames.filter((f) => f.header.cmd === cmd);
  }

  /** A push to a session (on its socket). */
  push(session: FakeMediaSession, cmd: string, body: Record<string, unknown>): void {
    this.pushOn(session.socket, session.id, cmd, body);
  }

  pushOn(socket: FakeSocket, sessionId: number, cmd: string, body: Record<string, unknown>): void {
    if (this.withhold.has(cmd)) return;
    const frame: MFrame = {
      header: {
        version: MEDIA_HEADER_VERSION,
        cmd,
        appid: '1',
        seq: ++this.pushSeq,
        user_id: '',
        session_id: sessionId,
      },
      body,
    };
    this.later(() => socket.serverSend(frame as unknown as Frame));
  }

  closeSession(session: FakeMediaSession, reason = 1): void {
    session.closed = true;
    this.push(session, 'CloseSessionPush', { reason });
  }

  /** SessionResetPush: `cResetType` 0 = every session on the socket, else the ids listed. */
  reset(socket: FakeSocket, sessionIds?: number[]): void {
    this.pushOn(socket, 0, 'SessionResetPush', {
      cResetType: sessionIds ? 1 : 0,
      session_ids: sessionIds ?? [],
    });
  }

  streamStatus(session: FakeMediaSession, camera: number, mic: number): void {
    this.push(session, 'StreamStatusNotifyPush', { camera_status: camera, mic_status: mic });
  }

  candidates(session: FakeMediaSession, infos: CandidateInfo[]): void {
    this.push(session, 'CandidateInfoPush', { infos });
  }

  private later(fn: () => void): void {
    this.platform.setTimeout(fn, this.latencyMs);
  }

  private accept(socket: FakeSocket): void {
    this.sockets.push(socket);
    this.later(() => {
      if (this.refuseConnections) socket.drop(1006, 'refused');
      else if (socket.readyState === 0) socket.open();
    });
    socket.onClientFrame = (f) => this.onFrame(socket, f as unknown as MFrame);
  }

  /**
   * Replies to a request; `true` when the request succeeded (the server acts on it even if the reply is
   * withheld), `false` when the reply is an error.
   */
  private reply(socket: FakeSocket, frame: MFrame, body: Record<string, unknown> = {}): boolean {
    const cmd = replyName(frame.header.cmd);
    const result = this.results[frame.header.cmd] ?? 0;
    if (this.withhold.has(cmd)) return result === 0;
    const out: MFrame = {
      header: { ...frame.header, cmd },
      body:
        result === 0
          ? { result, ...body }
          : { result, err_info: MEDIA_RESULT_MESSAGES[result] ?? '', ...this.errorExtra[frame.header.cmd] },
    };
    this.later(() => socket.serverSend(out as unknown as Frame));
    return result === 0;
  }

  private onFrame(socket: FakeSocket, f: MFrame): void {
    const { cmd } = f.header;
    const b = f.body;
    const sid = Number(f.header.session_id);
    switch (cmd) {
      case 'LoginReq':
        this.reply(socket, f, { hb_interval: this.hbInterval, report: false, report_interval_ms: 0 });
        return;
      case 'CreateSessionReq': {
        const id = this.nextSession;
        // A withheld CreateSessionRsp: the session is not created (no pushes for it either).
        if (this.withhold.has('CreateSessionRsp')) return;
        const ok = this.reply(socket, f, {
          session_id: id,
          session_token: `st-${id}`,
          ...this.ice,
        });
        if (!ok) return;
        this.nextSession++;
        const s: FakeMediaSession = {
          id,
          type: Number(b.type),
          streamId: String(b.stream_id),
          socket,
          closed: false,
        };
        this.sessions.push(s);
        if (s.type === 1 && Number(b.negotiate_mode) === 1) {
          this.push(s, 'MediaDescPush', { type: this.offerType, sdp: this.offerSdp });
          if (this.pushCandidates) this.candidates(s, this.pushCandidates);
        }
        return;
      }
      case 'MediaDescReq': {
        const ok = this.reply(socket, f);
        const s = this.sessions.find((x) => x.id === sid);
        if (ok && s && Number(b.type) === 0) {
          this.push(s, 'MediaDescPush', { type: this.answerType, sdp: this.answerSdp });
          if (this.pushCandidates) this.candidates(s, this.pushCandidates);
        }
        return;
      }
      case 'CloseSessionReq': {
        const s = this.sessions.find((x) => x.id === sid);
        if (s) s.closed = true;
        this.reply(socket, f);
        return;
      }
      case 'ClientHBReq':
        this.reply(socket, f, { hb_interval: this.hbInterval });
        return;
      default:
        if (cmd.endsWith('Ack')) return;
        this.reply(socket, f);
    }
  }
}
