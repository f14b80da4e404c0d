/**
 * A logged-in ZegoClient with the media plane on fakes: FakeMediaPlatform as `platform.media`, a
 * FakeMediaServer on `ws://media.test/...`, the room answering `webrtc_url` (dispatch) and `stream`
 * (2001/2002), and every media callback recorded.
 */
import { loggedIn, type Harness, type HarnessOptions } from './clientHarness';
import {
  attachMedia,
  FakeMediaServer,
  FakeVideo,
  type FakeMediaPlatform,
  type FakePeerConnection,
} from './FakeMedia';

export const MEDIA_URL = 'ws://media.test/media';

export const MEDIA_CALLBACKS = [
  'onPublishStateUpdate',
  'onPlayStateUpdate',
  'onPublishQualityUpdate',
  'onPlayQualityUpdate',
  'onRemoteCameraStatusUpdate',
  'onRemoteMicStatusUpdate',
  'onVideoSizeChanged',
] as const;
export type MediaCallbackName = (typeof MEDIA_CALLBACKS)[number];

export interface MediaHarness extends Harness {
  media: FakeMediaPlatform;
  ms: FakeMediaServer;
  /** Arguments of every call of each media callback. */
  mcalls: Record<MediaCallbackName, unknown[][]>;
  /** `stream` requests the room got, as `[sub_cmd, stream_id]`. */
  streamCmds(): [number, string][];
}

export async function mediaHarness(o: HarnessOptions = {}): Promise<MediaHarness> {
  const h = await loggedIn(o);
  const media = attachMedia(h.platform);
  h.server.handlers.webrtc_url = (body) => ({
    err_code: 0,
    stream_id: body.stream_id,
    ptype: body.ptype,
    urls: [MEDIA_URL],
    need_action: 0,
    action_delay: 0,
  });
  let streamSeq = 0;
  h.server.handlers.stream = () => ({ err_code: 0, stream_seq: ++streamSeq });
  const ms = new FakeMediaServer(h.platform);
  const mcalls = {} as Record<MediaCallbackName, unknown[][]>;
  for (const n of MEDIA_CALLBACKS) {
    mcalls[n] = [];
    h.zg[n] = (...a: unknown[]) => mcalls[n].push(a);
  }
  const streamCmds = () =>
    h.server.requests('stream').map((f): [number, string] => {
      const msg = JSON.parse(String(f.body.stream_msg)) as { stream_id: string };
      return [Number(f.body.sub_cmd), msg.stream_id];
    });
  return { ...h, media, ms, mcalls, streamCmds };
}

/** A started preview (audio + video, default quality) on a new FakeVideo. */
export async function withPreview(h: MediaHarness, constraints: object = {}): Promise<FakeVideo> {
  const video = new FakeVideo();
  const ok = jest.fn();
  const err = jest.fn();
  expect(h.zg.startPreview(video.el, { audio: true, video: true, ...constraints }, ok, err)).toBe(true);
  await h.platform.advance(0);
  expect(err).not.toHaveBeenCalled();
  expect(ok).toHaveBeenCalledTimes(1);
  return video;
}

/**
 * Preview, startPublishingStream and a negotiation up to ICE (fake time does not move); then, unless
 * `connect` is false, ICE connects and the room's 2001 reply comes: state 0.
 */
export async function publishing(
  h: MediaHarness,
  streamId = 's1',
  o: { connect?: boolean; preview?: object; extraInfo?: string } = {},
): Promise<{ video: FakeVideo; pc: FakePeerConnection }> {
  const video = await withPreview(h, o.preview);
  expect(h.zg.startPublishingStream(streamId, video.el, o.extraInfo ?? 'extra')).toBe(true);
  await h.platform.advance(0);
  const pc = h.media.pc;
  if (o.connect !== false) {
    pc.setIceState('connected');
    await h.platform.advance(0);
    expect(h.mcalls.onPublishStateUpdate.at(-1)).toEqual([0, streamId, 0]);
  }
  return { video, pc };
}

/** startPlayingStream and a negotiation up to ICE; then, unless `connect` is false, ICE connects: state 0. */
export async function playing(
  h: MediaHarness,
  streamId = 's2',
  o: { connect?: boolean; playType?: string } = {},
): Promise<{ video: FakeVideo; pc: FakePeerConnection }> {
  const video = new FakeVideo();
  const opt = o.playType ? { playType: o.playType } : undefined;
  expect(h.zg.startPlayingStream(streamId, video.el, undefined, opt)).toBe(true);
  await h.platform.advance(0);
  const pc = h.media.pc;
  if (o.connect !== false) {
    pc.setIceState('connected');
    await h.platform.advance(0);
    expect(h.mcalls.onPlayStateUpdate.at(-1)).toEqual([0, streamId, 0]);
  }
  return { video, pc };
}
