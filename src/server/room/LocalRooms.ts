/**
 * The members this node holds, per room, and what each hears: the room's events (events.ts, from the
 * Bus) become pushes to the members on this node. The user-list merge window and the big-room window
 * batch per node, so a member hears at most one push per window however many nodes share the room.
 *
 * A member is registered *before* its login step runs and is `pending` until the step answers: events
 * published meanwhile wait in its slot, and once the step's event number is known the ones after it are
 * delivered (those before it are what its login reply already carried). So a login on one node never
 * misses, nor hears twice, what another node does at the same moment.
 *
 * Each room also keeps a mirror of the room's counters, stream list and reliable messages, kept by the
 * same events: heartbeats are answered from it without a round trip, and after Redis lost its data the
 * node writes back what its members still hold.
 */
import type { BigImData, TransSeq, UserActionItem, WireStream } from '../../protocol/room';
import { StreamPushCmd } from '../../protocol/room';
import type { Bus } from './Bus';
import type { RoomEvent } from './events';
import { roomKey, type RoomSnapshot, type TransEntry } from './RoomStore';

/** A member on this node: what a push needs, and what to do when the room ends its session. */
export interface LocalMember {
  idName: string;
  sessionId: string;
  /** Asked for user-list pushes (login `user_state_flag: 1`). */
  userStateFlag: boolean;
  push(cmd: string, body: unknown, serialised?: string): void;
  /** The room ended this session: `gone` = for good (kick, room closed), else replaced by a new login. */
  kicked(reason: number, gone: boolean): void;
}

/** Events a pending member may collect before its login step answers (beyond: it heals by heartbeat). */
const MAX_PENDING = 1000;
/** Events a room may collect before its first snapshot (its mirror's start). */
const MAX_EARLY = 1000;

interface Slot {
  m: LocalMember;
  /** Events up to this were in the member's login reply. */
  joinEv: number;
  /** The highest user seq this member has heard of (its join, then each push). */
  userSeqSent: number;
  pending: RoomEvent[] | null;
}

/** A node's copy of a room's counters and lists, kept by the room's events. */
export interface Mirror extends Omit<RoomSnapshot, 'streams' | 'trans'> {
  streams: Map<string, WireStream>;
  trans: Map<string, TransEntry>;
}

class LocalRoom {
  readonly slots = new Map<string, Slot>(); // by session id
  readonly byIdName = new Map<string, Slot>();
  /** The slots whose login step has not answered yet (events wait in them): few, whatever the room's size. */
  readonly pending = new Set<Slot>();
  listening: Promise<void> = Promise.resolve();
  mirror: Mirror | null = null;
  early: RoomEvent[] = [];
  big: { ev: number; items: BigImData[] }[] = [];
  bigTimer: ReturnType<typeof setTimeout> | null = null;
  bigFlushedEv = 0;
  users: { seq: number; item: UserActionItem }[] = [];
  userTimer: ReturnType<typeof setTimeout> | null = null;
  userFlushedSeq = 0;
  constructor(
    readonly appid: number,
    readonly id: string,
  ) {}
}

export interface LocalRoomsSettings {
  bigimTimeWindowMs: number;
  userlistMergeMs: number;
}

/** A room's mirror is behind (an event number was skipped): its owner fetches a snapshot. */
export type GapHandler = (appid: number, roomId: string) => void;

export class LocalRooms {
  private readonly rooms = new Map<string, LocalRoom>();
  onGap: GapHandler = () => {};

  constructor(
    private readonly settings: LocalRoomsSettings,
    private readonly bus: Bus,
  ) {
    bus.setSink((appid, roomId, e) => this.onEvent(appid, roomId, e));
  }

  /**
   * Registers a member (pending) before its login step, and makes sure this node hears the room; rejects
   * if the bus cannot listen (the member is then gone again).
   */
  async enter(appid: number, roomId: string, m: LocalMember): Promise<void> {
    const k = roomKey(appid, roomId);
    let room = this.rooms.get(k);
    if (!room) {
      room = new LocalRoom(appid, roomId);
      this.rooms.set(k, room);
      room.listening = this.bus.listen(appid, roomId);
    }
    const slot: Slot = { m, joinEv: 0, userSeqSent: 0, pending: [] };
    room.slots.set(m.sessionId, slot);
    room.byIdName.set(m.idName, slot);
    room.pending.add(slot);
    try {
      await room.listening;
    } catch (e) {
      this.leave(appid, roomId, m);
      throw e;
    }
  }

