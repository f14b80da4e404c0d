/**
 * The legacy browser checks and the legacy callback getUserMedia, on fakes: the result shapes of
 * 1.12.5 (supportDetection, supportVideoCodeType) and of the seed's isSupportWebrtc / isSupportH264,
 * codecs taken from the probe (never the user agent), the error paths, and an installer that never
 * replaces a native getUserMedia.
 */
import { ZegoClient } from '../../../src/client/compat/ZegoClient';
import {
  CODEC_PROBE_TIMEOUT_MS,
  isSupportH264,
  isSupportWebrtc,
  supportDetection,
  supportVideoCodeType,
} from '../../../src/client/compat/detection';
import { installLegacyGetUserMedia } from '../../../src/client/compat/legacyGetUserMedia';
import { codecsInSdp, type SupportProbe } from '../../../src/client/platform/Platform';
import { CHROME_OFFER } from '../../fakes/FakeMedia';
import { flush } from '../../fakes/FakePlatform';

function probe(o: Partial<SupportProbe> & { codecs?: string[] | Error } = {}): SupportProbe {
  const codecs = o.codecs ?? ['VP8', 'H264', 'VP9', 'AV1'];
  return {
    webRtc: o.webRtc ?? true,
    capture: o.capture ?? true,
    displayMedia: o.displayMedia ?? true,
    videoCodecs:
      o.videoCodecs ?? (() => (codecs instanceof Error ? Promise.reject(codecs) : Promise.resolve(codecs))),
  };
}

describe('supportDetection', () => {
  test('1.12.5 shape, keys in its order; codecs from the probe', async () => {
    const ok = jest.fn();
    const err = jest.fn();
    supportDetection(probe({ codecs: ['VP8', 'VP9'] }), true, ok, err);
    expect(ok).not.toHaveBeenCalled(); // asynchronous with WebRTC, as 1.12.5 (a real offer)
    await flush();
    expect(err).not.toHaveBeenCalled();
    expect(ok).toHaveBeenCalledTimes(1);
    const r = ok.mock.calls[0]![0];
    expect(r).toStrictEqual({
      webRtc: true,
      capture: true,
      videoDecodeType: { H264: false, VP8: true },
      screenSharing: true,
    });
    expect(Object.keys(r)).toEqual(['webRtc', 'capture', 'videoDecodeType', 'screenSharing']);
  });

  test('without WebRTC: success at once, every codec false', () => {
    const ok = jest.fn();
    supportDetection(probe({ webRtc: false, capture: false, codecs: ['H264'] }), true, ok, null);
    expect(ok).toHaveBeenCalledWith({
      webRtc: false,
      capture: false,
      videoDecodeType: { H264: false, VP8: false },
      screenSharing: true,
    });
  });

  test('screenSharing needs the browser (getDisplayMedia) and the SDK (a screen-sharing method)', async () => {
    const results: boolean[] = [];
    const push = (r: { screenSharing: boolean }) => results.push(r.screenSharing);
    supportDetection(probe({ displayMedia: false }), true, push, null);
    supportDetection(probe({ displayMedia: true }), false, push, null);
    supportDetection(probe({ displayMedia: true }), true, push, null);
    await flush();
    expect(results).toEqual([false, false, true]);
  });

  test('a failing probe: error(e), no success', async () => {
    const ok = jest.fn();
    const err = jest.fn();
    const boom = new Error('createOffer failed');
    supportDetection(probe({ codecs: boom }), true, ok, err);
    await flush();
    expect(ok).not.toHaveBeenCalled();
    expect(err).toHaveBeenCalledWith(boom);
  });

  test(`a probe that never answers: error(false) after ${CODEC_PROBE_TIMEOUT_MS} ms (1.12.5: 200 ms)`, async () => {
    jest.useFakeTimers();
    try {
      const ok = jest.fn();
      const err = jest.fn();
      supportDetection(probe({ videoCodecs: () => new Promise(() => {}) }), true, ok, err);
      jest.advanceTimersByTime(CODEC_PROBE_TIMEOUT_MS - 1);
      await Promise.resolve();
      expect(err).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      await Promise.resolve();
      await Promise.resolve();
      expect(err).toHaveBeenCalledWith(false);
      expect(ok).not.toHaveBeenCalled();
    } finally {
      jest.useRealTimers();
    }
  });

  test('no probe at all (not a browser): webRtc false, no throw; callbacks optional', () => {
    const ok = jest.fn();
    supportDetection(undefined, true, ok, undefined);
    expect(ok.mock.calls[0]![0]).toMatchObject({ webRtc: false, capture: false });
    expect(() => supportDetection(undefined, true, undefined, undefined)).not.toThrow();
  });
});

describe('supportVideoCodeType / isSupportH264 / isSupportWebrtc', () => {
  test('supportVideoCodeType -> {H264, VP8, VP9, H265} as measured', async () => {
    const ok = jest.fn();
    supportVideoCodeType(probe({ codecs: ['H264', 'H265'] }), ok, null);
    await flush();
    expect(ok).toHaveBeenCalledWith({ H264: true, VP8: false, VP9: false, H265: true });
  });

  test('isSupportH264 -> success(boolean); false without WebRTC; error when the probe fails', async () => {
    const calls: unknown[] = [];
    isSupportH264(probe({ codecs: ['H264'] }), (v: boolean) => calls.push(v), null);
    isSupportH264(probe({ codecs: ['VP8'] }), (v: boolean) => calls.push(v), null);
    isSupportH264(probe({ webRtc: false }), (v: boolean) => calls.push(v), null);
    isSupportH264(probe({ codecs: new Error('x') }), null, (e: Error) => calls.push(e.message));
    await flush();
    expect(calls).toEqual([false, true, false, 'x']);
  });

  test('isSupportWebrtc -> boolean, synchronously', () => {
    expect(isSupportWebrtc(probe())).toBe(true);
    expect(isSupportWebrtc(probe({ webRtc: false }))).toBe(false);
    expect(isSupportWebrtc(undefined)).toBe(false);
  });

  test('codecsInSdp (the offer fallback) reads the rtpmap lines, not the user agent', () => {
    expect(codecsInSdp(CHROME_OFFER)).toEqual(['VP8', 'VP9', 'H264']);
    expect(codecsInSdp('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 AV1/90000\r\n')).toEqual([
      'AV1',
    ]);
  });
});

