/**
 * The legacy media-signalling protocol (jZego-rtc 1.x), as spoken on the media WebSocket our dispatch
 * hands out (`/media`). One JSON text frame per message `{header, body}`; requests `<Name>Req` get
 * `<Name>Rsp` with the same seq; server pushes `<Name>Push` are acknowledged with `<Name>Ack` echoing the
 * push's seq. See docs/protocol.md and ../shared/reference/legacy-sdk.md section 5.
 *
 * Extension (marked in docs): `negotiate_mode: 1` in CreateSessionReq for play = the server offers (Janus
 * is the offerer for subscribers) and the client answers with MediaDescReq type 1.
 */
import type { MEDIA_REQUEST_SCHEMAS } from './mediaSchema';
import type { Infer } from './schema';

export const MEDIA_HEADER_VERSION = '1.0.1';

export interface MediaHeader {
  version: string;
  cmd: string;
  /** The original sends it as a string. */
  appid: string | number;
  seq: number;
  /** The user's idName. */
  user_id: string;
  /** The media session the frame is about (0 / '' when none). */
  session_id: string | number;
}

export interface MediaFrame<B = Record<string, unknown>> {
  header: MediaHeader;
  body: B;
}

/** `result` values in replies and pushes. */
export const MediaResult = {
  Ok: 0,
  /** Token bad or expired. */
  TokenError: 1,
  /** Bad request body. */
  BadRequest: 2,
  /** Not logged in on this socket. */
  NotLoggedIn: 3,
  /** Session unknown. */
  NoSession: 4,
  /** The SFU is unavailable or refused. */
  MediaServer: 5,
  /** Play: no such stream is being published. */
  StreamNotFound: 6,
  /** Play with negotiate_mode 0 (client offers) when the app does not allow it (clientOfferPlay). */
  OfferNotSupported: 7,
  /** Stream authentication (streamParams) failed. */
  StreamAuth: 8,
  /** Publish: the stream id is already published by someone else. */
  StreamExists: 9,
  /** Too many requests or sessions. */
  Limited: 10,
  /**
   * Play: the stream is listed in the room but its media is not live (its publisher is connecting, or
   * coming back after a loss): retry shortly (`retry_after_ms`), it is not an error.
   */
  NotYet: 11,
  /** Play through the bridge: the player's offer has no codec the stream can go out as. */
  NoCommonCodec: 12,
} as const;

export const MEDIA_RESULT_MESSAGES: Record<number, string> = {
  [MediaResult.TokenError]: 'token error',
  [MediaResult.BadRequest]: 'bad request',
  [MediaResult.NotLoggedIn]: 'not logged in',
  [MediaResult.NoSession]: 'no such session',
  [MediaResult.MediaServer]: 'media server unavailable',
  [MediaResult.StreamNotFound]: 'stream not found',
  [MediaResult.OfferNotSupported]:
    'play needs negotiate_mode 1 (the server offers): client-offer play is off for this app (clientOfferPlay)',
  [MediaResult.StreamAuth]: 'stream authentication failed',
  [MediaResult.StreamExists]: 'stream already published',
  [MediaResult.Limited]: 'limit reached',
  [MediaResult.NotYet]: 'stream not live yet: retry shortly',
  [MediaResult.NoCommonCodec]: 'no codec in common between the offer and the stream',
};

/** CloseSessionPush reasons. */
export const CloseReason = {
  Normal: 0,
  Error: 1,
  /** The media server restarted: the client should publish / play again. */
  MediaServerRestart: 2,
  /** The room session ended (logout, kick, heartbeat expiry). */
  RoomLeft: 3,
  /** The published stream a player was watching ended. */
  StreamEnded: 4,
  /**
   * To a player that offered (the original SDK, through the bridge): play again. One of the reasons
   * jZego-rtc 1.12.5 retries (state 2); it sends `reason 2` to a final error instead.
   */
  PlayAgain: 10,
} as const;

/**
 * Extension push (session_id 0): the media server is back after a loss that reset this socket's sessions
 * (SessionResetPush). A client retrying them retries now instead of waiting out its backoff.
 */
export const MEDIA_READY_PUSH = 'MediaReadyPush';
/**
 * Push to a publisher (session id in the header) once its media is up in the SFU: `{event: 0}`. The
 * original SDK reports onPublishStateUpdate(0) only after both ICE connected and this push.
 */
export const PUBLISH_EVENT_PUSH = 'PublishEventPush';
/** How soon a player told NotYet asks again, ms (CreateSessionRsp `retry_after_ms`). */
export const NOT_YET_RETRY_MS = 500;

type RequestSchemas = typeof MEDIA_REQUEST_SCHEMAS;
/** Client -> server requests (the reply is the same name with Rsp; StreamStatusNotify -> StreamStatusNotifyRsp). */
export type MediaRequest = keyof RequestSchemas;
/** The body of a media request, as its schema admits it. */
export type MediaReqBody<K extends MediaRequest> = Infer<RequestSchemas[K]>;
export type LoginReqBody = MediaReqBody<'LoginReq'>;
export type CreateSessionReqBody = MediaReqBody<'CreateSessionReq'>;
export type MediaDescBody = MediaReqBody<'MediaDescReq'>;
export type CandidateInfo = MediaReqBody<'CandidateInfoReq'>['infos'][number];
export type StreamStatusBody = MediaReqBody<'StreamStatusNotify'>;

export interface LoginRspBody {
  result: number;
  /** Media heartbeat interval, ms. */
  hb_interval: number;
  report: boolean;
  report_interval_ms: number;
}
export interface CreateSessionRspBody {
  result: number;
  session_id: number;
  session_token: string;
  /** The preferred TURN URL ('' = none). */
  turn_server: string;
  /** The original SDK puts it beside turn_server in one relay ICE server: our server sends a 2nd TURN URL. */
  stun_server: string;
  /** TURN REST username `<expiry>:<user>`. */
  turn_username: string;
  /** TURN REST credential base64(HMAC-SHA1(secret, username)). */
  turn_auth_key: string;
  /** Extension: every TURN URL, in order of preference (the shim uses them all). */
  turn_urls?: string[];
  /** Extension: 1 = this app sends media only through TURN (iceTransportPolicy 'relay'). */
  relay_only?: number;
}

/** The ICE fields of a CreateSessionRsp. */
export type IceFields = Pick<
  CreateSessionRspBody,
  'turn_server' | 'stun_server' | 'turn_username' | 'turn_auth_key' | 'turn_urls' | 'relay_only'
>;
/** Every other reply carries `result` and, on error, `err_info`. */
export interface MediaReplyBase {
  result: number;
  err_info?: string;
}

/** Reply bodies by request. */
export interface MediaReplyMap {
  LoginReq: LoginRspBody;
  CreateSessionReq: CreateSessionRspBody;
  MediaDescReq: MediaReplyBase;
  CandidateInfoReq: MediaReplyBase;
  CloseSessionReq: MediaReplyBase;
  ClientHBReq: MediaReplyBase & { hb_interval?: number };
  StreamStatusNotify: MediaReplyBase;
  QualityReportReq: MediaReplyBase;
}

/** Client -> server acknowledgements of pushes (no reply). */
export const MEDIA_ACKS = [
  'MediaDescAck',
  'CandidateInfoAck',
  'CloseSessionAck',
  'SessionResetAck',
  'StreamStatusNotifyAck',
] as const;

export function replyName(cmd: string): string {
  if (cmd === 'StreamStatusNotify') return 'StreamStatusNotifyRsp';
  return cmd.replace(/Req$/, 'Rsp');
}
