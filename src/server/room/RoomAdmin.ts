/**
 * The room plane's answer to the operator's tools (admin/AdminView.ts): lists of rooms, users and streams
 * of an app, kick, close, and messages sent as the server. It reads rooms only through the RoomStore and
 * acts only through RoomService's own methods and the store's steps (whose events reach every node), so a
 * shared store answers for every node through the same code.
 */
import type { CustomMsgPayload, WireStream } from '../../protocol/room';
import type { AdminRoomSummary, AdminStream, AdminUser, RoomAdmin, ServerSender } from '../admin/AdminView';
import type { RoomService } from './RoomService';
import { RoomRefusal } from './RoomStore';

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Request ids of the server's custom commands (pages may use them to tell commands apart). */
let nextRequest = 0;

function streamOf(roomId: string, s: WireStream): AdminStream {
  return {
    streamId: s.stream_id,
    roomId,
    idName: s.anchor_id_name,
    nickName: s.anchor_nick_name,
    extraInfo: s.extra_info,
  };
}

/** A store read of a room that may not exist: null then. */
async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof RoomRefusal) return null;
    throw e;
  }
}

export class RoomServiceAdmin implements RoomAdmin {
  constructor(private readonly service: RoomService) {}

  async rooms(appid: number): Promise<AdminRoomSummary[]> {
    return (await this.service.roomList(appid))
      .map((r) => ({ roomId: r.roomId, users: r.users, streams: r.streams }))
      .sort((a, b) => byId(a.roomId, b.roomId));
  }

  async users(appid: number, roomId: string): Promise<AdminUser[] | null> {
    const list = await orNull(this.service.roomUsers(appid, roomId));
    if (!list) return null;
    return list
      .map((m) => ({ idName: m.idName, nickName: m.nickName, role: m.role, loginTime: m.loginTime }))
      .sort((a, b) => byId(a.idName, b.idName));
  }

  async streams(appid: number, roomId?: string): Promise<AdminStream[] | null> {
    const rooms = roomId === undefined ? (await this.rooms(appid)).map((r) => r.roomId) : [roomId];
    const out: AdminStream[] = [];
    for (const id of rooms) {
      const list = await orNull(this.service.roomStreams(appid, id));
      if (!list) {
        if (roomId !== undefined) return null;
        continue;
      }
      for (const s of list) out.push(streamOf(id, s));
    }
    return out.sort((a, b) => byId(a.streamId, b.streamId));
  }

  kick(appid: number, roomId: string, idName: string, reason: number): Promise<boolean> {
    return this.service.kick(appid, roomId, idName, reason);
  }

  async closeRoom(
    appid: number,
    roomId: string,
    reason: number,
  ): Promise<{ users: number; streams: number } | null> {
    const snap = await this.service.store.snapshot(appid, roomId);
    if (!snap) return null;
    // Every member is kicked for good, on whichever node holds it; the last one's departure closes the
    // room and ends its streams.
    await this.service.closeRoom(appid, roomId, reason);
    return { users: snap.count, streams: snap.streams.length };
  }

  async unlistStream(appid: number, streamId: string): Promise<string | null> {
    const where = await this.service.store.whereIs(appid, streamId);
    if (!where) return null;
    await this.service.removeStream(appid, where.roomId, streamId);
    return where.roomId;
  }

  async sendRoomMessage(
    appid: number,
    roomId: string,
    m: { content: string; category: number; type: number; from: ServerSender },
  ): Promise<{ msgId: number; recipients: number } | null> {
    const snap = await this.service.store.snapshot(appid, roomId);
    if (!snap) return null;
    const msgId = await orNull(
      this.service.store.chat(
        appid,
        roomId,
        { idName: m.from.idName, nickName: m.from.nickName, role: 1, sessionId: '' },
        { category: m.category, type: m.type, content: m.content, time: Date.now() },
      ),
    );
    if (msgId === null) return null;
    return { msgId, recipients: snap.count };
  }

  async sendCustomCommand(
    appid: number,
    roomId: string,
    m: { content: string; to?: readonly string[]; from: ServerSender },
  ): Promise<{ recipients: number } | null> {
    const members = await orNull(this.service.roomUsers(appid, roomId));
    if (!members) return null;
    const here = new Set(members.map((u) => u.idName));
    const to = m.to ? [...new Set(m.to)].filter((id) => here.has(id)) : [...here];
    // The shape a page's sendCustomCommand sends (onRecvCustomCommand(from, fromName, content)).
    const payload: CustomMsgPayload = {
      from_userid: m.from.idName,
      from_username: m.from.nickName,
      request_id: `server-${Date.now()}-${++nextRequest}`,
      custom_content: m.content,
      room_id: roomId,
    };
    if (to.length)
      await this.service.store.send(
        appid,
        roomId,
        to,
        'push_custommsg',
        JSON.stringify({ custommsg: JSON.stringify(payload) }),
      );
    return { recipients: to.length };
  }

  async counts(appid: number): Promise<{ rooms: number; users: number; streams: number }> {
    let users = 0;
    let streams = 0;
    const rooms = await this.service.roomList(appid);
    for (const r of rooms) {
      users += r.users;
      streams += r.streams;
    }
    return { rooms: rooms.length, users, streams };
  }
}
