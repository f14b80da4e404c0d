/**
 * One published or played stream: dispatch, media socket, session, SDP negotiation, ICE, state reports,
 * and retries. Each error is raised by its real cause (each timeout by its own timer, legacy 5 s), mapped
 * to the seed's `ZegoPublish.*` / `ZegoPlay.*` codes.
 *
 * State reports (legacy `on…StateUpdate(type, streamId, error)`): 0 = started (publish: after the room
 * has the stream), 1 = error (the stream is stopped), 2 = retrying. A failure after the stream once
 * started (ICE failed, socket lost, media-server restart) retries with backoff within `retryTimeS`, then
 * reports 0 again, or 1 with RetryTimeout when the budget is spent. A failure before it ever started is
 * final (1), as the original.
 */
import { mediaError, type LegacyError, type MediaErrorKind } from '../../protocol/errors';
import { CloseReason } from '../../protocol/media';
import { legacyBackoff } from '../core/backoff';
import type { MediaPlatform, Platform } from '../platform/Platform';
import { MediaRequestError, type MediaSignal } from './MediaSignal';
import { hasCandidates, keepVideoCodec, setOpusParams, setVideoBitrate, type VideoCodec } from './sdp';

/** CloseSessionPush reason: the published stream a player was watching ended (src/protocol/media). */
const STREAM_ENDED = CloseReason.StreamEnded;

/** Legacy per-step timeouts, ms. */
export const STEP_TIMEOUT_MS = 5_000;

/**
 * How long a player told "the stream ended" (CloseSessionPush reason 4) waits for the room's
 * stream-deleted push before reporting an error, ms. With 1.12's service a page saw onStreamUpdated(1)
 * and stopped the play itself, never a play error; our server sends the room push first, but the two
 * travel on different sockets, so the client does not bet on their order.
 */
export const STREAM_END_WAIT_MS = 500;

/**
 * The kinds a player receives for a legacy playType: 'audio' or 'video' alone, anything else (1.12: 'all',
 * and pages' 'auto', '', undefined) both.
 */
export function playKinds(playType: string | undefined): ('audio' | 'video')[] {
  if (playType === 'audio') return ['audio'];
  if (playType === 'video') return ['video'];
  return ['audio', 'video'];
}

export interface StreamHooks {
  /** Dispatch: media signalling URLs for the stream (rejects with a DispatchFailure). */
  dispatch(streamId: string, ptype: 'push' | 'pull', cdnUrl: string): Promise<string[]>;
  /** The shared media socket for a URL. */
  signal(url: string): MediaSignal;
  /** Publish only: the room announces the stream (2001) once ICE is up. */
  announce(streamId: string, extraInfo: string): Promise<void>;
  state(type: 0 | 1 | 2, streamId: string, error?: LegacyError): void;
  /** Play only: the remote MediaStream is ready. */
  remoteStream?(stream: MediaStream): void;
  /** Play only: the publisher's camera / mic status (legacy 0 on, other = off). */
  remoteStatus?(camera: number, mic: number): void;
  /** Play only: the stream ended with its room stream deleted; the player stopped without an error. */
  ended?(): void;
}

export class DispatchFailure extends Error {
  constructor(readonly timeout: boolean) {
    super(timeout ? 'dispatch timeout' : 'dispatch error');
  }
}

export interface StreamOptions {
  publish: boolean;
  streamId: string;
  /** Publish: the captured stream. */
  local?: MediaStream;
  extraInfo?: string;
  streamParams?: string;
  cdnUrl?: string;
  codec: VideoCodec;
  /** Publish: bitrate cap, kbps. */
  videoKbps?: number;
  width?: number;
  height?: number;
  frameRate?: number;
  /** Play: 'audio' | 'video'; anything else plays both (see playKinds). */
  playType?: string;
  /** setCustomSignalUrl: skip dispatch. */
  customUrls: string[];
  retryTimeS: number;
  backoffMs?: (attempt: number) => number;
}

