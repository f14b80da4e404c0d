/**
 * The room's message commands: custom commands, room messages (im_chat), reliable messages (trans),
 * big-room messages, join-live signals, relay to the business server and client log lines. Each checks its
 * body, then makes one RoomStore step; the store's event reaches the members on every node (LocalRooms).
 */
import type { Logger } from 'pino';
import { MAX_CUSTOM_MSG_BYTES, MAX_TRANS_TYPE_BYTES, utf8Length } from '../../protocol/constants';
import { ServerCode } from '../../protocol/errors';
import { PUSH_SIGNAL_OFFSET, type RoomReqBody } from '../../protocol/room';
import type { ResolvedConfig } from '../config';
import { HandlerError, type Connection, type HandlerReply } from '../gateway/Connection';
import { postJson } from '../httpPost';
import { CallLimiter, CallsBusy, type CallKeys } from '../outbound/CallLimiter';
import type { Member } from './Member';
import { RoomRefusal, type Actor, type RoomStore } from './RoomStore';

type RoomConn = Connection<Member>;

/** client_log line levels (the shim's: 1.12.5's ENUM_LOG_LEVEL). */
const CLIENT_LOG_LEVELS = ['debug', 'info', 'warn', 'error'];

export function parseJson(s: string, field: string): Record<string, unknown> {
  try {
    const v = JSON.parse(s) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new HandlerError(ServerCode.InvalidBody, `${field} must be a JSON object string`);
}

/** A store step; its refusal becomes the request's error. */
export async function step<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof RoomRefusal) throw new HandlerError(e.code, e.message || undefined);
    throw e;
  }
}

/** The logged-in session of a socket (a request on a socket without one is refused). */
export function sessionOf(c: RoomConn): { appid: number; roomId: string; member: Member } {
  if (!c.session) throw new HandlerError(ServerCode.SessionNotFound);
  return c.session;
}

export function actorOf(m: Member): Actor {
  return { idName: m.idName, nickName: m.nickName, role: m.role, sessionId: m.sessionId };
}

