/**
 * What a room's state change tells the nodes that hold its members (the Bus payload). Every change of a
 * room is one event, numbered by the room's event counter `ev` (one counter per room, incremented by the
 * same atomic step that made the change), so a node can order them, skip the ones a joining member's
 * login reply already covered, and keep its mirror of the room's sequence numbers (hb) in step.
 *
 * Events carry data, not finished pushes: each node builds a push body once and serialises it once for
 * all its members (a big room's fan-out costs one JSON.stringify per node).
 */
import type { BigImData, UserActionItem, WireStream } from '../../protocol/room';

/** A user joined (Action 1) or left (2): user seq, and the room's member count after it. */
export interface UserEvent {
  k: 'user';
  ev: number;
  seq: number;
  count: number;
  item: UserActionItem;
}

/** The stream list changed (12001 added / re-announced, 12002 deleted, 12003 extra info). */
export interface StreamEvent {
  k: 'stream';
  ev: number;
  seq: number;
  cmd: number;
  streams: WireStream[];
  /** The member who made the change hears nothing (its reply told it). */
  except?: string;
}

/** A room message (im_chat): the item without its id, which the step assigned. */
export interface ChatEvent {
  k: 'chat';
  ev: number;
  id: number;
  item: {
    id_name: string;
    nick_name: string;
    role: number;
    msg_category: number;
    msg_type: number;
    msg_content: string;
    send_time: number;
  };
  except: string;
}

/** A reliable message (trans): the latest of its type, with the type's new seq. */
export interface TransEvent {
  k: 'trans';
  ev: number;
  type: string;
  seq: number;
  data: string;
  idName: string;
  nickName: string;
}

/** Big-room messages: each node batches them into one push per window for its members. */
export interface BigEvent {
  k: 'big';
  ev: number;
  items: BigImData[];
}

/** A push to the members named (custom commands, join-live signals), serialised by the sender. */
export interface PushEvent {
  k: 'push';
  ev: number;
  cmd: string;
  ser: string;
  to: string[];
}

/**
 * A session ends by the room's decision: `replaced` = the same idName logged in again (the old socket is
 * kicked, not a departure); `gone` = kicked for good (its streams and media end), e.g. by an operator.
 */
export interface KickEvent {
  k: 'kick';
  ev: number;
  idName: string;
  sessionId: string;
  reason: number;
  gone: boolean;
}

/** The room was closed (an operator): every member is kicked for good. */
export interface CloseEvent {
  k: 'close';
  ev: number;
  /** The push_kickout reason every member hears. */
  reason: number;
}

export type RoomEvent =
  UserEvent | StreamEvent | ChatEvent | TransEvent | BigEvent | PushEvent | KickEvent | CloseEvent;
