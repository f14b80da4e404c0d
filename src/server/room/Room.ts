/**
 * One room's state: users, streams, sequence numbers, reliable messages and the big-room batch.
 * Pure state plus fan-out through each member's `send`; no socket handling here.
 */
import {
  StreamPushCmd,
  type BigImData,
  type TransSeq,
  type UserActionItem,
  type WireStream,
} from '../../protocol/room';
import { MemoryBus, type Bus } from './Bus';
import type { TokenPrivileges } from '../auth/roomToken';

export interface Member {
  userId: string;
  sessionId: string;
  idName: string;
  nickName: string;
  role: number;
  loginTime: number;
  /** The member asked for user-list pushes (login `user_state_flag: 1`); only those get them. */
  userStateFlag: boolean;
  /** The room's user seq in this member's login reply (its own join included). */
  joinedUserSeq: number;
  /** What the member's 04 login token allows (auth/roomToken mayPublish); absent = no restriction. */
  privileges?: TokenPrivileges;
  /** Sends a push to this member: cmd + body, serialised by the member's connection. */
  push(cmd: string, body: unknown, preserialisedBody?: string): void;
}

export interface TransEntry {
  seq: number;
  data: string;
  idName: string;
  nickName: string;
}

/** Told when a stream id enters or leaves a room (the app-wide stream index). */
export interface StreamIndex {
  added(streamId: string): void;
  removed(streamId: string): void;
}

export class Room {
  readonly members = new Map<string, Member>(); // by idName
  /** By stream id; the owner is `anchor_id_name` (the publisher's idName). Change it through setStream/deleteStream. */
  readonly streams = new Map<string, WireStream>();
  streamSeq = 0;
  userSeq = 0;
  msgId = 0;
  bigMsgId = 0;
  readonly trans = new Map<string, TransEntry>();
  private bigBatch: BigImData[] = [];
  private bigTimer: ReturnType<typeof setTimeout> | null = null;
  private userBatch: { item: UserActionItem; seq: number }[] = [];
  private userTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Told when a stream enters or leaves the list, with the stream, whichever path it takes (webhooks:
   * room/RoomEvents.ts). Set by the room plane when it creates the room.
   */
  onStream: ((change: 'added' | 'removed', s: WireStream) => void) | null = null;

  constructor(
    readonly id: string,
    private readonly bigimWindowMs: number,
    private readonly userlistMergeMs = 0,
    private readonly index: StreamIndex = { added: () => {}, removed: () => {} },
    /** How pushes reach the members (Bus.ts); by default the members connected to this process. */
    private readonly bus: Bus = new MemoryBus(),
  ) {}

  setStream(s: WireStream): void {
    const added = !this.streams.has(s.stream_id);
    if (added) this.index.added(s.stream_id);
    this.streams.set(s.stream_id, s);
    if (added) this.onStream?.('added', s);
  }

  deleteStream(streamId: string): void {
    const s = this.streams.get(streamId);
    if (!this.streams.delete(streamId)) return;
    this.index.removed(streamId);
    if (s) this.onStream?.('removed', s);
  }

