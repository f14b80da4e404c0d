/**
 * What happens in rooms, for whoever listens outside the room plane (webhooks to the apps' business
 * servers, server/webhooks/). The room plane tells; a listener must return at once and never throw into it
 * (the plane catches and logs anyway): delivery happens elsewhere, off the request path.
 */
import type { WireStream } from '../../protocol/room';

/** Why a user left its room. */
export type LeaveReason =
  /** It logged out. */
  | 'logout'
  /** The operator kicked it, or closed its room (admin API). */
  | 'kicked'
  /** The same user logged in again (a second page, or a reconnect before the old socket was seen to go). */
  | 'replaced'
  /** Nothing heard from it for three heartbeat intervals. */
  | 'heartbeat_timeout'
  /** Its socket closed without a logout (network loss, page closed, server shutdown). */
  | 'connection_lost'
  /** Its node died (no lease renewed): another node let it leave (many nodes). */
  | 'node_lost';

export interface RoomUserRef {
  idName: string;
  nickName: string;
  role: number;
  /** The login's session: keys its logged-in and logged-out events (the same on every node). */
  sessionId?: string;
}

export interface RoomEvents {
  /** `key`: names the room's life the same on every node (Redis: its generation); absent = none. */
  roomCreated(appid: number, roomId: string, key?: string): void;
  roomClosed(appid: number, roomId: string, key?: string): void;
  userLoggedIn(appid: number, roomId: string, user: RoomUserRef): void;
  userLoggedOut(appid: number, roomId: string, user: RoomUserRef, reason: LeaveReason): void;
  /** `key`: names this listing of the stream the same on every node (Redis: room generation and order). */
  streamStarted(appid: number, roomId: string, stream: WireStream, key?: string): void;
  streamStopped(appid: number, roomId: string, stream: WireStream, key?: string): void;
}