class StepError extends Error {
  constructor(
    readonly kind: MediaErrorKind,
    detail = '',
    /** Worth a retry after a success (network-ish failures). */
    readonly transient = false,
  ) {
    super(detail);
  }
}

export class StreamSession {
  pc: RTCPeerConnection | null = null;
  /** Started (state 0 reported) at least once. */
  private everStarted = false;
  private stopped = false;
  private attempt = 0;
  private sessionId = 0;
  private signal: MediaSignal | null = null;
  private timers = new Set<unknown>();
  private pushWaiters = new Map<string, (body: Record<string, unknown>) => void>();
  private failHandler: ((e: StepError) => void) | null = null;
  /** Camera / mic status to send (publish) — legacy 0 on, 2 off. */
  camera = 0;
  mic = 0;
  private retryDeadline = 0;
  /** Step times of the last attempt, ms from its start (diagnostics: bench, support). */
  timeline: [string, number][] = [];
  private mark(step: string): void {
    const t0 = this.timeline[0]?.[1] ?? this.platform.now();
    if (!this.timeline.length) this.timeline.push(['start', t0]);
    this.timeline.push([step, this.platform.now() - t0]);
  }
  private retrying = false;

  constructor(
    readonly o: StreamOptions,
    private readonly platform: Platform,
    private readonly media: MediaPlatform,
    private readonly hooks: StreamHooks,
  ) {}

  start(): void {
    void this.run();
  }