  /** Streams a user lists in this room. */
  streamsOf(idName: string): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.anchor_id_name === idName) n++;
    return n;
  }

  get empty(): boolean {
    return this.members.size === 0;
  }

  anchor(): Member | undefined {
    for (const m of this.members.values()) if (m.role === 1) return m;
    return undefined;
  }

  streamList(): WireStream[] {
    return [...this.streams.values()];
  }

  transSeqs(): TransSeq[] {
    return [...this.trans.entries()].map(([trans_type, e]) => ({ trans_type, trans_seq: e.seq }));
  }

  broadcast(cmd: string, body: unknown, except?: Member): void {
    this.bus.deliver(this, cmd, body, { except });
  }

  /** A push to the members named (custom commands, join-live signals). */
  sendTo(ids: Iterable<string>, cmd: string, body: unknown): void {
    this.bus.deliver(this, cmd, body, { to: ids });
  }

  /**
   * Records a join (1) or leave (2). The push goes only to members who asked for user-list updates, and
   * with a merge window the actions of one window go out as one push (`user_list_seq` is the last
   * action's seq, so a client checks seq = its seq + number of actions).
   */
  userAction(m: Member, action: 1 | 2): void {
    this.userSeq++;
    const item: UserActionItem = {
      Action: action,
      IdName: m.idName,
      NickName: m.nickName,
      Role: m.role,
      LoginTime: String(m.loginTime),
    };
    if (action === 1) m.joinedUserSeq = this.userSeq;
    this.userBatch.push({ item, seq: this.userSeq });
    if (this.userlistMergeMs <= 0) this.flushUsers();
    else if (!this.userTimer) this.userTimer = setTimeout(() => this.flushUsers(), this.userlistMergeMs);
  }

  flushUsers(): void {
    if (this.userTimer) clearTimeout(this.userTimer);
    this.userTimer = null;
    const batch = this.userBatch;
    if (batch.length === 0) return;
    this.userBatch = [];
    // Each member gets the actions after its login seq (its login reply covered the earlier ones and its
    // own join), so `user_list_seq` = its seq + number of actions holds for everyone. Members who joined
    // before the batch share one serialisation.
    const bodies = new Map<number, { body: object; serialised: string } | null>();
    const bodyFrom = (cut: number) => {
      let b = bodies.get(cut);
      if (b === undefined) {
        const actions = batch.filter((x) => x.seq > cut).map((x) => x.item);
        const body = { user_actions: actions, user_list_seq: this.userSeq, room_id: this.id };
        b = actions.length ? { body, serialised: JSON.stringify(body) } : null;
        bodies.set(cut, b);
      }
      return b;
    };
    const first = batch[0]!.seq;
    for (const m of this.members.values()) {
      if (!m.userStateFlag) continue;
      const b = bodyFrom(m.joinedUserSeq < first ? first - 1 : m.joinedUserSeq);
      if (b)
        this.bus.deliver(this, 'push_userlist_update', b.body, { to: [m.idName], serialised: b.serialised });
    }
  }

  /** Applies a stream change and tells everyone else. */
  streamChange(
    cmd: (typeof StreamPushCmd)[keyof typeof StreamPushCmd],
    changed: WireStream[],
    by?: Member,
  ): void {
    this.streamSeq++;
    this.broadcast(
      'push_stream_update',
      { stream_cmd: cmd, stream_seq: this.streamSeq, stream_info: changed },
      by,
    );
  }

  /** Ends every stream a user owns (it left: logout, kick, heartbeat expiry, grace over). */
  endStreamsOf(idName: string): void {
    const ended: WireStream[] = [];
    for (const [id, s] of this.streams) {
      if (s.anchor_id_name === idName) {
        this.deleteStream(id);
        ended.push(s);
      }
    }
    if (ended.length) this.streamChange(StreamPushCmd.Deleted, ended, this.members.get(idName));
  }

  /** Queues a big-room message; one push_merge_message per window goes to every member. */
  addBigMessage(d: BigImData): void {
    this.bigBatch.push(d);
    if (!this.bigTimer) this.bigTimer = setTimeout(() => this.flushBig(), this.bigimWindowMs);
  }

  flushBig(): void {
    if (this.bigTimer) clearTimeout(this.bigTimer);
    this.bigTimer = null;
    if (this.bigBatch.length === 0) return;
    const msgBody = JSON.stringify({ room_id: this.id, msg_data: this.bigBatch });
    this.bigBatch = [];
    this.broadcast('push_merge_message', { messages: [{ sub_cmd: 14001, msg_body: msgBody }] });
  }

  dispose(): void {
    for (const id of [...this.streams.keys()]) this.deleteStream(id);
    if (this.bigTimer) clearTimeout(this.bigTimer);
    if (this.userTimer) clearTimeout(this.userTimer);
    this.bigTimer = this.userTimer = null;
  }
}
