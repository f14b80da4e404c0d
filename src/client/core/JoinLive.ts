/**
 * The join-live (co-hosting) signals, over the room's `signal` command and its `push_signal`:
 * request (1001) and invite (1003) carry a fresh request id and wait for the peer's result (1002, which
 * may never come: the original kept the callback forever); respond answers a request or invite that
 * arrived; end (1004) stops a co-host. Pushes come back with sub_cmd + 10000.
 */
import type { RoomReqBody, SignalMsg } from '../../protocol/room';
import { parseObject } from './parseObject';
import type { Reply } from './requests';

/** `signal` sub_cmd values (join-live request, result, invite, stop). */
type SignalSub = RoomReqBody<'signal'>['sub_cmd'];

export interface JoinLiveAnswer {
  accepted: boolean;
  from: string;
  fromName: string;
}

/** A request or invite that arrived: (requestId, from, fromName, roomId). */
export type JoinLiveNotice = [requestId: string, from: string, fromName: string, roomId: string];

export interface JoinLiveDeps {
  /** Who we are (config), null before config. */
  me(): { idName: string; nickName: string } | null;
  /** The room id our socket's headers carry. */
  roomId(): string;
  /** The next "{idName}-N" request id (shared with custom commands). */
  nextRequestId(): string;
  send(subCmd: SignalSub, dest: string, signalMsg: string): Promise<Reply<unknown>>;
  request(...n: JoinLiveNotice): void;
  invite(...n: JoinLiveNotice): void;
  end(...n: JoinLiveNotice): void;
}

export class JoinLive {
  /** Our requests / invites waiting for their result, by request id. */
  private readonly waiting = new Map<string, (a: JoinLiveAnswer) => void>();
  /** Requests / invites that arrived, by request id -> who sent them (respondJoinLive needs it). */
  private readonly received = new Map<string, string>();

  constructor(private readonly d: JoinLiveDeps) {}

  private signal(subCmd: SignalSub, dest: string, requestId: string, extra: Partial<SignalMsg> = {}) {
    const me = this.d.me()!;
    const msg: SignalMsg = {
      request_id: requestId,
      room_id: this.d.roomId(),
      from_userid: me.idName,
      from_username: me.nickName,
      to_userid: dest,
      ...extra,
    };
    return this.d.send(subCmd, dest, JSON.stringify(msg));
  }

  /** requestJoinLive (1001) / inviteJoinLive (1003); null before config. */
  ask(
    kind: 'request' | 'invite',
    dest: string,
  ): { sent: Promise<Reply<unknown>>; answer: Promise<JoinLiveAnswer> } | null {
    if (!this.d.me()) return null;
    const requestId = this.d.nextRequestId();
    const answer = new Promise<JoinLiveAnswer>((resolve) => this.waiting.set(requestId, resolve));
    return { sent: this.signal(kind === 'request' ? 1001 : 1003, dest, requestId), answer };
  }

  /** respondJoinLive (1002); null for a request id that never arrived (or was answered). */
  respond(requestId: string, accept: boolean): Promise<Reply<unknown>> | null {
    const from = this.received.get(requestId);
    if (from === undefined) return null;
    this.received.delete(requestId);
    return this.signal(1002, from, requestId, { result: accept ? 1 : 0 });
  }

  /** endJoinLive (1004); null before config. */
  end(dest: string): Promise<Reply<unknown>> | null {
    if (!this.d.me()) return null;
    return this.signal(1004, dest, this.d.nextRequestId());
  }

  /** push_signal. */
  onPush(body: Record<string, unknown>): void {
    const m = parseObject<SignalMsg>(body.signal_msg);
    if (!m) return; // a malformed payload from a peer: nothing to tell
    const notice: JoinLiveNotice = [m.request_id, m.from_userid, m.from_username, m.room_id];
    switch (Number(body.sub_cmd)) {
      case 11001:
        this.received.set(m.request_id, m.from_userid);
        return this.d.request(...notice);
      case 11003:
        this.received.set(m.request_id, m.from_userid);
        return this.d.invite(...notice);
      case 11002: {
        const done = this.waiting.get(m.request_id);
        this.waiting.delete(m.request_id);
        done?.({ accepted: m.result === 1, from: m.from_userid, fromName: m.from_username });
        return;
      }
      case 11004:
        return this.d.end(...notice);
    }
  }
}
