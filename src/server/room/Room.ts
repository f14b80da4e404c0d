/**
 * One room's state: users, streams, sequence numbers, reliable messages and the big-room batch.
 * Pure state plus fan-out through each member's `send`; no socket handling here.
 */
import type { BigImData, TransSeq, UserActionItem, WireStream } from '../../protocol/room';

export interface Member {
  userId: string;
  sessionId: string;
  idName: string;
  nickName: string;
  role: number;
  loginTime: number;
  /** Sends a push to this member: cmd + body, serialised by the member's connection. */
  push(cmd: string, body: unknown, preserialisedBody?: string): void;
}

export interface TransEntry {
  seq: number;
  data: string;
  idName: string;
  nickName: string;
}

export class Room {
  readonly members = new Map<string, Member>(); // by idName
  /** By stream id; the owner is `anchor_id_name` (the publisher's idName). */
  readonly streams = new Map<string, WireStream>();
  streamSeq = 0;
  userSeq = 0;
  msgId = 0;
  bigMsgId = 0;
  readonly trans = new Map<string, TransEntry>();
  private bigBatch: BigImData[] = [];
  private bigTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly id: string,
    private readonly bigimWindowMs: number,
  ) {}

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
    const serialised = JSON.stringify(body);
    for (const m of this.members.values()) if (m !== except) m.push(cmd, body, serialised);
  }

  userAction(m: Member, action: 1 | 2): void {
    this.userSeq++;
    const item: UserActionItem = {
      Action: action,
      IdName: m.idName,
      NickName: m.nickName,
      Role: m.role,
      LoginTime: String(m.loginTime),
    };
    this.broadcast(
      'push_userlist_update',
      { user_actions: [item], user_list_seq: this.userSeq, room_id: this.id },
      m,
    );
  }

  /** Applies a stream change and tells everyone else. */
  streamChange(cmd: 12001 | 12002 | 12003, changed: WireStream[], by?: Member): void {
    this.streamSeq++;
    this.broadcast(
      'push_stream_update',
      { stream_cmd: cmd, stream_seq: this.streamSeq, stream_info: changed },
      by,
    );
  }

  /** Ends every stream a member owns (leave, kick, heartbeat expiry). */
  endStreamsOf(m: Member): void {
    const ended: WireStream[] = [];
    for (const [id, s] of this.streams) {
      if (s.anchor_id_name === m.idName) {
        this.streams.delete(id);
        ended.push(s);
      }
    }
    if (ended.length) this.streamChange(12002, ended, m);
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
    if (this.bigTimer) clearTimeout(this.bigTimer);
    this.bigTimer = null;
  }
}
