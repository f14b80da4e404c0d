/**
 * One media-signalling socket (legacy media protocol, shared by every stream dispatched to the same URL):
 * LoginReq on open, requests matched by seq with a 5 s timeout each, pushes routed to the session they
 * name and acknowledged (`<Name>Ack`), and ClientHBReq every `hb_interval` while sessions exist; five
 * unanswered beats drop the socket. When the socket is lost every session hears `closed`.
 */
import {
  MEDIA_HEADER_VERSION,
  type MediaFrame,
  type MediaHeader,
  type LoginRspBody,
  MEDIA_READY_PUSH,
} from '../../protocol/media';
import type { Platform, SocketLike } from '../platform/Platform';

/** Each media request times out after this (legacy), ms. */
export const MEDIA_REQUEST_TIMEOUT_MS = 5_000;
const HB_MISSES = 5;
const IDLE_CLOSE_MS = 3_000;

export class MediaRequestError extends Error {
  constructor(
    readonly kind: 'timeout' | 'result' | 'closed',
    readonly result = 0,
    message = '',
    /** The reply body of a refused request (e.g. NotYet's `retry_after_ms`). */
    readonly body: Record<string, unknown> = {},
  ) {
    super(message || kind);
  }
}

export interface SessionListener {
  push(cmd: string, body: Record<string, unknown>): void;
  /** The socket is gone (the session with it); `code` is its close code (1006 when unknown). */
  closed(code: number): void;
}

interface Pending {
  resolve(b: Record<string, unknown>): void;
  reject(e: MediaRequestError): void;
  timer: unknown;
}

export class MediaSignal {
  private socket: SocketLike | null = null;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly sessions = new Map<number, SessionListener>();
  private ready: Promise<void> | null = null;
  private hbTimer: unknown = null;
  /** The idle close armed when the last session went; any new use of the socket cancels it. */
  private idleTimer: unknown = null;
  private hbInterval = 10_000;
  private unanswered = 0;
  /** Called once when the socket is gone for good (the owner forgets it). */
  onGone: () => void = () => {};
  /** The server says its media server is back (MediaReadyPush): retrying streams may go now. */
  onMediaReady: () => void = () => {};
  /** Sessions that pushed before their CreateSessionRsp was read (rare, but the order is not promised). */
  private readonly early = new Map<number, [string, Record<string, unknown>][]>();

  constructor(
    readonly url: string,
    private readonly platform: Platform,
    private readonly identity: { appid: number | string; idName: string; token: string; roomId: string },
  ) {}

  /** Opens and logs in (once); later callers share the same promise. */
  connect(): Promise<void> {
    this.cancelIdle();
    this.ready ??= this.open().catch((e) => {
      this.ready = null;
      this.teardown();
      throw e;
    });
    return this.ready;
  }

