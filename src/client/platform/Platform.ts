/** The seam between the core and the browser: sockets, clocks, randomness, WebRTC. Fakes live in spec/fakes. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface Platform {
  createWebSocket(url: string): SocketLike;
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
  /** WebRTC and capture; absent where the runtime has none (then media calls fail cleanly). */
  media?: MediaPlatform;
  /** What the browser can do (ZegoClient.supportDetection and friends); absent outside a browser. */
  support?: SupportProbe;
  /** What CreateSessionReq reports about the device (navigator.platform, the user agent). */
  device?: {
    platform: string;
    userAgent: string;
    /** The page's location.protocol ('http:'...). */ protocol?: string;
  };
  /**
   * Page life events: 'leave' (beforeunload, and pagehide for iOS where beforeunload does not fire),
   * 'offline', 'online'. Absent outside a browser.
   */
  onPageEvent?(event: PageEvent, fn: () => void): void;
  /** GET a URL's bytes (audio effects); rejects with the status text on an HTTP error. */
  fetchBytes?(url: string): Promise<ArrayBuffer>;
  /** The page's DOM for snapshots, recordings and downloads; absent outside a browser. */
  page?: PagePlatform;
}

/** What snapshots and recordings need from the page. */
export interface PagePlatform {
  canvas(): HTMLCanvasElement;
  /** `new MediaRecorder(stream)` with the first of `types` the browser supports (its default if none). */
  recorder(stream: MediaStream, types: string[]): MediaRecorder;
  /** An object URL of these bytes; with a file name, the browser also downloads them. */
  save(parts: Blob[], type: string, name?: string): string;
}

export type PageEvent = 'leave' | 'offline' | 'online';

/**
 * What ZegoClient.supportDetection reports, measured from the browser's own objects (never its user
 * agent, which says nothing about what a build can encode: Chromium builds differ on H.264).
 */
export interface SupportProbe {
  /** RTCPeerConnection exists. */
  readonly webRtc: boolean;
  /** A getUserMedia exists (modern or legacy). */
  readonly capture: boolean;
  /** navigator.mediaDevices.getDisplayMedia exists. */
  readonly displayMedia: boolean;
  /** Upper-case video codec names the browser can send ('VP8', 'H264', 'VP9', 'AV1', 'H265'). */
  videoCodecs(): Promise<string[]>;
}

export interface MediaPlatform {
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection;
  /** `new MediaStream(tracks)`. */
  createMediaStream(tracks?: MediaStreamTrack[]): MediaStream;
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
  /** Firefox takes `b=TIAS` instead of `b=AS`. */
  isFirefox: boolean;
  /** Web Audio (sound levels, audio chains, effects); absent where the runtime has none. */
  createAudioContext?(): AudioContextLike;
  /** Decodes an audio file (effects, mixingBuffer). */
  decodeAudio?(bytes: ArrayBuffer): Promise<AudioBufferLike>;
  /** Screen capture (navigator.mediaDevices.getDisplayMedia). */
  getDisplayMedia?(c: MediaStreamConstraints): Promise<MediaStream>;
  /** Listens to `devicechange`; returns the function that stops listening. */
  onDeviceChange?(fn: () => void): () => void;
}

