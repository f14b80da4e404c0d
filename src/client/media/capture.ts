/**
 * startPreview's constraints, as 1.12 builds them: videoQuality presets 1-3 (width x height, fps, kbps),
 * 4 = custom width/height/frameRate/bitrate, none = 640x480 at 15 fps and 800 kbps; `horizontal` swaps
 * width and height; facingMode wins over videoInput; the three audio processing flags default to on.
 */

export interface PreviewOptions {
  audio?: boolean;
  audioInput?: string;
  video?: boolean;
  videoInput?: string;
  facingMode?: string;
  videoQuality?: number;
  horizontal?: boolean;
  width?: number;
  height?: number;
  frameRate?: number;
  bitrate?: number;
  /** 1.12 reads maxBitRate for quality 4 too. */
  maxBitRate?: number;
  externalCapture?: boolean;
  externalMediaStream?: MediaStream;
  noiseSuppression?: boolean;
  autoGainControl?: boolean;
  echoCancellation?: boolean;
}

export interface VideoInfo {
  width: number;
  height: number;
  frameRate: number;
  /** kbps */
  bitrate: number;
}

export const VIDEO_PRESETS: Record<number, VideoInfo> = {
  1: { width: 240, height: 320, frameRate: 15, bitrate: 300 },
  2: { width: 480, height: 640, frameRate: 15, bitrate: 800 },
  3: { width: 720, height: 1280, frameRate: 20, bitrate: 1500 },
};
const DEFAULT_VIDEO: VideoInfo = { width: 640, height: 480, frameRate: 15, bitrate: 800 };

/** The video parameters a preview asks for (also used to cap the publish bitrate). */
export function videoInfoOf(o: PreviewOptions): VideoInfo {
  let v: VideoInfo;
  if (o.videoQuality === 4)
    v = {
      width: Number(o.width) || DEFAULT_VIDEO.width,
      height: Number(o.height) || DEFAULT_VIDEO.height,
      frameRate: Number(o.frameRate) || DEFAULT_VIDEO.frameRate,
      bitrate: Number(o.bitrate ?? o.maxBitRate) || DEFAULT_VIDEO.bitrate,
    };
  else v = { ...(VIDEO_PRESETS[o.videoQuality ?? 0] ?? DEFAULT_VIDEO) };
  if (o.horizontal === true) [v.width, v.height] = [v.height, v.width];
  return v;
}

export function buildConstraints(o: PreviewOptions): MediaStreamConstraints {
  const c: MediaStreamConstraints = { audio: false, video: false };
  if (o.audio) {
    const a: MediaTrackConstraints = {
      noiseSuppression: o.noiseSuppression ?? true,
      autoGainControl: o.autoGainControl ?? true,
      echoCancellation: o.echoCancellation ?? true,
    };
    if (o.audioInput) a.deviceId = { exact: o.audioInput };
    c.audio = a;
  }
  if (o.video) {
    const v = videoInfoOf(o);
    const t: MediaTrackConstraints = { width: v.width, height: v.height, frameRate: v.frameRate };
    if (o.facingMode) t.facingMode = o.facingMode;
    else if (o.videoInput) t.deviceId = { exact: o.videoInput };
    c.video = t;
  }
  return c;
}
