/**
 * The legacy room protocol (jZego-rtc 1.x), as spoken on the room WebSocket (`config.server`, our `/ws`).
 * One JSON text frame per message: `{header, body}`. Field names are the legacy ones, typos included
 * (`hearbeat_interval`). See docs/protocol.md and ../shared/reference/legacy-sdk.md section 4.
 *
 * This file is the single typed request map that drives both the client's `request(cmd, body)` and the
 * server's handler table: adding a command here without a server handler is a compile error.
 */

import type { ROOM_REQUEST_SCHEMAS } from './roomSchema';
import type { Infer } from './schema';

/** `Protocol` field of a header. The original SDK sends "req" (and "req_v2" for user_list_v2). */
export type FrameProtocol = 'req' | 'req_v2' | 'rsp' | 'push';

export interface RoomHeader {
  Protocol: FrameProtocol;
  cmd: string;
  /**
   * The application id. The original SDK compares it with `!==` against whatever the page passed to
   * `config` (usually a number), so the server echoes the value exactly as the client sent it.
   */
  appid: number | string;
  /** Per-socket counter starting at 1 for requests; replies echo it; pushes carry 0. */
  seq: number;
  /** Server-assigned user id; empty before login (the original omits it from the login frame). */
  user_id?: string;
  session_id: string;
  room_id: string;
}

export interface RoomFrame<B = unknown> {
  header: RoomHeader;
  body: B;
}

/** Every reply body carries `err_code` (0 = ok) and, on error, an `err_message`. */
export interface ReplyBase {
  err_code: number;
  err_message?: string;
}

/** Stream as carried on the wire (login reply, stream_info, push_stream_update). */
export interface WireStream {
  stream_id: string;
  anchor_id_name: string;
  anchor_nick_name: string;
  extra_info: string;
  stream_gid: string;
  /** Stream number within the room; monotonic, used by the original SDK only for logs. */
  stream_nid?: number;
  urls_flv: string[];
  urls_m3u8: string[];
  urls_rtmp: string[];
  urls_https_flv: string[];
  urls_https_m3u8: string[];
}

export interface AnchorInfo {
  anchor_id: string;
  anchor_id_name: string;
  anchor_nick_name: string;
}

export interface TransSeq {
  trans_type: string;
  trans_seq: number;
}

// ---------------------------------------------------------------------------------------------------------
// Requests (client -> server): the bodies are derived from their schemas (roomSchema.ts, the one
// description the server validates with); replies are described here.
// ---------------------------------------------------------------------------------------------------------

type RequestSchemas = typeof ROOM_REQUEST_SCHEMAS;
export type RoomCmd = keyof RequestSchemas;
/** The body of a request, as its schema admits it. */
export type RoomReqBody<K extends RoomCmd> = Infer<RequestSchemas[K]>;

/** Login flags and the role (legacy values). */
export const Role = { Anchor: 1, Audience: 2 } as const;
/** `client_type` in the login body. */
export const ClientType = { H5: 1, MiniProgram: 2, WebRTC: 3 } as const;
/** `stream` sub_cmd: the publisher's own stream changes. */
export const StreamSubCmd = { Added: 2001, Deleted: 2002, Updated: 2003 } as const;
/** `signal` sub_cmd (join-live). */
export const SignalSubCmd = {
  JoinLiveRequest: 1001,
  JoinLiveResult: 1002,
  JoinLiveInvite: 1003,
  JoinLiveStop: 1004,
} as const;

export interface LoginRsp extends ReplyBase {
  user_id: string;
  session_id: string;
  /** (sic) heartbeat interval in ms. */
  hearbeat_interval: number;
  stream_seq: number;
  stream_info: WireStream[];
  anchor_info: AnchorInfo;
  online_count: number;
  config_info: { log_level: number; log_url: string };
  /** Server clock, ms, as a string. */
  ret_timestamp: string;
  bigim_time_window: number;
  dati_time_window: number;
  cluster_env: number;
  userlist_interval: number;
  userlist_merge_timeout: number;
  /** Extension: current user-list seq, so a client can tell when to refetch. */
  server_user_seq: number;
  /** Extension: current reliable-message seq per type, for catch-up after login and reconnection. */
  trans_seqs: TransSeq[];
  /** Extension: 1 = this server takes `client_log` (the shim's remote log lines); absent = it does not. */
  client_log?: number;
}

export type LogoutRsp = ReplyBase;

export interface HbRsp extends ReplyBase {
  hearbeat_interval: number;
  stream_seq: number;
  server_user_seq: number;
  online_count: number;
  trans_seqs: TransSeq[];
  bigim_time_window: number;
  dati_time_window: number;
}

export interface StreamRsp extends ReplyBase {
  stream_seq: number;
  stream_info?: WireStream[];
}

export interface StreamInfoRsp extends ReplyBase {
  stream_seq: number;
  stream_info: WireStream[];
}

export interface WireUser {
  id_name: string;
  nick_name: string;
  role: number;
}

export interface UserListRsp extends ReplyBase {
  user_baseinfos: WireUser[];
  ret_user_index: number;
  server_user_index: number;
  server_user_seq: number;
}

export type CustomMsgRsp = ReplyBase;

export interface ImChatRsp extends ReplyBase {
  msg_id: number;
}

export interface TransRsp extends ReplyBase {
  trans_type: string;
  trans_seq: number;
}

export interface TransFetchRsp extends ReplyBase {
  trans_type: string;
  trans_seq: number;
  trans_data: string;
  trans_user_idname: string;
  trans_user_nickname?: string;
}

export interface RelayRsp extends ReplyBase {
  relay_result: string;
}