  /** The member's login step answered: what came after it is delivered now, the rest was in its reply. */
  activate(appid: number, roomId: string, m: LocalMember, joined: RoomSnapshot): void {
    const room = this.rooms.get(roomKey(appid, roomId));
    const slot = room?.slots.get(m.sessionId);
    if (!room || !slot || slot.pending === null) return;
    this.sync(room, joined);
    slot.joinEv = joined.ev;
    slot.userSeqSent = joined.userSeq;
    const buffered = slot.pending;
    slot.pending = null;
    room.pending.delete(slot);
    const users: { seq: number; item: UserActionItem }[] = [];
    const big: BigImData[] = [];
    for (const e of buffered) {
      if (e.ev <= joined.ev) continue;
      // Batched kinds: what was flushed while the member waited is replayed here; the rest is still in
      // the room's batch and goes with its next flush.
      if (e.k === 'user') {
        if (e.seq <= room.userFlushedSeq && e.seq > slot.userSeqSent) users.push(e);
      } else if (e.k === 'big') {
        if (e.ev <= room.bigFlushedEv) big.push(...e.items);
      } else this.deliverOne(room, slot, e);
    }
    if (users.length && m.userStateFlag) {
      const last = users[users.length - 1]!.seq;
      m.push('push_userlist_update', {
        user_actions: users.map((u) => u.item),
        user_list_seq: last,
        room_id: room.id,
      });
      slot.userSeqSent = last;
    }
    if (big.length) m.push('push_merge_message', this.mergeBody(room, big));
  }

  /** The member is gone from this node (socket closed, login failed, replaced). */
  leave(appid: number, roomId: string, m: LocalMember): void {
    const k = roomKey(appid, roomId);
    const room = this.rooms.get(k);
    const slot = room?.slots.get(m.sessionId);
    if (!room || slot?.m !== m) return;
    room.slots.delete(m.sessionId);
    room.pending.delete(slot);
    if (room.byIdName.get(m.idName)?.m === m) {
      room.byIdName.delete(m.idName);
      // Another session of the same idName on this node (a takeover) is the one named now. Without one
      // (each idName named once: as many names as slots), no need to look through the room.
      if (room.slots.size > room.byIdName.size)
        for (const s of room.slots.values()) if (s.m.idName === m.idName) room.byIdName.set(m.idName, s);
    }
    if (room.slots.size > 0) return;
    this.flushBig(room);
    if (room.bigTimer) clearTimeout(room.bigTimer);
    if (room.userTimer) clearTimeout(room.userTimer);
    this.rooms.delete(k);
    this.bus.unlisten(appid, roomId);
  }

  /** The member of this node with that idName in the room, if any. */
  member(appid: number, roomId: string, idName: string): LocalMember | undefined {
    return this.rooms.get(roomKey(appid, roomId))?.byIdName.get(idName)?.m;
  }

  /** Heartbeat data from the mirror (undefined: the room has no synced mirror here). */
  header(
    appid: number,
    roomId: string,
  ): { streamSeq: number; userSeq: number; count: number; transSeqs: TransSeq[] } | undefined {
    const mi = this.rooms.get(roomKey(appid, roomId))?.mirror;
    if (!mi) return undefined;
    const transSeqs = [...mi.trans.entries()].map(([trans_type, e]) => ({ trans_type, trans_seq: e.seq }));
    return { streamSeq: mi.streamSeq, userSeq: mi.userSeq, count: mi.count, transSeqs };
  }

  /** A fresher snapshot (after a gap): the mirror starts again from it. */
  resync(appid: number, roomId: string, snap: RoomSnapshot): void {
    const room = this.rooms.get(roomKey(appid, roomId));
    if (room && (!room.mirror || snap.ev > room.mirror.ev)) room.mirror = this.mirrorOf(snap);
  }

