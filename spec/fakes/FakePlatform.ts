/**
 * A deterministic Platform for client unit tests: a fake clock, a timer queue driven by `advance`, a
 * controllable `random()` and in-memory sockets the test (or a FakeRoomServer) drives.
 *
 * Every member the core may call is an arrow property, so it still works when the core passes it around
 * detached (RoomSession hands `platform.random` to its backoff as a bare function).
 *
 * Promises: `advance` lets the microtask queue drain (through a real setImmediate) before the first timer
 * and after every timer it fires, as a browser would between two tasks. Use `flush()` after driving a
 * socket by hand.
 */
import { setImmediate as realSetImmediate } from 'timers';
import type { Platform, SocketLike } from '../../src/client/platform/Platform';
import type { RoomFrame } from '../../src/protocol/room';

/** A frame as parsed from the wire; bodies are left loosely typed for assertions. */
export type Frame = RoomFrame<Record<string, unknown>>;

/** Drains every pending microtask (promise continuation) by waiting for one real macrotask turn. */
export function flush(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

interface Timer {
  id: number;
  due: number;
  fn: () => void;
}

/** Readiness values as the DOM WebSocket. */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

export class FakeSocket implements SocketLike {
  readyState = CONNECTING;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  /** Frames the client sent, parsed, in order. */
  readonly sent: Frame[] = [];
  /** How the socket was closed, once it is. */
  closedWith: { code: number; reason: string; by: 'client' | 'server' } | null = null;
  /** Called for every frame the client sends (a FakeRoomServer hooks in here). */
  onClientFrame: ((frame: Frame) => void) | null = null;

  constructor(
    readonly url: string,
    private readonly platform: FakePlatform,
  ) {}

  // --- the client's side (SocketLike) ---

  send = (data: string): void => {
    if (this.readyState !== OPEN) throw new Error(`FakeSocket.send while readyState=${this.readyState}`);
    const frame = JSON.parse(data) as Frame;
    this.sent.push(frame);
    this.onClientFrame?.(frame);
  };

  /** As a browser: CLOSING at once, `onclose` in a later task (a 0 ms fake timer). */
  close = (code = 1000, reason = ''): void => {
    if (this.readyState === CLOSING || this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this.closedWith = { code, reason, by: 'client' };
    this.platform.setTimeout(() => {
      this.readyState = CLOSED;
      this.onclose?.({ code, reason });
    }, 0);
  };

  // --- the test's (server's) side ---

  /** The connection is established: OPEN, then onopen. */
  open(): void {
    if (this.readyState !== CONNECTING) throw new Error('FakeSocket.open: not connecting');
    this.readyState = OPEN;
    this.onopen?.({});
  }

  /** The server sends a frame (delivered as a JSON text message). Ignored once the socket is closed. */
  serverSend(frame: Frame | Record<string, unknown>): void {
    if (this.readyState !== OPEN) return;
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The server (or the network) closes the connection: onerror when never opened, then onclose. */
  drop(code = 1006, reason = ''): void {
    if (this.readyState === CLOSED) return;
    const wasConnecting = this.readyState === CONNECTING;
    this.readyState = CLOSED;
    this.closedWith ??= { code, reason, by: 'server' };
    if (wasConnecting) this.onerror?.({});
    this.onclose?.({ code, reason });
  }

  /** Sent frames of one cmd. */
  sentCmd(cmd: string): Frame[] {
    return this.sent.filter((f) => f.header.cmd === cmd);
  }
}

/** Park–Miller style PRNG; deterministic for a given seed. */
function seeded(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => {
    s = (s * 16807) % 2147483647;
    return (s - 1) / 2147483646;
  };
}

export class FakePlatform implements Platform {
  private clock: number;
  private nextId = 1;
  private timers: Timer[] = [];
  private rand: () => number;
  /** Every socket created, in order. */
  readonly sockets: FakeSocket[] = [];
  /** Called for every new socket (a FakeRoomServer hooks in here). */
  onConnect: ((s: FakeSocket) => void) | null = null;

  constructor(opts: { startMs?: number; seed?: number } = {}) {
    this.clock = opts.startMs ?? 1_000_000;
    this.rand = seeded(opts.seed ?? 42);
  }

  // --- Platform ---

  createWebSocket = (url: string): FakeSocket => {
    const s = new FakeSocket(url, this);
    this.sockets.push(s);
    this.onConnect?.(s);
    return s;
  };

  now = (): number => this.clock;

  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.nextId++;
    this.timers.push({ id, due: this.clock + Math.max(0, Number(ms) || 0), fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers = this.timers.filter((t) => t.id !== handle);
  };

  random = (): number => this.rand();

  /** Files `fetchBytes` serves (URL -> body); any other URL is refused with 'Not Found'. */
  readonly files: Record<string, string> = {};

  fetchBytes = async (url: string): Promise<ArrayBuffer> => {
    const body = this.files[url];
    if (body === undefined) throw 'Not Found';
    return Uint8Array.from(body, (c) => c.charCodeAt(0)).buffer;
  };

  // --- test controls ---

  /** Fixes `random()` to a value (or a sequence source); `reseed` goes back to the PRNG. */
  setRandom(value: number | (() => number)): void {
    this.rand = typeof value === 'number' ? () => value : value;
  }

  reseed(seed: number): void {
    this.rand = seeded(seed);
  }

  /** The socket created last. */
  get lastSocket(): FakeSocket {
    const s = this.sockets[this.sockets.length - 1];
    if (!s) throw new Error('no socket was created');
    return s;
  }

  /** Number of timers still queued. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Moves the clock forward by `ms`, firing every timer due by then in due order (ties: scheduling order),
   * with the clock set to each timer's due time (never backwards) and microtasks drained in between.
   * Timers scheduled by timers fire too when due within the span. Bounded: throws past `maxTimers`.
   */
  async advance(ms: number, maxTimers = 10_000): Promise<void> {
    if (ms < 0) throw new Error('advance: negative');
    const target = this.clock + ms;
    await flush();
    for (let fired = 0; ; fired++) {
      if (fired >= maxTimers) throw new Error(`advance: more than ${maxTimers} timers fired (a timer loop?)`);
      let next: Timer | undefined;
      for (const t of this.timers) if (t.due <= target && (!next || t.due < next.due)) next = t;
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.clock = Math.max(this.clock, next.due);
      next.fn();
      await flush();
    }
    this.clock = target;
  }

  /**
   * Jumps the clock forward without firing anything, as a throttled background tab: timers that became
   * due fire (late, at the new time) on the next `advance`, e.g. `advance(0)`.
   */
  skew(ms: number): void {
    if (ms < 0) throw new Error('skew: negative');
    this.clock += ms;
  }
}
