/**
 * The room plane's answer to the operator's tools (admin/AdminView.ts): lists of rooms, users and streams
 * of an app, kick, close, and messages sent as the server. It reads rooms only through the RoomStore and
 * acts only through RoomService's own methods and the rooms' fan-out (Bus), so a shared store answers for
 * every node through the same code. Asynchronous from the start for that reason; on one node every call
 * settles at once.
 */
import type { CustomMsgPayload, WireStream } from '../../protocol/room';
import type { AdminRoomSummary, AdminStream, AdminUser, RoomAdmin, ServerSender } from '../admin/AdminView';
import type { Room } from './Room';
import type { RoomService } from './RoomService';

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

export class RoomServiceAdmin implements RoomAdmin {
  constructor(private readonly service: RoomService) {}

  /** The app's rooms (the store keys rooms by appid and id; it has no per-app index, so this walks them). */
  private roomsOf(appid: number): Room[] {
    const out: Room[] = [];
    for (const r of this.service.rooms.all()) if (this.service.rooms.get(appid, r.id) === r) out.push(r);
    return out.sort((a, b) => byId(a.id, b.id));
  }

  async rooms(appid: number): Promise<AdminRoomSummary[]> {
    return this.roomsOf(appid).map((r) => ({ roomId: r.id, users: r.members.size, streams: r.streams.size }));
  }

  async users(appid: number, roomId: string): Promise<AdminUser[] | null> {
    const room = this.service.rooms.get(appid, roomId);
    if (!room) return null;
    return [...room.members.values()]
      .map((m) => ({ idName: m.idName, nickName: m.nickName, role: m.role, loginTime: m.loginTime }))
      .sort((a, b) => byId(a.idName, b.idName));
  }

  async streams(appid: number, roomId?: string): Promise<AdminStream[] | null> {
    const rooms = roomId === undefined ? this.roomsOf(appid) : [this.service.rooms.get(appid, roomId)];
    if (rooms[0] === undefined && roomId !== undefined) return null;
    const out: AdminStream[] = [];
    for (const r of rooms) if (r) for (const s of r.streams.values()) out.push(streamOf(r.id, s));
    return out.sort((a, b) => byId(a.streamId, b.streamId));
  }

  async kick(appid: number, roomId: string, idName: string, reason: number): Promise<boolean> {
    return this.service.kick(appid, roomId, idName, reason);
  }

  async closeRoom(
    appid: number,
    roomId: string,
    reason: number,
  ): Promise<{ users: number; streams: number } | null> {
    const room = this.service.rooms.get(appid, roomId);
    if (!room) return null;
    const streams = room.streams.size;
    let users = 0;
    for (const idName of [...room.members.keys()]) if (this.service.kick(appid, roomId, idName, reason)) users++;
    // The last member's departure closed the room and ended its streams; a room still listed (a member
    // joined meanwhile cannot, this is synchronous) would keep them: end what is left.
    for (const id of [...room.streams.keys()]) this.service.removeStream(appid, roomId, id);
    return { users, streams };
  }

  async unlistStream(appid: number, streamId: string): Promise<string | null> {
    const room = this.service.rooms.roomOfStream(appid, streamId);
    if (!room) return null;
    this.service.removeStream(appid, room.id, streamId);
    return room.id;
  }

  async sendRoomMessage(
    appid: number,
    roomId: string,
    m: { content: string; category: number; type: number; from: ServerSender },
  ): Promise<{ msgId: number; recipients: number } | null> {
    const room = this.service.rooms.get(appid, roomId);
    if (!room) return null;
    const msgId = ++room.msgId;
    room.broadcast('push_im_chat', {
      chat_data: [
        {
          id_name: m.from.idName,
          nick_name: m.from.nickName,
          role: 1,
          msg_id: msgId,
          msg_category: m.category,
          msg_type: m.type,
          msg_content: m.content,
          send_time: Date.now(),
        },
      ],
      server_msg_id: msgId,
      ret_msg_id: msgId,
    });
    return { msgId, recipients: room.members.size };
  }

  async sendCustomCommand(
    appid: number,
    roomId: string,
    m: { content: string; to?: readonly string[]; from: ServerSender },
  ): Promise<{ recipients: number } | null> {
    const room = this.service.rooms.get(appid, roomId);
    if (!room) return null;
    const to = m.to ? [...new Set(m.to)].filter((id) => room.members.has(id)) : [...room.members.keys()];
    // The shape a page's sendCustomCommand sends (onRecvCustomCommand(from, fromName, content)).
    const payload: CustomMsgPayload = {
      from_userid: m.from.idName,
      from_username: m.from.nickName,
      request_id: `server-${Date.now()}-${++nextRequest}`,
      custom_content: m.content,
      room_id: roomId,
    };
    if (to.length) room.sendTo(to, 'push_custommsg', { custommsg: JSON.stringify(payload) });
    return { recipients: to.length };
  }

  async counts(appid: number): Promise<{ rooms: number; users: number; streams: number }> {
    let rooms = 0;
    let users = 0;
    let streams = 0;
    for (const r of this.service.rooms.all()) {
      if (this.service.rooms.get(appid, r.id) !== r) continue;
      rooms++;
      users += r.members.size;
      streams += r.streams.size;
    }
    return { rooms, users, streams };
  }
}
