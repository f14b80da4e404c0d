/**
 * The rooms of one node, in this process (the default: no Redis in the config). Every step runs
 * synchronously inside its call and hands its event to the MemoryBus at once, so on one node a change and
 * its pushes happen in the order the requests came, as before the seam existed.
 */
import { MAX_TRANS_TYPES_PER_ROOM } from '../../protocol/constants';
import { ServerCode } from '../../protocol/errors';
import { StreamPushCmd, type UserActionItem, type WireStream } from '../../protocol/room';
import { takeThen, type CapTake } from '../caps/CapCounters';
import { refusalText } from '../caps/Caps';
import type { MemoryBus } from './Bus';
import type { RoomEvent } from './events';
import {
  RoomRefusal,
  roomKey,
  type Actor,
  type BigMsg,
  type ChatMsg,
  type JoinResult,
  type MemberInfo,
  type RoomSnapshot,
  type RoomStore,
  type RoomSummary,
  type StoreLimits,
  type StreamChange,
  type StreamsAfter,
  type TransEntry,
} from './RoomStore';

interface Listed {
  s: WireStream;
  /** Announced by its user (counted under the stream caps); a mix output is not. */
  counted: boolean;
}

class RoomState {
  readonly members = new Map<string, MemberInfo>(); // by idName, in login order
  readonly streams = new Map<string, Listed>();
  readonly trans = new Map<string, TransEntry>();
  streamSeq = 0;
  userSeq = 0;
  msgId = 0;
  bigMsgId = 0;
  ev = 0;
  constructor(
    readonly appid: number,
    readonly id: string,
  ) {}
}

const refuse = (code: number, message?: string): never => {
  throw new RoomRefusal(code, message);
};

export class MemoryRoomStore implements RoomStore {
  readonly node = 'local';
  private readonly all = new Map<string, RoomState>();
  /** `${appid}\0${streamId}` -> the key of the room that lists it (stream ids are unique per app). */
  private readonly streamRooms = new Map<string, string>();
  /** Counted streams per `${appid}\0${idName}` and per app. */
  private readonly userStreams = new Map<string, number>();
  private readonly appStreams = new Map<number, number>();

  onStream?: StreamChange;

  constructor(
    private readonly limits: StoreLimits,
    private readonly bus: MemoryBus,
  ) {}

  private told(r: RoomState, change: 'added' | 'removed', s: WireStream): void {
    this.onStream?.(r.appid, r.id, change, s);
  }

  private publish(r: RoomState, e: RoomEvent): void {
    this.bus.publish(r.appid, r.id, e);
  }

  private room(appid: number, roomId: string): RoomState {
    return this.all.get(roomKey(appid, roomId)) ?? refuse(ServerCode.SessionNotFound);
  }

  private snap(r: RoomState): RoomSnapshot {
    return {
      ev: r.ev,
      streamSeq: r.streamSeq,
      userSeq: r.userSeq,
      count: r.members.size,
      msgId: r.msgId,
      bigMsgId: r.bigMsgId,
      streams: [...r.streams.values()].map((l) => l.s),
      trans: [...r.trans.entries()],
    };
  }

  private userEvent(r: RoomState, m: MemberInfo, action: 1 | 2): void {
    r.userSeq++;
    const item: UserActionItem = {
      Action: action,
      IdName: m.idName,
      NickName: m.nickName,
      Role: m.role,
      LoginTime: String(m.loginTime),
    };
    this.publish(r, { k: 'user', ev: ++r.ev, seq: r.userSeq, count: r.members.size, item });
  }

  private streamEvent(r: RoomState, cmd: number, streams: WireStream[], except?: string): void {
    r.streamSeq++;
    this.publish(r, { k: 'stream', ev: ++r.ev, seq: r.streamSeq, cmd, streams, except });
  }

