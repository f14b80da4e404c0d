/**
 * The other media tools on fakes: getAudioInfo's meter (3.5), snapshots (3.6), recording (3.7-3.11),
 * screen sharing (4, 2.23) and the device callbacks (1.9+: devicechange, a capture track ending). Each
 * through its class on fakes, and through the facade for the argument checks and the legacy answers.
 */
import { ZegoClient } from '../../../src/client/compat/ZegoClient';
import { Logger } from '../../../src/client/core/Logger';
import { AudioInfo } from '../../../src/client/media/AudioInfo';
import { Recorder } from '../../../src/client/media/Recorder';
import { saveSnapShot, takeSnapShot } from '../../../src/client/media/Snapshot';
import type { MediaPlatform, Platform } from '../../../src/client/platform/Platform';
import { FakeAudio, type FakeAudioContext } from '../../fakes/FakeAudio';
import { FakeMediaPlatform, FakeMediaStream, FakeMediaStreamTrack, FakeVideo } from '../../fakes/FakeMedia';
import { FakePage } from '../../fakes/FakePage';
import { FakePlatform } from '../../fakes/FakePlatform';
import { mediaHarness, publishing, withPreview, type MediaHarness } from '../../fakes/mediaHarness';

/** A Blob's text (jsdom's Blob has no text()). */
const textOf = (b: Blob): Promise<string> =>
  new Promise((resolve) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.readAsText(b);
  });

const quiet = () => {
  const log = new Logger();
  log.configure({ logLevel: 100 });
  return log;
};

describe('getAudioInfo: the meter', () => {
  function meter(samples: number[] | null) {
    const audio = new FakeAudio();
    const media = { createAudioContext: audio.create } as unknown as MediaPlatform;
    const track = new FakeMediaStreamTrack('audio', 'mic');
    if (samples) audio.setSamples(track, samples);
    const onError = jest.fn();
    const info = new AudioInfo(media, new FakeMediaStream([track]) as unknown as MediaStream, onError);
    return { info, onError, track, ctx: audio.contexts[0] as FakeAudioContext };
  }

  test('instant: RMS of the latest samples; silence 0, a tone its RMS; slow and clip alongside', () => {
    const tone = meter([0.5, -0.5]);
    expect(tone.info.instant).toBeCloseTo(0.5, 6);
    expect(tone.info.slow).toBeCloseTo(0.5, 6);
    expect(tone.info.clip).toBe(0);
    expect(tone.onError).not.toHaveBeenCalled();
    expect(tone.ctx.resumes).toBe(1);
    expect(meter(null).info.instant).toBe(0);
    expect(meter([1, -1, 0, 0]).info.clip).toBe(0.5);
    // Live: a muted track reads 0 from then on.
    tone.track.enabled = false;
    expect(tone.info.instant).toBe(0);
  });

  test('stop() closes its context; a stream without audio or no Web Audio: error(e), the meter reads 0', () => {
    const m = meter([0.5]);
    m.info.stop();
    expect(m.ctx.state).toBe('closed');
    expect(m.info.instant).toBe(0);
    const onError = jest.fn();
    const audio = new FakeAudio();
    const noAudio = new AudioInfo(
      { createAudioContext: audio.create } as unknown as MediaPlatform,
      new FakeMediaStream([new FakeMediaStreamTrack('video')]) as unknown as MediaStream,
      onError,
    );
    expect(String(onError.mock.calls[0]![0])).toContain('no audio track');
    expect(noAudio.instant).toBe(0);
    const none = new AudioInfo(undefined, new FakeMediaStream() as unknown as MediaStream, onError);
    expect(onError).toHaveBeenCalledTimes(2);
    expect(none.instant).toBe(0);
  });

  test('the facade: false for an element without srcObject (1.12.5), never a throw', () => {
    const get = ZegoClient.getAudioInfo as (...a: unknown[]) => unknown;
    expect(get({ srcObject: null }, jest.fn())).toBe(false);
    expect(get(undefined)).toBe(false);
    // jsdom has no Web Audio: the meter comes back and error() says why.
    const error = jest.fn();
    const info = get(
      { srcObject: new FakeMediaStream([new FakeMediaStreamTrack('audio')]) },
      error,
    ) as AudioInfo;
    expect(info.instant).toBe(0);
    expect(error).toHaveBeenCalledTimes(1);
  });
});

