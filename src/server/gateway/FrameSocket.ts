/**
 * The one socket base for both WebSocket planes (`/ws` room signalling, `/media` media signalling): every
 * inbound frame passes here before any protocol code sees it.
 *
 * What it guarantees, for a hostile client as much as for a page:
 * - Nothing a client sends reaches the process as an exception: parsing, the protocol's handler (sync or
 *   async) and every reply run inside one boundary that logs with context and answers the client.
 * - Header fields reach protocol code only as bounded primitives (`FrameHeader`): a nested array where a
 *   string belongs never meets `String()` / `Number()` (those recurse through Array.join and throw).
 * - Rate: a token bucket per socket; a refused frame is answered with its own cmd and seq, read cheaply
 *   from the frame's first bytes (the client can match the refusal instead of waiting out its timeout).
 *   Refusals are strikes that decay over time: a socket is closed (4001) only for a sustained flood.
 * - Backpressure: a socket whose unsent output passes `limits.maxOutboundBytes` (a client that stops
 *   reading) is closed 4007 and cut 1 s later whatever it does, so its queue is freed.
 * - A socket must log in within the login deadline (4006). Protocol errors (unparseable frames, unknown
 *   commands, bodies their schema refuses, requests before login) are strikes too, forgiven one per
 *   `PROTOCOL_ERROR_FORGIVE_MS`: a client that keeps sending them is closed (4004). A legitimate client
 *   sends next to none, so this caps what a hostile one costs at a handful of cheap answers.
 * - Cheap refusals: nesting deeper than any frame of the protocol is refused before JSON.parse (parsing
 *   3,500 nested arrays costs ~300 µs, the scan that refuses it ~3 µs), and a socket closed for abuse
 *   stops being read at once, so what it already sent is never parsed.
 * - A message over `limits.maxFrameBytes` (and within ws's `maxPayload`, `limits.maxMessageBytes`) is
 *   refused unparsed, named by its first bytes, and the socket stays: a page can send one through the
 *   API (a long relay message). It costs rate tokens in proportion to its size, so large messages cannot
 *   move more bytes per second than the rate allows in small ones.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { CloseCode } from '../../protocol/errors';
import type { ResolvedConfig } from '../config';
import { TokenBucket } from './TokenBucket';
import { unref } from '../timers';

/** A frame's header as protocol code may read it: every field a bounded primitive or undefined. */
export interface FrameHeader {
  /** Cut to 64 characters; '' when absent or not a string. */
  cmd: string;
  /** A safe non-negative integer; 0 when absent or anything else. */
  seq: number;
  appid?: string | number;
  user_id?: string;
  session_id?: string | number;
  room_id?: string;
  Protocol?: string;
  version?: string;
}

/** What a refusal or an error answer needs to name its request. */
export interface FrameRef {
  cmd: string;
  seq: number;
}

const MAX_HEADER_STRING = 256;
/** Protocol errors a socket may collect (forgiven one per PROTOCOL_ERROR_FORGIVE_MS) before a 4004 close. */
const MAX_PROTOCOL_ERRORS = 10;
const PROTOCOL_ERROR_FORGIVE_MS = 6000;
/** Deeper than any frame of either protocol ({header, body: {msgs: [{...}]}} is 4). */
export const MAX_FRAME_DEPTH = 16;
/** After a socket closed for abuse (flood, malformed, no login, slow reader) is told, it is cut this much later, ms. */
const ABUSE_CUT_MS = 1000;
/** How much of a refused frame is scanned for its cmd and seq. */
const REF_SCAN_CHARS = 1024;

function prim(v: unknown): string | number | undefined {
  if (typeof v === 'string') return v.length <= MAX_HEADER_STRING ? v : undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length <= MAX_HEADER_STRING ? v : undefined;
}

function seqOf(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

/** The typed view of a parsed header object. */
export function readHeader(h: Record<string, unknown>): FrameHeader {
  return {
    cmd: typeof h.cmd === 'string' ? h.cmd.slice(0, 64) : '',
    seq: seqOf(h.seq),
    appid: prim(h.appid),
    user_id: str(h.user_id),
    session_id: prim(h.session_id),
    room_id: str(h.room_id),
    Protocol: str(h.Protocol),
    version: str(h.version),
  };
}

/**
 * cmd and seq of a frame that will not be parsed (refused over the rate): a bounded scan of its first
 * bytes, where both the original SDK and our shim put the header. Best effort by design: a frame that
 * hides them later is answered with cmd '' and seq 0.
 */
export function scanRef(text: string): FrameRef {
  const head = text.length > REF_SCAN_CHARS ? text.slice(0, REF_SCAN_CHARS) : text;
  const cmd = /"cmd"\s*:\s*"([A-Za-z0-9_]{1,64})"/.exec(head)?.[1] ?? '';
  const seq = /"seq"\s*:\s*(\d{1,15})[,}\s]/.exec(head)?.[1];
  return { cmd, seq: seq === undefined ? 0 : seqOf(Number(seq)) };
}

/**
 * Whether JSON text nests at most `max` arrays/objects deep (brackets inside strings do not count). A
 * linear scan that stops at the first level too deep; it never judges validity, JSON.parse does that.
 */
