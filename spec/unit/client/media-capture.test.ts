/** startPreview's constraints (src/client/media/capture.ts), directly and through ZegoClient on fakes. */
import { buildConstraints, VIDEO_PRESETS, videoInfoOf } from '../../../src/client/media/capture';
import { FakeMediaStream, FakeVideo } from '../../fakes/FakeMedia';
import { mediaHarness } from '../../fakes/mediaHarness';

const AUDIO_ON = { noiseSuppression: true, autoGainControl: true, echoCancellation: true };

test('presets 1-3: width x height, fps (and kbps for the publish cap)', () => {
  expect(buildConstraints({ video: true, videoQuality: 1 }).video).toEqual({
    width: 240,
    height: 320,
    frameRate: 15,
  });
  expect(buildConstraints({ video: true, videoQuality: 2 }).video).toEqual({
    width: 480,
    height: 640,
    frameRate: 15,
  });
  expect(buildConstraints({ video: true, videoQuality: 3 }).video).toEqual({
    width: 720,
    height: 1280,
    frameRate: 20,
  });
  expect([1, 2, 3].map((q) => videoInfoOf({ videoQuality: q }).bitrate)).toEqual([300, 800, 1500]);
  expect(VIDEO_PRESETS[3]).toEqual({ width: 720, height: 1280, frameRate: 20, bitrate: 1500 });
});

test('quality 4: the custom width / height / frameRate / bitrate (maxBitRate as fallback), defaults for missing ones', () => {
  const o = { video: true, videoQuality: 4, width: 1920, height: 1080, frameRate: 30, bitrate: 2500 };
  expect(buildConstraints(o).video).toEqual({ width: 1920, height: 1080, frameRate: 30 });
  expect(videoInfoOf(o)).toEqual({ width: 1920, height: 1080, frameRate: 30, bitrate: 2500 });
  expect(videoInfoOf({ videoQuality: 4, width: 320, height: 180, frameRate: 10, maxBitRate: 200 })).toEqual({
    width: 320,
    height: 180,
    frameRate: 10,
    bitrate: 200,
  });
  expect(videoInfoOf({ videoQuality: 4 })).toEqual({ width: 640, height: 480, frameRate: 15, bitrate: 800 });
});

test('no (or an unknown) videoQuality: 640x480 at 15 fps, 800 kbps', () => {
  expect(buildConstraints({ video: true }).video).toEqual({ width: 640, height: 480, frameRate: 15 });
  expect(videoInfoOf({})).toEqual({ width: 640, height: 480, frameRate: 15, bitrate: 800 });
  expect(videoInfoOf({ videoQuality: 7 })).toEqual({ width: 640, height: 480, frameRate: 15, bitrate: 800 });
});

test('horizontal: true swaps width and height (presets, custom and default); a non-boolean does not', () => {
  expect(buildConstraints({ video: true, videoQuality: 3, horizontal: true }).video).toEqual({
    width: 1280,
    height: 720,
    frameRate: 20,
  });
  expect(videoInfoOf({ videoQuality: 1, horizontal: true })).toEqual({
    width: 320,
    height: 240,
    frameRate: 15,
    bitrate: 300,
  });
  expect(videoInfoOf({ videoQuality: 4, width: 1920, height: 1080, horizontal: true })).toMatchObject({
    width: 1080,
    height: 1920,
  });
  expect(videoInfoOf({ horizontal: true })).toMatchObject({ width: 480, height: 640 });
  expect(videoInfoOf({ videoQuality: 3, horizontal: 'true' as unknown as boolean })).toMatchObject({
    width: 720,
    height: 1280,
  });
  // The preset table itself is not mutated by a swap.
  expect(VIDEO_PRESETS[1]).toEqual({ width: 240, height: 320, frameRate: 15, bitrate: 300 });
});

