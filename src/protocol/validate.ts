/**
 * Inbound frame validation: every room and media request body is checked against its schema
 * (roomSchema.ts, mediaSchema.ts) before it touches server state. Returns null when valid, else what is
 * wrong (a message naming the bad field; `tooLarge` when a string or list is only over its bound).
 */
import type { MediaRequest } from './media';
import { MEDIA_REQUEST_SCHEMAS } from './mediaSchema';
import type { RoomCmd } from './room';
import { ROOM_REQUEST_SCHEMAS } from './roomSchema';
import { checkBody, type Fault } from './schema';

export function validateBody(cmd: RoomCmd, body: unknown): Fault | null {
  return checkBody(ROOM_REQUEST_SCHEMAS[cmd], body);
}

export function validateMediaBody(cmd: MediaRequest, body: unknown): Fault | null {
  return checkBody(MEDIA_REQUEST_SCHEMAS[cmd], body);
}
