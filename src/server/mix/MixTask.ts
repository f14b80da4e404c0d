/**
 * One mix task: the inputs' RTP forwarded from Janus to one supervised ffmpeg that composes them over the
 * background per the layout and encodes once for every output (origin RTMP + HTTP-FLV hub, an external
 * RTMP URL, and the room through a Janus remote publisher).
 *
 * Changes while it runs:
 * - `update` (a second updateMixStream for the same output): the layout and the input list change; ffmpeg
 *   restarts with the new graph on the same outputs, so the output stream, its room listing, its Janus feed
 *   and the players stay (WebRTC players keep their PeerConnection, HTTP-FLV players their connection).
 * - an input whose publisher stops: ffmpeg's input times out and its rectangle shows the background; the
 *   mix goes on. When the publisher is back, its forward is made again and ffmpeg restarts with it.
 * - ffmpeg dies: the supervisor starts it again with the same arguments.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { MediaLeg, RemotePublisher } from '../media/MediaBackend';
import { FfmpegChild } from './ffmpegChild';
import { mixArgs, PT, sdpOf, type MixInput, type Output } from './ffmpegArgs';
import type { UdpPorts } from './UdpPorts';

export interface Rect {
  layer: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface MixLayout {
  width: number;
  height: number;
  fps: number;
  videoBitrate: number;
  audioBitrate: number;
  channels: number;
  bgColor: string;
  bgImage?: string;
  videoEncode: 'h264' | 'vp8';
  inputs: { streamId: string; rect: Rect }[];
}

interface InputState {
  streamId: string;
  rect: Rect;
  ports: { audio: number; video: number } | null;
  leg?: MediaLeg;
  stopForward?: () => Promise<void>;
}

export class MixTask {
  private readonly inputs = new Map<string, InputState>();
  private readonly ffmpeg: FfmpegChild;
  private readonly dir = mkdtempSync(join(tmpdir(), 'zegoclient-mix-'));
  private stopped = false;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  /** Serialises layout changes, input arrivals and the stop. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly appid: number,
    readonly roomId: string,
    readonly owner: string,
    /** The output's key: its stream id, or `url:<mixurl>`. */
    readonly output: string,
    private layout: MixLayout,
    private readonly outputs: Output[],
    readonly remote: RemotePublisher | null,
    private readonly ports: UdpPorts,
    private readonly o: {
      ffmpeg: string;
      preset: string;
      idleStopMs: number;
      liveLeg: (streamId: string) => MediaLeg | undefined;
      onIdle: () => void;
    },
    private readonly log: Logger,
  ) {
    this.ffmpeg = new FfmpegChild(`ffmpeg mix ${output}`, o.ffmpeg, () => this.args(), log);
  }

  /** Input stream ids (for the health list). */
  get inputIds(): string[] {
    return [...this.inputs.keys()];
  }

  get pid(): number | undefined {
    return this.ffmpeg.pid;
  }

  get starts(): number {
    return this.ffmpeg.starts;
  }

  private run(step: () => Promise<void>): Promise<void> {
    const p = this.queue.then(() => (this.stopped ? undefined : step()));
    this.queue = p.catch((e: Error) =>
      this.log.error({ err: e.message, mix: this.output }, 'mix step failed'),
    );
    return p;
  }

  /** Forwards the live inputs and starts ffmpeg. */
  start(): Promise<void> {
    return this.run(async () => {
      await this.applyInputs(this.layout.inputs);
      await this.ffmpeg.start();
      this.checkIdle();
    });
  }

  /** A new layout and input list for the same output. */
  update(layout: MixLayout): Promise<void> {
    return this.run(async () => {
      this.layout = layout;
      await this.applyInputs(layout.inputs);
      await this.ffmpeg.restart();
      this.checkIdle();
    });
  }

  /** An input's publisher is live (again): forward it and restart ffmpeg with it. */
  inputUp(streamId: string, leg: MediaLeg): Promise<void> {
    return this.run(async () => {
      const inp = this.inputs.get(streamId);
      if (!inp || inp.leg === leg) return;
      await this.forward(inp, leg);
      await this.ffmpeg.restart();
      this.checkIdle();
    });
  }

  /** An input's publisher is gone: its forward went with it; ffmpeg shows the background there. */
  inputDown(streamId: string): void {
    const inp = this.inputs.get(streamId);
    if (!inp) return;
    inp.leg = undefined;
    inp.stopForward = undefined;
    this.checkIdle();
  }

  private async applyInputs(list: { streamId: string; rect: Rect }[]): Promise<void> {
    const wanted = new Set(list.map((i) => i.streamId));
    for (const [id, inp] of this.inputs)
      if (!wanted.has(id)) {
        await this.unforward(inp);
        this.ports.give(inp.ports);
        this.inputs.delete(id);
      }
    for (const { streamId, rect } of list) {
      let inp = this.inputs.get(streamId);
      if (!inp) {
        inp = { streamId, rect, ports: await this.ports.take() };
        if (!inp.ports) throw new Error('no free UDP ports in mix.rtpPortRange');
        this.inputs.set(streamId, inp);
      }
      inp.rect = rect;
      const leg = this.o.liveLeg(streamId);
      if (leg && inp.leg !== leg) await this.forward(inp, leg);
    }
  }

  private async forward(inp: InputState, leg: MediaLeg): Promise<void> {
    await this.unforward(inp);
    if (!inp.ports) return;
    inp.leg = leg;
    inp.stopForward = await leg.forward({
      host: '127.0.0.1',
      audioPort: inp.ports.audio,
      videoPort: inp.ports.video,
      audioPt: PT.opus,
      videoPt: PT.forwardVideo,
    });
    // The first keyframe ffmpeg can start from (the room's fir_freq sends one every 2 s anyway).
    setTimeout(() => void leg.requestKeyframe().catch(() => undefined), 300);
  }

  private async unforward(inp: InputState): Promise<void> {
    const stop = inp.stopForward;
    inp.stopForward = undefined;
    inp.leg = undefined;
    // A publisher that left took its forwarders with it: stopping them may fail, harmlessly.
    await stop?.().catch((e: Error) => this.log.debug({ err: e.message }, 'stop forward'));
  }

  /** The ffmpeg arguments for the inputs live now (one SDP file each), in layer order. */
  private args(): string[] {
    const live = [...this.inputs.values()]
      .filter((i) => i.leg && i.ports)
      .sort((a, b) => a.rect.layer - b.rect.layer);
    const inputs: MixInput[] = [];
    const sdpFiles: string[] = [];
    live.forEach((i, n) => {
      const media = i.leg!.media ?? { audio: true, video: true, videoCodec: 'h264' as const };
      const rtp = {
        audioPort: media.audio ? i.ports!.audio : undefined,
        videoPort: media.video ? i.ports!.video : undefined,
        videoCodec: media.videoCodec,
      };
      const file = join(this.dir, `in${n}.sdp`);
      writeFileSync(file, sdpOf(rtp));
      sdpFiles.push(file);
      const r = i.rect;
      inputs.push({ ...rtp, x: r.left, y: r.top, width: r.right - r.left, height: r.bottom - r.top });
    });
    const l = this.layout;
    return mixArgs({ ...l, inputs, sdpFiles, outputs: this.outputs, preset: this.o.preset });
  }

  /** No live input for idleStopMs: the task ends (onIdle). */
  private checkIdle(): void {
    const anyLive = [...this.inputs.values()].some((i) => i.leg);
    if (anyLive || this.stopped) {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = null;
    } else if (!this.idleTimer) {
      this.idleTimer = setTimeout(() => this.o.onIdle(), this.o.idleStopMs);
      this.idleTimer.unref?.();
    }
  }

  /** Ends the task: ffmpeg, forwards, ports, the Janus feed, the SDP files. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return this.queue;
    this.stopped = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const done = this.queue.then(async () => {
      await this.ffmpeg.stop();
      for (const inp of this.inputs.values()) {
        await this.unforward(inp);
        this.ports.give(inp.ports);
      }
      this.inputs.clear();
      await this.remote?.close();
      rmSync(this.dir, { recursive: true, force: true });
    });
    this.queue = done.catch(() => undefined);
    return done;
  }
}
