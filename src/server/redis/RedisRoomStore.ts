/**
 * The rooms in Redis (many nodes): each RoomStore step is one Lua script (roomScripts.ts) that checks,
 * changes and publishes its event on the room's channel atomically; RedisBus brings the events to every
 * node holding members of the room. A Redis that is down or slow fails the step with StoreUnavailable
 * (1002): the request was not done, and the client may retry it.
 */
import type Redis from 'ioredis';
import { ServerCode } from '../../protocol/errors';
import type { WireStream } from '../../protocol/room';
import { CapFull, takeThen, type CapTake } from '../caps/CapCounters';
import { refusalText } from '../caps/Caps';
import { RedisCapCounters } from './RedisCapCounters';
import { roomScript, ROOM_SCRIPTS, type RoomScript } from './roomScripts';
import {
  RoomRefusal,
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
} from '../room/RoomStore';

type Reply = (string | number | Reply)[];
type Runner = (...args: (string | number)[]) => Promise<Reply>;

/** A flat HGETALL reply as pairs. */
function pairs(flat: unknown): [string, string][] {
  const a = flat as string[];
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < a.length; i += 2) out.push([a[i]!, a[i + 1]!]);
  return out;
}

/** The streams of a room in the order they were listed (HGETALL :s and :sm). */
function streamList(s: unknown, sm: unknown): WireStream[] {
  const order = new Map(pairs(sm).map(([id, m]) => [id, (JSON.parse(m) as { o: number }).o]));
  return pairs(s)
    .sort((a, b) => (order.get(a[0]) ?? 0) - (order.get(b[0]) ?? 0))
    .map(([, w]) => JSON.parse(w) as WireStream);
}

/** The user-list item of a member, after its `{"Action":n,` (the scripts put the action in front). */
function itemRest(m: MemberInfo): string {
  return JSON.stringify({
    IdName: m.idName,
    NickName: m.nickName,
    Role: m.role,
    LoginTime: String(m.loginTime),
  }).slice(1);
}

/** Only what every node may know of a member (a node's Member also holds its socket's functions). */
function memberInfo(m: MemberInfo): MemberInfo {
  const { idName, userId, sessionId, nickName, role, loginTime, userStateFlag, node } = m;
  return { idName, userId, sessionId, nickName, role, loginTime, userStateFlag, node };
}

const CAP_OF_TAG = { user: 'streamsPerUser', app: 'streamsPerApp' } as const;

export class RedisRoomStore implements RoomStore {
  private readonly scripts = {} as Record<RoomScript, Runner>;
  onStream?: StreamChange;
  /** Each step's round trip, seconds (metrics: zego_redis_latency_seconds{op}). */
  onLatency: (op: string, seconds: number) => void = () => {};

  constructor(
    private readonly r: Redis,
    readonly node: string,
    private readonly prefix: string,
    private readonly limits: StoreLimits,
  ) {
    for (const name of Object.keys(ROOM_SCRIPTS) as RoomScript[]) {
      const cmd = `zs_${name}`;
      r.defineCommand(cmd, { numberOfKeys: 0, lua: roomScript(name) });
      this.scripts[name] = (...args) =>
        (r as unknown as Record<string, Runner>)[cmd]!(...args) as Promise<Reply>;
    }
  }