describe('snapshots', () => {
  const video = (w: number, h: number) => ({ videoWidth: w, videoHeight: h }) as HTMLVideoElement;

  test("takeSnapShot: the <img> gets a JPEG of the frame at the video's size", () => {
    const page = new FakePage();
    const img = { src: '' } as HTMLImageElement;
    const v = video(640, 480);
    expect(takeSnapShot(page, v, img)).toBe(true);
    expect(img.src).toBe('data:image/jpeg;640x480');
    expect(page.canvases[0]!.drawn).toEqual([{ source: v, w: 640, h: 480 }]);
  });

  test('saveSnapShot: a PNG download named "<name>.png"', async () => {
    const page = new FakePage();
    expect(saveSnapShot(page, video(320, 240), 'snap')).toBe(true);
    expect(page.saves).toMatchObject([{ type: 'image/png', name: 'snap.png' }]);
    expect(await textOf(page.saves[0]!.blob)).toBe('320x240');
  });

  test('no frame yet (videoHeight 0), no video, no img: false, nothing drawn', () => {
    const page = new FakePage();
    const img = { src: '' } as HTMLImageElement;
    expect(takeSnapShot(page, video(0, 0), img)).toBe(false);
    expect(takeSnapShot(page, null as unknown as HTMLVideoElement, img)).toBe(false);
    expect(takeSnapShot(page, video(10, 10), null as unknown as HTMLImageElement)).toBe(false);
    expect(saveSnapShot(page, video(0, 0), 'x')).toBe(false);
    expect(page.canvases).toHaveLength(0);
    expect(ZegoClient.takeSnapShot(null as unknown as HTMLVideoElement, img)).toBe(false);
  });
});

describe('recording', () => {
  function recorder() {
    const page = new FakePage();
    const media = new FakeMediaPlatform();
    const platform = { page, media } as unknown as Platform;
    const warnings: string[] = [];
    const log = quiet();
    log.setSink((l) => warnings.push(l.text));
    log.configure({ logLevel: 100, remoteLogLevel: 0 });
    return { rec: new Recorder(platform, log), page, media, warnings };
  }
  const playing = () => {
    const v = new FakeVideo();
    v.srcObject = new FakeMediaStream([new FakeMediaStreamTrack('video'), new FakeMediaStreamTrack('audio')]);
    return v.el;
  };

  test("video: the element's stream, VP9 webm, 10 ms chunks; pause / resume / stop; saveRecord returns a URL and downloads <name>.webm", async () => {
    const { rec, page } = recorder();
    const el = playing();
    await rec.start(el, undefined);
    expect(page.rec.stream).toBe(el.srcObject);
    expect(page.rec).toMatchObject({ mimeType: 'video/webm;codecs=vp9', timeslice: 10, state: 'recording' });
    page.rec.emit('a');
    rec.pause();
    expect(page.rec.state).toBe('paused');
    rec.pause();
    rec.resume();
    expect(page.rec.state).toBe('recording');
    page.rec.emit('b');
    rec.stop();
    expect(page.rec.state).toBe('inactive');
    rec.stop();
    expect(rec.save('clip')).toBe('blob:fake/1');
    expect(page.saves[0]).toMatchObject({ type: 'video/webm', name: 'clip.webm' });
    expect(await textOf(page.saves[0]!.blob)).toBe('ab');
    // Without a name: only the URL (as 1.12.5).
    expect(rec.save(undefined)).toBe('blob:fake/2');
    expect(page.saves[1]!.name).toBeUndefined();
  });

  test('the type falls back to VP8, then webm; a file element is recorded through captureStream()', async () => {
    const { rec, page } = recorder();
    page.supported = ['video/webm'];
    const file = new FakeVideo();
    file.captured.addTrack(new FakeMediaStreamTrack('video'));
    await rec.start(file.el, {});
    expect(page.rec.mimeType).toBe('video/webm');
    expect(page.rec.stream).toBe(file.captured);
  });

  test('{audio: true}: the microphone alone (audioInput), audio/webm, its capture stopped with the recording', async () => {
    const { rec, page, media } = recorder();
    await rec.start(playing(), { audio: true, audioInput: 'mic2' });
    expect(media.gumCalls).toEqual([{ audio: { deviceId: 'mic2' } }]);
    expect(page.rec.mimeType).toBe('audio/webm');
    expect(page.rec.stream.getVideoTracks()).toHaveLength(0);
    rec.stop();
    expect(media.tracks.map((t) => t.readyState)).toEqual(['ended']);
    rec.save('voice');
    expect(page.saves[0]).toMatchObject({ type: 'audio/webm', name: 'voice.webm' });
  });

  test('recording twice: the error callback, the first recording untouched; after stop a new one starts', async () => {
    const { rec, page } = recorder();
    await rec.start(playing(), undefined);
    await expect(rec.start(playing(), undefined)).rejects.toEqual({
      code: 'ZegoClient.Error.Param',
      msg: 'already recording',
    });
    expect(page.recorders).toHaveLength(1);
    expect(page.rec.state).toBe('recording');
    rec.stop();
    await rec.start(playing(), undefined);
    expect(page.recorders).toHaveLength(2);
  });

  test('before startRecord: pause / resume / stop warn, saveRecord returns undefined; a failed start frees the recorder', async () => {
    const { rec, warnings, media } = recorder();
    rec.pause();
    rec.resume();
    rec.stop();
    expect(rec.save('x')).toBeUndefined();
    expect(warnings).toEqual(Array(4).fill('please invoke startRecord first'));
    media.gumError = new Error('NotAllowedError');
    await expect(rec.start(playing(), { audio: true })).rejects.toThrow('NotAllowedError');
    media.gumError = null;
    await expect(rec.start(playing(), { audio: true })).resolves.toBeUndefined();
  });

  test('the facade statics never throw: no MediaRecorder here (jsdom) is the error callback', async () => {
    const cb = jest.fn();
    await expect(ZegoClient.startRecord(playing(), undefined, cb)).resolves.toBeUndefined();
    expect(cb).toHaveBeenCalledTimes(1);
    expect(cb.mock.calls[0]![0]).toBeDefined();
    expect(() => {
      ZegoClient.pauseRecord();
      ZegoClient.resumeRecord();
      ZegoClient.stopRecord();
    }).not.toThrow();
    expect(ZegoClient.saveRecord('x')).toBeUndefined();
    await ZegoClient.startRecord(undefined as unknown as HTMLMediaElement, undefined, cb);
    expect(cb).toHaveBeenCalledTimes(2);
  });
});