export interface BigImChatRsp extends ReplyBase {
  msgs: { bigmsg_client_id: string; bigmsg_id: string }[];
  bigim_time_window: number;
}

export type SignalRsp = ReplyBase;

/** The signal_msg payload, parsed. */
export interface SignalMsg {
  request_id: string;
  room_id: string;
  from_userid: string;
  from_username: string;
  to_userid?: string;
  result?: number;
}

/** The custom_msg payload, parsed. */
export interface CustomMsgPayload {
  from_userid: string;
  from_username: string;
  custom_content: string;
  request_id?: string;
  room_id?: string;
}

export interface WebrtcUrlRsp extends ReplyBase {
  stream_id: string;
  ptype: 'push' | 'pull';
  urls: string[];
  /** With err_code != 0: 1 = give up, 2 = retry after action_delay ms. */
  need_action: number;
  action_delay: number;
}

/**
 * Extension `client_log`: log lines of the shim (at or above the page's remoteLogLevel), sent only to a
 * server whose login reply had `client_log: 1`. The server writes them to its own log with the appid,
 * room and user of the socket.
 */
/** One shipped log line (the `client_log` body item, as its schema admits it). */
export interface ClientLogLine {
  /** 0 debug, 1 info, 2 warn, 3 error. */
  level: number;
  /** Client clock, ms since the epoch. */
  time: number;
  /** At most CLIENT_LOG_LINE_BYTES (the client cuts longer lines). */
  text: string;
}
export type ClientLogRsp = ReplyBase;

export interface StreamMsgPayload {
  stream_id: string;
  extra_info?: string;
}

/**
 * `biz_channel` reply: `rsp_body` is a JSON string. start_mix: `{play: [{stream_alias, rtmp_url, hls_url,
 * hdl_url}], non_exist_streams: []}`; the media channel: `{code, message}`. On err_code 1000000150 (inputs
 * missing) the error reply carries `rsp_body` too, with `non_exist_streams`.
 */
export interface BizChannelRsp extends ReplyBase {
  cmd: string;
  rsp_body: string;
}

/** One output of a mix in the start_mix reply (1.12.5 reads the first URL of each). */
export interface MixPlayInfo {
  stream_alias: string;
  rtmp_url: string;
  hls_url: string;
  /** HTTP-FLV ("hdl"). */
  hdl_url: string;
}

/** Reply bodies by command. */
export interface RoomReplyMap {
  login: LoginRsp;
  logout: LogoutRsp;
  hb: HbRsp;
  stream: StreamRsp;
  stream_info: StreamInfoRsp;
  user_list: UserListRsp;
  custommsg: CustomMsgRsp;
  im_chat: ImChatRsp;
  trans: TransRsp;
  trans_fetch: TransFetchRsp;
  relay: RelayRsp;
  bigim_chat: BigImChatRsp;
  signal: SignalRsp;
  webrtc_url: WebrtcUrlRsp;
  client_log: ClientLogRsp;
  biz_channel: BizChannelRsp;
}
export type RoomRspBody<K extends RoomCmd> = RoomReplyMap[K];

// ---------------------------------------------------------------------------------------------------------
// Pushes (server -> client)
// ---------------------------------------------------------------------------------------------------------

export interface PushKickout {
  reason: number;
  need_relogin?: number;
}

export interface PushCustomMsg {
  custommsg: string;
}

export interface ChatData {
  id_name: string;
  nick_name: string;
  role: number;
  msg_id: number;
  msg_category: number;
  msg_type: number;
  msg_content: string;
  send_time: number;
}
export interface PushImChat {
  chat_data: ChatData[];
  server_msg_id: number;
  ret_msg_id: number;
}

/** push_userlist_update `Action`. */
export const UserAction = { Join: 1, Leave: 2 } as const;
export interface UserActionItem {
  Action: number;
  IdName: string;
  NickName: string;
  Role: number;
  LoginTime: string;
}
export interface PushUserlistUpdate {
  user_actions: UserActionItem[];
  user_list_seq: number;
  room_id: string;
}

export interface BigImData {
  id_name: string;
  nick_name: string;
  bigmsg_id: string;
  msg_category: number;
  msg_type: number;
  msg_content: string;
  send_time: number;
}
export interface PushMergeMessage {
  messages: { sub_cmd: number; msg_body: string }[];
}
/** `msg_body` of a push_merge_message item with sub_cmd 14001, parsed. */
export interface MergeMsgBody {
  room_id: string;
  msg_data: BigImData[];
}
export const MERGE_SUB_CMD_BIGIM = 14001;

/** push_stream_update `stream_cmd`. */
export const StreamPushCmd = { Added: 12001, Deleted: 12002, Updated: 12003 } as const;
export interface PushStreamUpdate {
  stream_cmd: number;
  stream_seq: number;
  stream_info: WireStream[];
}

export interface PushSignal {
  sub_cmd: number;
  signal_msg: string;
}
/** push_signal sub_cmd = request sub_cmd + 10000. */
export const PUSH_SIGNAL_OFFSET = 10000;

export interface PushTrans {
  trans_type: string;
  trans_seq: number;
  trans_data: string;
  trans_user_idname: string;
  trans_user_nickname?: string;
}

export interface RoomPushMap {
  push_kickout: PushKickout;
  push_custommsg: PushCustomMsg;
  push_im_chat: PushImChat;
  push_userlist_update: PushUserlistUpdate;
  push_merge_message: PushMergeMessage;
  push_stream_update: PushStreamUpdate;
  push_signal: PushSignal;
  push_trans: PushTrans;
}
export type RoomPushCmd = keyof RoomPushMap;