  async join(
    appid: number,
    roomId: string,
    m: MemberInfo,
    mayCreate: boolean,
    take?: CapTake,
  ): Promise<JoinResult> {
    if (take) return takeThen(take, () => this.join(appid, roomId, m, mayCreate));
    const k = roomKey(appid, roomId);
    let r = this.all.get(k);
    let created = false;
    if (!r) {
      if (!mayCreate) refuse(ServerCode.RoomNotExist);
      if (this.all.size >= this.limits.maxRooms) refuse(ServerCode.RoomFull);
      r = new RoomState(appid, roomId);
      this.all.set(k, r);
      created = true;
    }
    const prev = r.members.get(m.idName);
    if (!prev && r.members.size >= this.limits.maxUsersPerRoom) refuse(ServerCode.RoomFull);
    if (prev) {
      // The same idName logs in again: the first session is kicked and others see it leave and join.
      r.members.delete(m.idName);
      this.userEvent(r, prev, 2);
      this.publish(r, {
        k: 'kick',
        ev: ++r.ev,
        idName: prev.idName,
        sessionId: prev.sessionId,
        reason: 1,
        gone: false,
      });
    }
    r.members.set(m.idName, m);
    this.userEvent(r, m, 1);
    let anchor: MemberInfo | undefined;
    for (const x of r.members.values())
      if (x.role === 1) {
        anchor = x;
        break;
      }
    return {
      ...this.snap(r),
      anchor: anchor && { userId: anchor.userId, idName: anchor.idName, nickName: anchor.nickName },
      previous: prev && { sessionId: prev.sessionId, node: prev.node },
      created,
    };
  }

  async leave(
    appid: number,
    roomId: string,
    idName: string,
    sessionId: string,
  ): Promise<{ left: boolean; closed: boolean }> {
    const k = roomKey(appid, roomId);
    const r = this.all.get(k);
    const m = r?.members.get(idName);
    if (!r || !m || m.sessionId !== sessionId) return { left: false, closed: false };
    r.members.delete(idName);
    this.userEvent(r, m, 2);
    if (r.members.size > 0) return { left: true, closed: false };
    // A room left empty is closed at once, its streams with it (nobody is left to hear 12002).
    for (const id of [...r.streams.keys()]) this.drop(r, id);
    this.all.delete(k);
    return { left: true, closed: true };
  }

  async snapshot(appid: number, roomId: string): Promise<RoomSnapshot | undefined> {
    const r = this.all.get(roomKey(appid, roomId));
    return r && this.snap(r);
  }

  async streams(appid: number, roomId: string): Promise<StreamsAfter> {
    const r = this.room(appid, roomId);
    return { seq: r.streamSeq, list: [...r.streams.values()].map((l) => l.s) };
  }

  async users(appid: number, roomId: string, from: number, count: number) {
    const r = this.room(appid, roomId);
    const all = [...r.members.values()];
    return { list: all.slice(from, from + count), total: all.length, seq: r.userSeq };
  }

  async member(appid: number, roomId: string, idName: string): Promise<MemberInfo | undefined> {
    return this.all.get(roomKey(appid, roomId))?.members.get(idName);
  }

  /** The caller's session is still the member's (a step that waited must not act for a closed socket). */
  private actor(r: RoomState, by: Actor): void {
    if (r.members.get(by.idName)?.sessionId !== by.sessionId) refuse(ServerCode.SessionNotFound);
  }

  private after(r: RoomState): StreamsAfter {
    return { seq: r.streamSeq, list: [...r.streams.values()].map((l) => l.s) };
  }

  /** Takes a stream off its room and the index, giving back its place under the caps. */
  private drop(r: RoomState, streamId: string): WireStream | undefined {
    const l = r.streams.get(streamId);
    if (!l) return undefined;
    r.streams.delete(streamId);
    const ik = `${r.appid}\u0000${streamId}`;
    if (this.streamRooms.get(ik) === roomKey(r.appid, r.id)) this.streamRooms.delete(ik);
    if (l.counted) this.uncount(r.appid, l.s.anchor_id_name);
    this.told(r, 'removed', l.s);
    return l.s;
  }

  private uncount(appid: number, idName: string): void {
    const uk = `${appid}\u0000${idName}`;
    const u = (this.userStreams.get(uk) ?? 1) - 1;
    if (u > 0) this.userStreams.set(uk, u);
    else this.userStreams.delete(uk);
    const a = (this.appStreams.get(appid) ?? 1) - 1;
    if (a > 0) this.appStreams.set(appid, a);
    else this.appStreams.delete(appid);
  }

