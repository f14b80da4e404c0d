/**
 * Device control on fakes: enableCamera / enableMicrophone (track.enabled and StreamStatusNotify to
 * players), the player's onRemoteCameraStatusUpdate / onRemoteMicStatusUpdate, and switchDevice
 * (replaceTrack, no renegotiation).
 */
import { FakeMediaStream, FakeVideo } from '../../fakes/FakeMedia';
import { mediaHarness, playing, publishing, withPreview } from '../../fakes/mediaHarness';

const statusFrames = (h: Awaited<ReturnType<typeof mediaHarness>>) =>
  h.ms.sent('StreamStatusNotify').map((f) => [f.header.session_id, f.body]);

test('enableCamera / enableMicrophone: false for a non-boolean or an element without preview', async () => {
  const h = await mediaHarness();
  const video = await withPreview(h);
  expect(h.zg.enableCamera(video.el, 'false' as unknown as boolean)).toBe(false);
  expect(h.zg.enableCamera(video.el, 0 as unknown as boolean)).toBe(false);
  expect(h.zg.enableMicrophone(video.el, undefined as unknown as boolean)).toBe(false);
  expect(h.zg.enableCamera(new FakeVideo().el, false)).toBe(false);
  expect(h.zg.enableMicrophone(new FakeVideo().el, false)).toBe(false);
});

test('enableCamera(video, false) while publishing: true, the track is disabled, StreamStatusNotify {camera 2, mic 0}', async () => {
  const h = await mediaHarness();
  const { video } = await publishing(h);
  const sid = h.ms.session.id;
  const stream = video.srcObject as FakeMediaStream;
  expect(statusFrames(h)).toEqual([]);
  expect(h.zg.enableCamera(video.el, false)).toBe(true);
  expect(stream.getVideoTracks()[0]!.enabled).toBe(false);
  expect(stream.getAudioTracks()[0]!.enabled).toBe(true);
  expect(statusFrames(h)).toEqual([[sid, { camera_status: 2, mic_status: 0 }]]);
  expect(h.zg.enableMicrophone(video.el, false)).toBe(true);
  expect(stream.getAudioTracks()[0]!.enabled).toBe(false);
  expect(h.zg.enableCamera(video.el, true)).toBe(true);
  expect(stream.getVideoTracks()[0]!.enabled).toBe(true);
  expect(statusFrames(h)).toEqual([
    [sid, { camera_status: 2, mic_status: 0 }],
    [sid, { camera_status: 2, mic_status: 2 }],
    [sid, { camera_status: 0, mic_status: 2 }],
  ]);
});

test('a camera turned off before publishing: the status goes once the stream has started', async () => {
  const h = await mediaHarness();
  const video = await withPreview(h);
  expect(h.zg.enableCamera(video.el, false)).toBe(true);
  expect(h.zg.startPublishingStream('s1', video.el)).toBe(true);
  await h.platform.advance(0);
  expect(statusFrames(h)).toEqual([]);
  h.media.pc.setIceState('connected');
  await h.platform.advance(0);
  expect(h.mcalls.onPublishStateUpdate).toEqual([[0, 's1', 0]]);
  expect(statusFrames(h)).toEqual([[h.ms.session.id, { camera_status: 2, mic_status: 0 }]]);
});

test('player: StreamStatusNotifyPush -> onRemoteCameraStatusUpdate / onRemoteMicStatusUpdate only on change; acked', async () => {
  const h = await mediaHarness();
  await playing(h);
  const s = h.ms.session;
  h.ms.streamStatus(s, 2, 0);
  await h.platform.advance(0);
  expect(h.mcalls.onRemoteCameraStatusUpdate).toEqual([['s2', 2]]);
  // (Whether the first push also reports the unchanged mic is left open: see the report.)
  const mics = h.mcalls.onRemoteMicStatusUpdate.length;
  h.ms.streamStatus(s, 2, 0);
  await h.platform.advance(0);
  expect(h.mcalls.onRemoteCameraStatusUpdate).toEqual([['s2', 2]]);
  expect(h.mcalls.onRemoteMicStatusUpdate).toHaveLength(mics);
  h.ms.streamStatus(s, 0, 2);
  await h.platform.advance(0);
  expect(h.mcalls.onRemoteCameraStatusUpdate).toEqual([
    ['s2', 2],
    ['s2', 0],
  ]);
  expect(h.mcalls.onRemoteMicStatusUpdate.slice(mics)).toEqual([['s2', 2]]);
  expect(h.ms.sent('StreamStatusNotifyAck').map((f) => f.header.session_id)).toEqual([s.id, s.id, s.id]);
});

