/**
 * Where rooms live: the seam a many-node deployment replaces (`../shared/design/ARCHITECTURE.md`, "Many
 * nodes"). RoomService reaches a room's state only through these operations; each one is atomic (it
 * checks, changes and announces in one step, so two nodes can never both take a stream id or a last
 * place) and tells the room's nodes what changed through the Bus (events.ts).
 *
 * - MemoryRoomStore (one node): the rooms of this process; every step runs synchronously inside the call.
 * - RedisRoomStore (redis/): the rooms in Redis, each step one Lua script that also PUBLISHes its event
 *   on the room's channel; `header` reads this node's mirror of the rooms it has members in.
 *
 * What is not here: sockets and pushes (LocalRooms), grace after a lost socket (Presence), caps on sockets
 * and media (Caps). Stream caps are here: a listed stream is counted against its user and app by the same
 * step that lists it, so a stream and its count cannot part (not even when a node dies).
 */
import type { WireStream } from '../../protocol/room';
import type { CapTake } from '../caps/CapCounters';

/** A member as the room knows it (every node sees the same). */
export interface MemberInfo {
  idName: string;
  userId: string;
  sessionId: string;
  nickName: string;
  role: number;
  loginTime: number;
  /** Asked for user-list pushes (login `user_state_flag: 1`). */
  userStateFlag: boolean;
  /** The node that holds its socket. */
  node: string;
}

/** Who makes a change (its session must still be the member's). */
export interface Actor {
  idName: string;
  nickName: string;
  role: number;
  sessionId: string;
}

export interface TransEntry {
  seq: number;
  data: string;
  idName: string;
  nickName: string;
}

/** A room's state as of one event (`ev`): what a node's mirror of the room starts from. */
export interface RoomSnapshot {
  ev: number;
  streamSeq: number;
  userSeq: number;
  count: number;
  msgId: number;
  bigMsgId: number;
  streams: WireStream[];
  trans: [type: string, entry: TransEntry][];
}

export interface JoinResult extends RoomSnapshot {
  /** `ev` is the join's own event; `userSeq` counts the member's own join. */
  anchor?: { userId: string; idName: string; nickName: string };
  /** The same idName's previous session, replaced (kicked) by this login. */
  previous?: { sessionId: string; node: string };
  /** This join created the room. */
  created?: boolean;
  /** The room's generation (Redis: unique per room created; keys the room's webhook events). */
  gen?: string;
}

/** The stream list after a change, and what the change was. */
export interface StreamsAfter {
  seq: number;
  list: WireStream[];
}

export interface RoomSummary {
  appid: number;
  roomId: string;
  users: number;
  streams: number;
}

export interface StoreLimits {
  maxRooms: number;
  maxUsersPerRoom: number;
  maxStreamsPerRoom: number;
  maxStreamsPerUser: number;
  maxStreamsPerApp: number;
}

/**
 * A step refused: a server code (protocol/errors ServerCode) and the words for the reply. RoomService
 * turns it into the request's error.
 */
export class RoomRefusal extends Error {
  constructor(
    readonly code: number,
    message?: string,
  ) {
    super(message);
  }
}

/** A stream entered or left a room's list (webhooks: room/RoomEvents.ts). */
export type StreamChange = (
  appid: number,
  roomId: string,
  change: 'added' | 'removed',
  s: WireStream,
  /** Names this change the same on every node (Redis: the room's generation and the stream's order). */
  key?: string,
) => void;