test('facingMode wins over videoInput; videoInput alone is an exact deviceId', () => {
  expect(buildConstraints({ video: true, facingMode: 'user', videoInput: 'cam1' }).video).toEqual({
    width: 640,
    height: 480,
    frameRate: 15,
    facingMode: 'user',
  });
  expect(buildConstraints({ video: true, videoInput: 'cam1' }).video).toEqual({
    width: 640,
    height: 480,
    frameRate: 15,
    deviceId: { exact: 'cam1' },
  });
});

test('audio: the three processing flags default to true, each can be turned off; audioInput is an exact deviceId', () => {
  expect(buildConstraints({ audio: true })).toEqual({ audio: AUDIO_ON, video: false });
  expect(buildConstraints({ audio: true, noiseSuppression: false, echoCancellation: false }).audio).toEqual({
    noiseSuppression: false,
    autoGainControl: true,
    echoCancellation: false,
  });
  expect(buildConstraints({ audio: true, audioInput: 'mic1' }).audio).toEqual({
    ...AUDIO_ON,
    deviceId: { exact: 'mic1' },
  });
});

test('audio / video off (or absent) ask for nothing of that kind', () => {
  expect(buildConstraints({})).toEqual({ audio: false, video: false });
  expect(buildConstraints({ audio: false, video: true, videoInput: 'cam2' })).toEqual({
    audio: false,
    video: { width: 640, height: 480, frameRate: 15, deviceId: { exact: 'cam2' } },
  });
});

describe('through ZegoClient', () => {
  test('startPreview hands the built constraints to getUserMedia and shows the stream on the element', async () => {
    const h = await mediaHarness();
    const video = new FakeVideo();
    const ok = jest.fn();
    const err = jest.fn();
    expect(
      h.zg.startPreview(video.el, { audio: true, video: true, videoQuality: 2, videoInput: 'cam2' }, ok, err),
    ).toBe(true);
    await h.platform.advance(0);
    expect(h.media.gumCalls).toEqual([
      { audio: AUDIO_ON, video: { width: 480, height: 640, frameRate: 15, deviceId: { exact: 'cam2' } } },
    ]);
    expect(ok.mock.calls).toEqual([[]]);
    expect(err).not.toHaveBeenCalled();
    expect(video.srcObject).toBeInstanceOf(FakeMediaStream);
    expect((video.srcObject as FakeMediaStream).getTracks().map((t) => t.kind)).toEqual(['audio', 'video']);
    expect(video.plays).toBe(1);
    // stopPreview stops the tracks and clears the element.
    const tracks = (video.srcObject as FakeMediaStream).getTracks();
    expect(h.zg.stopPreview(video.el)).toBe(true);
    expect(tracks.map((t) => t.readyState)).toEqual(['ended', 'ended']);
    expect(video.srcObject).toBeNull();
    expect(h.zg.stopPreview(video.el)).toBe(false);
  });

  test('startPreview: false for a missing element or options; a capture failure reaches error', async () => {
    const h = await mediaHarness();
    expect(h.zg.startPreview(null as unknown as HTMLMediaElement, { video: true })).toBe(false);
    expect(h.zg.startPreview(new FakeVideo().el, null as unknown as object)).toBe(false);
    h.media.gumError = new Error('NotAllowedError');
    const err = jest.fn();
    expect(h.zg.startPreview(new FakeVideo().el, { video: true }, undefined, err)).toBe(true);
    await h.platform.advance(0);
    expect(err.mock.calls).toEqual([[h.media.gumError]]);
  });

  test('enumDevices sorts devices into microphones / speakers / cameras of {label, deviceId}', async () => {
    const h = await mediaHarness();
    const ok = jest.fn();
    h.zg.enumDevices(ok);
    await h.platform.advance(0);
    expect(ok.mock.calls).toEqual([
      [
        {
          microphones: [{ label: 'Mic 1', deviceId: 'mic1' }],
          speakers: [{ label: 'Speaker 1', deviceId: 'spk1' }],
          cameras: [
            { label: 'Cam 1', deviceId: 'cam1' },
            { label: 'Cam 2', deviceId: 'cam2' },
          ],
        },
      ],
    ]);
  });
});
