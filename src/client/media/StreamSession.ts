/**
 * One published or played stream: its state (streamState.ts), its attempts and its retries. An attempt is
 * dispatch, the shared media socket, a media session, a peer connection whose operations run one at a
 * time (SerialQueue), the description exchange (PublishNegotiator / PlayNegotiator), candidates both
 * ways and ICE; each error is raised by its real cause (each timeout by its own timer, legacy 5 s), mapped
 * to the seed's `ZegoPublish.*` / `ZegoPlay.*` codes.
 *
 * State reports (legacy `on…StateUpdate(type, streamId, error)`) come from `transition()`: 0 on entering
 * `live` (publish: after the room has the stream), 1 on `failed` (the stream is stopped), 2 on `retrying`.
 * A failure after the stream once went live (ICE failed, socket lost, media-server restart) retries with
 * backoff within `retryTimeS`, then reports 0 again, or 1 with RetryTimeout when the budget is spent. A
 * failure before it ever went live is final (1), as the original.
 */
import { RESTART_RETRY_MS } from '../../protocol/constants';
import { CloseCode, mediaError, type LegacyError } from '../../protocol/errors';
import { CloseReason, MediaResult, NOT_YET_RETRY_MS } from '../../protocol/media';
import { legacyBackoff } from '../core/backoff';
import type { Logger } from '../core/Logger';
import type { MediaPlatform, Platform } from '../platform/Platform';
import { Attempt, candidateTrickle } from './Attempt';
import { iceConfigOf } from './iceServers';
import { MediaRequestError, type MediaSignal } from './MediaSignal';
import { asStepError, StepError, type NegotiationContext, type Negotiator } from './negotiation';
import { hasCandidates } from './sdp';
import { QueueClosedError } from './SerialQueue';
import { isFinal, LEGACY_STATE, STREAM_MOVES, type StreamState } from './streamState';

export { STEP_TIMEOUT_MS } from './negotiation';
export { playKinds } from './PlayNegotiator';

/** CloseSessionPush reason: the published stream a player was watching ended (src/protocol/media). */
const STREAM_ENDED = CloseReason.StreamEnded;

/**
 * How long a player told "the stream ended" (CloseSessionPush reason 4) waits for the room's
 * stream-deleted push before reporting an error, ms. With 1.12's service a page saw onStreamUpdated(1)
 * and stopped the play itself, never a play error; our server sends the room push first, but the two
 * travel on different sockets, so the client does not bet on their order.
 */
export const STREAM_END_WAIT_MS = 500;

export interface StreamHooks {
  /** Dispatch: media signalling URLs for the stream (rejects with a DispatchFailure). */
  dispatch(streamId: string, ptype: 'push' | 'pull', cdnUrl: string): Promise<string[]>;
  /** The shared media socket for a URL. */
  signal(url: string): MediaSignal;
  /** Publish only: the room announces the stream (2001) once ICE is up. */
  announce(streamId: string, extraInfo: string): Promise<void>;
  state(type: 0 | 1 | 2, streamId: string, error?: LegacyError): void;
  /** Play only: the publisher's camera / mic status (legacy 0 on, other = off). */
  remoteStatus?(camera: number, mic: number): void;
  /** Play only: the stream ended with its room stream deleted; the player stopped without an error. */
  ended?(): void;
}

export class DispatchFailure extends Error {
  constructor(
    readonly timeout: boolean,
    /** The server's reason (a refused cdnUrl says why), for the error's msg. */
    readonly detail = '',
  ) {
    super(timeout ? 'dispatch timeout' : 'dispatch error');
  }
}

export interface StreamOptions {
  publish: boolean;
  streamId: string;
  extraInfo?: string;
  streamParams?: string;
  cdnUrl?: string;
  /** setCustomSignalUrl: skip dispatch. */
  customUrls: string[];
  retryTimeS: number;
  backoffMs?: (attempt: number) => number;
}

/** A failure as a log reason: its kind, and its detail when it has one. */
const whyOf = (e: StepError) => (e.message ? `${e.kind}: ${e.message}` : e.kind);