  private open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const ws = this.platform.createWebSocket(this.url);
      this.socket = ws;
      let opened = false;
      const timer = this.platform.setTimeout(() => {
        if (opened) return;
        ws.close();
        reject(new MediaRequestError('timeout', 0, 'media socket connect timeout'));
      }, MEDIA_REQUEST_TIMEOUT_MS);
      ws.onopen = () => {
        opened = true;
        this.platform.clearTimeout(timer);
        this.request('LoginReq', 0, {
          token: this.identity.token,
          tokenType: 0,
          roomid: this.identity.roomId,
          anchorname: this.identity.idName,
          sdkversion: '1.12.5',
        }).then((b) => {
          const rsp = b as unknown as LoginRspBody;
          if (rsp.hb_interval >= 1000) this.hbInterval = rsp.hb_interval;
          resolve();
        }, reject);
      };
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        this.platform.clearTimeout(timer);
        if (!opened) reject(new MediaRequestError('closed', 0, 'media socket connect failed'));
        if (this.socket === ws) this.teardown(Number(ev?.code) || 1006);
      };
      ws.onmessage = (ev) => this.onMessage(ev.data);
    });
  }

  private teardown(code = 1000): void {
    const ws = this.socket;
    this.socket = null;
    this.ready = null;
    this.stopHeartbeat();
    this.cancelIdle();
    for (const p of this.pending.values()) {
      this.platform.clearTimeout(p.timer);
      p.reject(new MediaRequestError('closed', 0, 'media socket closed'));
    }
    this.pending.clear();
    const listeners = [...this.sessions.values()];
    this.sessions.clear();
    this.early.clear();
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close();
      } catch {
        /* already closed */
      }
    }
    for (const l of listeners) l.closed(code);
    this.onGone();
  }

  private onMessage(data: unknown): void {
    let frame: MediaFrame;
    try {
      frame = JSON.parse(String(data)) as MediaFrame;
      if (!frame?.header || !frame.body) return;
    } catch {
      return;
    }
    const { cmd, seq } = frame.header;
    if (cmd.endsWith('Rsp')) {
      const p = this.pending.get(seq);
      if (!p) return;
      this.pending.delete(seq);
      this.platform.clearTimeout(p.timer);
      const result = Number(frame.body.result ?? 0);
      if (result !== 0)
        p.reject(new MediaRequestError('result', result, String(frame.body.err_info ?? ''), frame.body));
      else p.resolve(frame.body);
      return;
    }
    if (!cmd.endsWith('Push')) return;
    const sid = Number(frame.header.session_id) || 0;
    // Extension: the media server is back after a reset; streams retrying on it retry now.
    if (cmd === MEDIA_READY_PUSH) return this.onMediaReady();
    if (cmd === 'SessionResetPush') {
      this.send(cmd.replace(/Push$/, 'Ack'), seq, 0, { result: 0 });
      const ids =
        Number(frame.body.cResetType) === 0
          ? [...this.sessions.keys()]
          : ((frame.body.session_ids as number[]) ?? []).map(Number);
      for (const id of ids) {
        const l = this.sessions.get(id);
        this.sessions.delete(id);
        l?.push('SessionResetPush', frame.body);
      }
      return;
    }
    this.send(cmd.replace(/Push$/, 'Ack'), seq, sid, { result: 0 });
    const l = this.sessions.get(sid);
    if (l) l.push(cmd, frame.body);
    else {
      const q = this.early.get(sid) ?? [];
      if (q.length < 16) q.push([cmd, frame.body]);
      this.early.set(sid, q);
    }
  }

  private send(cmd: string, seq: number, sessionId: number, body: object): void {
    const header: MediaHeader = {
      version: MEDIA_HEADER_VERSION,
      cmd,
      appid: String(this.identity.appid),
      seq,
      user_id: this.identity.idName,
      session_id: sessionId,
    };
    if (this.socket?.readyState === 1) this.socket.send(JSON.stringify({ header, body }));
  }

  request(cmd: string, sessionId: number, body: object): Promise<Record<string, unknown>> {
    this.cancelIdle();
    return new Promise((resolve, reject) => {
      if (!this.socket || this.socket.readyState !== 1) {
        reject(new MediaRequestError('closed', 0, 'media socket not open'));
        return;
      }
      const seq = ++this.seq;
      const timer = this.platform.setTimeout(() => {
        this.pending.delete(seq);
        reject(new MediaRequestError('timeout', 0, `${cmd} timeout`));
      }, MEDIA_REQUEST_TIMEOUT_MS);
      this.pending.set(seq, { resolve, reject, timer });
      this.send(cmd, seq, sessionId, body);
    });
  }

  /** Registers a session's listener and delivers pushes that arrived before it. */
  addSession(id: number, l: SessionListener): void {
    this.cancelIdle();
    this.sessions.set(id, l);
    const early = this.early.get(id);
    this.early.delete(id);
    for (const [cmd, body] of early ?? []) l.push(cmd, body);
    this.startHeartbeat();
  }

  removeSession(id: number): void {
    this.sessions.delete(id);
    this.releaseIfIdle();
  }

  /** With no session left, closes the socket after a short idle time (a retry reuses it meanwhile). */
  releaseIfIdle(): void {
    if (this.sessions.size !== 0) return;
    this.stopHeartbeat();
    this.cancelIdle();
    this.idleTimer = this.platform.setTimeout(() => {
      this.idleTimer = null;
      if (this.sessions.size === 0 && this.pending.size === 0 && this.socket) this.teardown();
    }, IDLE_CLOSE_MS);
  }

  private cancelIdle(): void {
    if (this.idleTimer !== null) this.platform.clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private startHeartbeat(): void {
    if (this.hbTimer !== null) return;
    this.unanswered = 0;
    const beat = () => {
      this.hbTimer = this.platform.setTimeout(beat, this.hbInterval);
      if (this.sessions.size === 0) return;
      if (++this.unanswered > HB_MISSES) {
        this.teardown();
        return;
      }
      this.request('ClientHBReq', 0, { session_ids: [...this.sessions.keys()] }).then(
        (b) => {
          this.unanswered = 0;
          const iv = Number(b.hb_interval);
          if (iv >= 1000) this.hbInterval = iv;
        },
        // A missed beat is counted by `unanswered` above; the socket goes after HB_MISSES of them.
        () => undefined,
      );
    };
    this.hbTimer = this.platform.setTimeout(beat, this.hbInterval);
  }

  private stopHeartbeat(): void {
    if (this.hbTimer !== null) this.platform.clearTimeout(this.hbTimer);
    this.hbTimer = null;
  }

  /** Closes the socket (tests, release). */
  close(): void {
    if (this.socket) this.teardown();
  }
}
