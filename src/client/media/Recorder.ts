/**
 * startRecord / pauseRecord / resumeRecord / stopRecord / saveRecord (seed 3.7-3.11, statics): one
 * MediaRecorder (webm) for the page, as 1.12.5:
 *  - video: what the element plays (its MediaStream, or its captureStream() for a file), VP9, else VP8,
 *    else the browser's webm;
 *  - `{audio: true}`: audio only, from the microphone (`audioInput`, else the default one), whose
 *    capture stops with the recording;
 *  - chunks every 10 ms, so saveRecord right after stopRecord misses at most the last 10 ms;
 *  - saveRecord(name) returns an object URL of what was recorded and, with a name, downloads
 *    "<name>.webm"; before any startRecord it warns and returns undefined.
 * Unlike 1.12.5, which started a second recorder over the first (leaving it running), startRecord while
 * one records or starts calls back with an error; and pause / resume / stop out of turn are no-ops where
 * the browser would throw.
 */
import type { Logger } from '../core/Logger';
import type { Platform } from '../platform/Platform';
import { paramError } from './AudioEffects';

const VIDEO_TYPES = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'];

export interface RecordOptions {
  audio?: unknown;
  audioInput?: unknown;
}

export class Recorder {
  private rec: MediaRecorder | null = null;
  private busy = false;
  private chunks: Blob[] = [];

  constructor(
    private readonly platform: Platform,
    private readonly log: Logger,
  ) {}

  async start(el: HTMLMediaElement, o: RecordOptions | undefined): Promise<void> {
    if (this.busy) throw paramError('already recording');
    this.busy = true;
    try {
      const { audio, audioInput } = o || {};
      const stream = audio
        ? await this.platform.media!.getUserMedia({
            audio: audioInput ? { deviceId: String(audioInput) } : true,
          })
        : streamOf(el);
      const rec = this.platform.page!.recorder(stream, audio ? ['audio/webm'] : VIDEO_TYPES);
      this.chunks = [];
      rec.ondataavailable = (e) => {
        if (e.data.size) this.chunks.push(e.data);
      };
      rec.onstop = () => {
        if (audio) stream.getTracks().forEach((t) => t.stop());
      };
      rec.start(10);
      this.rec = rec;
    } catch (e) {
      this.busy = false;
      throw e;
    }
  }

  pause(): void {
    const r = this.current();
    if (r && r.state === 'recording') r.pause();
  }

  resume(): void {
    const r = this.current();
    if (r && r.state === 'paused') r.resume();
  }

  stop(): void {
    const r = this.current();
    if (r && r.state !== 'inactive') r.stop();
    if (r) this.busy = false;
  }

  save(name: unknown): string | undefined {
    const r = this.current();
    // The recorder's type without its codecs ('video/webm', 'audio/webm'), as 1.12.5 typed the file.
    return r
      ? this.platform.page!.save(
          this.chunks,
          r.mimeType.split(';')[0]!,
          typeof name === 'string' && name ? `${name}.webm` : undefined,
        )
      : undefined;
  }

  private current(): MediaRecorder | null {
    if (!this.rec) this.log.warn('please invoke startRecord first');
    return this.rec;
  }
}

/** What the element plays: its MediaStream, or a capture of it (a file). Throws without an element. */
function streamOf(el: HTMLMediaElement & { captureStream?(): MediaStream }): MediaStream {
  const src = el.srcObject;
  return src && 'getTracks' in src ? src : el.captureStream!();
}
