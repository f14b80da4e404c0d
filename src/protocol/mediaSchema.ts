/**
 * The media-signalling protocol's request bodies, one schema per request: the server validates with
 * them, src/protocol/media.ts derives the body types and the request list from them. Kept apart from
 * media.ts so the shim, which imports media.ts, never bundles the validators.
 */
import { MAX_ID_BYTES } from './constants';
import { s } from './schema';

/** Max SDP size we accept, bytes. */
export const MAX_SDP_BYTES = 32 * 1024;

const candidate = s.object({
  candidate: s.str(1024),
  sdpMid: s.maybe(s.str(64)),
  sdpMLineIndex: s.maybe(s.int(0, 64)),
});

export const MEDIA_REQUEST_SCHEMAS = {
  LoginReq: s.object({
    token: s.str(4096),
    tokenType: s.int(0, 100).opt(),
    roomid: s.str(MAX_ID_BYTES).opt(),
    anchorname: s.str(MAX_ID_BYTES).opt(),
    sdkversion: s.str(64).opt(),
  }),
  CreateSessionReq: s.object({
    /** 0 publish, 1 play. */
    type: s.oneOf([0, 1] as const),
    stream_id: s.str(MAX_ID_BYTES, { nonEmpty: true }),
    /** 0: the client offers (the original, always). 1: the server offers (extension, play only). */
    negotiate_mode: s.oneOf([0, 1] as const).opt(),
    /** streamParams of the page (zg_expired=…&zg_nonce=…&zg_token=…). */
    strAuthParam: s.str(2048).opt(),
  }),
  /** type 0 = offer, 1 = answer. */
  MediaDescReq: s.object({
    type: s.oneOf([0, 1] as const),
    sdp: s.str(MAX_SDP_BYTES, { prefix: 'v=0' }),
    width: s.int(0, 100_000).opt(),
    height: s.int(0, 100_000).opt(),
    framerate: s.int(0, 1000).opt(),
    video_min_kpbs: s.int(0, 1_000_000).opt(),
    video_max_kpbs: s.int(0, 1_000_000).opt(),
    audio_kpbs: s.int(0, 1_000_000).opt(),
  }),
  /** An empty `candidate` is the end of candidates. */
  CandidateInfoReq: s.object({ infos: s.array(candidate, 64) }),
  CloseSessionReq: s.object({ reason: s.int(0, 100).opt() }),
  ClientHBReq: s.object({ session_ids: s.array(s.int(0, Number.MAX_SAFE_INTEGER), 256).opt() }),
  /** 0 on, 2 off (legacy values). */
  StreamStatusNotify: s.object({ camera_status: s.int(0, 10).opt(), mic_status: s.int(0, 10).opt() }),
  /** Quality reports are accepted and not read. */
  QualityReportReq: s.object({}),
};

/** Every media request, derived from the schemas. */
export const MEDIA_REQUESTS = Object.keys(MEDIA_REQUEST_SCHEMAS) as (keyof typeof MEDIA_REQUEST_SCHEMAS)[];