export class StreamSession {
  private _state: StreamState = 'idle';
  /** States entered at least once (`live` among them: the room was told about the stream). */
  private readonly reached = new Set<StreamState>(['idle']);
  private attempt: Attempt | null = null;
  private runs = 0;
  /** The retry cycle under way: its deadline and the retries it made. */
  private cycle = { deadline: 0, count: 0 };
  /** Timers of the stream itself (retry wait, end wait); an attempt's own are in the attempt. */
  private readonly timers = new Set<unknown>();
  /** The wait before the next retry (MediaReadyPush cuts it short). */
  private retryWait: unknown = null;
  /** Play: the room deleted the stream (whatever breaks now is its end, not an error). */
  private roomDeleted = false;
  /** Camera / mic status to send (publish) — legacy 0 on, 2 off. */
  camera = 0;
  mic = 0;
  /** Step times of the last attempt, ms from its start (diagnostics: bench, support). */
  timeline: [string, number][] = [];

  constructor(
    readonly o: StreamOptions,
    private readonly platform: Platform,
    private readonly media: MediaPlatform,
    private readonly negotiator: Negotiator,
    private readonly hooks: StreamHooks,
    private readonly log: Logger,
  ) {}

  get state(): StreamState {
    return this._state;
  }

  /** The current attempt's peer connection (quality sampling, diagnostics). */
  get pc(): RTCPeerConnection | null {
    return this.attempt?.pc ?? null;
  }

  /** The room was told about the stream (it went live at least once). */
  get announced(): boolean {
    return this.reached.has('live');
  }

  /** Went live at least once and not stopped or failed. */
  get started(): boolean {
    return this.announced && !isFinal(this._state);
  }

  start(): void {
    void this.run();
  }

  /**
   * The one setter: checks the move against STREAM_MOVES, logs `from -> to`, and reports the legacy
   * state of the new one (only on a change). Returns false for a move the table does not allow.
   */
  private transition(to: StreamState, why: string, error?: LegacyError): boolean {
    const from = this._state;
    if (from === to) return true;
    if (!STREAM_MOVES[from].includes(to)) {
      this.log.error(`stream ${this.o.streamId}: refused move ${from} -> ${to} (${why})`);
      return false;
    }
    this._state = to;
    this.reached.add(to);
    this.log.debug(`${this.o.publish ? 'publish' : 'play'} ${this.o.streamId}: ${from} -> ${to} (${why})`);
    const legacy = LEGACY_STATE[to];
    if (legacy !== undefined) this.hooks.state(legacy, this.o.streamId, legacy === 0 ? undefined : error);
    return true;
  }

  /** A step of the first attempt; a retry cycle stays `retrying` through its attempts. */
  private phase(to: 'dispatching' | 'connecting' | 'negotiating', why: string): void {
    if (this._state !== 'retrying') this.transition(to, why);
  }

  private mark(step: string): void {
    const t0 = this.timeline[0]?.[1] ?? this.platform.now();
    if (!this.timeline.length) this.timeline.push(['start', t0]);
    this.timeline.push([step, this.platform.now() - t0]);
  }

