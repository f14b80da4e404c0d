/**
 * One room socket: per-socket seq from 1, the pending-request map, pushes routed by cmd. Typed by the
 * protocol's request map.
 *
 * Request timing is the original's send queue (legacy-sdk.md section 4): a sweep every 2 s fails the
 * requests older than 5 s with `send customsg timeout.`, silently drops those older than 10 s (a sweep
 * that ran late, e.g. in a throttled background tab), at most 100 per sweep. A closed socket fails every
 * pending request with the same error. A request given its own timeout (login, logout) skips the sweep.
 * Every request settles exactly once; a silent drop rejects with `silent` set so no callback fires.
 */
import {
  MAX_MESSAGE_BYTES,
  REQUEST_DROP_MS,
  REQUEST_SWEEP_MS,
  REQUEST_TIMEOUT_MS,
  utf8Length,
} from '../../protocol/constants';
import { ClientErrorCode, ServerCode } from '../../protocol/errors';
import type { RoomCmd, RoomFrame, RoomHeader, RoomReqBody, RoomRspBody } from '../../protocol/room';
import type { Platform, SocketLike } from '../platform/Platform';
import { ZegoError } from './ZegoError';

interface Pending {
  resolve(body: unknown): void;
  reject(e: ZegoError): void;
  /** Own timer (login, logout), or null when the sweep times this request. */
  timer: unknown;
  sentAt: number;
}

/** At most this many expired requests are settled per sweep (the original's sendDataCheckOnceCount). */
const SWEEP_BATCH = 100;

/** The original's SEND_MSG_TIMEOUT error, used for every request timeout and for a reset queue. */
export function sendTimeout(): ZegoError {
  return new ZegoError(ClientErrorCode.Timeout, 'send customsg timeout.');
}

export interface Identity {
  appid: number | string;
  user_id: string;
  session_id: string;
  room_id: string;
}

export class RoomConnection {
  private socket: SocketLike | null = null;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private sweepTimer: unknown = null;
  identity: Identity;
  onPush: (cmd: string, body: Record<string, unknown>) => void = () => {};
  /** The socket closed (after it opened): its close code, 1006 when the browser gives none. */
  onClosed: (code: number) => void = () => {};

  constructor(
    private readonly platform: Platform,
    appid: number | string,
    roomId: string,
  ) {
    this.identity = { appid, user_id: '', session_id: '', room_id: roomId };
  }

  open(url: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const ws = this.platform.createWebSocket(url);
      this.socket = ws;
      const timer = this.platform.setTimeout(() => {
        if (settled) return;
        settled = true;
        ws.close();
        reject(new ZegoError(ClientErrorCode.Timeout, 'connect timeout'));
      }, timeoutMs);
      ws.onopen = () => {
        if (settled) return;
        settled = true;
        this.platform.clearTimeout(timer);
        resolve();
      };
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        this.platform.clearTimeout(timer);
        if (!settled) {
          settled = true;
          reject(new ZegoError(ClientErrorCode.Network, 'connect failed'));
        }
        this.failAll();
        if (this.socket === ws) {
          this.socket = null;
          this.onClosed(Number(ev?.code) || 1006);
        }
      };
      ws.onmessage = (ev) => this.onMessage(ev.data);
    });
  }

  private failAll(): void {
    this.stopSweep();
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      if (p.timer !== null) this.platform.clearTimeout(p.timer);
      p.reject(sendTimeout());
    }
  }

  private startSweep(): void {
    if (this.sweepTimer !== null) return;
    const tick = () => {
      this.sweepTimer = this.platform.setTimeout(tick, REQUEST_SWEEP_MS);
      this.sweep();
    };
    this.sweepTimer = this.platform.setTimeout(tick, REQUEST_SWEEP_MS);
  }

  private stopSweep(): void {
    if (this.sweepTimer !== null) this.platform.clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** One pass of the legacy send-queue check (oldest first, as the original's list). */
  sweep(): void {
    const now = this.platform.now();
    let settled = 0;
    for (const [seq, p] of this.pending) {
      if (settled >= SWEEP_BATCH) break;
      if (p.timer !== null) continue;
      if (p.sentAt + REQUEST_TIMEOUT_MS > now) break;
      this.pending.delete(seq);
      settled++;
      const e = sendTimeout();
      if (p.sentAt + REQUEST_DROP_MS < now) e.silent = true;
      p.reject(e);
    }
  }

  private onMessage(data: unknown): void {
    let frame: RoomFrame<Record<string, unknown>>;
    try {
      frame = JSON.parse(String(data)) as RoomFrame<Record<string, unknown>>;
      if (!frame || !frame.header || !frame.body) return;
    } catch {
      return;
    }
    const h = frame.header;
    if (h.Protocol === 'push' || h.cmd.startsWith('push_')) {
      if (this.identity.session_id && h.session_id !== this.identity.session_id) return;
      this.onPush(h.cmd, frame.body);
      return;
    }
    const p = this.pending.get(h.seq);
    if (!p) return;
    this.pending.delete(h.seq);
    if (p.timer !== null) this.platform.clearTimeout(p.timer);
    const code = Number(frame.body.err_code ?? 0);
    if (code !== 0)
      p.reject(ZegoError.server(code, frame.body.err_message as string | undefined, frame.body));
    else p.resolve(frame.body);
  }

  /**
   * Sends a request; resolves with the reply body, rejects on error reply, timeout or close.
   * Without `ownTimeoutMs` the send-queue sweep times it.
   */
  request<K extends RoomCmd>(cmd: K, body: RoomReqBody<K>, ownTimeoutMs?: number): Promise<RoomRspBody<K>> {
    return new Promise((resolve, reject) => {
      const ws = this.socket;
      if (!ws || ws.readyState !== 1) {
        reject(new ZegoError(ClientErrorCode.Network, 'not connected'));
        return;
      }
      const seq = ++this.seq;
      const header: RoomHeader = {
        Protocol: 'req',
        cmd,
        appid: this.identity.appid,
        seq,
        session_id: this.identity.session_id,
        room_id: this.identity.room_id,
      };
      // The original omits user_id from the login frame.
      if (cmd !== 'login') header.user_id = this.identity.user_id;
      const text = JSON.stringify({ header, body });
      // The server would close the socket 1009 rather than read it: the page hears the server's "too large"
      // instead, and keeps its connection.
      if (text.length * 3 > MAX_MESSAGE_BYTES && utf8Length(text) > MAX_MESSAGE_BYTES) {
        reject(ZegoError.server(ServerCode.TooLarge));
        return;
      }
      const timer =
        ownTimeoutMs === undefined
          ? null
          : this.platform.setTimeout(() => {
              this.pending.delete(seq);
              reject(
                new ZegoError(
                  ClientErrorCode.Timeout,
                  cmd === 'login' ? 'login timeout.' : 'send customsg timeout.',
                ),
              );
            }, ownTimeoutMs);
      if (timer === null) this.startSweep();
      this.pending.set(seq, {
        resolve: resolve as (b: unknown) => void,
        reject,
        timer,
        sentAt: this.platform.now(),
      });
      ws.send(text);
    });
  }

  get lastSeq(): number {
    return this.seq;
  }

  close(): void {
    const ws = this.socket;
    this.socket = null;
    this.failAll();
    ws?.close(1000, 'logout');
  }
}