  async announce(
    appid: number,
    roomId: string,
    by: Actor,
    s: WireStream,
  ): Promise<StreamsAfter & { changed: boolean }> {
    const r = this.room(appid, roomId);
    this.actor(r, by);
    const id = s.stream_id;
    const existing = r.streams.get(id);
    if (existing) {
      if (existing.s.anchor_id_name !== by.idName) refuse(ServerCode.StreamExists);
      // Announced again unchanged (a re-publish after a retry): nothing for others to hear.
      if (existing.s.extra_info === s.extra_info) return { ...this.after(r), changed: false };
      existing.s = s;
      this.streamEvent(r, StreamPushCmd.Updated, [existing.s], by.idName);
      return { ...this.after(r), changed: true };
    }
    const { maxStreamsPerRoom, maxStreamsPerUser, maxStreamsPerApp } = this.limits;
    if (r.streams.size >= maxStreamsPerRoom)
      refuse(ServerCode.TooManyStreams, `at most ${maxStreamsPerRoom} streams per room`);
    const ik = `${appid}\u0000${id}`;
    const otherKey = this.streamRooms.get(ik);
    const other = otherKey === undefined ? undefined : this.all.get(otherKey);
    const held = other?.streams.get(id);
    let counted = true;
    if (other && held) {
      if (held.s.anchor_id_name !== by.idName) refuse(ServerCode.StreamExists);
      // The user takes its stream along to this room (a page that changed rooms within its grace): its
      // place under the caps moves with it.
      other.streams.delete(id);
      this.told(other, 'removed', held.s);
      this.streamEvent(other, StreamPushCmd.Deleted, [held.s], by.idName);
      counted = held.counted;
    } else {
      if ((this.userStreams.get(`${appid}\u0000${by.idName}`) ?? 0) >= maxStreamsPerUser)
        refuse(ServerCode.TooManyStreams, refusalText({ cap: 'streamsPerUser', limit: maxStreamsPerUser }));
      if ((this.appStreams.get(appid) ?? 0) >= maxStreamsPerApp)
        refuse(ServerCode.TooManyStreams, refusalText({ cap: 'streamsPerApp', limit: maxStreamsPerApp }));
      this.userStreams.set(
        `${appid}\u0000${by.idName}`,
        (this.userStreams.get(`${appid}\u0000${by.idName}`) ?? 0) + 1,
      );
      this.appStreams.set(appid, (this.appStreams.get(appid) ?? 0) + 1);
    }
    r.streams.set(id, { s, counted });
    this.streamRooms.set(ik, roomKey(appid, roomId));
    this.told(r, 'added', s);
    this.streamEvent(r, StreamPushCmd.Added, [s], by.idName);
    return { ...this.after(r), changed: true };
  }

  async updateExtra(
    appid: number,
    roomId: string,
    by: Actor,
    streamId: string,
    extra: string,
  ): Promise<StreamsAfter> {
    const r = this.room(appid, roomId);
    const l = r.streams.get(streamId);
    if (!l || l.s.anchor_id_name !== by.idName) refuse(ServerCode.StreamNotFound);
    l!.s = { ...l!.s, extra_info: extra };
    this.streamEvent(r, StreamPushCmd.Updated, [l!.s], by.idName);
    return this.after(r);
  }

  async unannounce(appid: number, roomId: string, by: Actor, streamId: string): Promise<StreamsAfter> {
    const r = this.room(appid, roomId);
    const l = r.streams.get(streamId);
    if (!l || l.s.anchor_id_name !== by.idName) refuse(ServerCode.StreamNotFound);
    this.drop(r, streamId);
    this.streamEvent(r, StreamPushCmd.Deleted, [l!.s], by.idName);
    return this.after(r);
  }

  async addServerStream(appid: number, roomId: string, s: WireStream): Promise<boolean> {
    const r = this.all.get(roomKey(appid, roomId));
    const ik = `${appid}\u0000${s.stream_id}`;
    if (!r || this.streamRooms.has(ik)) return false;
    r.streams.set(s.stream_id, { s, counted: false });
    this.streamRooms.set(ik, roomKey(appid, roomId));
    this.told(r, 'added', s);
    this.streamEvent(r, StreamPushCmd.Added, [s], s.anchor_id_name);
    return true;
  }

  async remove(appid: number, roomId: string, streamId: string, owner?: string): Promise<void> {
    const r = this.all.get(roomKey(appid, roomId));
    const l = r?.streams.get(streamId);
    if (!r || !l || (owner !== undefined && l.s.anchor_id_name !== owner)) return;
    this.drop(r, streamId);
    this.streamEvent(r, StreamPushCmd.Deleted, [l.s], l.s.anchor_id_name);
  }

  async endStreamsOf(appid: number, roomId: string, idName: string): Promise<void> {
    const r = this.all.get(roomKey(appid, roomId));
    if (!r || r.members.has(idName)) return;
    const ended: WireStream[] = [];
    for (const [id, l] of [...r.streams])
      if (l.s.anchor_id_name === idName) {
        this.drop(r, id);
        ended.push(l.s);
      }
    if (ended.length) this.streamEvent(r, StreamPushCmd.Deleted, ended, idName);
  }