describe('the statics on ZegoClient (jsdom: no WebRTC)', () => {
  test('exist and answer from the browser: jsdom has no RTCPeerConnection', async () => {
    expect(typeof ZegoClient.supportDetection).toBe('function');
    expect(ZegoClient.isSupportWebrtc()).toBe(false);
    const ok = jest.fn();
    ZegoClient.supportDetection(ok, null);
    expect(ok).toHaveBeenCalledWith(
      expect.objectContaining({ webRtc: false, videoDecodeType: { H264: false, VP8: false } }),
    );
    const h264 = jest.fn();
    ZegoClient.isSupportH264(h264, null);
    expect(h264).toHaveBeenCalledWith(false);
    const types = jest.fn();
    ZegoClient.supportVideoCodeType(types, null);
    await flush();
    expect(types).toHaveBeenCalledWith({ H264: false, VP8: false, VP9: false, H265: false });
  });
});

describe('legacy navigator.getUserMedia', () => {
  function nav(extra: Record<string, unknown> = {}) {
    const stream = { id: 'stream' };
    const calls: unknown[] = [];
    const n: Record<string, unknown> = {
      userAgent: 'Mozilla/5.0 Chrome/156',
      mediaDevices: {
        getUserMedia: (c: unknown) => {
          calls.push(c);
          return (c as { fail?: boolean }).fail
            ? Promise.reject(new Error('NotAllowedError'))
            : Promise.resolve(stream);
        },
      },
      ...extra,
    };
    return { n, calls, stream };
  }

  test('installed where missing (getUserMedia, webkitGetUserMedia), callback form over mediaDevices', async () => {
    const { n, calls, stream } = nav();
    expect(installLegacyGetUserMedia(n)).toEqual(['getUserMedia', 'webkitGetUserMedia']);
    const ok = jest.fn();
    const err = jest.fn();
    (n.getUserMedia as (...a: unknown[]) => void)({ audio: true }, ok, err);
    (n.webkitGetUserMedia as (...a: unknown[]) => void)({ fail: true }, ok, err);
    await flush();
    expect(calls).toEqual([{ audio: true }, { fail: true }]);
    expect(ok).toHaveBeenCalledWith(stream);
    expect(err).toHaveBeenCalledWith(new Error('NotAllowedError'));
    expect(n.mozGetUserMedia).toBeUndefined();
  });

  test("never replaces a page's own or a lenient native one", () => {
    const own = (_c: unknown, _ok: unknown, _err: unknown) => {};
    // A bound function prints as native code: a lenient native (two required arguments).
    const lenient = function (_c: unknown, _ok: unknown) {}.bind(null);
    const { n } = nav({ getUserMedia: own, webkitGetUserMedia: lenient });
    expect(installLegacyGetUserMedia(n)).toEqual([]);
    expect(n.getUserMedia).toBe(own);
    expect(n.webkitGetUserMedia).toBe(lenient);
  });

  test('replaces a native one that requires the error callback (Chromium: "3 arguments required")', async () => {
    const strict = jest.fn();
    const native = function (_c: unknown, _ok: unknown, _err: unknown) {
      if (arguments.length < 3) throw new TypeError('3 arguments required, but only 2 present.');
      strict();
    }.bind(null);
    const { n, calls, stream } = nav({ getUserMedia: native, webkitGetUserMedia: native });
    expect(installLegacyGetUserMedia(n)).toEqual(['getUserMedia', 'webkitGetUserMedia']);
    const ok = jest.fn();
    (n.getUserMedia as (...a: unknown[]) => void)({ video: true }, ok);
    (n.webkitGetUserMedia as (...a: unknown[]) => void)({ audio: true }, ok);
    await flush();
    expect(calls).toEqual([{ video: true }, { audio: true }]);
    expect(ok).toHaveBeenCalledTimes(2);
    expect(ok).toHaveBeenCalledWith(stream);
    expect(strict).not.toHaveBeenCalled();
  });

  test('Firefox gets mozGetUserMedia, not the webkit name (sniffers read it as the engine)', () => {
    const { n } = nav({ userAgent: 'Mozilla/5.0 Firefox/140.0' });
    expect(installLegacyGetUserMedia(n)).toEqual(['getUserMedia', 'mozGetUserMedia']);
    expect(n.webkitGetUserMedia).toBeUndefined();
  });

  test('nothing without mediaDevices.getUserMedia (insecure page) or without a navigator', () => {
    expect(installLegacyGetUserMedia({ userAgent: 'x' })).toEqual([]);
    expect(installLegacyGetUserMedia(undefined)).toEqual([]);
  });

  test('an error callback is optional', async () => {
    const { n } = nav();
    installLegacyGetUserMedia(n);
    (n.getUserMedia as (...a: unknown[]) => void)({ fail: true }, () => {});
    await flush();
  });
});
