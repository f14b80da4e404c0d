/**
 * The room protocol's request bodies, one schema per command: the server validates every inbound body
 * with these before it touches state, src/protocol/room.ts derives the body types and the command list
 * from them, and the server's handler table is keyed by them (a command without a handler does not
 * compile). String limits are generous bounds; semantic limits (1024-byte custom content, 128-byte
 * reliable type, caps) live in the handlers, which answer them with their own codes.
 *
 * Kept apart from room.ts so the shim, which imports room.ts for types, never bundles the validators.
 */
import {
  CLIENT_LOG_LINE_BYTES,
  CLIENT_LOG_MAX_LINES,
  MAX_BIGIM_BATCH,
  MAX_FRAME_BYTES,
  MAX_ID_BYTES,
} from './constants';
import { s } from './schema';

const id = (o: { nonEmpty?: boolean } = {}) => s.str(MAX_ID_BYTES, o);

export const ROOM_REQUEST_SCHEMAS = {
  login: s.object({
    id_name: id({ nonEmpty: true }),
    nick_name: id(),
    role: s.oneOf([1, 2] as const),
    token: s.str(4096),
    version: s.str(64),
    room_name: id({ nonEmpty: true }),
    user_state_flag: s.oneOf([0, 1] as const).opt(),
    room_create_flag: s.oneOf([0, 1] as const).opt(),
    client_type: s.int(0, 100).opt(),
    third_token: s.str(4096).opt(),
  }),
  logout: s.object({ reserve: s.oneOf([0] as const).opt() }),
  hb: s.object({ reserve: s.oneOf([0] as const).opt() }),
  stream: s.object({
    sub_cmd: s.oneOf([2001, 2002, 2003] as const),
    /** A JSON *string* `{stream_id, extra_info}`. */
    stream_msg: s.str(4096),
  }),
  stream_info: s.object({ reserve: s.oneOf([0] as const).opt() }),
  user_list: s.object({ user_index: s.int(0, 10_000_000), sort_type: s.int(0, 1).opt() }),
  custommsg: s.object({
    dest_id_name: s.array(id(), 1000),
    /** A JSON string `{from_userid, from_username, request_id?, custom_content, room_id?}`. */
    custom_msg: s.str(8192),
  }),
  im_chat: s.object({ msg_category: s.int(0, 1000), msg_type: s.int(0, 1000), msg_content: s.str(8192) }),
  trans: s.object({
    trans_type: s.str(1024),
    trans_data: s.str(MAX_FRAME_BYTES),
    trans_local_seq: s.int(0, 2 ** 31).opt(),
    trans_channel: s.str(64).opt(),
  }),
  trans_fetch: s.object({ trans_type: s.str(1024), trans_local_seq: s.int(0, 2 ** 31) }),
  relay: s.object({ relay_type: s.str(1024), relay_data: s.str(MAX_FRAME_BYTES) }),
  bigim_chat: s.object({
    msgs: s.array(
      s.object({
        msg_category: s.int(-(2 ** 31), 2 ** 31),
        msg_type: s.int(-(2 ** 31), 2 ** 31),
        msg_content: s.str(8192),
        // The original sends a string; a number is tolerated.
        bigmsg_client_id: s.strOrInt(128).opt(),
      }),
      MAX_BIGIM_BATCH,
      1,
    ),
  }),
  signal: s.object({
    sub_cmd: s.oneOf([1001, 1002, 1003, 1004] as const),
    /** A JSON string `{request_id, room_id, from_userid, from_username, to_userid, result?}`. */
    signal_msg: s.str(4096),
    dest_id_name: s.array(id(), 100),
  }),
  /** Dispatch (legacy `webrtc_url`): which media-signalling server to use for a stream. */
  webrtc_url: s.object({
    stream_id: id({ nonEmpty: true }),
    ptype: s.oneOf(['push', 'pull'] as const),
    /** Media-server URLs the client is already connected to. */
    signals: s.array(s.str(1024), 16).opt(),
    /** 1.12: `[{key: "grpc-metadata-push", value: cdnUrl}]`; read by nobody yet, still bounded. */
    header_kvs: s.array(s.object({ key: s.str(256), value: s.str(2048).opt() }), 16).opt(),
    retry: s.int(-1, 1_000_000).opt(),
  }),
  /**
   * Mixing (channel "zeus": start_mix, stop_mix) and CDN relay (channel "media": addpush, delpush,
   * clearpush); `req_body` is a JSON string checked by protocol/bizSchema.ts once parsed.
   */
  biz_channel: s.object({
    channel: s.oneOf(['zeus', 'media'] as const),
    cmd: s.oneOf(['start_mix', 'stop_mix', 'addpush', 'delpush', 'clearpush'] as const),
    req_body: s.str(MAX_FRAME_BYTES),
  }),
  /** Extension: the shim's remote log lines (only when the login reply said `client_log: 1`). */
  client_log: s.object({
    logs: s.array(
      s.object({
        /** 0 debug, 1 info, 2 warn, 3 error. */
        level: s.int(0, 3),
        /** Client clock, ms since the epoch. */
        time: s.int(0, Number.MAX_SAFE_INTEGER),
        text: s.str(CLIENT_LOG_LINE_BYTES),
      }),
      CLIENT_LOG_MAX_LINES,
      1,
    ),
  }),
};

/** Every room command, derived from the schemas (a command is known iff it has a schema). */
export const ROOM_CMDS = Object.keys(ROOM_REQUEST_SCHEMAS) as (keyof typeof ROOM_REQUEST_SCHEMAS)[];
