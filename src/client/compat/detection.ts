/**
 * The legacy browser checks (statics on ZegoClient), shaped as the original reported them and measured
 * from the browser through the Platform seam (`SupportProbe`):
 *  - supportDetection(success, error) -> success({webRtc, capture, videoDecodeType: {H264, VP8},
 *    screenSharing}) (1.12.5: those four keys, in that order; without WebRTC success is called at once);
 *  - supportVideoCodeType(ok, err) -> ok({H264, VP8, VP9, H265}) (1.12.5 ClientUtil; older builds had it
 *    on ZegoClient, which is where pages call it);
 *  - isSupportWebrtc() -> boolean, isSupportH264(ok, err) -> ok(boolean) (1.1.1-1.2, in the seed's API).
 * 1.12.5 read the codecs from a throwaway offer with a 200 ms deadline (error(false) after it); we read
 * RTCRtpSender.getCapabilities where it exists (synchronous, nothing to time out) and fall back to the
 * offer with a longer deadline, because a loaded machine misses 200 ms.
 */
import type { SupportProbe } from '../platform/Platform';
import { invoke, staticLog, type Cb } from './callbacks';

/** Deadline of the codec probe (the offer fallback), ms. */
export const CODEC_PROBE_TIMEOUT_MS = 2_000;

export interface VideoCodeTypes {
  H264: boolean;
  VP8: boolean;
  VP9: boolean;
  H265: boolean;
}

export interface SupportResult {
  webRtc: boolean;
  capture: boolean;
  videoDecodeType: { H264: boolean; VP8: boolean };
  screenSharing: boolean;
}

const call = (fn: Cb, ...args: unknown[]): void => invoke(staticLog, fn, ...args);

/** The probe's codecs, or a rejection on failure / after the deadline (error value `false`, as 1.12). */
function codecs(probe: SupportProbe): Promise<VideoCodeTypes> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(false), CODEC_PROBE_TIMEOUT_MS);
    probe.videoCodecs().then(
      (list) => {
        clearTimeout(timer);
        resolve({
          H264: list.includes('H264'),
          VP8: list.includes('VP8'),
          VP9: list.includes('VP9'),
          H265: list.includes('H265'),
        });
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

const NO_PROBE: SupportProbe = {
  webRtc: false,
  capture: false,
  displayMedia: false,
  videoCodecs: () => Promise.resolve([]),
};

/**
 * `screenSharing` is what the browser can do AND what this SDK can do with it: a page that believes it
 * and calls a screen-sharing method we lack would throw, so it stays false until one exists.
 */
export function supportDetection(
  probe: SupportProbe | undefined,
  canShareScreen: boolean,
  success: Cb,
  error: Cb,
): void {
  const p = probe ?? NO_PROBE;
  const result: SupportResult = {
    webRtc: false,
    capture: p.capture,
    videoDecodeType: { H264: false, VP8: false },
    screenSharing: p.displayMedia && canShareScreen,
  };
  if (!p.webRtc) {
    call(success, result);
    return;
  }
  result.webRtc = true;
  codecs(p).then(
    (c) => {
      result.videoDecodeType.H264 = c.H264;
      result.videoDecodeType.VP8 = c.VP8;
      call(success, result);
    },
    (e) => call(error, e),
  );
}

export function supportVideoCodeType(probe: SupportProbe | undefined, success: Cb, error: Cb): void {
  codecs(probe ?? NO_PROBE).then(
    (c) => call(success, c),
    (e) => call(error, e),
  );
}

export function isSupportWebrtc(probe: SupportProbe | undefined): boolean {
  return !!probe?.webRtc;
}

export function isSupportH264(probe: SupportProbe | undefined, success: Cb, error: Cb): void {
  if (!probe?.webRtc) {
    call(success, false);
    return;
  }
  codecs(probe).then(
    (c) => call(success, c.H264),
    (e) => call(error, e),
  );
}