test('switchDevice(video): a new capture of that device, sender.replaceTrack, no new offer', async () => {
  const h = await mediaHarness();
  const { video, pc } = await publishing(h);
  const stream = video.srcObject as FakeMediaStream;
  const [oldAudio, oldVideo] = [stream.getAudioTracks()[0]!, stream.getVideoTracks()[0]!];
  const [audioSender, videoSender] = pc.getSenders();
  expect(videoSender!.track).toBe(oldVideo);
  const ok = jest.fn();
  const err = jest.fn();
  expect(h.zg.switchDevice('video', video.el, 'cam2', ok, err)).toBe(true);
  await h.platform.advance(0);
  expect(err).not.toHaveBeenCalled();
  expect(ok.mock.calls).toEqual([[]]);
  expect(h.media.gumCalls.at(-1)).toEqual({
    video: { deviceId: { exact: 'cam2' }, width: 640, height: 480, frameRate: 15 },
  });
  const fresh = h.media.tracks.at(-1)!;
  expect(fresh.kind).toBe('video');
  expect(fresh.deviceId).toBe('cam2');
  expect(videoSender!.replaced).toEqual([fresh]);
  expect(videoSender!.track).toBe(fresh);
  expect(audioSender!.replaced).toEqual([]);
  expect(oldVideo.readyState).toBe('ended');
  expect(oldAudio.readyState).toBe('live');
  expect(stream.getTracks()).toEqual([oldAudio, fresh]);
  // No renegotiation.
  expect(h.media.pcs).toHaveLength(1);
  expect(pc.calls.filter((c) => c === 'createOffer')).toHaveLength(1);
  expect(h.ms.sent('MediaDescReq')).toHaveLength(1);
  expect(h.mcalls.onPublishStateUpdate).toEqual([[0, 's1', 0]]);
});

test('switchDevice(audio) keeps the mute state on the new track', async () => {
  const h = await mediaHarness();
  const { video, pc } = await publishing(h);
  h.zg.enableMicrophone(video.el, false);
  const ok = jest.fn();
  expect(h.zg.switchDevice('audio', video.el, 'mic2', ok)).toBe(true);
  await h.platform.advance(0);
  expect(h.media.gumCalls.at(-1)).toEqual({ audio: { deviceId: { exact: 'mic2' } } });
  const fresh = h.media.tracks.at(-1)!;
  expect(fresh.enabled).toBe(false);
  expect(pc.getSenders()[0]!.track).toBe(fresh);
  expect(ok).toHaveBeenCalledTimes(1);
});

test('switchDevice: false for a bad kind or device id; error without a preview on the element', async () => {
  const h = await mediaHarness();
  const video = await withPreview(h);
  expect(h.zg.switchDevice('screen' as 'video', video.el, 'cam2')).toBe(false);
  expect(h.zg.switchDevice('video', video.el, 2 as unknown as string)).toBe(false);
  const ok = jest.fn();
  const err = jest.fn();
  expect(h.zg.switchDevice('video', new FakeVideo().el, 'cam2', ok, err)).toBe(true);
  await h.platform.advance(0);
  expect(ok).not.toHaveBeenCalled();
  expect(err).toHaveBeenCalledTimes(1);
  expect(String(err.mock.calls[0]![0])).toContain('no preview');
});