describe('screen sharing', () => {
  async function sharing(): Promise<{ h: MediaHarness; ended: unknown[][] }> {
    const h = await mediaHarness();
    const ended: unknown[][] = [];
    h.zg.onScreenSharingEnded = (...a: unknown[]) => ended.push(a);
    return { h, ended };
  }
  async function share(h: MediaHarness, call: (cb: jest.Mock) => unknown): Promise<unknown[]> {
    const cb = jest.fn();
    expect(call(cb)).toBe(true);
    await h.platform.advance(0);
    expect(cb).toHaveBeenCalledTimes(1);
    return cb.mock.calls[0]!;
  }

  test('startScreenSharing({frameRate}, audio, cb): getDisplayMedia, cb(true, stream); the user ending it: onScreenSharingEnded(stream) once', async () => {
    const { h, ended } = await sharing();
    const [ok, stream] = await share(h, (cb) => h.zg.startScreenSharing({ frameRate: 5 }, true, cb));
    expect(ok).toBe(true);
    expect(h.media.displayCalls).toEqual([{ video: { frameRate: 5 }, audio: true }]);
    const s = stream as FakeMediaStream;
    const [video, audio] = s.getTracks();
    expect(video!.contentHint).toBe('detail');
    video!.end();
    expect(ended).toEqual([[s]]);
    expect(audio!.readyState).toBe('ended');
    video!.fire('ended');
    expect(ended).toHaveLength(1);
  });

  test('defaults: 15 fps, no size asked (1.12.5 asked for the screen size), width/height when given', async () => {
    const { h } = await sharing();
    await share(h, (cb) => h.zg.startScreenSharing({}, false, cb));
    await share(h, (cb) => h.zg.startScreenSharing({ width: 1280, height: 720 }, false, cb));
    await share(h, (cb) =>
      h.zg.startScreenSharing(undefined as unknown as object, 'yes' as unknown as boolean, cb),
    );
    expect(h.media.displayCalls).toEqual([
      { video: { frameRate: 15 }, audio: false },
      { video: { frameRate: 15, width: 1280, height: 720 }, audio: false },
      { video: { frameRate: 15 }, audio: false },
    ]);
  });

  test("startScreenShotChrome(cb) and both startScreenShotFirFox signatures (1.0.3's and 1.12's)", async () => {
    const { h } = await sharing();
    const ff = h.zg.startScreenShotFirFox.bind(h.zg) as (...a: unknown[]) => boolean;
    expect((await share(h, (cb) => h.zg.startScreenShotChrome(cb)))[0]).toBe(true);
    expect((await share(h, (cb) => ff('window', true, cb)))[0]).toBe(true);
    expect((await share(h, (cb) => ff({ frameRate: 10 }, 'screen', false, cb)))[0]).toBe(true);
    expect(h.media.displayCalls).toEqual([
      { video: { frameRate: 15 }, audio: false },
      { video: { frameRate: 15, displaySurface: 'window' }, audio: true },
      { video: { frameRate: 10, displaySurface: 'monitor' }, audio: false },
    ]);
  });

  test('startScreenSharingChrome(start, cb), the older name: true shares, false stops, anything else is false', async () => {
    const { h } = await sharing();
    const [ok, stream] = await share(h, (cb) => h.zg.startScreenSharingChrome(true, cb));
    expect(ok).toBe(true);
    expect(h.zg.startScreenSharingChrome(false)).toBe(true);
    expect((stream as FakeMediaStream).getTracks()[0]!.readyState).toBe('ended');
    expect(h.zg.startScreenSharingChrome('yes' as unknown as boolean)).toBe(false);
    expect(h.media.displayCalls).toHaveLength(1);
  });

  test('the user cancels the picker, or the browser has no getDisplayMedia: cb(false, null, err)', async () => {
    const { h } = await sharing();
    h.media.displayError = new Error('NotAllowedError: Permission denied');
    const [ok, stream, err] = await share(h, (cb) => h.zg.startScreenSharing({}, false, cb));
    expect([ok, stream, String(err)]).toEqual([false, null, 'Error: NotAllowedError: Permission denied']);
    delete (h.media as Partial<FakeMediaPlatform>).getDisplayMedia;
    expect((await share(h, (cb) => h.zg.startScreenShotChrome(cb))).slice(0, 2)).toEqual([false, null]);
  });

  test('stopScreenShot(stream) / stopScreenShot(): tracks stopped, no onScreenSharingEnded', async () => {
    const { h, ended } = await sharing();
    const [, a] = await share(h, (cb) => h.zg.startScreenSharing({}, false, cb));
    const [, b] = await share(h, (cb) => h.zg.startScreenSharing({}, false, cb));
    const [, c] = await share(h, (cb) => h.zg.startScreenSharing({}, false, cb));
    h.zg.stopScreenShot(a as MediaStream);
    expect((a as FakeMediaStream).getTracks()[0]!.readyState).toBe('ended');
    expect((b as FakeMediaStream).getTracks()[0]!.readyState).toBe('live');
    h.zg.stopScreenShot();
    for (const s of [b, c]) expect((s as FakeMediaStream).getTracks()[0]!.readyState).toBe('ended');
    expect(ended).toEqual([]);
  });

  test('the stream previews (a "screen" source) and publishes like any external stream', async () => {
    const { h } = await sharing();
    const [, stream] = await share(h, (cb) => h.zg.startScreenSharing({}, false, cb));
    const video = new FakeVideo();
    const ok = jest.fn();
    expect(h.zg.startPreview(video.el, { externalMediaStream: stream as MediaStream }, ok)).toBe(true);
    await h.platform.advance(0);
    expect(ok).toHaveBeenCalledTimes(1);
    expect(h.zg.engine.media.previews.get(video.el)!.kind).toBe('screen');
    expect(h.zg.startPublishingStream('screen', video.el)).toBe(true);
    await h.platform.advance(0);
    h.media.pc.setIceState('connected');
    await h.platform.advance(0);
    expect(h.mcalls.onPublishStateUpdate.at(-1)).toEqual([0, 'screen', 0]);
    expect(h.media.pc.getSenders().map((s) => s.track)).toEqual((stream as FakeMediaStream).getTracks());
  });
});

