/**
 * One media-signalling WebSocket (`/media`) on the shared socket base: its login identity, its sessions,
 * and the legacy framing of replies and pushes (`{header: {version, cmd, appid, seq, user_id,
 * session_id}, body}`). What a frame asks for is MediaService's business.
 */
import type { ProxyVerdict } from '../auth/proxyToken';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { MEDIA_HEADER_VERSION, MediaResult, replyName, type MediaHeader } from '../../protocol/media';
import { MEDIA_REQUESTS } from '../../protocol/mediaSchema';
import type { TokenPrivileges } from '../auth/roomToken';
import type { ResolvedConfig } from '../config';
import {
  FrameSocket,
  limitsFrom,
  type FrameHeader,
  type FrameRef,
  type RefusalReason,
  type SocketCounters,
} from '../gateway/FrameSocket';

const MEDIA_REQUEST_SET: ReadonlySet<string> = new Set(MEDIA_REQUESTS);

const REFUSALS: Record<RefusalReason, [number, string]> = {
  rate: [MediaResult.Limited, 'too many requests'],
  malformed: [MediaResult.BadRequest, 'malformed frame'],
  tooLarge: [MediaResult.BadRequest, 'frame too large'],
  internal: [MediaResult.MediaServer, 'internal error'],
};

export interface MediaSocketOwner<S> {
  onFrame(conn: MediaSocket<S>, h: FrameHeader, body: unknown): Promise<void>;
  connClosed(conn: MediaSocket<S>): void;
}

export class MediaSocket<S = unknown> extends FrameSocket {
  appid = 0;
  appidEcho: string | number = '';
  idName = '';
  roomId = '';
  /** The Host header the page connected with (the TURN host unless turn.publicHost is set). */
  host = '';
  /** Came through the cloud proxy: the verdict on its proxy token (undefined: a direct socket). */
  proxy?: ProxyVerdict;
  /** Since when the socket has had no session (the idle reaper's clock), ms. */
  idleSince = Date.now();
  /** What the LoginReq token allows (a 04 token's payload); absent = no restriction. */
  privileges?: TokenPrivileges;
  /** Sessions were reset by a media-server loss: the socket hears MediaReadyPush once it is back. */
  resetPending = false;
  readonly sessions = new Map<number, S>();
  private pushSeq = 0;

  constructor(
    ws: WebSocket,
    private readonly owner: MediaSocketOwner<S>,
    config: ResolvedConfig,
    log: Logger,
    counters: SocketCounters,
  ) {
    // Media signalling is burstier than room signalling (candidates trickle): twice the room's budget.
    super(ws, limitsFrom(config, 2), log, counters);
  }

  loginDone(who: { appid: number; room: string; user: string }): void {
    this.markLoggedIn(who);
    this.idleSince = Date.now();
  }

  /** A protocol error (answered by the caller unless this closed the socket: then true). */
  strike(): boolean {
    return this.protocolError();
  }

  protected onFrame(h: FrameHeader, _raw: unknown, body: unknown): Promise<void> {
    return this.owner.onFrame(this, h, body);
  }

  /** A refused request hears why at once, under its own reply name and seq. */
  protected refuse(ref: FrameRef, why: RefusalReason): void {
    const known = MEDIA_REQUEST_SET.has(ref.cmd);
    const [result, info] = REFUSALS[why];
    this.send(known ? replyName(ref.cmd) : 'ErrorRsp', ref.seq, 0, { result, err_info: info });
  }

  protected onClosed(): void {
    this.owner.connClosed(this);
  }

  send(cmd: string, seq: number, sessionId: number | string, body: object): void {
    const header: MediaHeader = {
      version: MEDIA_HEADER_VERSION,
      cmd,
      appid: this.appidEcho,
      seq,
      user_id: this.idName,
      session_id: sessionId,
    };
    this.sendText(JSON.stringify({ header, body }));
  }

  push(cmd: string, sessionId: number, body: object): void {
    this.send(cmd, ++this.pushSeq, sessionId, body);
  }

  removeSession(id: number): void {
    if (this.sessions.delete(id) && this.sessions.size === 0) this.idleSince = Date.now();
  }
}
