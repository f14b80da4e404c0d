/**
 * What the operator's tools (the admin API, the /admin page) may see and do, as one interface over the
 * planes. Every call is asynchronous and scoped to one app: today one node answers from its memory; a
 * many-node deployment answers for every node (a shared store, or asking the other nodes) behind the
 * same interface, so the HTTP side never changes.
 *
 * Lists come back whole, in a stable order (rooms and users by id); the HTTP side pages them.
 */
import type { AdminResponse } from '../../protocol/adminApi';

export type AdminUser = AdminResponse<'list-users'>['users'][number];
export type AdminStream = AdminResponse<'list-streams'>['streams'][number];
export type AdminTask = AdminResponse<'overview'>['tasks'][number];
export type AdminNode = AdminResponse<'overview'>['nodes'][number];

export interface AdminRoomSummary {
  roomId: string;
  users: number;
  streams: number;
}

/** A message sent as the server: who pages see as its sender. */
export interface ServerSender {
  idName: string;
  nickName: string;
}

/** The room plane's part: rooms, users, streams, and acting on them. */
export interface RoomAdmin {
  rooms(appid: number): Promise<AdminRoomSummary[]>;
  /** A room's users; null when there is no such room. */
  users(appid: number, roomId: string): Promise<AdminUser[] | null>;
  /** The streams of a room (null: no such room), or of the whole app (roomId undefined). */
  streams(appid: number, roomId?: string): Promise<AdminStream[] | null>;
  /** Kicks a user (push_kickout, then its socket closes as gone for good); false when not in the room. */
  kick(appid: number, roomId: string, idName: string, reason: number): Promise<boolean>;
  /** Kicks everyone and ends every stream; null when there is no such room. */
  closeRoom(
    appid: number,
    roomId: string,
    reason: number,
  ): Promise<{ users: number; streams: number } | null>;
  /** Takes a stream out of its room's list (12002 to the others); its room id, or null if not listed. */
  unlistStream(appid: number, streamId: string): Promise<string | null>;
  /** A room message from the server to every member; null when there is no such room. */
  sendRoomMessage(
    appid: number,
    roomId: string,
    m: { content: string; category: number; type: number; from: ServerSender },
  ): Promise<{ msgId: number; recipients: number } | null>;
  /** A custom command from the server to the named members (every member without `to`). */
  sendCustomCommand(
    appid: number,
    roomId: string,
    m: { content: string; to?: readonly string[]; from: ServerSender },
  ): Promise<{ recipients: number } | null>;
  /** Counts of the app (what the samples and the node list show). */
  counts(appid: number): Promise<{ rooms: number; users: number; streams: number }>;
}

/** Everything the operator's tools use: the room plane, plus what media and live production add. */
export interface AdminView extends RoomAdmin {
  /** Ends a stream: its publisher's media session is closed and it leaves its room; its room id or null. */
  endStream(appid: number, streamId: string): Promise<string | null>;
  /** Mix tasks, relays and bridged players of the app. */
  tasks(appid: number): Promise<AdminTask[]>;
  /** The nodes serving the app, with its counts on each. */
  nodes(appid: number): Promise<AdminNode[]>;
}