  /** Runs a step; a refusal becomes a RoomRefusal, Redis trouble StoreUnavailable. */
  private async run(
    name: RoomScript,
    appid: number,
    roomId: string,
    ...args: (string | number)[]
  ): Promise<Reply> {
    let r: Reply;
    const t0 = performance.now();
    try {
      r = await this.scripts[name](this.prefix, appid, roomId, ...args);
      this.onLatency(name, (performance.now() - t0) / 1000);
    } catch (e) {
      throw new RoomRefusal(ServerCode.StoreUnavailable, `room state unavailable: ${(e as Error).message}`);
    }
    if (r[0] === 'W') {
      this.tellStreams(appid, r[1] as string[][]);
      r = r[2] as Reply;
    }
    if (r[0] === 'R') {
      const code = Number(r[1]);
      const tag = String(r[2]);
      if (code === ServerCode.TooManyStreams)
        throw new RoomRefusal(
          code,
          tag === 'room'
            ? `at most ${this.limits.maxStreamsPerRoom} streams per room`
            : refusalText({
                cap: CAP_OF_TAG[tag as 'user' | 'app'],
                limit: tag === 'user' ? this.limits.maxStreamsPerUser : this.limits.maxStreamsPerApp,
              }),
        );
      throw new RoomRefusal(code);
    }
    return r;
  }

  /** Streams a step listed or took off (roomScript's wrapped reply), told under a key Redis numbered. */
  private tellStreams(appid: number, changes: string[][]): void {
    const tell = this.onStream;
    if (!tell) return;
    for (const [kind, roomId, gen, order, wire] of changes)
      tell(appid, roomId!, kind as 'added' | 'removed', JSON.parse(wire!) as WireStream, `${gen}.${order}`);
  }

