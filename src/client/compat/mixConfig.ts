/**
 * updateMixStream's config as the start_mix body 1.12.5 sends (legacy-sdk.md section 4): `MixInput` in
 * list order (layer = index), one `MixOutput`, and the background colour and image at the top level of the
 * body, where 1.12.5 puts them. null where 1.12.5 returns false without sending: no output, no input, a
 * missing bitrate / fps / width / height, a colour that is not a number, an image not `preset-id://...`.
 */
import { parseObject } from '../core/parseObject';

/** The mixStreamConfig of updateMixStream / stopMixStream (seed 1.31, 1.32). */
export interface MixStreamConfig {
  outputStreamId?: string;
  outputUrl?: string;
  outputBitrate?: number;
  outputFps?: number;
  outputWidth?: number;
  outputHeight?: number;
  outputAudioConfig?: number;
  outputAudioBitrate?: number;
  outputAudioChannels?: number;
  outputBgColor?: number;
  outputBgImage?: string;
  userData?: string;
  streamList?: { streamId: string; top: number; left: number; bottom: number; right: number }[];
  extraParams?: { key: string; value: string }[];
}

/** The output of a mix config: stream id first, as 1.12.5 (`stream_id` or `mixurl`); null without one. */
export function mixOutput(c: MixStreamConfig): { stream_id: string } | { mixurl: string } | null {
  if (c.outputStreamId != null) return { stream_id: c.outputStreamId };
  return c.outputUrl != null ? { mixurl: c.outputUrl } : null;
}

export function startMixBody(c: MixStreamConfig): object | null {
  const out = mixOutput(c);
  const list = c.streamList;
  if (!out || !Array.isArray(list) || !list.length) return null;
  if (!c.outputBitrate || !c.outputFps || !c.outputWidth || !c.outputHeight) return null;
  if (c.outputBgColor && typeof c.outputBgColor !== 'number') return null;
  const img = c.outputBgImage;
  if (img && (typeof img !== 'string' || img.indexOf('preset-id://'))) return null;
  // What the server reads: 1.12.5 also sends UserData, testenv, audio_enc_id (the codecs are AAC for the CDN
  // outputs and Opus for the room stream, whatever it says) and the session's ids, which nobody reads.
  return {
    MixInput: list.map((s, layer) => ({
      stream_id: s.streamId,
      rect: { layer, top: s.top, left: s.left, bottom: s.bottom, right: s.right },
    })),
    MixOutput: [
      {
        ...out,
        bitrate: c.outputBitrate,
        fps: c.outputFps,
        width: c.outputWidth,
        height: c.outputHeight,
        audio_bitrate: c.outputAudioBitrate || undefined,
        audio_channel_cnt: c.outputAudioChannels || undefined,
      },
    ],
    output_bg_color: c.outputBgColor || undefined,
    output_bg_image: img || undefined,
    extra_params: c.extraParams,
  };
}

/** The success arguments' info list: 1.12.5 makes each URL a one-item list, or null when empty. */
export function mixInfos(rsp: Record<string, unknown>) {
  const one = (u: unknown) => (typeof u === 'string' && u ? [u] : null);
  const play = Array.isArray(rsp.play) ? (rsp.play as Record<string, unknown>[]) : [];
  return play.map((p) => ({ rtmpUrls: one(p.rtmp_url), hlsUrls: one(p.hls_url), flvUrls: one(p.hdl_url) }));
}

/** The streams named by a 1000000150 error reply's rsp_body (what 1.12.5 passes as errorInfo). */
export function missingInputs(reply: Record<string, unknown> | undefined): string[] {
  const l = parseObject<{ non_exist_streams?: unknown }>(reply?.rsp_body)?.non_exist_streams;
  return Array.isArray(l) ? l.filter((x): x is string => typeof x === 'string') : [];
}