/** The part of Web Audio the shim uses (an AudioContext in a browser). */
export interface AudioContextLike {
  readonly state: string;
  /** Seconds (where an effect is when paused). */
  readonly currentTime: number;
  createMediaStreamSource(stream: MediaStream): AudioNodeLike;
  createAnalyser(): AnalyserLike;
  /** The end of an audio processing chain: its `stream` holds the processed track to publish. */
  createMediaStreamDestination(): AudioDestinationLike;
  createGain(): GainLike;
  createBufferSource(): BufferSourceLike;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export interface AudioBufferLike {
  readonly duration: number;
}

export interface GainLike extends AudioNodeLike {
  readonly gain: { value: number };
}

export interface BufferSourceLike extends AudioNodeLike {
  buffer: AudioBufferLike | null;
  loop: boolean;
  onended: (() => void) | null;
  start(when?: number, offset?: number): void;
  stop(): void;
}

export interface AudioNodeLike {
  connect(destination: AudioNodeLike): unknown;
  disconnect(): void;
}

export interface AudioDestinationLike extends AudioNodeLike {
  readonly stream: MediaStream;
}

export interface AnalyserLike extends AudioNodeLike {
  fftSize: number;
  getFloatTimeDomainData(into: Float32Array): void;
}

function browserMedia(): MediaPlatform | undefined {
  if (typeof RTCPeerConnection === 'undefined' || typeof navigator === 'undefined') return undefined;
  return {
    createPeerConnection: (c) => new RTCPeerConnection(c),
    createMediaStream: (tracks) => new MediaStream(tracks ?? []),
    getUserMedia: (c) => navigator.mediaDevices.getUserMedia(c),
    enumerateDevices: () => navigator.mediaDevices.enumerateDevices(),
    isFirefox: /firefox/i.test(navigator.userAgent),
    createAudioContext: audioContextClass()
      ? () => new (audioContextClass()!)() as unknown as AudioContextLike
      : undefined,
    // Decoding needs a context, not an output device: one small offline context serves every call.
    decodeAudio: (bytes) =>
      (decoder = decoder || new OfflineAudioContext(1, 1, 48_000)).decodeAudioData(bytes),
    getDisplayMedia: (c) => navigator.mediaDevices.getDisplayMedia(c),
    onDeviceChange: (fn) => {
      navigator.mediaDevices.addEventListener('devicechange', fn);
      return () => navigator.mediaDevices.removeEventListener('devicechange', fn);
    },
  };
}

let decoder: OfflineAudioContext | undefined;

function browserPage(): PagePlatform | undefined {
  if (typeof document === 'undefined') return undefined;
  return {
    canvas: () => document.createElement('canvas'),
    recorder: (stream, types) => {
      const type = types.find((t) => MediaRecorder.isTypeSupported(t));
      return new MediaRecorder(stream, type ? { mimeType: type } : {});
    },
    save: (parts, type, name) => {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob(parts, { type }));
      if (name) {
        a.download = name;
        document.body.appendChild(a).click();
        a.remove();
      }
      return a.href;
    },
  };
}

function audioContextClass(): (new () => AudioContext) | undefined {
  const w = globalThis as {
    AudioContext?: new () => AudioContext;
    webkitAudioContext?: new () => AudioContext;
  };
  return w.AudioContext ?? w.webkitAudioContext;
}

/** The DOM events behind each page event. */
const PAGE_EVENTS: Record<PageEvent, string[]> = {
  leave: ['beforeunload', 'pagehide'],
  offline: ['offline'],
  online: ['online'],
};

const CODEC_NAMES = ['VP8', 'VP9', 'H264', 'H265', 'AV1'];

/** Codec names in `a=rtpmap` lines of an SDP (the fallback where RTCRtpSender.getCapabilities is missing). */
export function codecsInSdp(sdp: string): string[] {
  const found = new Set<string>();
  for (const m of sdp.matchAll(/^a=rtpmap:\d+ ([\w-]+)\//gm)) found.add(m[1]!.toUpperCase());
  return CODEC_NAMES.filter((c) => found.has(c));
}

function browserSupport(): SupportProbe | undefined {
  if (typeof navigator === 'undefined') return undefined;
  const nav = navigator as Navigator & Record<string, unknown>;
  const webRtc = typeof RTCPeerConnection !== 'undefined';
  return {
    webRtc,
    capture: !!(
      nav.getUserMedia ||
      nav.webkitGetUserMedia ||
      nav.mozGetUserMedia ||
      nav.mediaDevices?.getUserMedia
    ),
    displayMedia: !!nav.mediaDevices && 'getDisplayMedia' in nav.mediaDevices,
    videoCodecs: async () => {
      if (!webRtc) return [];
      const caps =
        typeof RTCRtpSender !== 'undefined' && typeof RTCRtpSender.getCapabilities === 'function'
          ? RTCRtpSender.getCapabilities('video')
          : null;
      if (caps) {
        const names = new Set(caps.codecs.map((c) => c.mimeType.replace(/^video\//i, '').toUpperCase()));
        return CODEC_NAMES.filter((c) => names.has(c));
      }
      // Older browsers: what a throwaway connection offers to receive (as 1.12 measured it).
      const pc = new RTCPeerConnection();
      try {
        pc.addTransceiver('video', { direction: 'recvonly' });
        const offer = await pc.createOffer();
        return codecsInSdp(offer.sdp ?? '');
      } finally {
        pc.close();
      }
    },
  };
}

export const browserPlatform: Platform = {
  createWebSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
  get media() {
    return browserMedia();
  },
  get support() {
    return browserSupport();
  },
  get device() {
    return typeof navigator === 'undefined'
      ? undefined
      : {
          platform: navigator.platform ?? '',
          userAgent: navigator.userAgent ?? '',
          protocol: typeof location === 'undefined' ? '' : location.protocol,
        };
  },
  fetchBytes: (url) =>
    fetch(url).then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(r.statusText || `HTTP ${r.status}`))),
  get page() {
    return browserPage();
  },
  onPageEvent: (event, fn) => {
    if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return;
    for (const name of PAGE_EVENTS[event]) window.addEventListener(name, fn);
  },
};