describe('device callbacks', () => {
  async function devices() {
    const h = await mediaHarness();
    const calls: [string, unknown][] = [];
    for (const n of ['onDeviceError', 'OnAudioDeviceStateChanged', 'OnVideoDeviceStateChanged'] as const)
      (h.zg as unknown as Record<string, unknown>)[n] = (x: unknown) => calls.push([n, x]);
    return { h, calls };
  }
  const dev = (kind: string, label: string, deviceId: string) => ({ kind, label, deviceId, groupId: 'g' });

  test('devicechange after a preview: DELETE then ADD, cameras, microphones, speakers (1.12.5 shapes and order)', async () => {
    const { h, calls } = await devices();
    expect(h.media.deviceListeners.size).toBe(0);
    await withPreview(h);
    expect(h.media.deviceListeners.size).toBe(1);
    h.media.fireDeviceChange([
      dev('audioinput', 'Mic 1', 'mic1'),
      dev('videoinput', 'Cam 1', 'cam1'),
      dev('audioinput', 'USB Mic', 'mic9'),
      dev('audiooutput', 'Headset', 'spk9'),
    ]);
    await h.platform.advance(0);
    expect(calls).toEqual([
      [
        'OnVideoDeviceStateChanged',
        { deviceInfo: { deviceName: 'Cam 2', deviceID: 'cam2' }, state: 'DELETE' },
      ],
      [
        'OnAudioDeviceStateChanged',
        { deviceType: 'Output', deviceInfo: { deviceName: 'Speaker 1', deviceID: 'spk1' }, state: 'DELETE' },
      ],
      [
        'OnAudioDeviceStateChanged',
        { deviceType: 'Input', deviceInfo: { deviceName: 'USB Mic', deviceID: 'mic9' }, state: 'ADD' },
      ],
      [
        'OnAudioDeviceStateChanged',
        { deviceType: 'Output', deviceInfo: { deviceName: 'Headset', deviceID: 'spk9' }, state: 'ADD' },
      ],
    ]);
    // The same list again: nothing changed, nothing reported.
    h.media.fireDeviceChange();
    await h.platform.advance(0);
    expect(calls).toHaveLength(4);
  });

  test('the last preview stopped: no more listening', async () => {
    const { h, calls } = await devices();
    const video = await withPreview(h);
    h.zg.stopPreview(video.el);
    expect(h.media.deviceListeners.size).toBe(0);
    h.media.fireDeviceChange([]);
    await h.platform.advance(0);
    expect(calls).toEqual([]);
  });

  test("a capture track ending by itself: onDeviceError once, and the publisher's viewers hear the kind is off; our own stop is not an error", async () => {
    const { h, calls } = await devices();
    const { video } = await publishing(h, 's1');
    const [mic, cam] = h.media.tracks;
    cam!.end();
    expect(calls).toEqual([
      ['onDeviceError', { deviceName: 'fake camera', deviceType: 'camera', errorCode: -6 }],
    ]);
    await h.platform.advance(0);
    expect(h.ms.sent('StreamStatusNotify').at(-1)!.body).toEqual({ camera_status: 2, mic_status: 0 });
    mic!.end();
    expect(calls.at(-1)).toEqual([
      'onDeviceError',
      { deviceName: 'fake mic', deviceType: 'micro', errorCode: -6 },
    ]);
    // A new camera: its status is on again, and its track is watched.
    expect(h.zg.switchDevice('video', video.el, 'cam2')).toBe(true);
    await h.platform.advance(0);
    expect(h.ms.sent('StreamStatusNotify').at(-1)!.body).toEqual({ camera_status: 0, mic_status: 0 });
    h.media.tracks.at(-1)!.end();
    expect(calls).toHaveLength(3);
    h.zg.stopPreview(video.el);
    expect(calls).toHaveLength(3);
  });

  test('a page stream (externalMediaStream) is not watched: its tracks are the page’s', async () => {
    const { h, calls } = await devices();
    const track = new FakeMediaStreamTrack('video', 'canvas');
    const video = new FakeVideo();
    h.zg.startPreview(video.el, {
      externalMediaStream: new FakeMediaStream([track]) as unknown as MediaStream,
    });
    await h.platform.advance(0);
    track.end();
    expect(calls).toEqual([]);
  });

  test('no media platform: nothing listens, nothing throws', () => {
    const zg = new ZegoClient(new FakePlatform());
    expect(zg.startPreview({} as HTMLMediaElement, {})).toBe(false);
  });
});