export interface RoomStore {
  /** This node's id (members and streams name the node that holds them). */
  readonly node: string;
  /**
   * Told on the node that made the step when a stream enters or leaves a list, whichever path it takes
   * (set by RoomService), whichever path it takes (a room closing takes its streams with it).
   */
  onStream?: StreamChange;
  /**
   * The member joins (the room is created when allowed and under the cap); the same idName's session,
   * if any, is replaced and kicked. Refusals: RoomNotExist, RoomFull.
   *
   * `take`: counters taken in the same step, before the member joins (a login's socket caps: one round
   * trip for both with Redis), all or none; none when the join is refused. A full one refuses the join
   * with CapFull (caps/CapCounters), nothing changed. The caller holds what was taken once this resolves.
   */
  join(
    appid: number,
    roomId: string,
    member: MemberInfo,
    mayCreate: boolean,
    take?: CapTake,
  ): Promise<JoinResult>;
  /**
   * The session leaves (nothing if the idName now has another session). A room left empty is closed
   * with its streams. `closed`: this call closed it.
   */
  leave(
    appid: number,
    roomId: string,
    idName: string,
    sessionId: string,
  ): Promise<{ left: boolean; closed: boolean; gen?: string }>;
  /** The room's state now (a node's mirror catching up after a gap); undefined: no such room. */
  snapshot(appid: number, roomId: string): Promise<RoomSnapshot | undefined>;
  streams(appid: number, roomId: string): Promise<StreamsAfter>;
  users(
    appid: number,
    roomId: string,
    from: number,
    count: number,
  ): Promise<{ list: MemberInfo[]; total: number; seq: number }>;
  member(appid: number, roomId: string, idName: string): Promise<MemberInfo | undefined>;
  /**
   * 2001: lists a stream (or updates its extra info), within the room's, user's and app's caps; a stream id
   * the same user lists in another room of the app moves here. Refusals: StreamExists, TooManyStreams,
   * SessionNotFound.
   */
  announce(
    appid: number,
    roomId: string,
    by: Actor,
    stream: WireStream,
  ): Promise<StreamsAfter & { changed: boolean }>;
  /** 2003 (extra info) by its owner. Refusal: StreamNotFound. */
  updateExtra(
    appid: number,
    roomId: string,
    by: Actor,
    streamId: string,
    extra: string,
  ): Promise<StreamsAfter>;
  /** 2002 by its owner. Refusal: StreamNotFound. */
  unannounce(appid: number, roomId: string, by: Actor, streamId: string): Promise<StreamsAfter>;
  /** A server-made stream (a mix output), not counted under caps: false if no room or the id is taken. */
  addServerStream(appid: number, roomId: string, stream: WireStream): Promise<boolean>;
  /** A stream leaves its room (12002), if listed, and owned by `owner` when given. */
  remove(appid: number, roomId: string, streamId: string, owner?: string): Promise<void>;
  /** The user left for good: its streams leave the room, unless it is a member again. */
  endStreamsOf(appid: number, roomId: string, idName: string): Promise<void>;
  /** The publisher's media is back: the stream is announced again (12001) if its owner still lists it. */
  reannounce(appid: number, roomId: string, streamId: string, owner: string): Promise<void>;
  isListed(appid: number, roomId: string, streamId: string): Promise<boolean>;
  /** The room and owner of a stream id of the app, if listed. */
  whereIs(appid: number, streamId: string): Promise<{ roomId: string; owner: string } | undefined>;
  /** im_chat: the message's id. */
  chat(appid: number, roomId: string, by: Actor, msg: ChatMsg): Promise<number>;
  /** trans: the type's new seq. Refusal: TooManyTransTypes. */
  trans(appid: number, roomId: string, by: Actor, type: string, data: string): Promise<number>;
  transFetch(appid: number, roomId: string, type: string): Promise<TransEntry | undefined>;
  /** bigim_chat: the messages' ids (`${now}-${n}`), in order. */
  bigim(appid: number, roomId: string, by: Actor, msgs: BigMsg[], now: number): Promise<string[]>;
  /** A push to the members named (custom command, signal): `ser` is the serialised body. */
  send(appid: number, roomId: string, to: string[], cmd: string, ser: string): Promise<void>;
  /** Ends a member's session for good (an operator): false if it is not a member. */
  kick(appid: number, roomId: string, idName: string, reason: number): Promise<boolean>;
  /** Closes a room (an operator): every member is kicked for good. False if there is no such room. */
  close(appid: number, roomId: string, reason: number): Promise<boolean>;
  /**
   * Many nodes, after the shared state lost its data (Redis restarted empty): writes back what this node
   * still holds of a room (its members, their streams, the reliable messages and the room's counters as
   * its mirror saw them), without events. Absent in memory (nothing shared to lose).
   */
  rebuild?(appid: number, roomId: string, snap: RoomSnapshot, members: MemberInfo[]): Promise<void>;
  /** Rooms (of one app, or all), with their counts. */
  rooms(appid?: number): Promise<RoomSummary[]>;
  /** What this node sees (health): rooms, users and streams (all of them in memory; Redis: this node's rooms). */
  stats(): { rooms: number; users: number; streams: number };
  dispose(): void;
}

export interface ChatMsg {
  category: number;
  type: number;
  content: string;
  time: number;
}

export interface BigMsg {
  category: number;
  type: number;
  content: string;
}

/** `${appid}\0${roomId}`: a room's key in maps. */
export const roomKey = (appid: number, roomId: string): string => `${appid}\u0000${roomId}`;