  private setTimer(fn: () => void, ms: number): unknown {
    const t = this.platform.setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimers(): void {
    for (const t of this.timers) this.platform.clearTimeout(t);
    this.timers.clear();
  }

  /** One attempt; on failure decides between final error and retry. */
  private async run(): Promise<void> {
    const attempt = ++this.attempt;
    try {
      await this.negotiate(attempt);
    } catch (e) {
      if (attempt !== this.attempt || this.stopped) return;
      this.failed(
        e instanceof StepError ? e : new StepError('SessionError', String((e as Error)?.message ?? e)),
      );
    }
  }

  private failed(e: StepError): void {
    if (this.stopped) return;
    // The room deleted the stream: whatever breaks now is its end, not an error (1.12 reported none).
    if (this.roomDeleted) return this.endQuietly();
    // reason 1: a failed attempt (the server keeps a started stream listed while we retry).
    this.teardownAttempt(1);
    if (this.everStarted && e.transient) return this.retry(e);
    if (this.retrying) return this.retry(e);
    this.stopped = true;
    this.hooks.state(1, this.o.streamId, this.errorOf(e));
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
    if (!this.retrying) {
      this.retrying = true;
      this.retryDeadline = now + this.o.retryTimeS * 1000;
      this.retryCount = 0;
      this.hooks.state(2, this.o.streamId, this.errorOf(e));
    }
    const backoff = this.o.backoffMs ?? legacyBackoff(() => this.platform.random());
    const wait = backoff(this.retryCount++);
    if (now + wait > this.retryDeadline) {
      this.stopped = true;
      this.hooks.state(1, this.o.streamId, mediaError('RetryTimeout', this.o.publish));
      return;
    }
    this.setTimer(() => {
      if (!this.stopped) void this.run();
    }, wait);
  }
  private retryCount = 0;

  /** Races a promise against a step timeout. */
  private step<T>(p: Promise<T>, timeoutKind: MediaErrorKind, ms = STEP_TIMEOUT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = this.setTimer(() => reject(new StepError(timeoutKind, '', true)), ms);
      p.then(
        (v) => {
          this.platform.clearTimeout(t);
          this.timers.delete(t);
          resolve(v);
        },
        (e) => {
          this.platform.clearTimeout(t);
          this.timers.delete(t);
          reject(e);
        },
      );
    });
  }

  /** Resolves with the next push of `cmd` for this session (or rejects on the step timeout). */
  private waitPush(cmd: string, timeoutKind: MediaErrorKind): Promise<Record<string, unknown>> {
    // A push may have come before anyone waited (even before CreateSessionRsp was read).
    const early = this.earlyPushes.get(cmd);
    if (early) {
      this.earlyPushes.delete(cmd);
      return Promise.resolve(early);
    }
    return this.step(new Promise((resolve) => this.pushWaiters.set(cmd, resolve)), timeoutKind);
  }
  private readonly earlyPushes = new Map<string, Record<string, unknown>>();
  /** Server candidates pushed before the PeerConnection could take them, and whether any came. */
  private pendingServerCandidates: RTCIceCandidateInit[] = [];
  private sawServerCandidate = false;

  private applyServerCandidates(pc: RTCPeerConnection, list: RTCIceCandidateInit[]): void {
    for (const c of list) pc.addIceCandidate(c).catch(() => this.fail(new StepError('ServerCandidateError')));
  }

  private async negotiate(attempt: number): Promise<void> {
    const pub = this.o.publish;
    const live = () => attempt === this.attempt && !this.stopped;
    this.timeline = [];
    this.mark('start');
    // 1. Dispatch.
    let urls = this.o.customUrls;
    if (!urls.length) {
      try {
        urls = await this.hooks.dispatch(this.o.streamId, pub ? 'push' : 'pull', this.o.cdnUrl ?? '');
      } catch (e) {
        throw new StepError(
          e instanceof DispatchFailure && e.timeout ? 'DispatchTimeout' : 'DispatchError',
          '',
          true,
        );
      }
      if (!urls.length) throw new StepError('DispatchError');
    }
    if (!live()) return;
    this.mark('dispatched');
    // 2. Media socket (login with the room token).
    const signal = this.hooks.signal(urls[(this.attempt - 1) % urls.length]!);
    this.signal = signal;
    try {
      await signal.connect();
    } catch (e) {
      if (e instanceof MediaRequestError && e.kind === 'result') throw new StepError('Token', e.message);
      throw new StepError('SocketError', (e as Error).message, true);
    }
    if (!live()) {
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
        platform: typeof navigator !== 'undefined' ? navigator.platform : '',
        browser: typeof navigator !== 'undefined' ? navigator.userAgent.slice(0, 200) : '',
        sdk_version: 1125,
      });
    } catch (e) {
      const err = e as MediaRequestError;
      if (err.kind === 'timeout') throw new StepError('SessionTimeout', '', true);
      if (err.kind === 'closed') throw new StepError('SocketError', err.message, true);
      // Play of a stream not (yet) published: worth retrying while a retry cycle runs.
      throw new StepError('SessionError', `${err.message} (result ${err.result})`, err.result === 6);
    }
    if (!live()) {
      signal.request('CloseSessionReq', Number(created.session_id), { reason: 0 }).catch(() => {});
      signal.releaseIfIdle();
      return;
    }
    this.mark('session');
    const sid = Number(created.session_id);
    this.sessionId = sid;
    signal.addSession(sid, {
      push: (cmd, body) => this.onPush(attempt, cmd, body),
      closed: () => {
        if (attempt === this.attempt) this.fail(new StepError('SocketError', 'media socket closed', true));
      },
    });
    // Failures from pushes / ICE callbacks reject the running negotiation or, after it, trigger a retry.
    const failure = new Promise<never>((_, reject) => {
      this.failHandler = (e) => reject(e);
    });
    failure.catch(() => {});
    await Promise.race([this.negotiateSdp(attempt, signal, sid, live), failure]);
  }

  private fail(e: StepError): void {
    const h = this.failHandler;
    if (h) {
      this.failHandler = null;
      h(e);
      // The negotiation promise rejects; run() turns it into failed(). After a success there is no
      // negotiation waiting any more, so act here.
      if (this.connectedAttempt === this.attempt) this.failed(e);
    }
  }
  private connectedAttempt = 0;

  private onPush(attempt: number, cmd: string, body: Record<string, unknown>): void {
    if (attempt !== this.attempt || this.stopped) return;
    const waiter = this.pushWaiters.get(cmd);
    if (waiter) {
      this.pushWaiters.delete(cmd);
      waiter(body);
      return;
    }
    switch (cmd) {
      case 'MediaDescPush':
        this.earlyPushes.set(cmd, body);
        return;
      case 'CandidateInfoPush': {
        const list = (body.infos as RTCIceCandidateInit[]) ?? [];
        this.sawServerCandidate = true;
        if (this.pc && this.pc.remoteDescription) this.applyServerCandidates(this.pc, list);
        else this.pendingServerCandidates.push(...list);
        this.gotServerCandidate?.();
        return;
      }
      case 'CloseSessionPush': {
        const reason = Number(body.reason ?? 1);
        if (reason === STREAM_ENDED && !this.o.publish) return this.streamEnded();
        // reason 2: the media server restarted; others: the server ended the session.
        this.fail(new StepError('SessionClosed', `reason:${reason}`, reason === 2));
        return;
      }
      case 'SessionResetPush':
        this.fail(new StepError('SessionClosed', 'reset', true));
        return;
      case 'StreamStatusNotifyPush':
        this.hooks.remoteStatus?.(Number(body.camera_status ?? 0), Number(body.mic_status ?? 0));
        return;
    }
  }
  private gotServerCandidate: (() => void) | null = null;

  private async negotiateSdp(
    attempt: number,
    signal: MediaSignal,
    sid: number,
    live: () => boolean,
  ): Promise<void> {
    const pub = this.o.publish;
    const pc = this.media.createPeerConnection({ iceServers: [] });
    this.pc = pc;
    const outbox: RTCIceCandidateInit[] = [];
    let remoteSet = false;
    let candidateSends = Promise.resolve();
    const sendCandidates = (infos: RTCIceCandidateInit[]) => {
      candidateSends = candidateSends.then(() =>
        this.step(
          signal.request('CandidateInfoReq', sid, {
            infos: infos.map((c) => ({
              candidate: c.candidate ?? '',
              sdpMid: c.sdpMid,
              sdpMLineIndex: c.sdpMLineIndex,
            })),
          }),
          'CandidateTimeout',
        ).then(
          () => {},
          (e: unknown) => this.fail(e instanceof StepError ? e : new StepError('CandidateTimeout', '', true)),
        ),
      );
    };
    pc.onicecandidate = (ev) => {
      if (!live()) return;
      const c: RTCIceCandidateInit = ev.candidate ? ev.candidate.toJSON() : { candidate: '' };
      if (remoteSet) sendCandidates([c]);
      else outbox.push(c);
    };
    // Up = ICE connected and, where the browser reports it, DTLS done (connectionState 'connected'): media
    // can flow from then on.
    const iceUp = new Promise<void>((resolve) => {
      const check = () => {
        const st = pc.iceConnectionState;
        const conn = (pc as { connectionState?: string }).connectionState;
        if ((st === 'connected' || st === 'completed') && (conn === undefined || conn === 'connected'))
          resolve();
        else if (st === 'failed' || conn === 'failed') this.fail(new StepError('ConnectionFailed', '', true));
        else if (st === 'closed' && !this.stopped) this.fail(new StepError('ConnectionClosed', '', true));
      };
      pc.oniceconnectionstatechange = check;
      pc.onconnectionstatechange = check;
    });
    let serverSdp: string;
    if (pub) {
      for (const track of this.o.local?.getTracks() ?? [])
        pc.addTransceiver(track, { direction: 'sendonly', streams: [this.o.local!] });
      let offer: RTCSessionDescriptionInit;
      try {
        offer = await pc.createOffer();
      } catch (e) {
        throw new StepError('CreateOffer', (e as Error).message);
      }
      let sdp = keepVideoCodec(offer.sdp ?? '', this.o.codec);
      if (this.o.videoKbps) sdp = setVideoBitrate(sdp, this.o.videoKbps, this.media.isFirefox);
      sdp = setOpusParams(sdp, { maxaveragebitrate: 48_000, stereo: 0 });
      try {
        await pc.setLocalDescription({ type: 'offer', sdp });
      } catch (e) {
        throw new StepError('LocalDesc', (e as Error).message);
      }
      const answerP = this.waitPush('MediaDescPush', 'ServerAnswerTimeout');
      // Awaited below; until then a timeout must not surface as an unhandled rejection.
      answerP.catch(() => {});
      await this.step(
        signal.request('MediaDescReq', sid, {
          type: 0,
          sdp,
          width: this.o.width ?? 0,
          height: this.o.height ?? 0,
          framerate: this.o.frameRate ?? 0,
          video_min_kpbs: 0,
          video_max_kpbs: this.o.videoKbps ?? 0,
          audio_kpbs: 48,
        }),
        'DescTimeout',
      ).catch((e: unknown) => {
        if (e instanceof StepError) throw e;
        if (e instanceof MediaRequestError && e.kind === 'timeout')
          throw new StepError('DescTimeout', '', true);
        if (e instanceof MediaRequestError && e.kind === 'closed')
          throw new StepError('SocketError', e.message, true);
        throw new StepError('ServerAnswerError', (e as Error).message);
      });
      const answer = await answerP;
      if (Number(answer.type) !== 1 || typeof answer.sdp !== 'string')
        throw new StepError('ServerAnswerError');
      serverSdp = answer.sdp;
      try {
        await pc.setRemoteDescription({ type: 'answer', sdp: serverSdp });
      } catch (e) {
        throw new StepError('RemoteDesc', (e as Error).message);
      }
    } else {
      const offer = await this.waitPush('MediaDescPush', 'RemoteOfferTimeout');
      this.mark('server offer');
      if (Number(offer.type) !== 0 || typeof offer.sdp !== 'string') throw new StepError('RemoteOfferError');
      serverSdp = offer.sdp;
      const stream = new MediaStream();
      const kinds: string[] = playKinds(this.o.playType);
      pc.ontrack = (ev) => {
        // Only the kinds played: a never-fed video track keeps an audio-only element at readyState 0.
        if (!kinds.includes(ev.track.kind)) return;
        stream.addTrack(ev.track);
        if (live()) this.hooks.remoteStream?.(stream);
      };
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: serverSdp });
      } catch (e) {
        throw new StepError('RemoteOfferError', (e as Error).message);
      }
      for (const t of pc.getTransceivers()) {
        const kind = t.receiver.track?.kind ?? '';
        t.direction = kinds.includes(kind) ? 'recvonly' : 'inactive';
      }
      let answer: RTCSessionDescriptionInit;
      try {
        answer = await pc.createAnswer();
      } catch (e) {
        throw new StepError('CreateAnswer', (e as Error).message);
      }
      try {
        await pc.setLocalDescription(answer);
      } catch (e) {
        throw new StepError('LocalDesc', (e as Error).message);
      }
      this.mark('answer');
      // The server's offer is applied: our candidates may go now, alongside the answer (Janus queues
      // trickles that arrive before it), which saves a round trip before ICE can complete.
      const described = this.step(
        signal.request('MediaDescReq', sid, { type: 1, sdp: answer.sdp }),
        'DescTimeout',
      );
      remoteSet = true;
      if (outbox.length) sendCandidates(outbox.splice(0));
      await described.catch((e: unknown) => {
        if (e instanceof StepError) throw e;
        if (e instanceof MediaRequestError && e.kind === 'timeout')
          throw new StepError('DescTimeout', '', true);
        if (e instanceof MediaRequestError && e.kind === 'closed')
          throw new StepError('SocketError', e.message, true);
        throw new StepError('SessionError', (e as Error).message);
      });
    }
    if (!live()) return;
    remoteSet = true;
    if (outbox.length) sendCandidates(outbox.splice(0));
    if (this.pendingServerCandidates.length)
      this.applyServerCandidates(pc, this.pendingServerCandidates.splice(0));
    // Server candidates: in the SDP (half trickle) or pushed (maybe already) within the step timeout.
    if (!hasCandidates(serverSdp) && !this.sawServerCandidate) {
      await this.step(
        new Promise<void>((resolve) => (this.gotServerCandidate = resolve)),
        'ServerCandidateTimeout',
      );
    }
    this.mark('described');
    await iceUp;
    this.mark('connected');
    if (!live()) return;
    if (pub) {
      await this.hooks.announce(this.o.streamId, this.o.extraInfo ?? '');
      if (this.camera !== 0 || this.mic !== 0) this.sendStatus();
    }
    if (!live()) return;
    this.connectedAttempt = attempt;
    this.everStarted = true;
    this.retrying = false;
    this.hooks.state(0, this.o.streamId);
  }

  /** Publish: tells players the camera / mic status (StreamStatusNotify). */
  sendStatus(): void {
    if (!this.o.publish || !this.signal || !this.sessionId) return;
    this.signal
      .request('StreamStatusNotify', this.sessionId, { camera_status: this.camera, mic_status: this.mic })
      .catch(() => {});
  }

  /** Swaps the outgoing track of a kind without renegotiation (switchDevice). */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === track.kind);
    if (sender) await sender.replaceTrack(track);
  }

  private teardownAttempt(reason: 0 | 1): void {
    this.clearTimers();
    this.endWait = null;
    this.pushWaiters.clear();
    this.earlyPushes.clear();
    this.pendingServerCandidates = [];
    this.sawServerCandidate = false;
    this.failHandler = null;
    this.gotServerCandidate = null;
    const pc = this.pc;
    this.pc = null;
    if (pc) {
      pc.oniceconnectionstatechange = null;
      pc.onconnectionstatechange = null;
      pc.onicecandidate = null;
      pc.close();
    }
    if (this.signal && this.sessionId) {
      this.signal.request('CloseSessionReq', this.sessionId, { reason }).catch(() => {});
      this.signal.removeSession(this.sessionId);
    }
    this.sessionId = 0;
  }

  /**
   * Play: the room deleted this stream (onStreamUpdated(1)). A close that was waiting for it ends the
   * player now, and so does any later failure or a retry under way; a healthy player plays on until the
   * page stops it, as 1.12.
   */
  roomStreamDeleted(): void {
    if (this.o.publish || this.stopped) return;
    this.roomDeleted = true;
    if (this.endWait !== null || this.retrying) this.endQuietly();
  }

  /** Play: the room lists the stream again (republished under the same id). */
  roomStreamAdded(): void {
    this.roomDeleted = false;
  }

  private roomDeleted = false;
  /** The STREAM_END_WAIT_MS timer of a player told its stream ended, until the room confirms it. */
  private endWait: unknown = null;

  /**
   * Play: the server ended the session because the stream ended (CloseSessionPush reason 4). The attempt
   * is over either way; only the report waits: none if the room deletes the stream within
   * STREAM_END_WAIT_MS, else state 1 SessionClosed (a real failure: the room still lists the stream).
   */
  private streamEnded(): void {
    if (this.roomDeleted) return this.endQuietly();
    this.attempt++;
    this.teardownAttempt(1);
    this.endWait = this.setTimer(() => {
      this.endWait = null;
      if (this.stopped) return;
      this.stopped = true;
      this.hooks.state(
        1,
        this.o.streamId,
        this.errorOf(new StepError('SessionClosed', `reason:${STREAM_ENDED}`)),
      );
    }, STREAM_END_WAIT_MS);
  }

  private endQuietly(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.attempt++;
    this.teardownAttempt(0);
    this.hooks.ended?.();
  }

  /** Stops for good (stopPublishingStream / stopPlayingStream / release). */
  stop(): void {
    if (this.stopped && !this.pc && !this.sessionId) return;
    this.stopped = true;
    this.attempt++;
    this.teardownAttempt(0);
  }

  /** The room was told about the stream (state 0 was reached at least once). */
  get announced(): boolean {
    return this.everStarted;
  }

  /** Reported state 0 at least once and not stopped. */
  get started(): boolean {
    return this.everStarted && !this.stopped;
  }

  get active(): boolean {
    return !this.stopped;
  }
}