  /** Every room held here, with its mirror and the members on this node (a rebuild after Redis lost data). */
  *held(): IterableIterator<{
    appid: number;
    roomId: string;
    mirror: Mirror | null;
    members: LocalMember[];
  }> {
    for (const r of this.rooms.values())
      yield {
        appid: r.appid,
        roomId: r.id,
        mirror: r.mirror,
        members: [...r.slots.values()].filter((s) => s.pending === null).map((s) => s.m),
      };
  }

  stats(): { rooms: number; members: number } {
    let members = 0;
    for (const r of this.rooms.values()) members += r.slots.size;
    return { rooms: this.rooms.size, members };
  }

  dispose(): void {
    for (const r of this.rooms.values()) {
      if (r.bigTimer) clearTimeout(r.bigTimer);
      if (r.userTimer) clearTimeout(r.userTimer);
    }
    this.rooms.clear();
  }

  private mirrorOf(s: RoomSnapshot): Mirror {
    return {
      ev: s.ev,
      streamSeq: s.streamSeq,
      userSeq: s.userSeq,
      count: s.count,
      msgId: s.msgId,
      bigMsgId: s.bigMsgId,
      streams: new Map(s.streams.map((x) => [x.stream_id, x])),
      trans: new Map(s.trans),
    };
  }

  /** The room's first snapshot starts its mirror; events that came before it are applied on top. */
  private sync(room: LocalRoom, s: RoomSnapshot): void {
    if (room.mirror) return;
    room.mirror = this.mirrorOf(s);
    const early = room.early;
    room.early = [];
    for (const e of early) this.apply(room, e);
  }

  private apply(room: LocalRoom, e: RoomEvent): void {
    const mi = room.mirror;
    if (!mi) {
      if (room.early.length < MAX_EARLY) room.early.push(e);
      return;
    }
    if (e.ev <= mi.ev) return;
    if (e.ev > mi.ev + 1) this.onGap(room.appid, room.id);
    mi.ev = e.ev;
    switch (e.k) {
      case 'user':
        mi.userSeq = Math.max(mi.userSeq, e.seq);
        mi.count = e.count;
        break;
      case 'stream':
        mi.streamSeq = Math.max(mi.streamSeq, e.seq);
        for (const s of e.streams)
          if (e.cmd === StreamPushCmd.Deleted) mi.streams.delete(s.stream_id);
          else mi.streams.set(s.stream_id, s);
        break;
      case 'chat':
        mi.msgId = Math.max(mi.msgId, e.id);
        break;
      case 'trans':
        mi.trans.set(e.type, { seq: e.seq, data: e.data, idName: e.idName, nickName: e.nickName });
        break;
      case 'big':
        for (const it of e.items) {
          const n = Number(it.bigmsg_id.slice(it.bigmsg_id.lastIndexOf('-') + 1));
          if (n > mi.bigMsgId) mi.bigMsgId = n;
        }
        break;
      default:
        break;
    }
  }

  private onEvent(appid: number, roomId: string, e: RoomEvent): void {
    const room = this.rooms.get(roomKey(appid, roomId));
    if (!room) return;
    this.apply(room, e);
    switch (e.k) {
      case 'user':
        room.users.push({ seq: e.seq, item: e.item });
        for (const s of room.pending) if (s.m.userStateFlag) this.hold(s, e);
        if (this.settings.userlistMergeMs <= 0) this.flushUsers(room);
        else if (!room.userTimer)
          room.userTimer = setTimeout(() => this.flushUsers(room), this.settings.userlistMergeMs);
        return;
      case 'big':
        room.big.push({ ev: e.ev, items: e.items });
        for (const s of room.pending) this.hold(s, e);
        if (!room.bigTimer)
          room.bigTimer = setTimeout(() => this.flushBig(room), this.settings.bigimTimeWindowMs);
        return;
      case 'kick': {
        room.slots.get(e.sessionId)?.m.kicked(e.reason, e.gone);
        return;
      }
      case 'close':
        for (const s of [...room.slots.values()]) s.m.kicked(e.reason, true);
        return;
      case 'push':
        for (const id of new Set(e.to)) {
          const s = room.byIdName.get(id);
          if (!s) continue;
          if (s.pending) this.hold(s, e);
          else s.m.push(e.cmd, undefined, e.ser);
        }
        return;
      default: {
        // stream, chat, trans: one body, one serialisation, every member but the one who made it.
        const [cmd, body, except] = this.pushOf(e);
        const ser = JSON.stringify(body);
        for (const s of room.slots.values()) {
          if (s.m.idName === except) continue;
          if (s.pending) this.hold(s, e);
          else s.m.push(cmd, body, ser);
        }
      }
    }
  }

