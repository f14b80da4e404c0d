/**
 * One room WebSocket: parses and validates every frame before it touches state, rate-limits, tracks
 * liveness, and routes valid requests to the handler table. Replies and pushes carry the session's
 * identity in their header, and the appid exactly as the client sent it (the original compares with !==).
 */
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { CloseCode, ServerCode, SERVER_CODE_MESSAGES } from '../../protocol/errors';
import { ROOM_CMDS, type RoomCmd, type RoomHeader } from '../../protocol/room';
import { validateBody } from '../../protocol/validate';
import type { ResolvedConfig } from '../config';
import type { Member } from '../room/Room';
import { TokenBucket } from './TokenBucket';

export interface SessionState {
  member: Member;
  roomId: string;
  appid: number;
}

/** Handler: returns the reply body (err_code added if absent) or throws a HandlerError. */
export type Handler = (
  conn: Connection,
  body: Record<string, unknown>,
  header: RoomHeader,
) => Promise<object> | object;

export class HandlerError extends Error {
  constructor(
    readonly code: number,
    message?: string,
  ) {
    super(message ?? SERVER_CODE_MESSAGES[code] ?? 'error');
  }
}

const MAX_MALFORMED = 10;
const FLOOD_STRIKES = 50;

export class Connection {
  session: SessionState | null = null;
  /** The user is gone for good (logout, heartbeat expiry, kick): its streams and media end at once. */
  loggedOut = false;
  /** Host header of the upgrade request (dispatch builds the media URL from it). */
  host = '';
  secure = false;
  loggingIn = false;
  lastSeen = Date.now();
  /** appid as the client last sent it, echoed in every header. */
  appidEcho: number | string = 0;
  private readonly bucket: TokenBucket;
  private malformed = 0;
  private closed = false;
  private readonly loginDeadline: ReturnType<typeof setTimeout>;

  constructor(
    readonly ws: WebSocket,
    private readonly config: ResolvedConfig,
    private readonly handlers: Record<RoomCmd, Handler>,
    private readonly log: Logger,
    private readonly onClose: (conn: Connection) => void,
  ) {
    this.bucket = new TokenBucket(config.limits.messagesPerSecond, config.limits.burst);
    this.loginDeadline = setTimeout(() => {
      if (!this.session) this.close(CloseCode.LoginTimeout, 'no login');
    }, config.room.loginDeadlineMs);
    ws.on('message', (data, isBinary) => void this.onMessage(data.toString(), isBinary));
    ws.on('close', () => this.handleClosed());
    ws.on('error', (e) => this.log.debug({ err: e.message }, 'socket error'));
  }

  private handleClosed(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.loginDeadline);
    this.onClose(this);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING)
      this.ws.close(code, reason);
    this.handleClosed();
  }

  private header(cmd: string, seq: number, protocol: 'rsp' | 'push'): RoomHeader {
    const s = this.session;
    return {
      Protocol: protocol,
      cmd,
      appid: this.appidEcho,
      seq,
      user_id: s ? s.member.userId : '',
      session_id: s ? s.member.sessionId : '',
      room_id: s ? s.roomId : '',
    };
  }

  private sendRaw(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  reply(cmd: string, seq: number, body: object): void {
    this.sendRaw(JSON.stringify({ header: this.header(cmd, seq, 'rsp'), body }));
  }

  /** A push; `serialised` lets a fan-out stringify the body once for all recipients. */
  push(cmd: string, body: unknown, serialised?: string): void {
    this.sendRaw(
      `{"header":${JSON.stringify(this.header(cmd, 0, 'push'))},"body":${serialised ?? JSON.stringify(body)}}`,
    );
  }

  private error(cmd: string, seq: number, code: number, message?: string): void {
    this.reply(cmd, seq, { err_code: code, err_message: message ?? SERVER_CODE_MESSAGES[code] });
  }

  private async onMessage(text: string, isBinary: boolean): Promise<void> {
    if (this.closed) return;
    this.lastSeen = Date.now();
    if (!this.bucket.take()) {
      if (this.bucket.strikes >= FLOOD_STRIKES) return this.close(CloseCode.Flood, 'flood');
      return this.error('', 0, ServerCode.RateLimited);
    }
    let frame: { header?: Partial<RoomHeader>; body?: unknown };
    try {
      if (isBinary) throw new Error('binary');
      frame = JSON.parse(text) as typeof frame;
      if (!frame || typeof frame !== 'object' || !frame.header || typeof frame.header !== 'object')
        throw new Error('shape');
    } catch {
      if (++this.malformed >= MAX_MALFORMED) return this.close(CloseCode.Malformed, 'malformed frames');
      return this.error('', 0, ServerCode.Json);
    }
    const h = frame.header;
    const seq = typeof h.seq === 'number' && Number.isInteger(h.seq) ? h.seq : 0;
    const cmd = typeof h.cmd === 'string' ? h.cmd.slice(0, 64) : '';
    if (typeof h.appid === 'number' || typeof h.appid === 'string') {
      if (!this.session) this.appidEcho = h.appid;
    }
    if (!(ROOM_CMDS as readonly string[]).includes(cmd)) return this.error(cmd, seq, ServerCode.UnknownCmd);
    const roomCmd = cmd as RoomCmd;
    if (roomCmd !== 'login') {
      const s = this.session;
      if (!s) return this.error(cmd, seq, ServerCode.BadLoginState);
      if (
        String(h.appid) !== String(s.appid) ||
        h.session_id !== s.member.sessionId ||
        h.room_id !== s.roomId
      ) {
        return this.error(cmd, seq, ServerCode.BadLoginState);
      }
    }
    const invalid = validateBody(roomCmd, frame.body);
    if (invalid) return this.error(cmd, seq, ServerCode.InvalidBody, invalid);
    try {
      const body = await this.handlers[roomCmd](this, frame.body as Record<string, unknown>, h as RoomHeader);
      this.reply(cmd, seq, { err_code: 0, ...body });
    } catch (e) {
      if (e instanceof HandlerError) return this.error(cmd, seq, e.code, e.message);
      this.log.error({ err: (e as Error).stack, cmd }, 'handler failed');
      this.error(cmd, seq, ServerCode.Internal);
    }
  }
}