export function withinDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) return false;
    } else if (c === 93 || c === 125) depth--;
  }
  return true;
}

const ABUSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.TooBig,
  CloseCode.Flood,
  CloseCode.Malformed,
  CloseCode.LoginTimeout,
  CloseCode.SlowReader,
]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Counters shared by every socket of a plane (health details). */
export interface SocketCounters {
  /** Sockets closed by the server, by close code. */
  closes: Record<number, number>;
  refused: number;
  malformed: number;
  /** Protocol errors (strikes towards 4004): unreadable frames, unknown commands, requests before login. */
  protocolErrors: number;
  /** Messages over limits.maxFrameBytes, refused unparsed. */
  tooLarge: number;
  internalErrors: number;
}

export function newCounters(): SocketCounters {
  return { closes: {}, refused: 0, malformed: 0, protocolErrors: 0, tooLarge: 0, internalErrors: 0 };
}

export interface FrameSocketLimits {
  rate: number;
  burst: number;
  floodStrikes: number;
  strikeDecayPerSecond: number;
  maxOutboundBytes: number;
  loginDeadlineMs: number;
  /** A message over this is refused unparsed (the socket stays). */
  maxFrameBytes: number;
}

/** The room plane's limits; the media plane doubles rate and burst (candidates trickle in bursts). */
export function limitsFrom(config: ResolvedConfig, rateFactor = 1): FrameSocketLimits {
  return {
    rate: config.limits.messagesPerSecond * rateFactor,
    burst: config.limits.burst * rateFactor,
    floodStrikes: config.limits.floodStrikes,
    strikeDecayPerSecond: config.limits.strikeDecayPerSecond,
    maxOutboundBytes: config.limits.maxOutboundBytes,
    loginDeadlineMs: config.room.loginDeadlineMs,
    maxFrameBytes: config.limits.maxFrameBytes,
  };
}

/** Bytes of what ws hands a 'message' listener (a Buffer with the default binaryType). */
function sizeOf(data: unknown): number {
  if (Buffer.isBuffer(data) || data instanceof ArrayBuffer) return data.byteLength;
  if (Array.isArray(data)) return data.reduce((n: number, b: Buffer) => n + b.length, 0);
  return 0;
}

/** The first REF_SCAN_CHARS of a message as text, without decoding the rest. */
function headText(data: unknown): string {
  if (Buffer.isBuffer(data)) return data.subarray(0, REF_SCAN_CHARS).toString('utf8');
  return String(data).slice(0, REF_SCAN_CHARS);
}

export type RefusalReason = 'rate' | 'malformed' | 'tooLarge' | 'internal';

export abstract class FrameSocket {
  /** When the client last sent anything (ms). */
  lastSeen = Date.now();
  private closedFlag = false;
  private protocolErrors = 0;
  private lastForgiven = Date.now();
  private loggedInFlag = false;
  private readonly bucket: TokenBucket;
  private loginDeadline: ReturnType<typeof setTimeout> | null;

