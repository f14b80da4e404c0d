/**
 * Limits and defaults shared by the shim and the server. The legacy values come from
 * ../shared/reference/legacy-sdk.md sections 4, 6 and 7.
 */

/** Version string our shim reports (`ZegoClient.getCurrentVersion()`) and sends as login `version`. */
export const SDK_VERSION = '1.12.5';

/** Room heartbeat interval the server hands out by default, ms. */
export const DEFAULT_HEARTBEAT_MS = 10_000;
/** The original never beats faster than this, ms. */
export const MIN_HEARTBEAT_MS = 3_000;
/** A client silent for this many heartbeat intervals is removed by the server. */
export const HEARTBEAT_MISSES = 3;

/** Request bookkeeping of the original send queue, ms. */
export const REQUEST_TIMEOUT_MS = 5_000;
export const REQUEST_DROP_MS = 10_000;
export const REQUEST_SWEEP_MS = 2_000;
/** Each login attempt times out after this, ms (LOGIN_TIMEOUT). */
export const LOGIN_TIMEOUT_MS = 10_000;

/** sendRoomMsg: at most one per this many ms (client side, synchronous error). */
export const ROOM_MSG_INTERVAL_MS = 500;

/** sendCustomCommand content limit, bytes (UTF-8). */
export const MAX_CUSTOM_MSG_BYTES = 1024;
/** sendReliableMessage type limit, bytes. */
export const MAX_TRANS_TYPE_BYTES = 128;
/** At most this many reliable-message types per room. */
export const MAX_TRANS_TYPES_PER_ROOM = 10;
/** Big-room messages per bigim_chat request (the original batches at most 20). */
export const MAX_BIGIM_BATCH = 20;
/** Stream extra info limit, bytes (our bound). */
export const MAX_EXTRA_INFO_BYTES = 1024;
/** Ids (room, user, stream) limit, bytes. */
export const MAX_ID_BYTES = 256;
/** Whole inbound frame limit, bytes: a larger message is refused unread (the socket stays). */
export const MAX_FRAME_BYTES = 64 * 1024;
/**
 * A message larger than this is not even received: the server closes the socket 1009 (ws maxPayload), so
 * the shim refuses to send one (the same "too large" error, without losing its socket).
 */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Big-room batching window the server hands out, ms. */
export const DEFAULT_BIGIM_TIME_WINDOW_MS = 100;
/** User-list actions within this window go out as one push (login `userlist_merge_timeout`), ms. */
export const DEFAULT_USERLIST_MERGE_MS = 100;
/** Relay pacing window the server hands out, ms. */
export const DEFAULT_DATI_TIME_WINDOW_MS = 0;

/** User list page size. */
export const USER_LIST_PAGE = 100;

/**
 * After the server said it shuts down (close 4005), the shim reconnects at once and then every
 * RESTART_RETRY_MS (with jitter up to as much again) for RESTART_WINDOW_MS, before the legacy backoff.
 */
export const RESTART_RETRY_MS = 300;
export const RESTART_WINDOW_MS = 10_000;

/** Default retry budget for room and stream reconnection, seconds. */
export const DEFAULT_RETRY_TIME_S = 300;

/** Bytes of a string once UTF-8 encoded, without TextEncoder (works in every runtime). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** client_log (extension): a line's text, UTF-8 bytes at most (the client cuts longer ones). */
export const CLIENT_LOG_LINE_BYTES = 512;
/** client_log (extension): lines per request at most. */
export const CLIENT_LOG_MAX_LINES = 100;

/** The longest prefix of `s` that fits in `maxBytes` UTF-8 bytes (a surrogate pair is never split). */
export function cutUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes || utf8Length(s) <= maxBytes) return s;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (n + size > maxBytes) return s.slice(0, i);
    n += size;
    if (pair) i++;
  }
  return s;
}
