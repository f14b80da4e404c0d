/**
 * Inbound frame validation: every room and media request body is checked against its schema
 * (roomSchema.ts, mediaSchema.ts) before it touches server state. Returns null when valid, else a
 * message naming the bad field.
 */
import type { MediaRequest } from './media';
import { MEDIA_REQUEST_SCHEMAS } from './mediaSchema';
import type { RoomCmd } from './room';
import { ROOM_REQUEST_SCHEMAS } from './roomSchema';
import { checkBody } from './schema';

export function validateBody(cmd: RoomCmd, body: unknown): string | null {
  return checkBody(ROOM_REQUEST_SCHEMAS[cmd], body);
}

export function validateMediaBody(cmd: MediaRequest, body: unknown): string | null {
  return checkBody(MEDIA_REQUEST_SCHEMAS[cmd], body);
}
