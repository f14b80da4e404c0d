/**
 * The one error table. Two families:
 *  - client errors: the legacy `{code, msg}` objects the page sees (`code` is a legacy string such as
 *    `ZegoClient.Error.Timeout`);
 *  - server codes: the numeric `err_code` of a reply body on the room wire.
 * Every entry is documented in docs/errors.md; spec/unit/errors-doc.test.ts checks that.
 */

/** The legacy error shape handed to page callbacks. */
export interface LegacyError {
  code: string;
  msg: string;
}

/** Legacy client error codes (section 5 of the API reference, plus the publish/play families). */
export const ClientErrorCode = {
  Success: 'ZegoClient.Success',
  Param: 'ZegoClient.Error.Param',
  Timeout: 'ZegoClient.Error.Timeout',
  Network: 'ZegoClient.Error.Network',
  Kickout: 'ZegoClient.Error.Kickout',
  Server: 'ZegoClient.Error.Server',
  Unknown: 'ZegoClient.Error.Unknown',
  /** (sic) the original spells the frequency-limit code without the F. */
  FrequencyLimited: 'ZegoClient.Error.requencyLimited',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Numeric `err_code` values our room server puts in reply bodies. */
export const ServerCode = {
  OK: 0,
  /** Frame is not JSON or not `{header, body}`. */
  Json: 1,
  /** A second login on a socket that is already logging in. */
  LoginInProgress: 1001,
  /**
   * The room state is out of reach for now (Redis, with many nodes, down or too slow): the request was not
   * done. The legacy "liveroom request error": a login that gets it is retried by both SDKs.
   */
  StoreUnavailable: 1002,
  /** Request needs a logged-in session (or the header does not match it). */
  BadLoginState: 1006,
  /** Login token does not verify. */
  TokenError: 1008,
  /** Dispatch (`webrtc_url`): this deployment has no media server (Janus disabled or down). */
  DispatchError: 1009,
  /** Login token verified but `expired` is in the past. */
  TokenExpired: 1010,
  /** Unknown `cmd`. */
  UnknownCmd: 1000000001,
  /** Body fails validation (missing field, wrong type, out of range). */
  InvalidBody: 1000000002,
  /** Too many requests from this socket; the request was not executed. */
  RateLimited: 1000000004,
  /** A message or field is larger than its limit (custom command 1024 bytes, reliable type 128 bytes...). */
  TooLarge: 1000000005,
  /** A room may hold at most 10 reliable-message types. */
  TooManyTransTypes: 1000000006,
  /** Relay: the app has no relayUrl, or the business server failed / timed out. */
  RelayFailed: 1000000008,
  /** loginWithAuthor: the app's thirdTokenUrl rejected the third token, or did not answer in time. */
  ThirdTokenRejected: 1000000009,
  /** `audienceCreateRoom:false`: an audience member may not create a room that does not exist. */
  RoomNotExist: 1000000010,
  /** Another user already publishes this stream id in the room. */
  StreamExists: 1000000011,
  /** 2002/2003 on a stream this user does not publish. */
  StreamNotFound: 1000000012,
  /** The room's limits were reached (users per room, rooms per server). */
  RoomFull: 1000000013,
  /** Stream caps reached: `room.maxStreamsPerUser` or `room.maxStreamsPerRoom`. */
  TooManyStreams: 1000000014,
  /** The login token does not allow this (token04 privilege or stream id list). */
  NotAllowed: 1000000015,
  /** stop_mix / update: no mix task with that output (or it belongs to another user). */
  MixNotFound: 1000000016,
  /** A mixing or relay cap was reached (`mix.maxTasksPerApp`, `mix.maxInputs`, `relay.maxTargetsPerStream`...). */
  MixLimit: 1000000017,
  /** Mixing or relay is off on this server (no media plane, no ffmpeg, no origin) or failed to start. */
  MixUnavailable: 1000000018,
  /** publishTarget / cdnUrl / outputUrl: the push URL is not allowed (not our origin, not in relay.allowHosts). */
  PushRefused: 1000000019,
  /** publishTarget on a stream this user does not publish. */
  PushNotPublisher: 1000000020,
  /** start_mix: some inputs are not published (legacy code; `rsp_body.non_exist_streams` lists them). */
  MixInputsMissing: 1000000150,
  /**
   * A socket through the cloud proxy carries no valid proxy token (setCloudProxyConfig): absent, malformed,
   * not signed with the app's AppSign, or for another app.
   */
  ProxyTokenError: 1000000021,
  /** The cloud-proxy token verified but its expiry has passed. */
  ProxyTokenExpired: 1000000022,
  /** Logged-in sockets of the user or the app at their cap (limits.maxSocketsPerUser / PerApp). */
  TooManySockets: 1000000023,
  /** hb or a request on a session the server no longer knows: the original SDK re-logs in on this code. */
  SessionNotFound: 1000000152,
  /** Internal server error. */
  Internal: 1000000999,
} as const;
export type ServerCode = (typeof ServerCode)[keyof typeof ServerCode];

/** Human-readable names for server codes, used in `err_message` and in client `msg` strings. */
export const SERVER_CODE_MESSAGES: Record<number, string> = {
  [ServerCode.OK]: 'ok',
  [ServerCode.Json]: 'json error',
  [ServerCode.LoginInProgress]: 'login in progress',
  [ServerCode.StoreUnavailable]: 'liveroom request error (room state unavailable)',
  [ServerCode.BadLoginState]: 'bad login state',
  [ServerCode.TokenError]: 'token error',
  [ServerCode.DispatchError]: 'dispatch error',
  [ServerCode.TokenExpired]: 'token expired',
  [ServerCode.UnknownCmd]: 'unknown command',
  [ServerCode.InvalidBody]: 'invalid request body',
  [ServerCode.RateLimited]: 'too many requests',
  [ServerCode.TooLarge]: 'message too large',
  [ServerCode.TooManyTransTypes]: 'too many reliable message types in room',
  [ServerCode.RelayFailed]: 'relay to business server failed',
  [ServerCode.ThirdTokenRejected]: 'third token rejected',
  [ServerCode.RoomNotExist]: 'room does not exist and audience may not create it',
  [ServerCode.StreamExists]: 'stream id already published by another user',
  [ServerCode.StreamNotFound]: 'stream not found',
  [ServerCode.RoomFull]: 'room or server is full',
  [ServerCode.TooManyStreams]: 'too many streams',
  [ServerCode.NotAllowed]: 'not allowed by the login token',
  [ServerCode.MixNotFound]: 'no such mix task',
  [ServerCode.MixLimit]: 'mixing or relay limit reached',
  [ServerCode.MixUnavailable]: 'mixing and relay unavailable',
  [ServerCode.PushRefused]: 'push url not allowed',
  [ServerCode.PushNotPublisher]: 'stream not published by this user',
  [ServerCode.MixInputsMissing]: 'mix input streams not found',
  [ServerCode.ProxyTokenError]: 'proxy token error',
  [ServerCode.ProxyTokenExpired]: 'proxy token expired',
  [ServerCode.TooManySockets]: 'too many connections for this user or app',
  [ServerCode.SessionNotFound]: 'session not found',
  [ServerCode.Internal]: 'internal server error',
};

/** Server codes after which the client must not retry the login (legacy 1.12 list, section 6). */
export const NO_RETRY_LOGIN_CODES: ReadonlySet<number> = new Set([
  1008,
  1010,
  1011,
  1013,
  1014,
  1015,
  1016,
  1017,
  1018,
  1019,
  1020,
  1021,
  1023,
  1000002002,
  1000005030,
  1000005035,
  ServerCode.ThirdTokenRejected,
  ServerCode.RoomNotExist,
  ServerCode.NotAllowed,
  ServerCode.ProxyTokenError,
  ServerCode.ProxyTokenExpired,
]);

/** WebSocket close codes our server uses, with reasons. 4000-4999 is the application range. */
export const CloseCode = {
  Normal: 1000,
  /** Frame exceeds maxFrameBytes (ws itself closes with 1009 for oversize). */
  TooBig: 1009,
  /** The client kept flooding after rate-limit errors. */
  Flood: 4001,
  /** Heartbeat expired. */
  HeartbeatTimeout: 4002,
  /** Kicked out (a second login with the same idName). */
  Kickout: 4003,
  /** Repeated malformed frames. */
  Malformed: 4004,
  /**
   * The server is shutting down (a restart, a deploy): reconnect now, not after the backoff (the shim
   * retries at once and then every few hundred ms for a while; another node or the restarted one takes it).
   */
  Shutdown: 4005,
  /** No login within the login deadline after connecting. */
  LoginTimeout: 4006,
  /** The client does not read what it is sent: its outbound queue passed `limits.maxOutboundBytes`. */
  SlowReader: 4007,
  /** A logged-in media socket stayed without a session longer than `media.idleTimeoutMs`. */
  Idle: 4008,
} as const;

/**
 * The message text for a server code, with the legacy " code:N" suffix: the server's `err_message` (our
 * server always sends one, from SERVER_CODE_MESSAGES), else the original's generic words. The table stays
 * on the server's side: the global script has a 40 KiB budget.
 */
export function serverErrorMessage(errCode: number, serverMessage?: string): string {
  const name = serverMessage || (errCode > 1000000000 ? 'liveroom cmd error' : 'unknown error');
  return `${name} code:${errCode}`;
}

/**
 * Publish / play error codes (seed sections 2.8 and 2.11, prefixes `ZegoPublish` / `ZegoPlay`) with the
 * 1.12 messages. `RetryTimeout` (retries exhausted) is the 1.12 code beyond the seed list.
 */
export const MEDIA_ERRORS = {
  DispatchError: ['Error.Dispatch', 'dispatch request error'],
  DispatchTimeout: ['Timeout.Dispatch', 'dispatch request timeout'],
  Token: ['Error.Token', 'login token error'],
  SessionTimeout: ['Timeout.Session', 'send session request timeout'],
  SessionError: ['Error.Session', 'create session error'],
  CreateOffer: ['Error.CreateOffer', 'create offer error'],
  CreateAnswer: ['Error.CreateAnswer', 'create answer error'],
  LocalDesc: ['Error.LocalDesc', 'setLocalDescription error'],
  DescTimeout: ['Timeout.Desc', 'send mediaDesc timeout'],
  ServerAnswerTimeout: ['Timeout.ServerAnswer', 'waiting server mediaDesc timeout'],
  ServerAnswerError: ['Error.ServerAnswer', 'server mediaDesc type error'],
  RemoteDesc: ['Error.RemoteDesc', 'other side offer error'],
  RemoteOfferTimeout: ['Timeout.RemoteOffer', 'waiting server mediaDesc timeout'],
  RemoteOfferError: ['Error.RemoteOffer', 'other side offer error'],
  CandidateTimeout: ['Timeout.Candidate', 'send candidate timeout'],
  ServerCandidateTimeout: ['Timeout.ServerCandidate', 'waiting candidate timeout'],
  ServerCandidateError: ['Error.ServerCandidate', 'recv candidate error'],
  ConnectionFailed: ['Error.ConnectionFailed', 'ice Connection state failed'],
  ConnectionClosed: ['Error.ConnectionClosed', 'ice connection state closed'],
  SessionClosed: ['Error.SessionClosed', 'server session closed'],
  SocketError: ['Error.SocketError', 'network error'],
  RetryTimeout: ['Error.RetryTimeout', 'retry timeout'],
} as const;
export type MediaErrorKind = keyof typeof MEDIA_ERRORS;

/** `{code, msg}` for a publish (`ZegoPublish.*`) or play (`ZegoPlay.*`) error. */
export function mediaError(kind: MediaErrorKind, publish: boolean, detail?: string): LegacyError {
  const [suffix, msg] = MEDIA_ERRORS[kind];
  return {
    code: `${publish ? 'ZegoPublish' : 'ZegoPlay'}.${suffix}`,
    msg: detail ? `${msg}: ${detail}` : msg,
  };
}
