/**
 * The legacy media-signalling protocol (jZego-rtc 1.x), as spoken on the media WebSocket our dispatch
 * hands out (`/media`). One JSON text frame per message `{header, body}`; requests `<Name>Req` get
 * `<Name>Rsp` with the same seq; server pushes `<Name>Push` are acknowledged with `<Name>Ack` echoing the
 * push's seq. See docs/protocol.md and ../shared/reference/legacy-sdk.md section 5.
 *
 * Extension (marked in docs): `negotiate_mode: 1` in CreateSessionReq for play = the server offers (Janus
 * is the offerer for subscribers) and the client answers with MediaDescReq type 1.
 */
import { MAX_ID_BYTES, utf8Length } from './constants';

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
  /** Play with negotiate_mode 0 (client offers): our SFU always offers to players. */
  OfferNotSupported: 7,
  /** Stream authentication (streamParams) failed. */
  StreamAuth: 8,
  /** Publish: the stream id is already published by someone else. */
  StreamExists: 9,
  /** Too many requests or sessions. */
  Limited: 10,
} as const;

export const MEDIA_RESULT_MESSAGES: Record<number, string> = {
  [MediaResult.TokenError]: 'token error',
  [MediaResult.BadRequest]: 'bad request',
  [MediaResult.NotLoggedIn]: 'not logged in',
  [MediaResult.NoSession]: 'no such session',
  [MediaResult.MediaServer]: 'media server unavailable',
  [MediaResult.StreamNotFound]: 'stream not found',
  [MediaResult.OfferNotSupported]:
    'play needs negotiate_mode 1 (the server offers); this server cannot answer a player offer',
  [MediaResult.StreamAuth]: 'stream authentication failed',
  [MediaResult.StreamExists]: 'stream already published',
  [MediaResult.Limited]: 'limit reached',
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
} as const;

export interface LoginReqBody {
  token: string;
  tokenType?: number;
  roomid?: string;
  anchorname?: string;
  sdkversion?: string;
}
export interface LoginRspBody {
  result: number;
  /** Media heartbeat interval, ms. */
  hb_interval: number;
  report: boolean;
  report_interval_ms: number;
}

export interface CreateSessionReqBody {
  /** 0 publish, 1 play. */
  type: 0 | 1;
  stream_id: string;
  /** 0: the client offers (the original, always). 1: the server offers (extension, play only). */
  negotiate_mode?: number;
  /** streamParams of the page (zg_expired=…&zg_nonce=…&zg_token=…). */
  strAuthParam?: string;
}
export interface CreateSessionRspBody {
  result: number;
  session_id: number;
  session_token: string;
  turn_server: string;
  stun_server: string;
  turn_username: string;
  turn_auth_key: string;
}

/** type 0 = offer, 1 = answer. */
export interface MediaDescBody {
  type: 0 | 1;
  sdp: string;
  width?: number;
  height?: number;
  framerate?: number;
  video_min_kpbs?: number;
  video_max_kpbs?: number;
  audio_kpbs?: number;
}

export interface CandidateInfo {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

export interface StreamStatusBody {
  /** 0 on, 2 off (legacy values). */
  camera_status: number;
  mic_status: number;
}

/** Client -> server requests (the reply is the same name with Rsp). */
export const MEDIA_REQUESTS = [
  'LoginReq',
  'CreateSessionReq',
  'MediaDescReq',
  'CandidateInfoReq',
  'CloseSessionReq',
  'ClientHBReq',
  'StreamStatusNotify',
  'QualityReportReq',
] as const;
export type MediaRequest = (typeof MEDIA_REQUESTS)[number];

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

const str = (v: unknown, max: number) => typeof v === 'string' && v.length <= max && utf8Length(v) <= max;
const intIn = (v: unknown, min: number, max: number) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const optInt = (v: unknown, min: number, max: number) => v === undefined || intIn(v, min, max);

/** Max SDP size we accept, bytes. */
export const MAX_SDP_BYTES = 32 * 1024;

/** Returns null when the body is valid for the request, else a message naming the bad field. */
export function validateMediaBody(cmd: MediaRequest, body: unknown): string | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body must be an object';
  const b = body as Record<string, unknown>;
  switch (cmd) {
    case 'LoginReq':
      if (!str(b.token, 4096)) return 'token must be a string of at most 4096 bytes';
      if (b.roomid !== undefined && !str(b.roomid, MAX_ID_BYTES)) return 'roomid too long';
      return null;
    case 'CreateSessionReq':
      if (b.type !== 0 && b.type !== 1) return 'type must be 0 (publish) or 1 (play)';
      if (!str(b.stream_id, MAX_ID_BYTES) || b.stream_id === '')
        return `stream_id must be a non-empty string of at most ${MAX_ID_BYTES} bytes`;
      if (!optInt(b.negotiate_mode, 0, 1)) return 'negotiate_mode must be 0 or 1';
      if (b.strAuthParam !== undefined && !str(b.strAuthParam, 2048)) return 'strAuthParam too long';
      return null;
    case 'MediaDescReq':
      if (b.type !== 0 && b.type !== 1) return 'type must be 0 (offer) or 1 (answer)';
      if (!str(b.sdp, MAX_SDP_BYTES) || !String(b.sdp).startsWith('v=0'))
        return `sdp must be an SDP of at most ${MAX_SDP_BYTES} bytes`;
      return null;
    case 'CandidateInfoReq': {
      if (!Array.isArray(b.infos) || b.infos.length > 64) return 'infos must be an array of at most 64';
      for (const c of b.infos as unknown[]) {
        const o = c as Record<string, unknown>;
        if (!o || typeof o !== 'object' || !str(o.candidate, 1024))
          return 'infos[].candidate must be a string';
        if (o.sdpMLineIndex !== undefined && o.sdpMLineIndex !== null && !intIn(o.sdpMLineIndex, 0, 64))
          return 'infos[].sdpMLineIndex must be an integer';
        if (o.sdpMid !== undefined && o.sdpMid !== null && !str(o.sdpMid, 64))
          return 'infos[].sdpMid must be a string';
      }
      return null;
    }
    case 'CloseSessionReq':
      return optInt(b.reason, 0, 100) ? null : 'reason must be an integer';
    case 'ClientHBReq':
      if (b.session_ids !== undefined && (!Array.isArray(b.session_ids) || b.session_ids.length > 256))
        return 'session_ids must be an array';
      return null;
    case 'StreamStatusNotify':
      if (!optInt(b.camera_status, 0, 10) || !optInt(b.mic_status, 0, 10))
        return 'camera_status / mic_status must be integers';
      return null;
    case 'QualityReportReq':
      return null;
  }
}
