/**
 * One mix task: the inputs' RTP forwarded from Janus to one supervised ffmpeg that composes them over the
 * background per the layout and encodes once for every output (origin RTMP + HTTP-FLV hub, an external
 * RTMP URL, and the room through a Janus remote publisher).
 *
 * Changes while it runs:
 * - `update` (a second updateMixStream for the same output): rectangles that move or change size with the
 *   same live inputs in the same layer order are changed in the running ffmpeg (filter commands on its
 *   stdin: no new process, no gap for anyone). Any other change (inputs added or removed, the layer order,
 *   the output's size, rate or background) restarts ffmpeg with the new graph on the same outputs: the
 *   output stream, its room listing and its Janus feed stay, WebRTC and HTTP-FLV players keep playing
 *   (the RTP to Janus and the FLV are stitched), RTMP and HLS players see the publisher come back.
 * - an input whose publisher stops: ffmpeg's input times out and its rectangle shows the background; the
 *   mix goes on. When the publisher is back, its forward is made again and ffmpeg restarts with it.
 * - ffmpeg dies: the supervisor starts it again with the same arguments.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RemotePublisher } from '../media/MediaBackend';
import { FfmpegChild } from './ffmpegChild';
import { mixArgs, mixCommands, PT, sdpOf, type MixInput, type MixSpec, type Output } from './ffmpegArgs';
import type { InputLeg } from './RemoteInputs';
import type { UdpPorts } from './UdpPorts';

export interface Rect {
  layer: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A task's layout: the output's picture and sound as ffmpeg gets them, and the inputs by stream id. */
export type MixLayout = Pick<
  MixSpec,
  | 'width'
  | 'height'
  | 'fps'
  | 'videoBitrate'
  | 'audioBitrate'
  | 'channels'
  | 'bgColor'
  | 'bgImage'
  | 'videoEncode'
> & { inputs: { streamId: string; rect: Rect }[] };

interface InputState {
  streamId: string;
  rect: Rect;
  ports: { audio: number; video: number } | null;
  leg?: InputLeg;
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
  /** What the running ffmpeg was built with: its inputs in graph order, and the output's settings. */
  private graph: { ids: string[]; inputs: MixInput[]; key: string } | null = null;

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
      /** Where this node's Janus send the inputs' RTP (rtp_forward host): `mix.forwardHost` or 127.0.0.1. */
      forwardHost: string;
      /** The live publisher leg of an input: on this node, or (many nodes) a stand-in for another's. */
      liveLeg: (streamId: string) => InputLeg | undefined | Promise<InputLeg | undefined>;
      onIdle: () => void;
    },
    private readonly log: Logger,
  ) {
    this.ffmpeg = new FfmpegChild(`ffmpeg mix ${output}`, o.ffmpeg, () => this.args(), log, true);
  }

  /** Inputs without a live leg now (their publisher is gone, or not live yet). */
  get waitingInputs(): string[] {
    return [...this.inputs.values()].filter((i) => !i.leg).map((i) => i.streamId);
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
      if (!(await this.relayout())) await this.ffmpeg.restart();
      this.checkIdle();
    });
  }

  /** The live part of the layout (inputs with a forward), in layer order. */
  private liveInputs(): InputState[] {
    return [...this.inputs.values()]
      .filter((i) => i.leg && i.ports)
      .sort((a, b) => a.rect.layer - b.rect.layer);
  }

  private outputKey(): string {
    const l = this.layout;
    return [
      l.width,
      l.height,
      l.fps,
      l.videoBitrate,
      l.audioBitrate,
      l.channels,
      l.bgColor,
      l.bgImage,
      l.videoEncode,
    ].join();
  }

  /** Moves and resizes the rectangles in the running ffmpeg; false when that cannot be done live. */
  private async relayout(): Promise<boolean> {
    const g = this.graph;
    const live = this.liveInputs();
    if (!g || g.key !== this.outputKey() || g.ids.join('\0') !== live.map((i) => i.streamId).join('\0'))
      return false;
    const lines = live.flatMap((inp, n) => mixCommands(n, g.inputs[n]!, this.placed(inp)));
    if (!(await this.ffmpeg.command(lines))) return false;
    g.inputs = live.map((i) => this.placed(i));
    this.log.info({ mix: this.output, commands: lines.length }, 'mix layout changed live');
    return true;
  }

  private placed(i: InputState): MixInput {
    const r = i.rect;
    const media = i.leg?.media ?? { audio: true, video: true, videoCodec: 'h264' as const };
    return {
      audioPort: media.audio ? i.ports!.audio : undefined,
      videoPort: media.video ? i.ports!.video : undefined,
      videoCodec: media.videoCodec,
      x: r.left,
      y: r.top,
      width: r.right - r.left,
      height: r.bottom - r.top,
    };
  }

  /** An input's publisher is live (again): forward it and restart ffmpeg with it. */
  inputUp(streamId: string, leg: InputLeg): Promise<void> {
    return this.run(async () => {
      const inp = this.inputs.get(streamId);
      if (!inp || inp.leg === leg) return;
      await this.forward(inp, leg);
      await this.ffmpeg.restart();
      this.checkIdle();
    });
  }

  /** An input's publisher is gone: its forward went with it; ffmpeg shows the background there. */
  inputDown(streamId: string, only?: InputLeg): void {
    const inp = this.inputs.get(streamId);
    // `only`: that leg went (a remote one); the input may be live through another by now (its publisher
    // resumed on this node before its old node was seen to be gone).
    if (!inp || (only && inp.leg !== only)) return;
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
      const leg = await this.o.liveLeg(streamId);
      if (leg && inp.leg !== leg) await this.forward(inp, leg);
    }
  }

  private async forward(inp: InputState, leg: InputLeg): Promise<void> {
    await this.unforward(inp);
    if (!inp.ports) return;
    inp.leg = leg;
    inp.stopForward = await leg.forward({
      host: this.o.forwardHost,
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
    const live = this.liveInputs();
    const inputs = live.map((i) => this.placed(i));
    const sdpFiles = inputs.map((rtp, n) => {
      const file = join(this.dir, `in${n}.sdp`);
      writeFileSync(file, sdpOf(rtp));
      return file;
    });
    this.graph = { ids: live.map((i) => i.streamId), inputs, key: this.outputKey() };
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
