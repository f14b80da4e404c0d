/**
 * What the publish and play negotiations share: the step error (each legacy error raised by its real
 * cause), the context an attempt hands a negotiator, the `Negotiator` seam itself, and the two helpers
 * every description exchange uses (a peer-connection operation through the serial queue, and the
 * MediaDescReq whose failures map the same way for both sides).
 */
import type { MediaErrorKind } from '../../protocol/errors';
import { MediaRequestError, type MediaSignal } from './MediaSignal';

/** Legacy per-step timeouts, ms. */
export const STEP_TIMEOUT_MS = 5_000;

export class StepError extends Error {
  constructor(
    readonly kind: MediaErrorKind,
    detail = '',
    /** Worth a retry after a success (network-ish failures). */
    readonly transient = false,
    /** The server says "not yet" (a play of a stream listed but not live): retry after this, even before any success. */
    readonly retryAfterMs?: number,
  ) {
    super(detail);
  }
}

/** Any failure as a StepError (an unexpected throw is a session error, final). */
export function asStepError(e: unknown): StepError {
  return e instanceof StepError ? e : new StepError('SessionError', String((e as Error)?.message ?? e));
}

/** One attempt's view, as a negotiator sees it. */
export interface NegotiationContext {
  readonly pc: RTCPeerConnection;
  readonly signal: MediaSignal;
  readonly sessionId: number;
  /** Runs an operation on the peer connection after every one queued before it. */
  run<T>(op: (pc: RTCPeerConnection) => Promise<T>): Promise<T>;
  /** The attempt is still the current one (a stale continuation stops quietly). */
  alive(): boolean;
  /** Races `p` against a step timer of `ms` that rejects with `kind` (transient). */
  step<T>(p: Promise<T>, kind: MediaErrorKind, ms?: number): Promise<T>;
  /** The next push of `cmd` for this session (one that came early counts), within the step timeout. */
  waitPush(cmd: string, kind: MediaErrorKind): Promise<Record<string, unknown>>;
  /** The server holds our description: local candidates may go from now on. */
  openTrickle(): void;
  /** Diagnostics: a named step of the attempt's timeline. */
  mark(step: string): void;
}

/**
 * One side of the description exchange (publish: we offer; play: the server offers). Resolves with the
 * server's SDP once both descriptions are applied; rejects with a StepError.
 */
export interface Negotiator {
  exchange(ctx: NegotiationContext): Promise<string>;
}

/** A peer-connection operation through the queue; its failure is the legacy error `kind`, final. */
export async function pcOp<T>(
  ctx: NegotiationContext,
  kind: MediaErrorKind,
  op: (pc: RTCPeerConnection) => Promise<T>,
): Promise<T> {
  try {
    return await ctx.run(op);
  } catch (e) {
    throw new StepError(kind, (e as Error).message);
  }
}

/**
 * MediaDescReq with our description, under its step timer. No reply is Timeout.Desc, a lost socket
 * SocketError (both worth a retry), an error reply `refused` (the side's own legacy code).
 */
export function describe(ctx: NegotiationContext, body: object, refused: MediaErrorKind): Promise<void> {
  return ctx.step(ctx.signal.request('MediaDescReq', ctx.sessionId, body), 'DescTimeout').then(
    () => undefined,
    (e: unknown) => {
      if (e instanceof StepError) throw e;
      if (e instanceof MediaRequestError && e.kind === 'timeout')
        throw new StepError('DescTimeout', '', true);
      if (e instanceof MediaRequestError && e.kind === 'closed')
        throw new StepError('SocketError', e.message, true);
      throw new StepError(refused, (e as Error).message);
    },
  );
}
