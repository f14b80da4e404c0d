/**
 * One try of a stream: everything it made (peer connection and its serial queue, media socket and
 * session, step timers, push waiters, early pushes and server candidates), torn down together. The
 * StreamSession keeps at most one current attempt; a continuation of an older one finds itself stale.
 */
import type { MediaErrorKind } from '../../protocol/errors';
import type { Platform } from '../platform/Platform';
import type { MediaSignal } from './MediaSignal';
import { STEP_TIMEOUT_MS, StepError } from './negotiation';
import { SerialQueue } from './SerialQueue';

/** A promise resolved from outside (the first server candidate of an attempt). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export class Attempt {
  pc: RTCPeerConnection | null = null;
  readonly queue = new SerialQueue();
  signal: MediaSignal | null = null;
  sessionId = 0;
  private readonly timers = new Set<unknown>();
  /** Push waiters by cmd, and pushes that came before anyone waited (even before CreateSessionRsp). */
  private readonly waiters = new Map<string, (body: Record<string, unknown>) => void>();
  private readonly early = new Map<string, Record<string, unknown>>();
  /** Server candidates pushed before the remote description was set. */
  pendingCandidates: RTCIceCandidateInit[] = [];
  /** Resolved by the first CandidateInfoPush. */
  readonly serverCandidate = deferred();

  /** `n`: 1-based, picks the dispatched URL (a retry moves through the list). */
  constructor(
    readonly n: number,
    private readonly platform: Platform,
  ) {}

  /** Races a promise against a step timer that rejects with `kind` (worth a retry). */
  step<T>(p: Promise<T>, kind: MediaErrorKind, ms = STEP_TIMEOUT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = this.platform.setTimeout(() => {
        this.timers.delete(t);
        reject(new StepError(kind, '', true));
      }, ms);
      this.timers.add(t);
      const done = () => {
        this.platform.clearTimeout(t);
        this.timers.delete(t);
      };
      p.then(
        (v) => {
          done();
          resolve(v);
        },
        (e: unknown) => {
          done();
          reject(e);
        },
      );
    });
  }

  /** The next push of `cmd` (one that came early counts), within the step timeout `kind`. */
  waitPush(cmd: string, kind: MediaErrorKind): Promise<Record<string, unknown>> {
    const early = this.early.get(cmd);
    if (early) {
      this.early.delete(cmd);
      return Promise.resolve(early);
    }
    return this.step(new Promise((resolve) => this.waiters.set(cmd, resolve)), kind);
  }

  /** Hands a push to its waiter; false when nobody waits for it. */
  deliver(cmd: string, body: Record<string, unknown>): boolean {
    const waiter = this.waiters.get(cmd);
    if (!waiter) return false;
    this.waiters.delete(cmd);
    waiter(body);
    return true;
  }

  /** Keeps a push nobody waits for yet (the server's description may come before the wait). */
  keep(cmd: string, body: Record<string, unknown>): void {
    this.early.set(cmd, body);
  }

  /**
   * Ends the attempt: timers, waiters, the queue, the peer connection (no event fires on close()). The
   * media session is the caller's to close (it knows the reason).
   */
  close(): void {
    for (const t of this.timers) this.platform.clearTimeout(t);
    this.timers.clear();
    this.waiters.clear();
    this.early.clear();
    this.queue.close();
    const pc = this.pc;
    this.pc = null;
    if (pc) {
      pc.oniceconnectionstatechange = null;
      pc.onconnectionstatechange = null;
      pc.onicecandidate = null;
      pc.close();
    }
  }
}

/**
 * Local candidates: held until the server has our description, then sent (those held together), one
 * request after the other; '' ends them.
 */
export function candidateTrickle(send: (infos: RTCIceCandidateInit[]) => Promise<void>) {
  const outbox: RTCIceCandidateInit[] = [];
  let open = false;
  let chain = Promise.resolve();
  const flush = (infos: RTCIceCandidateInit[]) => {
    chain = chain.then(() => send(infos));
  };
  return {
    local: (c: RTCIceCandidateInit) => {
      if (open) flush([c]);
      else outbox.push(c);
    },
    open: () => {
      open = true;
      if (outbox.length) flush(outbox.splice(0));
    },
  };
}