  private later(fn: () => void, ms: number): void {
    const t = this.platform.setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private clearTimers(): void {
    for (const t of this.timers) this.platform.clearTimeout(t);
    this.timers.clear();
    if (this.retryWait !== null) this.platform.clearTimeout(this.retryWait);
    this.retryWait = null;
  }

  // ------------------------------------------------------------------------------------ attempts

  /** One attempt; its failure (thrown, pushed or from ICE) goes to fail(). */
  private async run(): Promise<void> {
    const a = new Attempt(++this.runs, this.platform);
    this.attempt = a;
    try {
      await this.negotiate(a);
    } catch (e) {
      this.fail(a, asStepError(e));
    }
  }

  /** The attempt `a` failed: a final error, a retry, or (the room deleted the stream) a quiet end. */
  private fail(a: Attempt, e: StepError): void {
    if (a !== this.attempt || isFinal(this._state)) return;
    if (this.roomDeleted) return this.endQuietly();
    // reason 1: a failed attempt (the server keeps a started stream listed while we retry).
    this.dropAttempt(1);
    if (
      (this._state === 'live' && e.transient) ||
      this._state === 'retrying' ||
      (e.retryAfterMs !== undefined && this._state === 'connecting')
    )
      return this.retry(e);
    this.transition('failed', whyOf(e), this.errorOf(e));
  }

  private errorOf(e: StepError): LegacyError {
    if (e.kind === 'SessionClosed')
      return {
        code: mediaError('SessionClosed', this.o.publish).code,
        msg: `server session closed ${e.message}`,
      };
    return mediaError(e.kind, this.o.publish, e.message || undefined);
  }

  private retry(e: StepError): void {
    const now = this.platform.now();
    if (this._state !== 'retrying') {
      this.cycle = { deadline: now + this.o.retryTimeS * 1000, count: 0 };
      this.transition('retrying', whyOf(e), this.errorOf(e));
    }
    const backoff = this.o.backoffMs ?? legacyBackoff(() => this.platform.random());
    const count = this.cycle.count++;
    const wait = e.retryAfterMs ?? backoff(count);
    if (now + wait > this.cycle.deadline) {
      this.transition('failed', 'retry budget spent', mediaError('RetryTimeout', this.o.publish));
      return;
    }
    this.retryWait = this.platform.setTimeout(() => this.retryNow(), wait);
  }

  /** Retries at once if a retry is waiting (the server's MediaReadyPush: its media server is back). */
  retryNow(): void {
    if (this.retryWait === null) return;
    this.platform.clearTimeout(this.retryWait);
    this.retryWait = null;
    if (this._state === 'retrying') void this.run();
  }

  /** The attempt's context for the negotiator. */
  private context(a: Attempt, pc: RTCPeerConnection, signal: MediaSignal, openTrickle: () => void) {
    const ctx: NegotiationContext = {
      pc,
      signal,
      sessionId: a.sessionId,
      run: (op) => a.queue.push(() => op(pc)),
      alive: () => a === this.attempt,
      step: (p, kind, ms) => a.step(p, kind, ms),
      waitPush: (cmd, kind) => a.waitPush(cmd, kind),
      openTrickle,
      mark: (s) => this.mark(s),
    };
    return ctx;
  }

  private applyServerCandidates(a: Attempt, pc: RTCPeerConnection, list: RTCIceCandidateInit[]): void {
    for (const c of list)
      a.queue
        .push(() => pc.addIceCandidate(c))
        .catch(() => this.fail(a, new StepError('ServerCandidateError')));
  }

  private async negotiate(a: Attempt): Promise<void> {
    const pub = this.o.publish;
    const alive = () => a === this.attempt;
    this.timeline = [];
    this.mark('start');
    this.phase('dispatching', 'start');
    // 1. Dispatch.
    let urls = this.o.customUrls;
    if (!urls.length) {
      try {
        urls = await this.hooks.dispatch(this.o.streamId, pub ? 'push' : 'pull', this.o.cdnUrl ?? '');
      } catch (e) {
        throw new StepError(
          e instanceof DispatchFailure && e.timeout ? 'DispatchTimeout' : 'DispatchError',
          e instanceof DispatchFailure ? e.detail : '',
          true,
        );
      }
      if (!urls.length) throw new StepError('DispatchError');
    }
    if (!alive()) return;
    this.mark('dispatched');
    this.phase('connecting', 'dispatched');
    // 2. Media socket (login with the room token).
    const signal = this.hooks.signal(urls[(a.n - 1) % urls.length]!);
    a.signal = signal;
    try {
      await signal.connect();
    } catch (e) {
      if (e instanceof MediaRequestError && e.kind === 'result') throw new StepError('Token', e.message);
      throw new StepError('SocketError', (e as Error).message, true);
    }
    if (!alive()) {
      signal.releaseIfIdle();
      return;
    }
    this.mark('media socket');
    // 3. Session.
    let created: Record<string, unknown>;
    try {
      created = await signal.request('CreateSessionReq', 0, {
        type: pub ? 0 : 1,
        stream_id: this.o.streamId,
        negotiate_mode: pub ? 0 : 1,
        strAuthParam: this.o.streamParams ?? '',
        platform: this.platform.device?.platform ?? '',
        browser: (this.platform.device?.userAgent ?? '').slice(0, 200),
        sdk_version: 1125,
      });
    } catch (e) {
      const err = e as MediaRequestError;
      if (err.kind === 'timeout') throw new StepError('SessionTimeout', '', true);
      if (err.kind === 'closed') throw new StepError('SocketError', err.message, true);
      // Listed but not live yet (its publisher is connecting or coming back): ask again shortly.
      if (err.result === MediaResult.NotYet) {
        const after = Number(err.body.retry_after_ms);
        throw new StepError(
          'SessionError',
          `${err.message} (result ${err.result})`,
          true,
          after > 0 ? after : NOT_YET_RETRY_MS,
        );
      }
      // Play of a stream not (yet) published: worth retrying while a retry cycle runs.
      throw new StepError(
        'SessionError',
        `${err.message} (result ${err.result})`,
        err.result === MediaResult.StreamNotFound,
      );
    }
    if (!alive()) {
      this.closeSession(signal, Number(created.session_id), 0);
      signal.releaseIfIdle();
      return;
    }
    this.mark('session');
    this.phase('negotiating', 'session created');
    const sid = Number(created.session_id);
    a.sessionId = sid;
    signal.addSession(sid, {
      push: (cmd, body) => this.onPush(a, cmd, body),
      // A server shutting down (4005) is back soon or replaced: retry quickly, not after the backoff.
      closed: (code) =>
        this.fail(
          a,
          new StepError(
            'SocketError',
            'media socket closed',
            true,
            code === CloseCode.Shutdown ? RESTART_RETRY_MS : undefined,
          ),
        ),
    });
    // 4. The peer connection, the description exchange, candidates both ways, ICE.
    const pc = this.media.createPeerConnection(iceConfigOf(created));
    a.pc = pc;
    const trickle = this.trickle(a, signal, sid);
    pc.onicecandidate = (ev) => {
      if (!alive()) return;
      trickle.local(ev.candidate ? ev.candidate.toJSON() : { candidate: '' });
    };
    const iceUp = this.iceUp(a, pc);
    const serverSdp = await this.negotiator.exchange(this.context(a, pc, signal, trickle.open));
    if (!alive()) return;
    trickle.open();
    if (a.pendingCandidates.length) this.applyServerCandidates(a, pc, a.pendingCandidates.splice(0));
    // Server candidates: in the SDP (half trickle) or pushed (maybe already) within the step timeout.
    if (!hasCandidates(serverSdp)) await a.step(a.serverCandidate.promise, 'ServerCandidateTimeout');
    this.mark('described');
    await iceUp;
    this.mark('connected');
    if (!alive()) return;
    if (pub) {
      await this.hooks.announce(this.o.streamId, this.o.extraInfo ?? '');
      if (this.camera !== 0 || this.mic !== 0) this.sendStatus();
    }
    if (!alive()) return;
    this.transition('live', 'connected');
  }

  /** Our candidates to the server: CandidateInfoReq, each under its step timer. */
  private trickle(a: Attempt, signal: MediaSignal, sid: number) {
    return candidateTrickle((infos) =>
      a
        .step(
          signal.request('CandidateInfoReq', sid, {
            infos: infos.map((c) => ({
              candidate: c.candidate ?? '',
              sdpMid: c.sdpMid,
              sdpMLineIndex: c.sdpMLineIndex,
            })),
          }),
          'CandidateTimeout',
        )
        .then(
          () => undefined,
          (e: unknown) =>
            this.fail(a, e instanceof StepError ? e : new StepError('CandidateTimeout', '', true)),
        ),
    );
  }

  /**
   * Resolves once ICE is connected and, where the browser reports it, DTLS is done (connectionState
   * 'connected'): media can flow from then on. A failed or closed connection fails the attempt.
   */
  private iceUp(a: Attempt, pc: RTCPeerConnection): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = () => {
        const st = pc.iceConnectionState;
        const conn = (pc as { connectionState?: string }).connectionState;
        if ((st === 'connected' || st === 'completed') && (conn === undefined || conn === 'connected'))
          resolve();
        else if (st === 'failed' || conn === 'failed')
          this.fail(a, new StepError('ConnectionFailed', '', true));
        else if (st === 'closed') this.fail(a, new StepError('ConnectionClosed', '', true));
      };
      pc.oniceconnectionstatechange = check;
      pc.onconnectionstatechange = check;
    });
  }

  private onPush(a: Attempt, cmd: string, body: Record<string, unknown>): void {
    if (a !== this.attempt || a.deliver(cmd, body)) return;
    switch (cmd) {
      case 'MediaDescPush':
        a.keep(cmd, body);
        return;
      case 'CandidateInfoPush': {
        const list = (body.infos as RTCIceCandidateInit[]) ?? [];
        if (a.pc && a.pc.remoteDescription) this.applyServerCandidates(a, a.pc, list);
        else a.pendingCandidates.push(...list);
        a.serverCandidate.resolve();
        return;
      }
      case 'CloseSessionPush': {
        const reason = Number(body.reason ?? 1);
        if (reason === STREAM_ENDED && !this.o.publish) return this.streamEnded();
        // reason 2: the media server restarted; others: the server ended the session.
        this.fail(a, new StepError('SessionClosed', `reason:${reason}`, reason === 2));
        return;
      }
      case 'SessionResetPush':
        this.fail(a, new StepError('SessionClosed', 'reset', true));
        return;
      case 'StreamStatusNotifyPush':
        this.hooks.remoteStatus?.(Number(body.camera_status ?? 0), Number(body.mic_status ?? 0));
        return;
    }
  }

  /** Publish: tells players the camera / mic status (StreamStatusNotify). */
  sendStatus(): void {
    const a = this.attempt;
    if (!this.o.publish || !a?.signal || !a.sessionId) return;
    a.signal
      .request('StreamStatusNotify', a.sessionId, { camera_status: this.camera, mic_status: this.mic })
      .catch((e: unknown) => this.log.debug(`stream ${this.o.streamId}: status not sent:`, e));
  }

  /** Swaps the outgoing track of a kind without renegotiation (switchDevice, an audio chain). */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    const a = this.attempt;
    const pc = a?.pc;
    if (!a || !pc) return;
    await a.queue
      .push(async () => {
        const sender = pc.getSenders().find((s) => s.track?.kind === track.kind);
        if (sender) await sender.replaceTrack(track);
      })
      .catch((e: unknown) => {
        // The attempt ended meanwhile: its successor sends the source's current tracks anyway.
        if (!(e instanceof QueueClosedError)) throw e;
      });
  }

  private closeSession(signal: MediaSignal, sid: number, reason: 0 | 1): void {
    signal
      .request('CloseSessionReq', sid, { reason })
      .catch((e: unknown) => this.log.debug(`stream ${this.o.streamId}: CloseSessionReq ${sid}:`, e));
  }

  /** Ends the current attempt: its timers, queue, peer connection and media session. */
  private dropAttempt(reason: 0 | 1): void {
    const a = this.attempt;
    this.attempt = null;
    if (!a) return;
    a.close();
    if (a.signal && a.sessionId) {
      this.closeSession(a.signal, a.sessionId, reason);
      a.signal.removeSession(a.sessionId);
    } else a.signal?.releaseIfIdle();
  }

  /**
   * Play: the room deleted this stream (onStreamUpdated(1)). A close that was waiting for it ends the
   * player now, and so does any later failure or a retry under way; a healthy player plays on until the
   * page stops it, as 1.12.
   */
  roomStreamDeleted(): void {
    if (this.o.publish || isFinal(this._state)) return;
    this.roomDeleted = true;
    if (this._state === 'ending' || this._state === 'retrying') this.endQuietly();
  }

  /** Play: the room lists the stream again (republished under the same id). */
  roomStreamAdded(): void {
    this.roomDeleted = false;
  }

  /**
   * Play: the server ended the session because the stream ended (CloseSessionPush reason 4). The attempt
   * is over either way; only the report waits: none if the room deletes the stream within
   * STREAM_END_WAIT_MS, else state 1 SessionClosed (a real failure: the room still lists the stream).
   */
  private streamEnded(): void {
    if (this.roomDeleted) return this.endQuietly();
    this.dropAttempt(1);
    this.transition('ending', `server session closed reason:${STREAM_ENDED}`);
    this.later(() => {
      const e = new StepError('SessionClosed', `reason:${STREAM_ENDED}`);
      this.transition('failed', 'the room still lists the ended stream', this.errorOf(e));
    }, STREAM_END_WAIT_MS);
  }

  private endQuietly(): void {
    if (isFinal(this._state)) return;
    this.clearTimers();
    this.dropAttempt(0);
    this.transition('stopped', 'the room deleted the stream');
    this.hooks.ended?.();
  }

  /** Stops for good (stopPublishingStream / stopPlayingStream / release). */
  stop(): void {
    this.clearTimers();
    this.dropAttempt(0);
    if (!isFinal(this._state)) this.transition('stopped', 'stop');
  }
}
