/**
 * Ships log lines to our room server (the `client_log` extension command on the room socket), in
 * batches: every REMOTE_LOG_FLUSH_MS, or at once when REMOTE_LOG_FLUSH_LINES are waiting, at most
 * CLIENT_LOG_MAX_LINES per request, each line cut to CLIENT_LOG_LINE_BYTES. Lines wait (at most
 * CLIENT_LOG_MAX_LINES, the oldest dropped first, as 1.12.5's logCacheMax) while there is no room session
 * that takes them; the engine attaches the sender once the login reply says `client_log: 1`.
 *
 * No timer runs unless a sender is attached and lines wait.
 */
import { CLIENT_LOG_LINE_BYTES, CLIENT_LOG_MAX_LINES, cutUtf8 } from '../../protocol/constants';
import type { Platform } from '../platform/Platform';
import type { LogLine } from './Logger';

export const REMOTE_LOG_FLUSH_MS = 5_000;
export const REMOTE_LOG_FLUSH_LINES = 50;

export type LogSender = (logs: LogLine[]) => Promise<unknown>;

export class RemoteLog {
  private readonly waiting: LogLine[] = [];
  private dropped = 0;
  private timer: unknown = null;
  private sender: LogSender | null = null;

  constructor(
    private readonly platform: Pick<Platform, 'setTimeout' | 'clearTimeout'>,
    /** A send failed (reported to the console only: never shipped, so it cannot loop). */
    private readonly onSendError: (e: unknown) => void,
  ) {}

  /** Batch interval, ms (config.testing.logFlushMs lowers it for tests). */
  flushMs = REMOTE_LOG_FLUSH_MS;

  add(line: LogLine): void {
    this.waiting.push({ ...line, text: cutUtf8(line.text, CLIENT_LOG_LINE_BYTES) });
    if (this.waiting.length > CLIENT_LOG_MAX_LINES) {
      this.waiting.shift();
      this.dropped++;
    }
    if (!this.sender) return;
    if (this.waiting.length >= REMOTE_LOG_FLUSH_LINES) this.flush();
    else this.arm();
  }

  /** A room session takes logs: what waits goes now, later lines in batches. */
  attach(sender: LogSender): void {
    this.sender = sender;
    this.flush();
  }

  /** No session that takes logs (logged out, reconnecting): lines wait, bounded. */
  detach(): void {
    this.sender = null;
    this.disarm();
  }

  /** Nothing will ever be shipped again (release). */
  dispose(): void {
    this.detach();
    this.waiting.length = 0;
  }

  /** Sends what waits (one batch; the rest after the next interval). */
  flush(): void {
    this.disarm();
    const send = this.sender;
    if (!send || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, CLIENT_LOG_MAX_LINES);
    if (this.dropped) {
      // Said in the batch itself, so the server log shows the gap where it is.
      batch[0] = { ...batch[0]!, text: `(${this.dropped} earlier lines dropped) ${batch[0]!.text}` };
      batch[0].text = cutUtf8(batch[0].text, CLIENT_LOG_LINE_BYTES);
      this.dropped = 0;
    }
    send(batch).catch(this.onSendError);
    if (this.waiting.length) this.arm();
  }

  private arm(): void {
    if (this.timer === null) this.timer = this.platform.setTimeout(() => this.flush(), this.flushMs);
  }

  private disarm(): void {
    if (this.timer !== null) this.platform.clearTimeout(this.timer);
    this.timer = null;
  }
}