  private hold(s: Slot, e: RoomEvent): void {
    if (s.pending && s.pending.length < MAX_PENDING) s.pending.push(e);
  }

  /** A replayed event for one member (it came while the member's login step ran). */
  private deliverOne(room: LocalRoom, s: Slot, e: RoomEvent): void {
    if (e.k === 'push') return s.m.push(e.cmd, undefined, e.ser);
    if (e.k === 'kick' || e.k === 'close' || e.k === 'user' || e.k === 'big') return;
    const [cmd, body, except] = this.pushOf(e);
    if (s.m.idName !== except) s.m.push(cmd, body);
  }

  private pushOf(e: RoomEvent): [cmd: string, body: object, except: string | undefined] {
    switch (e.k) {
      case 'stream':
        return [
          'push_stream_update',
          { stream_cmd: e.cmd, stream_seq: e.seq, stream_info: e.streams },
          e.except,
        ];
      case 'chat':
        return [
          'push_im_chat',
          { chat_data: [{ ...e.item, msg_id: e.id }], server_msg_id: e.id, ret_msg_id: e.id },
          e.except,
        ];
      case 'trans':
        return [
          'push_trans',
          {
            trans_type: e.type,
            trans_seq: e.seq,
            trans_data: e.data,
            trans_user_idname: e.idName,
            trans_user_nickname: e.nickName,
          },
          e.idName,
        ];
      default:
        throw new Error(`no push for event ${e.k}`);
    }
  }

  /**
   * The merge window's actions: each member hears those after the last it heard (its login reply covered
   * the earlier ones and its own join), so `user_list_seq` = its seq + number of actions holds for everyone.
   * Members at the same point share one serialisation.
   */
  private flushUsers(room: LocalRoom): void {
    if (room.userTimer) clearTimeout(room.userTimer);
    room.userTimer = null;
    const batch = room.users;
    if (batch.length === 0) return;
    room.users = [];
    const last = batch[batch.length - 1]!.seq;
    room.userFlushedSeq = last;
    const bodies = new Map<number, { body: object; ser: string } | null>();
    for (const s of room.slots.values()) {
      if (s.pending || !s.m.userStateFlag) continue;
      const cut = s.userSeqSent;
      let b = bodies.get(cut);
      if (b === undefined) {
        const actions = batch.filter((x) => x.seq > cut).map((x) => x.item);
        const body = { user_actions: actions, user_list_seq: last, room_id: room.id };
        b = actions.length ? { body, ser: JSON.stringify(body) } : null;
        bodies.set(cut, b);
      }
      if (b) s.m.push('push_userlist_update', b.body, b.ser);
      if (last > s.userSeqSent) s.userSeqSent = last;
    }
  }

  private mergeBody(room: LocalRoom, items: BigImData[]): object {
    return {
      messages: [{ sub_cmd: 14001, msg_body: JSON.stringify({ room_id: room.id, msg_data: items }) }],
    };
  }

  /** One push_merge_message per window to every member (members who joined meanwhile hear what came after). */
  private flushBig(room: LocalRoom): void {
    if (room.bigTimer) clearTimeout(room.bigTimer);
    room.bigTimer = null;
    const batch = room.big;
    if (batch.length === 0) return;
    room.big = [];
    room.bigFlushedEv = batch[batch.length - 1]!.ev;
    const first = batch[0]!.ev;
    let all: { body: object; ser: string } | null = null;
    for (const s of room.slots.values()) {
      if (s.pending) continue;
      if (s.joinEv < first) {
        if (!all) {
          const body = this.mergeBody(
            room,
            batch.flatMap((b) => b.items),
          );
          all = { body, ser: JSON.stringify(body) };
        }
        s.m.push('push_merge_message', all.body, all.ser);
      } else {
        const items = batch.filter((b) => b.ev > s.joinEv).flatMap((b) => b.items);
        if (items.length) s.m.push('push_merge_message', this.mergeBody(room, items));
      }
    }
  }
}
