/**
 * The bodies of `biz_channel` (legacy-sdk.md section 4): the room command carries `{channel, cmd, req_body}`
 * where `req_body` is a JSON *string*; these schemas check what is inside it once parsed. Channel "zeus":
 * `start_mix` / `stop_mix` (updateMixStream / stopMixStream); channel "media": `addpush` / `delpush` /
 * `clearpush` (publishTarget). Field names are 1.12.5's: `MixInput`, `MixOutput`, `UserData`, and the
 * background colour and image at the top level of the body, not in `MixOutput`, as 1.12.5 sends them.
 *
 * Server-only (the shim imports the types from biz.ts, never these validators).
 */
import { MAX_ID_BYTES } from './constants';
import { s, type Infer } from './schema';

/** Inputs one start_mix may name on the wire (the server's own cap, `mix.maxInputs`, is lower). */
export const MAX_MIX_INPUTS_WIRE = 16;
/** A push or mix URL, bytes. */
export const MAX_PUSH_URL_BYTES = 1024;
/** Output sizes, pixels, and frame rate bounds a mix may ask for. */
export const MIX_LIMITS = { maxSide: 1920, maxFps: 30, maxBitrate: 10_000_000 } as const;

const id = (o: { nonEmpty?: boolean } = {}) => s.str(MAX_ID_BYTES, o);
/** 1.12.5 writes whatever the page gave; a position is an integer pixel offset. */
const px = () => s.int(0, 10_000);

export const BIZ_BODY_SCHEMAS = {
  start_mix: s.object({
    id_name: id().opt(),
    live_channel: id().opt(),
    UserData: s.str(10_000).opt(),
    MixInput: s.array(
      s.object({
        stream_id: id({ nonEmpty: true }),
        rect: s.object({ layer: s.int(0, 1000).opt(), top: px(), left: px(), bottom: px(), right: px() }),
      }),
      MAX_MIX_INPUTS_WIRE,
    ),
    MixOutput: s.array(
      s.object({
        stream_id: id().opt(),
        mixurl: s.str(MAX_PUSH_URL_BYTES).opt(),
        bitrate: s.int(1, MIX_LIMITS.maxBitrate),
        fps: s.int(1, MIX_LIMITS.maxFps),
        width: s.int(1, MIX_LIMITS.maxSide),
        height: s.int(1, MIX_LIMITS.maxSide),
        /** 0 HE-AAC, 1 AAC-LC, 2 MP3, 3 Opus (seed 1.31); we encode AAC-LC for 0-2. */
        audio_enc_id: s.int(0, 3).opt(),
        audio_bitrate: s.int(0, 512_000).opt(),
        audio_channel_cnt: s.int(1, 2).opt(),
        testenv: s.int(0, 1).opt(),
      }),
      1,
      1,
    ),
    /** 0xRRGGBBxx. */
    output_bg_color: s.int(0, 0xffffffff).opt(),
    output_bg_image: s.str(256, { prefix: 'preset-id://' }).opt(),
    extra_params: s.array(s.object({ key: s.str(64), value: s.str(256) }), 16).opt(),
  }),
  stop_mix: s.object({
    id_name: id().opt(),
    live_channel: id().opt(),
    stream_id: id().opt(),
    mixurl: s.str(MAX_PUSH_URL_BYTES).opt(),
  }),
  /** addpush / delpush / clearpush share one body (clearpush ignores `pushurl`). */
  push: s.object({
    stream_id: id({ nonEmpty: true }),
    pushurl: s.str(MAX_PUSH_URL_BYTES),
    biz_type: s.int(0, 100).opt(),
    timestamp: s.int(0, 2 ** 40).opt(),
    seq: s.int(0, 2 ** 40).opt(),
  }),
};

export type StartMixBody = Infer<typeof BIZ_BODY_SCHEMAS.start_mix>;
export type StopMixBody = Infer<typeof BIZ_BODY_SCHEMAS.stop_mix>;
export type PushBody = Infer<typeof BIZ_BODY_SCHEMAS.push>;