export class RoomMessages {
  private readonly lastChat = new WeakMap<RoomConn, number>();
  /** Per room socket: the minute window of its client_log lines (clientLogs.maxLinesPerMinute). */
  private readonly clientLogWindows = new WeakMap<
    RoomConn,
    { start: number; lines: number; dropped: number }
  >();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly store: RoomStore,
    private readonly calls: CallLimiter,
  ) {}

  async custommsg(c: RoomConn, b: RoomReqBody<'custommsg'>): Promise<HandlerReply<'custommsg'>> {
    const s = sessionOf(c);
    const dest = b.dest_id_name;
    if (dest.length === 0)
      throw new HandlerError(ServerCode.InvalidBody, 'dest_id_name must not be empty (no broadcast)');
    const msg = parseJson(b.custom_msg, 'custom_msg');
    const content = msg.custom_content;
    const size =
      typeof content === 'string' ? utf8Length(content) : utf8Length(JSON.stringify(content ?? ''));
    if (size > MAX_CUSTOM_MSG_BYTES)
      throw new HandlerError(ServerCode.TooLarge, `custom_content over ${MAX_CUSTOM_MSG_BYTES} bytes`);
    const ser = JSON.stringify({ custommsg: b.custom_msg });
    await step(this.store.send(s.appid, s.roomId, dest, 'push_custommsg', ser));
    return {};
  }

  async imChat(c: RoomConn, b: RoomReqBody<'im_chat'>): Promise<HandlerReply<'im_chat'>> {
    const s = sessionOf(c);
    const now = Date.now();
    const last = this.lastChat.get(c);
    if (last !== undefined && now - last < this.config.room.imChatIntervalMs)
      throw new HandlerError(ServerCode.RateLimited);
    this.lastChat.set(c, now);
    const msgId = await step(
      this.store.chat(s.appid, s.roomId, actorOf(s.member), {
        category: b.msg_category,
        type: b.msg_type,
        content: b.msg_content,
        time: now,
      }),
    );
    return { msg_id: msgId };
  }

  async trans(c: RoomConn, b: RoomReqBody<'trans'>): Promise<HandlerReply<'trans'>> {
    const s = sessionOf(c);
    const type = b.trans_type;
    const bytes = utf8Length(type);
    if (bytes === 0) throw new HandlerError(ServerCode.InvalidBody, 'trans_type must not be empty');
    if (bytes > MAX_TRANS_TYPE_BYTES)
      throw new HandlerError(ServerCode.TooLarge, `trans_type over ${MAX_TRANS_TYPE_BYTES} bytes`);
    const seq = await step(this.store.trans(s.appid, s.roomId, actorOf(s.member), type, b.trans_data));
    return { trans_type: type, trans_seq: seq };
  }

  async transFetch(c: RoomConn, b: RoomReqBody<'trans_fetch'>): Promise<HandlerReply<'trans_fetch'>> {
    const s = sessionOf(c);
    const type = b.trans_type;
    const e = await step(this.store.transFetch(s.appid, s.roomId, type));
    return {
      trans_type: type,
      trans_seq: e ? e.seq : 0,
      trans_data: e ? e.data : '',
      trans_user_idname: e ? e.idName : '',
      trans_user_nickname: e ? e.nickName : '',
    };
  }

  async bigim(c: RoomConn, b: RoomReqBody<'bigim_chat'>): Promise<HandlerReply<'bigim_chat'>> {
    const s = sessionOf(c);
    const ids = await step(
      this.store.bigim(
        s.appid,
        s.roomId,
        actorOf(s.member),
        b.msgs.map((m) => ({ category: m.msg_category, type: m.msg_type, content: m.msg_content })),
        Date.now(),
      ),
    );
    return {
      msgs: b.msgs.map((m, i) => ({
        bigmsg_client_id: String(m.bigmsg_client_id ?? ''),
        bigmsg_id: ids[i]!,
      })),
      bigim_time_window: this.config.room.bigimTimeWindowMs,
    };
  }

  async signal(c: RoomConn, b: RoomReqBody<'signal'>): Promise<HandlerReply<'signal'>> {
    const s = sessionOf(c);
    parseJson(b.signal_msg, 'signal_msg');
    const ser = JSON.stringify({ sub_cmd: b.sub_cmd + PUSH_SIGNAL_OFFSET, signal_msg: b.signal_msg });
    await step(this.store.send(s.appid, s.roomId, b.dest_id_name, 'push_signal', ser));
    return {};
  }

  async relay(c: RoomConn, b: RoomReqBody<'relay'>): Promise<HandlerReply<'relay'>> {
    const s = sessionOf(c);
    const app = this.config.apps.find((a) => a.appid === s.appid);
    if (!app?.relayUrl) throw new HandlerError(ServerCode.RelayFailed, 'no relayUrl configured for this app');
    const url = app.relayUrl;
    const res = await this.call({ appid: s.appid, user: s.member.idName, socket: c }, () =>
      postJson(
        url,
        {
          app_id: s.appid,
          room_id: s.roomId,
          id_name: s.member.idName,
          relay_type: b.relay_type,
          relay_data: b.relay_data,
        },
        this.config.http.relayTimeoutMs,
      ).catch((e: Error) => {
        throw new HandlerError(ServerCode.RelayFailed, `relay failed: ${e.message}`);
      }),
    );
    if (res.status < 200 || res.status >= 300)
      throw new HandlerError(ServerCode.RelayFailed, `relay failed: status ${res.status}`);
    return { relay_result: res.text };
  }

  /**
   * A call to the app's business server within the in-flight bounds (per socket, user, app): over one,
   * the request is answered "too many requests" (1000000004) at once and nothing is sent.
   */
  async call<T>(keys: CallKeys, run: () => Promise<T>): Promise<T> {
    try {
      return await this.calls.run(keys, run);
    } catch (e) {
      if (e instanceof CallsBusy) throw new HandlerError(ServerCode.RateLimited, e.message);
      throw e;
    }
  }

  /**
   * client_log (our extension): a shim's log lines into this server's log, each with the socket's appid,
   * room and user; at most clientLogs.maxLinesPerMinute per socket, the rest dropped and counted.
   */
  clientLog(c: RoomConn, b: RoomReqBody<'client_log'>): HandlerReply<'client_log'> {
    const { appid, roomId: room, member } = sessionOf(c);
    if (!this.config.clientLogs.enabled)
      throw new HandlerError(ServerCode.UnknownCmd, 'client_log is off on this server');
    const who = { appid, room, idName: member.idName };
    const now = Date.now();
    let w = this.clientLogWindows.get(c);
    if (!w || now - w.start >= 60_000) {
      if (w?.dropped) this.log.warn({ ...who, dropped: w.dropped }, 'client log lines dropped (rate)');
      w = { start: now, lines: 0, dropped: 0 };
      this.clientLogWindows.set(c, w);
    }
    for (const line of b.logs) {
      if (w.lines >= this.config.clientLogs.maxLinesPerMinute) {
        if (w.dropped++ === 0) this.log.warn(who, 'client log lines over the rate: dropping for this minute');
        continue;
      }
      w.lines++;
      this.log.info(
        { ...who, src: 'client', clientLevel: CLIENT_LOG_LEVELS[line.level], clientTime: line.time },
        line.text,
      );
    }
    return {};
  }
}
