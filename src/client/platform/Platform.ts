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
}

export interface MediaPlatform {
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection;
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
  /** Firefox takes `b=TIAS` instead of `b=AS`. */
  isFirefox: boolean;
}

function browserMedia(): MediaPlatform | undefined {
  if (typeof RTCPeerConnection === 'undefined' || typeof navigator === 'undefined') return undefined;
  return {
    createPeerConnection: (c) => new RTCPeerConnection(c),
    getUserMedia: (c) => navigator.mediaDevices.getUserMedia(c),
    enumerateDevices: () => navigator.mediaDevices.enumerateDevices(),
    isFirefox: /firefox/i.test(navigator.userAgent),
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
};