  async reannounce(appid: number, roomId: string, streamId: string, owner: string): Promise<void> {
    const r = this.all.get(roomKey(appid, roomId));
    const l = r?.streams.get(streamId);
    if (!r || !l || l.s.anchor_id_name !== owner) return;
    this.streamEvent(r, StreamPushCmd.Added, [l.s], owner);
  }

  async isListed(appid: number, roomId: string, streamId: string): Promise<boolean> {
    return !!this.all.get(roomKey(appid, roomId))?.streams.has(streamId);
  }

  async whereIs(appid: number, streamId: string): Promise<{ roomId: string; owner: string } | undefined> {
    const k = this.streamRooms.get(`${appid}\u0000${streamId}`);
    const r = k === undefined ? undefined : this.all.get(k);
    const l = r?.streams.get(streamId);
    return r && l && { roomId: r.id, owner: l.s.anchor_id_name };
  }

  async chat(appid: number, roomId: string, by: Actor, msg: ChatMsg): Promise<number> {
    const r = this.room(appid, roomId);
    const id = ++r.msgId;
    this.publish(r, {
      k: 'chat',
      ev: ++r.ev,
      id,
      item: {
        id_name: by.idName,
        nick_name: by.nickName,
        role: by.role,
        msg_category: msg.category,
        msg_type: msg.type,
        msg_content: msg.content,
        send_time: msg.time,
      },
      except: by.idName,
    });
    return id;
  }

  async trans(appid: number, roomId: string, by: Actor, type: string, data: string): Promise<number> {
    const r = this.room(appid, roomId);
    const prev = r.trans.get(type);
    if (!prev && r.trans.size >= MAX_TRANS_TYPES_PER_ROOM) refuse(ServerCode.TooManyTransTypes);
    const entry = { seq: (prev?.seq ?? 0) + 1, data, idName: by.idName, nickName: by.nickName };
    r.trans.set(type, entry);
    this.publish(r, { k: 'trans', ev: ++r.ev, type, ...entry });
    return entry.seq;
  }

  async transFetch(appid: number, roomId: string, type: string): Promise<TransEntry | undefined> {
    return this.room(appid, roomId).trans.get(type);
  }

  async bigim(appid: number, roomId: string, by: Actor, msgs: BigMsg[], now: number): Promise<string[]> {
    const r = this.room(appid, roomId);
    const items = msgs.map((m) => ({
      id_name: by.idName,
      nick_name: by.nickName,
      bigmsg_id: `${now}-${++r.bigMsgId}`,
      msg_category: m.category,
      msg_type: m.type,
      msg_content: m.content,
      send_time: now,
    }));
    this.publish(r, { k: 'big', ev: ++r.ev, items });
    return items.map((i) => i.bigmsg_id);
  }

  async send(appid: number, roomId: string, to: string[], cmd: string, ser: string): Promise<void> {
    const r = this.room(appid, roomId);
    this.publish(r, { k: 'push', ev: ++r.ev, cmd, ser, to });
  }

  async kick(appid: number, roomId: string, idName: string, reason: number): Promise<boolean> {
    const r = this.all.get(roomKey(appid, roomId));
    const m = r?.members.get(idName);
    if (!r || !m) return false;
    this.publish(r, { k: 'kick', ev: ++r.ev, idName, sessionId: m.sessionId, reason, gone: true });
    return true;
  }

  async close(appid: number, roomId: string, reason: number): Promise<boolean> {
    const r = this.all.get(roomKey(appid, roomId));
    if (!r) return false;
    this.publish(r, { k: 'close', ev: ++r.ev, reason });
    return true;
  }

  async rooms(appid?: number): Promise<RoomSummary[]> {
    const out: RoomSummary[] = [];
    for (const r of this.all.values())
      if (appid === undefined || r.appid === appid)
        out.push({ appid: r.appid, roomId: r.id, users: r.members.size, streams: r.streams.size });
    return out;
  }

  stats(): { rooms: number; users: number; streams: number } {
    let users = 0;
    for (const r of this.all.values()) users += r.members.size;
    return { rooms: this.all.size, users, streams: this.streamRooms.size };
  }

  dispose(): void {
    this.all.clear();
    this.streamRooms.clear();
    this.userStreams.clear();
    this.appStreams.clear();
  }
}
