/**
 * Inbound frame validation: every room frame is checked here before it touches server state.
 * A small declarative table rather than a schema library, so the shim could reuse it without a bundle cost.
 */
import type { RoomCmd } from './room';
import {
  CLIENT_LOG_LINE_BYTES,
  CLIENT_LOG_MAX_LINES,
  MAX_BIGIM_BATCH,
  MAX_ID_BYTES,
  MAX_FRAME_BYTES,
  utf8Length,
} from './constants';

type FieldRule =
  | { t: 'string'; max: number; optional?: boolean; nonEmpty?: boolean }
  | { t: 'int'; min: number; max: number; optional?: boolean }
  | { t: 'strings'; maxItems: number; maxEach: number; optional?: boolean }
  | { t: 'bigmsgs' }
  | { t: 'logs' }
  | { t: 'kvs'; optional: true };

const TEXT = (max: number) => ({ t: 'string', max }) as const;
const INT = (min: number, max: number, optional = false) => ({ t: 'int', min, max, optional }) as const;

/** Per-command body rules. String limits are generous bounds; semantic limits live in the handlers. */
export const BODY_RULES: Record<RoomCmd, Record<string, FieldRule>> = {
  login: {
    id_name: { t: 'string', max: MAX_ID_BYTES, nonEmpty: true },
    nick_name: TEXT(MAX_ID_BYTES),
    role: INT(1, 2),
    token: TEXT(4096),
    version: TEXT(64),
    room_name: { t: 'string', max: MAX_ID_BYTES, nonEmpty: true },
    user_state_flag: INT(0, 1, true),
    room_create_flag: INT(0, 1, true),
    client_type: INT(0, 100, true),
    third_token: { t: 'string', max: 4096, optional: true },
  },
  logout: { reserve: INT(0, 0, true) },
  hb: { reserve: INT(0, 0, true) },
  stream: { sub_cmd: INT(2001, 2003), stream_msg: TEXT(4096) },
  stream_info: { reserve: INT(0, 0, true) },
  user_list: { user_index: INT(0, 10_000_000), sort_type: INT(0, 1, true) },
  custommsg: {
    dest_id_name: { t: 'strings', maxItems: 1000, maxEach: MAX_ID_BYTES },
    custom_msg: TEXT(8192),
  },
  im_chat: { msg_category: INT(0, 1000), msg_type: INT(0, 1000), msg_content: TEXT(8192) },
  trans: {
    trans_type: TEXT(1024),
    trans_data: TEXT(MAX_FRAME_BYTES),
    trans_local_seq: INT(0, 2 ** 31, true),
    trans_channel: { t: 'string', max: 64, optional: true },
  },
  trans_fetch: { trans_type: TEXT(1024), trans_local_seq: INT(0, 2 ** 31) },
  relay: { relay_type: TEXT(1024), relay_data: TEXT(MAX_FRAME_BYTES) },
  bigim_chat: { msgs: { t: 'bigmsgs' } },
  signal: {
    sub_cmd: INT(1001, 1004),
    signal_msg: TEXT(4096),
    dest_id_name: { t: 'strings', maxItems: 100, maxEach: MAX_ID_BYTES },
  },
  webrtc_url: {
    stream_id: { t: 'string', max: MAX_ID_BYTES, nonEmpty: true },
    ptype: { t: 'string', max: 4, nonEmpty: true },
    signals: { t: 'strings', maxItems: 16, maxEach: 1024, optional: true },
    header_kvs: { t: 'kvs', optional: true },
    retry: INT(-1, 1_000_000, true),
  },
  client_log: { logs: { t: 'logs' } },
};

function checkString(v: unknown, max: number): boolean {
  // length > max bytes is impossible to fit; utf8Length only for strings that might.
  return typeof v === 'string' && v.length <= max && utf8Length(v) <= max;
}

/** Returns null when the body is valid for the command, else a message naming the bad field. */
export function validateBody(cmd: RoomCmd, body: unknown): string | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body must be an object';
  const b = body as Record<string, unknown>;
  for (const [field, rule] of Object.entries(BODY_RULES[cmd])) {
    const v = b[field];
    if (v === undefined && 'optional' in rule && rule.optional) continue;
    switch (rule.t) {
      case 'string':
        if (!checkString(v, rule.max)) return `${field} must be a string of at most ${rule.max} bytes`;
        if (rule.nonEmpty && v === '') return `${field} must not be empty`;
        break;
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < rule.min || v > rule.max) {
          return `${field} must be an integer from ${rule.min} to ${rule.max}`;
        }
        break;
      case 'strings':
        if (!Array.isArray(v) || v.length > rule.maxItems || !v.every((s) => checkString(s, rule.maxEach))) {
          return `${field} must be an array of at most ${rule.maxItems} strings`;
        }
        break;
      case 'kvs':
        // 1.12 dispatch: [{key, value}] (the CDN URL for a publish); read by nobody yet, still bounded.
        if (
          !Array.isArray(v) ||
          v.length > 16 ||
          !v.every(
            (kv: unknown) =>
              !!kv &&
              typeof kv === 'object' &&
              checkString((kv as Record<string, unknown>).key, 256) &&
              ((kv as Record<string, unknown>).value === undefined ||
                checkString((kv as Record<string, unknown>).value, 2048)),
          )
        )
          return `${field} must be an array of at most 16 {key, value} strings`;
        break;
      case 'bigmsgs':
        if (!Array.isArray(v) || v.length === 0 || v.length > MAX_BIGIM_BATCH) {
          return `${field} must be an array of 1 to ${MAX_BIGIM_BATCH} messages`;
        }
        for (const m of v as unknown[]) {
          const o = m as Record<string, unknown>;
          if (!o || typeof o !== 'object') return `${field} items must be objects`;
          if (!Number.isInteger(o.msg_category) || !Number.isInteger(o.msg_type))
            return `${field} item category/type must be integers`;
          if (!checkString(o.msg_content, 8192)) return `${field} item msg_content must be a string`;
          // The original sends a string; a number is tolerated. Anything else is refused before any
          // String() could recurse through it.
          const id = o.bigmsg_client_id;
          if (
            id !== undefined &&
            !checkString(id, 128) &&
            !(typeof id === 'number' && Number.isSafeInteger(id))
          )
            return `${field} item bigmsg_client_id must be a string of at most 128 bytes`;
        }
        break;
      case 'logs':
        if (!Array.isArray(v) || v.length === 0 || v.length > CLIENT_LOG_MAX_LINES)
          return `${field} must be an array of 1 to ${CLIENT_LOG_MAX_LINES} lines`;
        for (const l of v as unknown[]) {
          const o = l as Record<string, unknown>;
          if (!o || typeof o !== 'object' || Array.isArray(o)) return `${field} items must be objects`;
          if (!Number.isInteger(o.level) || (o.level as number) < 0 || (o.level as number) > 3)
            return `${field} item level must be an integer from 0 to 3`;
          if (typeof o.time !== 'number' || !Number.isSafeInteger(o.time) || o.time < 0)
            return `${field} item time must be a non-negative integer`;
          if (!checkString(o.text, CLIENT_LOG_LINE_BYTES))
            return `${field} item text must be a string of at most ${CLIENT_LOG_LINE_BYTES} bytes`;
        }
        break;
    }
  }
  return null;
}
