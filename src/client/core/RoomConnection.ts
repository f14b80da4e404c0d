/**
 * One room socket: per-socket seq from 1, the pending-request map (every request settles exactly once:
 * reply, timeout, or close), pushes routed by cmd. Typed by the protocol's request map.
 */
import { REQUEST_TIMEOUT_MS } from '../../protocol/constants';
import { ClientErrorCode } from '../../protocol/errors';
import type { RoomCmd, RoomFrame, RoomHeader, RoomReqBody, RoomRspBody } from '../../protocol/room';
import type { Platform, SocketLike } from '../platform/Platform';
import { ZegoError } from './ZegoError';

interface Pending {
  resolve(body: unknown): void;
  reject(e: ZegoError): void;
  timer: unknown;
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
  identity: Identity;
  onPush: (cmd: string, body: Record<string, unknown>) => void = () => {};
  onClosed: () => void = () => {};

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
      ws.onclose = () => {
        this.platform.clearTimeout(timer);
        if (!settled) {
          settled = true;
          reject(new ZegoError(ClientErrorCode.Network, 'connect failed'));
        }
        this.failAll();
        if (this.socket === ws) {
          this.socket = null;
          this.onClosed();
        }
      };
      ws.onmessage = (ev) => this.onMessage(ev.data);
    });
  }

  private failAll(): void {
    for (const [, p] of this.pending) {
      this.platform.clearTimeout(p.timer);
      p.reject(new ZegoError(ClientErrorCode.Network, 'connection closed'));
    }
    this.pending.clear();
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
    this.platform.clearTimeout(p.timer);
    const code = Number(frame.body.err_code ?? 0);
    if (code !== 0) p.reject(ZegoError.server(code, frame.body.err_message as string | undefined));
    else p.resolve(frame.body);
  }

  /** Sends a request; resolves with the reply body, rejects on error reply, timeout or close. */
  request<K extends RoomCmd>(
    cmd: K,
    body: RoomReqBody<K>,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<RoomRspBody<K>> {
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
      const timer = this.platform.setTimeout(() => {
        this.pending.delete(seq);
        reject(new ZegoError(ClientErrorCode.Timeout, `send ${cmd} timeout.`));
      }, timeoutMs);
      this.pending.set(seq, { resolve: resolve as (b: unknown) => void, reject, timer });
      ws.send(JSON.stringify({ header, body }));
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
