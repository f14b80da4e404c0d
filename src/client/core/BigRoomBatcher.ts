/**
 * sendBigRoomMessage batching, as the original: with no server window (login / heartbeat
 * `bigim_time_window`) a message goes at once; with one, the first message of a window goes at once and
 * later ones are batched (at most MAX_BIGIM_BATCH per bigim_chat) and sent at a random point of the next
 * window. Each message's `bigmsg_client_id` is the next value of the client's local seq; its callbacks get
 * the seq of the bigim_chat request on the room socket (the local one when none went out). The receiving
 * side: big-room messages arrive merged (push_merge_message, sub_cmd 14001), ours left out.
 */
import { MAX_BIGIM_BATCH } from '../../protocol/constants';
import type { BigImChatRsp, BigImData, MergeMsgBody, RoomReqBody } from '../../protocol/room';

type BigImMsg = RoomReqBody<'bigim_chat'>['msgs'][number];
import { parseObject } from './parseObject';
import type { PacingDeps } from './RelayPacer';
import { RequestFailure, type Reply } from './requests';
import { ZegoError } from './ZegoError';

export interface BigRoomDeps extends PacingDeps {
  /** The next value of the client's local seq (shared with requests sent without a socket). */
  nextLocalSeq(): number;
  /** Sends one bigim_chat; `wireSeq` is the request's seq on the room socket, if one exists. */
  send(msgs: BigImMsg[]): { wireSeq: number | undefined; result: Promise<BigImChatRsp> };
}

interface Item {
  msg: BigImMsg;
  seq: number;
  resolve(r: Reply<string>): void;
  reject(e: unknown): void;
}

export class BigRoomBatcher {
  private queue: Item[] = [];
  private timer: unknown = null;
  private lastWindow = -1;

  constructor(private readonly d: BigRoomDeps) {}

  private serverNow(): number {
    return this.d.platform.now() + this.d.serverOffsetMs();
  }

  /** Resolves with (seq, bigmsg_id); rejects with a RequestFailure. */
  submit(category: number, type: number, content: string): Promise<Reply<string>> {
    return new Promise((resolve, reject) => {
      const seq = this.d.nextLocalSeq();
      const item: Item = {
        msg: { msg_category: category, msg_type: type, msg_content: content, bigmsg_client_id: String(seq) },
        seq,
        resolve,
        reject,
      };
      const w = this.d.windowMs();
      if (w <= 0) return this.send([item]);
      const index = Math.floor(this.serverNow() / w);
      if (this.lastWindow < index && this.queue.length === 0) {
        this.lastWindow = index;
        return this.send([item]);
      }
      this.queue.push(item);
      if (this.queue.length === 1 && this.timer === null) this.arm();
    });
  }

  /** release: queued messages are dropped without a callback (as the original). */
  cancel(): void {
    if (this.timer !== null) this.d.platform.clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }

  private arm(): void {
    const w = this.d.windowMs();
    const delay = w > 0 ? w - (this.serverNow() % w) + Math.floor(this.d.platform.random() * (w + 1)) : 0;
    this.timer = this.d.platform.setTimeout(() => {
      this.timer = null;
      const w2 = this.d.windowMs();
      if (w2 > 0) this.lastWindow = Math.floor(this.serverNow() / w2);
      this.send(this.queue.splice(0, MAX_BIGIM_BATCH));
      if (this.queue.length) this.arm();
    }, delay);
  }

  private send(batch: Item[]): void {
    if (!batch.length) return;
    const { wireSeq, result } = this.d.send(batch.map((b) => b.msg));
    if (wireSeq !== undefined) for (const b of batch) b.seq = wireSeq;
    result.then(
      (r) => {
        for (const b of batch) {
          const m = r.msgs.find((x) => x.bigmsg_client_id === b.msg.bigmsg_client_id);
          b.resolve({ seq: b.seq, body: m?.bigmsg_id ?? '' });
        }
      },
      (e: unknown) => {
        for (const b of batch) b.reject(new RequestFailure(ZegoError.from(e), b.seq));
      },
    );
  }
}

/** A big-room message as pages get it (onRecvBigRoomMessage). */
export interface BigRoomMessage {
  idName: string;
  nickName: string;
  messageId: string;
  category: number;
  type: number;
  content: string;
  time: number;
}

/**
 * The big-room batches of a push_merge_message, others' messages only, each with its room (the batch's,
 * else ours); a malformed batch is skipped.
 */
export function receivedBigRoomMessages(
  body: Record<string, unknown>,
  selfIdName: string | undefined,
  roomId: string,
): [BigRoomMessage[], string][] {
  const out: [BigRoomMessage[], string][] = [];
  for (const m of (body.messages as { sub_cmd: number; msg_body: string }[]) || []) {
    if (m.sub_cmd !== 14001) continue;
    const inner = parseObject<MergeMsgBody>(m.msg_body);
    if (!inner || !Array.isArray(inner.msg_data)) continue;
    const list = inner.msg_data
      .filter((d: BigImData) => d.id_name !== selfIdName)
      .map((d: BigImData) => ({
        idName: d.id_name,
        nickName: d.nick_name,
        messageId: d.bigmsg_id,
        category: d.msg_category,
        type: d.msg_type,
        content: d.msg_content,
        time: d.send_time,
      }));
    if (list.length) out.push([list, inner.room_id || roomId]);
  }
  return out;
}
