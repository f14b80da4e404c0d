/**
 * Keyframe requests to one browser publisher, paced to what its encoder acts on: libwebrtc honours at most
 * one keyframe request per 300 ms and silently drops the others (video/encoder_rtcp_feedback.cc,
 * kMinKeyframeSendIntervalMs). A request that comes inside that window is therefore not sent at once but at
 * the window's end (one waiting at a time; later ones join it), so a viewer that came up just after another
 * still gets a keyframe of its own within ~330 ms instead of waiting for the publisher's next one.
 *
 * This matters most for the overflow relay's viewers: their own PLIs reach the publisher through the relay's
 * remote publisher, which Janus 1.1.2 lets through at most once a second (janus_videoroom_rtcp_pli_send).
 */
import { unref } from '../timers';

/** libwebrtc's 300 ms, plus a margin for the request's way to the browser (WebSocket, Janus, ICE). */
export const KEYFRAME_WINDOW_MS = 330;

export class KeyframePacer {
  private last = -Infinity;
  private waiting: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    /** Sends one keyframe request now. */
    private readonly send: () => Promise<void>,
    /** A deferred request that failed (no caller is left to tell). */
    private readonly onError: (e: Error) => void = () => {},
    private readonly windowMs = KEYFRAME_WINDOW_MS,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Asks for a keyframe: now, or at the end of the window of the last request sent (resolves at once then). */
  ask(): Promise<void> {
    if (this.stopped || this.waiting) return Promise.resolve();
    const wait = this.last + this.windowMs - this.now();
    if (wait <= 0) {
      this.last = this.now();
      return this.send();
    }
    this.waiting = unref(
      setTimeout(() => {
        this.waiting = null;
        if (this.stopped) return;
        this.last = this.now();
        this.send().catch((e: Error) => this.onError(e));
      }, wait),
    );
    return Promise.resolve();
  }

  /** The publisher is gone: a waiting request is dropped, later asks do nothing. */
  stop(): void {
    this.stopped = true;
    if (this.waiting) clearTimeout(this.waiting);
    this.waiting = null;
  }
}
