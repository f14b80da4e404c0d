/**
 * Screen sharing (seed 4.3, 2.23): startScreenSharing, startScreenShotChrome and startScreenShotFirFox
 * all capture with getDisplayMedia (the browser's picker; no extension), stopScreenShot stops them. The
 * page previews and publishes the stream itself (startPreview with `externalMediaStream`, or
 * `externalCapture` of an element showing it), as the seed's example does.
 * As 1.12.5: frame rate 15 unless given; when the user ends the sharing from the browser (the video
 * track's `ended`), the capture's other tracks stop and `ended(stream)` is reported once
 * (onScreenSharingEnded); stopScreenShot stops without reporting. Differences: no default width/height
 * (1.12.5 asked for the screen's, which scales a captured window or tab), and the video track is marked
 * as text-like content (`contentHint = 'detail'`), so the encoder keeps the resolution under load.
 */
import type { Platform } from '../platform/Platform';

export interface ScreenOptions {
  width?: unknown;
  height?: unknown;
  frameRate?: unknown;
  displaySurface?: unknown;
}

export class ScreenCapture {
  private readonly live = new Set<MediaStream>();

  constructor(
    private readonly platform: Platform,
    private readonly ended: (stream: MediaStream) => void,
  ) {}

  async start(o: ScreenOptions, audio: boolean): Promise<MediaStream> {
    const video: Record<string, unknown> = { frameRate: o.frameRate || 15 };
    for (const k of ['width', 'height', 'displaySurface'] as const) if (o[k]) video[k] = o[k];
    // Without getDisplayMedia this throws (TypeError): the callback's error.
    const stream = await this.platform.media!.getDisplayMedia!({ video, audio });
    this.live.add(stream);
    const track = stream.getVideoTracks()[0];
    if (track) {
      track.contentHint = 'detail';
      track.addEventListener('ended', () => {
        if (!this.live.has(stream)) return;
        this.stop(stream);
        this.ended(stream);
      });
    }
    return stream;
  }

  /** Whether a stream is one of our live captures (LocalSource kind 'screen'). */
  owns(stream: MediaStream): boolean {
    return this.live.has(stream);
  }

  /** This capture, or (none given, as the seed's stopScreenShot()) every one. */
  stop(stream?: MediaStream): void {
    for (const s of stream ? [stream] : [...this.live])
      if (this.live.delete(s)) s.getTracks().forEach((t) => t.stop());
  }
}
