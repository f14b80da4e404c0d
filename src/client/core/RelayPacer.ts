/**
 * sendRelayMessage pacing, as the original: with a server relay window (login `dati_time_window`) the
 * messages queue and each goes out after a random delay, floor(random * (span + 1)) with span = 2w -
 * (server time % w), counted from the previous send, so a whole quiz audience does not answer in one
 * burst. Without a window a message goes at once.
 */
import type { RelayRsp } from '../../protocol/room';
import type { Platform } from '../platform/Platform';
import { RequestFailure, type Reply } from './requests';
import type { ZegoError } from './ZegoError';

/** What a server-paced sender reads: the clock, randomness, and the server's window of the moment. */
export interface PacingDeps {
  platform: Pick<Platform, 'now' | 'random' | 'setTimeout' | 'clearTimeout'>;
  /** The server's window of the moment, ms (0: none). */
  windowMs(): number;
  /** Server clock minus ours, ms. */
  serverOffsetMs(): number;
}

export interface RelayDeps extends PacingDeps {
  send(type: string, data: string): Promise<Reply<RelayRsp>>;
}

interface Queued {
  type: string;
  data: string;
  resolve(r: Reply<RelayRsp>): void;
  reject(e: unknown): void;
}

export class RelayPacer {
  private queue: Queued[] = [];
  private timer: unknown = null;

  constructor(private readonly d: RelayDeps) {}

  submit(type: string, data: string): Promise<Reply<RelayRsp>> {
    if (this.d.windowMs() <= 0) return this.d.send(type, data);
    return new Promise((resolve, reject) => {
      this.queue.push({ type, data, resolve, reject });
      if (this.queue.length === 1) this.arm();
    });
  }

  /** Logout: queued messages fail with `error` and seq 0 (their seq would be a dead socket's). */
  cancel(error: ZegoError): void {
    if (this.timer !== null) this.d.platform.clearTimeout(this.timer);
    this.timer = null;
    for (const m of this.queue.splice(0)) m.reject(new RequestFailure(error, 0));
  }

  private arm(): void {
    const w = this.d.windowMs();
    const t = this.d.platform.now() + this.d.serverOffsetMs();
    const span = w > 0 ? 2 * w - (t % w) : 0;
    const delay = Math.floor(this.d.platform.random() * (span + 1));
    this.timer = this.d.platform.setTimeout(() => {
      this.timer = null;
      const m = this.queue.shift();
      if (m) this.d.send(m.type, m.data).then(m.resolve, m.reject);
      if (this.queue.length) this.arm();
    }, delay);
  }
}
