/**
 * One room WebSocket (`/ws`, the legacy room protocol) on the shared socket base: validates every frame
 * before it touches state and routes valid requests to the handler table. Replies and pushes carry the
 * session's identity in their header, and the appid exactly as the client sent it (the original compares
 * with !==). Every refusal names the request it refuses (its cmd and seq).
 */
import type { ProxyVerdict } from '../auth/proxyToken';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { ServerCode, SERVER_CODE_MESSAGES } from '../../protocol/errors';
import type { ReplyBase, RoomCmd, RoomHeader, RoomReqBody, RoomRspBody } from '../../protocol/room';
import { ROOM_CMDS } from '../../protocol/roomSchema';
import { validateBody } from '../../protocol/validate';
import type { ResolvedConfig } from '../config';
import {
  FrameSocket,
  limitsFrom,
  type FrameHeader,
  type FrameRef,
  type RefusalReason,
  type SocketCounters,
} from './FrameSocket';

/**
 * What a room socket needs to know of the member it speaks for: the identity its reply and push headers
 * carry. Sockets know frames, not rooms: the room plane plugs its own member type in (`M`).
 */
export interface SessionMember {
  readonly userId: string;
  readonly sessionId: string;
}

export interface SessionState<M extends SessionMember = SessionMember> {
  member: M;
  roomId: string;
  appid: number;
}

/** What a handler returns: its reply body without err_code (the connection adds it). */
export type HandlerReply<K extends RoomCmd> = Omit<RoomRspBody<K>, keyof ReplyBase>;

/** A command's handler: the validated body in, the reply body out, or a thrown HandlerError. */
export type Handler<K extends RoomCmd, M extends SessionMember = SessionMember> = (
  conn: Connection<M>,
  body: RoomReqBody<K>,
  header: FrameHeader,
) => Promise<HandlerReply<K>> | HandlerReply<K>;

/** One handler per command: a command without one does not compile. */
export type HandlerTable<M extends SessionMember = SessionMember> = { [K in RoomCmd]: Handler<K, M> };

export class HandlerError extends Error {
  constructor(
    readonly code: number,
    message?: string,
    /** More fields for the error reply (biz_channel's `cmd` and `rsp_body`). */
    readonly extra?: object,
  ) {
    super(message ?? SERVER_CODE_MESSAGES[code] ?? 'error');
  }
}

const ROOM_CMD_SET: ReadonlySet<string> = new Set(ROOM_CMDS);

/**
 * The room plane's traffic as it happens, for metrics (server/metrics/Metrics.ts): each known request,
 * each error answer by code, and how long each handled request took. Must be cheap and never throw.
 */
export interface RoomTraffic {
  request(cmd: string): void;
  refused(code: number): void;
  handled(cmd: string, code: number, seconds: number): void;
}

const REFUSAL_CODES: Record<RefusalReason, number> = {
  rate: ServerCode.RateLimited,
  malformed: ServerCode.Json,
  tooLarge: ServerCode.TooLarge,
  internal: ServerCode.Internal,
};

export class Connection<M extends SessionMember = SessionMember> extends FrameSocket {
  session: SessionState<M> | null = null;
  /** The user is gone for good (logout, heartbeat expiry, kick): its streams and media end at once. */
  loggedOut = false;
  /** Host header of the upgrade request (dispatch builds the media URL from it). */
  host = '';
  secure = false;
  /** Came through the cloud proxy: the verdict on its proxy token (undefined: a direct socket). */
  proxy?: ProxyVerdict;
  loggingIn = false;
  /** appid as the client last sent it, echoed in every header. */
  appidEcho: number | string = 0;

  constructor(
    ws: WebSocket,
    config: ResolvedConfig,
    private readonly handlers: HandlerTable<M>,
    log: Logger,
    counters: SocketCounters,
    private readonly onClose: (conn: Connection<M>) => void,
    private readonly traffic: RoomTraffic | null = null,
  ) {
    super(ws, limitsFrom(config), log, counters);
  }

  protected onClosed(): void {
    this.onClose(this);
  }

  /** The login succeeded: the login deadline no longer applies. */
  loginDone(who: { appid: number; room: string; user: string }): void {
    this.markLoggedIn(who);
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

  reply(cmd: string, seq: number, body: object): void {
    this.sendText(JSON.stringify({ header: this.header(cmd, seq, 'rsp'), body }));
  }

  /** A push; `serialised` lets a fan-out stringify the body once for all recipients. */
  push(cmd: string, body: unknown, serialised?: string): void {
    this.sendText(
      `{"header":${JSON.stringify(this.header(cmd, 0, 'push'))},"body":${serialised ?? JSON.stringify(body)}}`,
    );
  }

  private error(cmd: string, seq: number, code: number, message?: string, extra?: object): void {
    this.traffic?.refused(code);
    this.reply(cmd, seq, { ...extra, err_code: code, err_message: message ?? SERVER_CODE_MESSAGES[code] });
  }

  protected refuse(ref: FrameRef, why: RefusalReason): void {
    this.error(ref.cmd, ref.seq, REFUSAL_CODES[why]);
  }

  protected async onFrame(h: FrameHeader, _raw: unknown, body: unknown): Promise<void> {
    const { cmd, seq } = h;
    if (!this.session && h.appid !== undefined) this.appidEcho = h.appid;
    if (!ROOM_CMD_SET.has(cmd))
      return this.protocolError() ? undefined : this.error(cmd, seq, ServerCode.UnknownCmd);
    const roomCmd = cmd as RoomCmd;
    this.traffic?.request(cmd);
    if (roomCmd !== 'login') {
      const s = this.session;
      // A logout before login is what the original SDK sends when a page logs in (it resets its previous
      // session first, on the new socket): answered, not a protocol error. Anything else before login is.
      if (!s)
        return roomCmd !== 'logout' && this.protocolError()
          ? undefined
          : this.error(cmd, seq, ServerCode.BadLoginState);
      // The original compares the appid loosely (1739272706 and "1739272706" are the same app).
      if (
        String(h.appid) !== String(s.appid) ||
        h.session_id !== s.member.sessionId ||
        h.room_id !== s.roomId
      )
        return this.error(cmd, seq, ServerCode.BadLoginState);
    }
    // A body its schema refuses is answered and is not a protocol error: pages can send one through the
    // documented API (an over-long message, an empty room name, a reliable type that is a number), and
    // neither SDK stops them; they must hear their error and keep their socket.
    const invalid = validateBody(roomCmd, body);
    if (invalid)
      return this.error(
        cmd,
        seq,
        invalid.tooLarge ? ServerCode.TooLarge : ServerCode.InvalidBody,
        invalid.message,
      );
    const t0 = this.traffic ? performance.now() : 0;
    try {
      // The schema admitted the body for this command (validateBody above).
      const handler = this.handlers[roomCmd] as Handler<RoomCmd, M>;
      const reply = await handler(this, body as RoomReqBody<RoomCmd>, h);
      this.traffic?.handled(cmd, 0, (performance.now() - t0) / 1000);
      this.reply(cmd, seq, { err_code: 0, ...reply });
    } catch (e) {
      this.traffic?.handled(
        cmd,
        e instanceof HandlerError ? e.code : ServerCode.Internal,
        (performance.now() - t0) / 1000,
      );
      if (e instanceof HandlerError) return this.error(cmd, seq, e.code, e.message, e.extra);
      throw e;
    }
  }
}
