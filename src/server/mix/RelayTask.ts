/**
 * One CDN relay: a published stream's RTP forwarded from Janus to one supervised ffmpeg that remuxes it
 * (H.264 copied; VP8 transcoded to H.264; Opus to AAC) to FLV targets: our origin (RTMP to nginx and FLV to
 * the hub) or one external RTMP URL. One ffmpeg per target, so adding or removing a target never touches
 * the others. The relay follows its publisher: stopped while it is gone, started again when it is back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { MediaLeg } from '../media/MediaBackend';
import { FfmpegChild } from './ffmpegChild';
import { PT, relayArgs, sdpOf, type Output } from './ffmpegArgs';
import type { UdpPorts } from './UdpPorts';

export class RelayTask {
  private readonly ffmpeg: FfmpegChild;
  private readonly dir = mkdtempSync(join(tmpdir(), 'zegoclient-relay-'));
  private ports: { audio: number; video: number } | null = null;
  private leg?: MediaLeg;
  private stopForward?: () => Promise<void>;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  /** When the publisher went (0 = live or never seen). */
  downSince = 0;

  constructor(
    readonly appid: number,
    readonly streamId: string,
    /** 'origin:<name>' or the external URL. */
    readonly target: string,
    private readonly outputs: Output[],
    private readonly udp: UdpPorts,
    /** forwardHost: where the publisher's Janus sends its RTP (`mix.forwardHost` or 127.0.0.1). */
    private readonly o: { ffmpeg: string; preset: string; forwardHost: string },
    private readonly log: Logger,
  ) {
    this.ffmpeg = new FfmpegChild(`ffmpeg relay ${streamId}`, o.ffmpeg, () => this.args(), log);
  }

  get pid(): number | undefined {
    return this.ffmpeg.pid;
  }

  get live(): boolean {
    return !!this.leg;
  }

  private run(step: () => Promise<void>): Promise<void> {
    const p = this.queue.then(() => (this.stopped ? undefined : step()));
    this.queue = p.catch((e: Error) =>
      this.log.error({ err: e.message, relay: this.streamId }, 'relay step failed'),
    );
    return p;
  }

  private args(): string[] {
    const media = this.leg?.media ?? { audio: true, video: true, videoCodec: 'h264' as const };
    const rtp = {
      audioPort: media.audio ? this.ports!.audio : undefined,
      videoPort: media.video ? this.ports!.video : undefined,
      videoCodec: media.videoCodec,
    };
    const file = join(this.dir, 'in.sdp');
    writeFileSync(file, sdpOf(rtp));
    return relayArgs(file, rtp, this.outputs, { preset: this.o.preset, fps: 25 });
  }

  /** The publisher is live: forward its RTP and (re)start ffmpeg. */
  up(leg: MediaLeg): Promise<void> {
    return this.run(async () => {
      if (this.leg === leg) return;
      this.downSince = 0;
      this.ports ??= await this.udp.take();
      if (!this.ports) throw new Error('no free UDP ports in mix.rtpPortRange');
      await this.unforward();
      await this.ffmpeg.stop();
      this.leg = leg;
      // ffmpeg first, so its ports are bound before the first packet comes.
      await this.ffmpeg.start();
      this.stopForward = await leg.forward({
        host: this.o.forwardHost,
        audioPort: this.ports.audio,
        videoPort: this.ports.video,
        audioPt: PT.opus,
        videoPt: PT.forwardVideo,
      });
      setTimeout(() => void leg.requestKeyframe().catch(() => undefined), 300);
    });
  }

  /** The publisher is gone: ffmpeg stops until it is back. */
  down(): Promise<void> {
    return this.run(async () => {
      this.downSince = Date.now();
      await this.unforward();
      await this.ffmpeg.stop();
    });
  }

  private async unforward(): Promise<void> {
    const stop = this.stopForward;
    this.stopForward = undefined;
    this.leg = undefined;
    await stop?.().catch((e: Error) => this.log.debug({ err: e.message }, 'stop forward'));
  }

  /** Ends the relay: ffmpeg, forward, ports, files. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return this.queue;
    this.stopped = true;
    const done = this.queue.then(async () => {
      await this.unforward();
      await this.ffmpeg.stop();
      this.udp.give(this.ports);
      this.ports = null;
      rmSync(this.dir, { recursive: true, force: true });
    });
    this.queue = done.catch(() => undefined);
    return done;
  }
}