  protected constructor(
    readonly ws: WebSocket,
    private readonly limits: FrameSocketLimits,
    protected log: Logger,
    private readonly counters: SocketCounters,
  ) {
    this.bucket = new TokenBucket(limits.rate, limits.burst, limits.strikeDecayPerSecond);
    this.loginDeadline = setTimeout(() => {
      this.loginDeadline = null;
      if (!this.loggedInFlag) this.close(CloseCode.LoginTimeout, 'no login');
    }, limits.loginDeadlineMs);
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('close', () => this.markClosed());
    ws.on('error', (e: Error & { code?: string }) => {
      this.log.debug({ err: e.message }, 'socket error');
      // ws refused what the client sent (a message over maxPayload, a bad frame) and closes: cut it a second
      // later whatever the client does, as an abuse close, so what it held goes (ws alone waits 30 s).
      if (e.code?.startsWith('WS_ERR_')) unref(setTimeout(() => ws.terminate(), ABUSE_CUT_MS));
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  get loggedIn(): boolean {
    return this.loggedInFlag;
  }

  /** Told once when the socket logs in (the edge stops counting it against its address). */
  onLogin: (() => void) | null = null;

  /**
   * The login succeeded: the login deadline no longer applies, and every later line this socket logs
   * names its app, room and user (docs/admin.md, "Metrics": logs stay JSON with room and user).
   */
  protected markLoggedIn(who: { appid: number; room: string; user: string }): void {
    if (!this.loggedInFlag) this.log = this.log.child(who);
    if (!this.loggedInFlag) this.onLogin?.();
    this.loggedInFlag = true;
    if (this.loginDeadline) clearTimeout(this.loginDeadline);
    this.loginDeadline = null;
  }

  /** A parsed, shape-checked frame. May be async; whatever it throws is caught and answered. */
  protected abstract onFrame(header: FrameHeader, rawHeader: Record<string, unknown>, body: unknown): unknown;
  /**
   * Answers a frame that was not executed: over the rate, unreadable, over limits.maxFrameBytes, or failed
   * inside (a bug).
   */
  protected abstract refuse(ref: FrameRef, why: RefusalReason): void;
  /** The socket is gone (once). */
  protected abstract onClosed(): void;

  private receive(data: unknown, isBinary: boolean): void {
    if (this.closedFlag) return;
    this.lastSeen = Date.now();
    let ref: FrameRef = { cmd: '', seq: 0 };
    try {
      const size = sizeOf(data);
      const cost = Math.max(1, Math.ceil(size / this.limits.maxFrameBytes));
      const tooLarge = size > this.limits.maxFrameBytes;
      if (!this.bucket.take(cost)) {
        this.counters.refused++;
        if (this.bucket.strikes > this.limits.floodStrikes) return this.close(CloseCode.Flood, 'flood');
        return this.refuse(isBinary ? { cmd: '', seq: 0 } : scanRef(headText(data)), 'rate');
      }
      if (isBinary) return this.malformedFrame({ cmd: '', seq: 0 });
      // Too large to be read: named by its first bytes and answered; not a protocol error.
      if (tooLarge) {
        this.counters.tooLarge++;
        return this.refuse(scanRef(headText(data)), 'tooLarge');
      }
      const text = String(data);
      // Nested deeper than any frame of the protocol: refused unparsed, named by its first bytes.
      if (!withinDepth(text, MAX_FRAME_DEPTH)) return this.malformedFrame(scanRef(text));
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = undefined;
      }
      if (!isPlainObject(frame) || !isPlainObject(frame.header))
        return this.malformedFrame({ cmd: '', seq: 0 });
      const header = readHeader(frame.header);
      const known: FrameRef = { cmd: header.cmd, seq: header.seq };
      ref = known;
      const done = this.onFrame(header, frame.header, frame.body);
      if (done instanceof Promise) done.catch((e: unknown) => this.internal(e, known));
    } catch (e) {
      this.internal(e, ref);
    }
  }

  private malformedFrame(ref: FrameRef): void {
    this.counters.malformed++;
    if (!this.protocolError()) this.refuse(ref, 'malformed');
  }

  /**
   * Counts a protocol error (the caller answers it); true when the socket was closed for too many. Called
   * by the protocols for unknown commands, refused bodies and requests before login.
   */
  protected protocolError(): boolean {
    const now = Date.now();
    const forgiven = Math.floor((now - this.lastForgiven) / PROTOCOL_ERROR_FORGIVE_MS);
    if (forgiven > 0) {
      this.protocolErrors = Math.max(0, this.protocolErrors - forgiven);
      this.lastForgiven += forgiven * PROTOCOL_ERROR_FORGIVE_MS;
    }
    this.counters.protocolErrors++;
    if (++this.protocolErrors < MAX_PROTOCOL_ERRORS) return false;
    this.close(CloseCode.Malformed, 'malformed frames');
    return true;
  }

  private internal(e: unknown, ref: FrameRef): void {
    this.counters.internalErrors++;
    this.log.error(
      { err: (e as Error)?.stack ?? String(e), cmd: ref.cmd, seq: ref.seq },
      'frame handling failed',
    );
    try {
      this.refuse(ref, 'internal');
    } catch (e2) {
      this.log.error({ err: (e2 as Error)?.stack }, 'refusal failed');
    }
  }

  /**
   * Sends a text frame unless the socket is closed. A client that does not read its socket is closed as a
   * slow reader once its queue passes the high-water mark; returns false when nothing was sent.
   */
  protected sendText(text: string): boolean {
    if (this.closedFlag || this.ws.readyState !== this.ws.OPEN) return false;
    const queued = this.ws.bufferedAmount ?? 0;
    if (queued + text.length > this.limits.maxOutboundBytes) {
      this.log.warn({ queued }, 'slow reader: closing');
      this.close(CloseCode.SlowReader, 'slow reader');
      return false;
    }
    this.ws.send(text);
    return true;
  }

  /** Closes the socket (once) with a documented code; the protocol's cleanup runs at once. */
  close(code: number, reason: string): void {
    if (this.closedFlag) return;
    this.counters.closes[code] = (this.counters.closes[code] ?? 0) + 1;
    const ws = this.ws;
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
      try {
        ws.close(code, reason);
      } catch {
        ws.terminate();
      }
    }
    // Closed for abuse: read nothing more (what is buffered or still coming would only be parsed to be
    // dropped); the close frame still goes out, and the socket is cut a second later whatever the client
    // does, so it holds no memory meanwhile (ws alone would wait 30 s for the client's close frame).
    if (ABUSE_CODES.has(code)) {
      // The close frame is queued: end() sends the FIN right behind it, so the client's close comes at
      // once (it would otherwise wait for us to read its own close frame, which we no longer do).
      const socket = (ws as unknown as { _socket?: { pause?(): void; end?(): void } })._socket;
      socket?.pause?.();
      socket?.end?.();
      unref(setTimeout(() => ws.terminate(), ABUSE_CUT_MS));
    }
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    if (this.loginDeadline) clearTimeout(this.loginDeadline);
    this.loginDeadline = null;
    try {
      this.onClosed();
    } catch (e) {
      this.log.error({ err: (e as Error)?.stack }, 'socket cleanup failed');
    }
  }
}