  private async read<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      throw new RoomRefusal(ServerCode.StoreUnavailable, `room state unavailable: ${(e as Error).message}`);
    }
  }

  /** A snapshot from `snap()` in a script's reply, from index i. */
  private snap(r: Reply, i: number): RoomSnapshot {
    return {
      ev: Number(r[i]),
      streamSeq: Number(r[i + 1]),
      userSeq: Number(r[i + 2]),
      msgId: Number(r[i + 3]),
      bigMsgId: Number(r[i + 4]),
      count: Number(r[i + 5]),
      streams: streamList(r[i + 6], r[i + 7]),
      trans: pairs(r[i + 8]).map(([t, e]) => [t, JSON.parse(e) as TransEntry]),
    };
  }

  /** `after()` in a script's reply, from index i. */
  private after(r: Reply, i: number): StreamsAfter {
    return { seq: Number(r[i]), list: streamList(r[i + 1], r[i + 2]) };
  }

  async join(
    appid: number,
    roomId: string,
    m: MemberInfo,
    mayCreate: boolean,
    take?: CapTake,
  ): Promise<JoinResult> {
    // Caps on this Redis for this node: taken inside the join's script (one round trip per login).
    const fold =
      take?.counters instanceof RedisCapCounters && take.counters.sharesStep(this.r, this.prefix, this.node);
    if (take && !fold) return takeThen(take, () => this.join(appid, roomId, m, mayCreate));
    const rest = itemRest(m);
    const r = await this.run(
      'join',
      appid,
      roomId,
      m.idName,
      JSON.stringify({ ...memberInfo(m), it: rest }),
      rest,
      mayCreate ? '1' : '0',
      this.limits.maxRooms,
      this.limits.maxUsersPerRoom,
      this.node,
      m.sessionId,
      m.role,
      ...(take?.items.flatMap((it) => [it.key, it.limit]) ?? []),
    );
    if (r[0] === 'C') throw new CapFull(take!.items[Number(r[1]) - 1]!);
    if (take) (take.counters as RedisCapCounters).took(take.items);
    const anchor = r[10] ? (JSON.parse(String(r[10])) as MemberInfo) : undefined;
    return {
      ...this.snap(r, 1),
      anchor: anchor && { userId: anchor.userId, idName: anchor.idName, nickName: anchor.nickName },
      previous: r[11] ? (JSON.parse(String(r[11])) as { sessionId: string; node: string }) : undefined,
      created: Number(r[12]) === 1,
      gen: String(r[13] ?? ''),
    };
  }

  async leave(appid: number, roomId: string, idName: string, sessionId: string) {
    const r = await this.run('leave', appid, roomId, idName, sessionId);
    return { left: Number(r[1]) === 1, closed: Number(r[2]) === 1, gen: r[3] ? String(r[3]) : undefined };
  }

  async snapshot(appid: number, roomId: string): Promise<RoomSnapshot | undefined> {
    const r = await this.run('snapshot', appid, roomId);
    return r[0] === 'NONE' ? undefined : this.snap(r, 1);
  }

  async streams(appid: number, roomId: string): Promise<StreamsAfter> {
    return this.after(await this.run('streams', appid, roomId), 1);
  }

  async users(appid: number, roomId: string, from: number, count: number) {
    const r = await this.run('users', appid, roomId, from, count);
    const list = (r[1] as (string | null)[])
      .filter((x): x is string => typeof x === 'string')
      .map((x) => memberInfo(JSON.parse(x) as MemberInfo));
    return { list, total: Number(r[2]), seq: Number(r[3]) };
  }

  async member(appid: number, roomId: string, idName: string): Promise<MemberInfo | undefined> {
    const v = await this.read(this.r.hget(`${this.prefix}rm:${appid}:${roomId}`, idName));
    return v ? memberInfo(JSON.parse(v) as MemberInfo) : undefined;
  }

  async announce(appid: number, roomId: string, by: Actor, s: WireStream) {
    const { maxStreamsPerRoom, maxStreamsPerUser, maxStreamsPerApp } = this.limits;
    const r = await this.run(
      'announce',
      appid,
      roomId,
      by.idName,
      by.sessionId,
      s.stream_id,
      JSON.stringify(s),
      s.extra_info,
      maxStreamsPerRoom,
      maxStreamsPerUser,
      maxStreamsPerApp,
    );
    return { ...this.after(r, 2), changed: Number(r[1]) === 1 };
  }

  async updateExtra(appid: number, roomId: string, by: Actor, streamId: string, extra: string) {
    // A compare-and-set: the stream as read, changed here, written only if nobody changed it meanwhile.
    for (let tries = 0; tries < 5; tries++) {
      const cur = await this.read(this.r.hget(`${this.prefix}rs:${appid}:${roomId}`, streamId));
      if (cur === null) {
        const room = await this.read(this.r.exists(`${this.prefix}r:${appid}:${roomId}`));
        throw new RoomRefusal(room ? ServerCode.StreamNotFound : ServerCode.SessionNotFound);
      }
      const next = JSON.stringify({ ...(JSON.parse(cur) as WireStream), extra_info: extra });
      const r = await this.run('updateExtra', appid, roomId, by.idName, streamId, cur, next, extra);
      if (r[0] !== 'RETRY') return this.after(r, 2);
    }
    throw new RoomRefusal(ServerCode.StoreUnavailable, 'the stream kept changing');
  }

  async unannounce(appid: number, roomId: string, by: Actor, streamId: string) {
    return this.after(await this.run('unannounce', appid, roomId, by.idName, streamId), 2);
  }

  async addServerStream(appid: number, roomId: string, s: WireStream): Promise<boolean> {
    const r = await this.run(
      'addServerStream',
      appid,
      roomId,
      s.stream_id,
      JSON.stringify(s),
      s.anchor_id_name,
    );
    return Number(r[1]) === 1;
  }

  async remove(appid: number, roomId: string, streamId: string, owner?: string): Promise<void> {
    await this.run('remove', appid, roomId, streamId, owner ?? '');
  }

  async endStreamsOf(appid: number, roomId: string, idName: string): Promise<void> {
    await this.run('endStreamsOf', appid, roomId, idName);
  }

  async reannounce(appid: number, roomId: string, streamId: string, owner: string): Promise<void> {
    await this.run('reannounce', appid, roomId, streamId, owner);
  }

  async isListed(appid: number, roomId: string, streamId: string): Promise<boolean> {
    return (await this.read(this.r.hexists(`${this.prefix}rs:${appid}:${roomId}`, streamId))) === 1;
  }

  async whereIs(appid: number, streamId: string) {
    const r = await this.run('whereIs', appid, '', streamId);
    return r[0] === 'NONE' ? undefined : { roomId: String(r[1]), owner: String(r[2]) };
  }

  async chat(appid: number, roomId: string, by: Actor, msg: ChatMsg): Promise<number> {
    const item = JSON.stringify({
      id_name: by.idName,
      nick_name: by.nickName,
      role: by.role,
      msg_category: msg.category,
      msg_type: msg.type,
      msg_content: msg.content,
      send_time: msg.time,
    });
    return Number((await this.run('chat', appid, roomId, by.idName, item))[1]);
  }

  async trans(appid: number, roomId: string, by: Actor, type: string, data: string): Promise<number> {
    return Number((await this.run('trans', appid, roomId, type, data, by.idName, by.nickName))[1]);
  }

  async transFetch(appid: number, roomId: string, type: string): Promise<TransEntry | undefined> {
    const v = String((await this.run('transFetch', appid, roomId, type))[1]);
    return v ? (JSON.parse(v) as TransEntry) : undefined;
  }

  async bigim(appid: number, roomId: string, by: Actor, msgs: BigMsg[], now: number): Promise<string[]> {
    const rests = msgs.map((m) =>
      JSON.stringify({
        id_name: by.idName,
        nick_name: by.nickName,
        msg_category: m.category,
        msg_type: m.type,
        msg_content: m.content,
        send_time: now,
      }).slice(1),
    );
    const first = Number((await this.run('bigim', appid, roomId, now, ...rests))[1]);
    return msgs.map((_, i) => `${now}-${first + i}`);
  }

  async send(appid: number, roomId: string, to: string[], cmd: string, ser: string): Promise<void> {
    await this.run('send', appid, roomId, cmd, ser, JSON.stringify(to));
  }

  async kick(appid: number, roomId: string, idName: string, reason: number): Promise<boolean> {
    return Number((await this.run('kick', appid, roomId, idName, reason))[1]) === 1;
  }

  async close(appid: number, roomId: string, reason: number): Promise<boolean> {
    return Number((await this.run('close', appid, roomId, reason))[1]) === 1;
  }

  async rebuild(appid: number, roomId: string, snap: RoomSnapshot, members: MemberInfo[]): Promise<void> {
    const args: (string | number)[] = [
      snap.ev,
      snap.streamSeq,
      snap.userSeq,
      snap.msgId,
      snap.bigMsgId,
      this.node,
      members.length,
    ];
    for (const m of members) args.push(m.idName, JSON.stringify({ ...memberInfo(m), it: itemRest(m) }));
    args.push(snap.streams.length);
    for (const s of snap.streams) args.push(s.stream_id, JSON.stringify(s), s.anchor_id_name, s.extra_info);
    for (const [type, e] of snap.trans) args.push(type, JSON.stringify(e));
    await this.run('rebuild', appid, roomId, ...args);
  }

  async rooms(appid?: number): Promise<RoomSummary[]> {
    const all = await this.read(this.r.smembers(`${this.prefix}rooms`));
    const mine = all
      .map((k) => {
        const i = k.indexOf(':');
        return { appid: Number(k.slice(0, i)), roomId: k.slice(i + 1) };
      })
      .filter((x) => appid === undefined || x.appid === appid);
    const p = this.r.pipeline();
    for (const x of mine) {
      p.hlen(`${this.prefix}rm:${x.appid}:${x.roomId}`);
      p.hlen(`${this.prefix}rs:${x.appid}:${x.roomId}`);
    }
    const res = (await this.read(p.exec())) ?? [];
    return mine.map((x, i) => ({
      ...x,
      users: Number(res[2 * i]?.[1] ?? 0),
      streams: Number(res[2 * i + 1]?.[1] ?? 0),
    }));
  }

  stats(): { rooms: number; users: number; streams: number } {
    // Every node's view is Redis; what this node holds is LocalRooms' (RoomService.stats).
    return { rooms: 0, users: 0, streams: 0 };
  }

  dispose(): void {}
}
