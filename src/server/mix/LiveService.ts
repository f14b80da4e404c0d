/**
 * Live production behind `biz_channel`: mix tasks (MixTask) and CDN relays (RelayTask), their caps and
 * their cleanup. Talks to the room plane through RoomStreams, to publishers through PublisherDirectory and
 * to the SFU through MediaBackend (../LiveStreams.ts); runs no media itself: every byte is in an ffmpeg
 * child, nginx or the HTTP-FLV hub.
 *
 * Cleanup: a task ends on stopMixStream, when its owner leaves for good, when its room empties, or when its
 * inputs have all been gone for `mix.idleStopMs`; a relay target ends on delpush / clearpush, or when its
 * publisher has been gone as long. Each end frees the ffmpeg, the forwards, the ports and the Janus feed.
 */
import type { Logger } from 'pino';
import type { StartMixBody, StopMixBody, PushBody } from '../../protocol/bizSchema';
import { ServerCode } from '../../protocol/errors';
import type { MixPlayInfo } from '../../protocol/room';
import type { ResolvedConfig } from '../config';
import {
  LiveError,
  type Caller,
  type LiveStreams,
  type PublisherDirectory,
  type RoomStreams,
  type StreamUrls,
} from '../LiveStreams';
import { portRange } from '../liveConfig';
import type { LegMedia, MediaBackend, MediaLeg } from '../media/MediaBackend';
import { Origin, originName } from '../origin/Origin';
import { findExecutable } from '../process/children';
import type { Output } from './ffmpegArgs';
import { MixTask, type MixLayout } from './MixTask';
import { checkPushUrl, type PushTarget } from './pushPolicy';
import type { CallLimiter } from '../outbound/CallLimiter';
import { RelayTask } from './RelayTask';
import type { InputLeg, RemoteInputs } from './RemoteInputs';
import { UdpPorts } from './UdpPorts';

const AUTO = 'auto';

/** A mix task as its listener hears of it. */
export interface MixTaskInfo {
  appid: number;
  roomId: string;
  /** The output stream id, or `url:<mixurl>`. */
  output: string;
  owner: string;
  inputs: readonly string[];
}

/** "0xRRGGBBxx" (a number) as ffmpeg's "0xRRGGBB". */
export function bgColorOf(n: number | undefined): string {
  const rgb = ((n ?? 0) >>> 8) & 0xffffff;
  return `0x${rgb.toString(16).padStart(6, '0')}`;
}

export class LiveService implements LiveStreams {
  private readonly tasks = new Map<string, MixTask>();
  /** `${appid}:${streamId}` -> target key ('auto', 'origin:<name>' or the URL) -> relay. */
  private readonly relays = new Map<string, Map<string, RelayTask>>();
  private readonly udp: UdpPorts;
  private readonly ffmpegOk: boolean;
  private readonly sweeper: ReturnType<typeof setInterval>;
  /**
   * Told when a mix task starts (after it listed its output) and when it ends (webhooks: mix.started /
   * mix.stopped); set once by index.ts. It must not throw: it is called inside the task's bookkeeping.
   */
  onMixTask: ((change: 'started' | 'stopped', t: MixTaskInfo) => void) | null = null;
  /** Many nodes: mix inputs published on other nodes (set once by index.ts; null on one node). */
  private remote: RemoteInputs | null = null;

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly log: Logger,
    private readonly backend: MediaBackend,
    private readonly dir: PublisherDirectory,
    private readonly rooms: RoomStreams,
    readonly origin: Origin,
    /** Calls to business servers in flight (push-URL approvals), shared with every plane. */
    private readonly calls?: CallLimiter,
  ) {
    const [min, max] = portRange(cfg.mix.rtpPortRange)!;
    this.udp = new UdpPorts(min, max);
    this.ffmpegOk = !!findExecutable(cfg.mix.ffmpegBinary, process.env.PATH);
    if (!this.ffmpegOk)
      log.warn(`${cfg.mix.ffmpegBinary} not found (Debian package ffmpeg): mixing and CDN relay are off`);
    dir.on('publisherUp', (appid, streamId, leg) => this.publisherUp(appid, streamId, leg));
    dir.on('publisherDown', (appid, streamId) => this.publisherDown(appid, streamId));
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  /** Many nodes: inputs of this node's mixes may be published on other nodes (their Janus forward here). */
  setRemoteInputs(r: RemoteInputs): void {
    this.remote = r;
    r.on('up', (appid, streamId, leg) => this.inputUp(appid, streamId, leg));
    r.on('down', (appid, streamId, leg) => {
      for (const t of this.tasks.values()) if (t.appid === appid) t.inputDown(streamId, leg);
    });
  }

  private inputUp(appid: number, streamId: string, leg: InputLeg): void {
    for (const t of this.tasks.values())
      if (t.appid === appid && t.inputIds.includes(streamId)) void t.inputUp(streamId, leg);
  }

  /** An input's live leg: its publisher on this node, or a stand-in for its publisher on another. */
  private async inputLeg(appid: number, streamId: string): Promise<InputLeg | undefined> {
    return this.dir.liveLeg(appid, streamId) ?? (await this.remote?.leg(appid, streamId));
  }

  private usable(): void {
    if (!this.ffmpegOk)
      throw new LiveError(ServerCode.MixUnavailable, `${this.cfg.mix.ffmpegBinary} not found on the server`);
  }

  private relayAll(appid: number): boolean {
    const app = this.cfg.apps.find((a) => a.appid === appid);
    return (app?.relayAll ?? this.cfg.relay.all) && this.ffmpegOk && this.origin.up;
  }

  /**
   * The relay of every stream remuxes only: an H.264 (or audio-only) publisher costs a remux, a VP8 one
   * would cost an encode per stream on a machine that also runs Janus and the browsers' media, so VP8
   * streams are relayed only when a page asks (publishTarget, cdnUrl) and their lists carry no URLs.
   */
  private remuxable(media: LegMedia | undefined): boolean {
    return !!media && (!media.video || media.videoCodec === 'h264');
  }

  urlsFor(appid: number, streamId: string, host: string): StreamUrls | null {
    // Announced (stream 2001) after the publish was answered, so the codec is known here (the media may be
    // a moment from up: the relay starts then).
    return this.relayAll(appid) && this.remuxable(this.dir.mediaOf(appid, streamId))
      ? this.origin.urls(originName(appid, streamId), host)
      : null;
  }

  // ---------------------------------------------------------------------------------------- mixing

  private taskKey(appid: number, out: { stream_id?: string; mixurl?: string }): string | null {
    if (out.stream_id) return `${appid}:${out.stream_id}`;
    if (out.mixurl) return `${appid}:url:${out.mixurl}`;
    return null;
  }

  /** The layout of a start_mix body, checked against the output (a bad rectangle is named). */
  private layoutOf(b: StartMixBody): MixLayout {
    const out = b.MixOutput[0]!;
    if (!b.MixInput.length) throw new LiveError(ServerCode.InvalidBody, 'MixInput must not be empty');
    if (b.MixInput.length > this.cfg.mix.maxInputs)
      throw new LiveError(
        ServerCode.MixLimit,
        `at most ${this.cfg.mix.maxInputs} inputs per mix (mix.maxInputs)`,
      );
    const seen = new Set<string>();
    const inputs = b.MixInput.map((inp, i) => {
      const r = inp.rect;
      const where = `MixInput[${i}].rect`;
      if (seen.has(inp.stream_id))
        throw new LiveError(ServerCode.InvalidBody, `MixInput[${i}]: ${inp.stream_id} is listed twice`);
      seen.add(inp.stream_id);
      if (r.right <= r.left || r.bottom <= r.top)
        throw new LiveError(ServerCode.InvalidBody, `${where} has zero or negative size`);
      if (r.right > out.width || r.bottom > out.height)
        throw new LiveError(
          ServerCode.InvalidBody,
          `${where} (${r.left},${r.top})-(${r.right},${r.bottom}) is outside the ${out.width}x${out.height} output`,
        );
      return { streamId: inp.stream_id, rect: { layer: r.layer ?? i, ...r } };
    });
    // 1.12.5 puts the background at the top of the body; older pages may have it in MixOutput.
    const loose = out as { output_bg_color?: number; output_bg_image?: string };
    const bgName = (b.output_bg_image ?? loose.output_bg_image)?.slice('preset-id://'.length);
    const bgImage = bgName ? this.cfg.mix.bgImages[bgName] : undefined;
    if (bgName && !bgImage)
      throw new LiveError(
        ServerCode.InvalidBody,
        `outputBgImage preset ${bgName} is not configured (mix.bgImages)`,
      );
    const encode = b.extra_params?.find((p) => p.key === 'video_encode')?.value;
    if (encode && encode !== 'h264' && encode !== 'vp8')
      throw new LiveError(ServerCode.InvalidBody, `video_encode must be h264 or vp8 (got ${encode})`);
    return {
      width: out.width - (out.width % 2),
      height: out.height - (out.height % 2),
      fps: out.fps,
      videoBitrate: out.bitrate,
      audioBitrate: out.audio_bitrate || 64_000,
      channels: out.audio_channel_cnt ?? 2,
      bgColor: bgColorOf(b.output_bg_color ?? loose.output_bg_color),
      bgImage,
      videoEncode: encode === 'vp8' ? 'vp8' : 'h264',
      inputs,
    };
  }

  async startMix(who: Caller, b: StartMixBody): Promise<{ play: MixPlayInfo[] }> {
    this.usable();
    const out = b.MixOutput[0]!;
    const key = this.taskKey(who.appid, out);
    if (!key)
      throw new LiveError(ServerCode.InvalidBody, 'MixOutput needs stream_id (outputStreamId) or mixurl');
    const layout = this.layoutOf(b);
    // Published here, or (many nodes) listed by a publisher on another node, whose Janus then forwards it
    // to this mixer once it is live.
    const missing: string[] = [];
    for (const { streamId: id } of layout.inputs)
      if (this.dir.roomOf(who.appid, id) === undefined && !(await this.remote?.elsewhere(who.appid, id)))
        missing.push(id);
    if (missing.length)
      throw new LiveError(ServerCode.MixInputsMissing, `inputs not published: ${missing.join(', ')}`, {
        play: [],
        non_exist_streams: missing,
      });
    const existing = this.tasks.get(key);
    if (existing) {
      if (existing.roomId !== who.roomId)
        throw new LiveError(ServerCode.NotAllowed, 'this output is mixed in another room');
      await existing.update(layout);
      return { play: [this.playInfo(existing, who.host)] };
    }
    if ([...this.tasks.values()].filter((t) => t.appid === who.appid).length >= this.cfg.mix.maxTasksPerApp)
      throw new LiveError(ServerCode.MixLimit, `at most ${this.cfg.mix.maxTasksPerApp} mix tasks per app`);
    const task = out.stream_id
      ? await this.roomMix(who, out.stream_id, key, layout)
      : await this.urlMix(who, out.mixurl!, key, layout);
    this.tasks.set(key, task);
    try {
      await task.start();
    } catch (e) {
      await this.endTask(key);
      throw new LiveError(ServerCode.MixUnavailable, `mix failed to start: ${(e as Error).message}`);
    }
    if (
      out.stream_id &&
      !(await this.rooms.addStream(
        who.appid,
        who.roomId,
        who.idName,
        out.stream_id,
        this.urlsOfTask(task, who.host),
      ))
    ) {
      await this.endTask(key);
      throw new LiveError(ServerCode.StreamExists, `stream id ${out.stream_id} is taken`);
    }
    this.log.info(
      { appid: who.appid, room: who.roomId, user: who.idName, output: task.output, inputs: task.inputIds },
      'mix started',
    );
    this.tellTask('started', task);
    return { play: [this.playInfo(task, who.host)] };
  }

  private taskOptions(key: string) {
    return {
      ffmpeg: this.cfg.mix.ffmpegBinary,
      preset: this.cfg.mix.x264Preset,
      forwardHost: this.cfg.mix.forwardHost || '127.0.0.1',
      idleStopMs: this.cfg.mix.idleStopMs,
      onIdle: () => {
        this.log.info({ mix: key }, 'mix inputs gone too long: ended');
        void this.endTask(key);
      },
    };
  }

  /** A mix into a room stream: the Janus feed and, with the origin, RTMP/HLS/FLV. */
  private async roomMix(who: Caller, streamId: string, key: string, layout: MixLayout): Promise<MixTask> {
    if (
      (await this.rooms.streamTaken(who.appid, streamId)) ||
      this.dir.roomOf(who.appid, streamId) !== undefined
    )
      throw new LiveError(ServerCode.StreamExists, `stream id ${streamId} is taken`);
    const outputs: Output[] = [];
    if (this.origin.up && layout.videoEncode === 'h264') {
      const p = this.origin.publishUrls(originName(who.appid, streamId));
      outputs.push({ kind: 'flv', url: p.rtmp }, { kind: 'flv', url: p.flv });
    }
    let remote = null;
    if (this.backend.up) {
      remote = await this.backend
        .addRemotePublisher(`${who.appid}:${who.roomId}`, streamId, {
          videoCodec: layout.videoEncode,
          audio: true,
        })
        .catch((e: Error) => {
          throw new LiveError(
            ServerCode.MixUnavailable,
            `the media server refused the mix output: ${e.message}`,
          );
        });
      // Through the stitcher: the RTP stays continuous when a new layout restarts ffmpeg.
      const via = await this.origin.rtpVia(remote);
      const r = remote;
      remote = { ...r, close: () => Promise.all([via.close(), r.close()]).then(() => undefined) };
      outputs.push({ kind: 'janus', host: via.host, port: via.port, rtcpPort: via.rtcpPort });
      this.dir.addVirtualPublisher(who.appid, who.roomId, streamId, remote.leg);
    }
    return new MixTask(
      who.appid,
      who.roomId,
      who.idName,
      streamId,
      layout,
      outputs,
      remote,
      this.udp,
      {
        ...this.taskOptions(key),
        liveLeg: (id) => this.inputLeg(who.appid, id),
      },
      this.log,
    );
  }

  /** A mix pushed to an RTMP URL only (outputUrl). */
  private async urlMix(who: Caller, url: string, key: string, layout: MixLayout): Promise<MixTask> {
    const t = await checkPushUrl(
      url,
      who,
      '',
      this.cfg.relay,
      (u) => this.origin.ownName(u, who.host),
      this.calls,
    );
    const outputs: Output[] =
      t.kind === 'origin' ? this.originOutputs(t.name) : [{ kind: 'flv', url: t.url }];
    return new MixTask(
      who.appid,
      who.roomId,
      who.idName,
      `url:${url}`,
      layout,
      outputs,
      null,
      this.udp,
      {
        ...this.taskOptions(key),
        liveLeg: (id) => this.inputLeg(who.appid, id),
      },
      this.log,
    );
  }

  private originOutputs(name: string): Output[] {
    const p = this.origin.publishUrls(name);
    return [
      { kind: 'flv', url: p.rtmp },
      { kind: 'flv', url: p.flv },
    ];
  }

  private urlsOfTask(t: MixTask, host: string): StreamUrls {
    const empty = { urls_flv: [], urls_m3u8: [], urls_rtmp: [], urls_https_flv: [], urls_https_m3u8: [] };
    return this.origin.up && !t.output.startsWith('url:')
      ? this.origin.urls(originName(t.appid, t.output), host)
      : empty;
  }

  private playInfo(t: MixTask, host: string): MixPlayInfo {
    const u = this.urlsOfTask(t, host);
    return {
      stream_alias: t.output.startsWith('url:') ? '' : t.output,
      rtmp_url: u.urls_rtmp[0] ?? '',
      hls_url: u.urls_m3u8[0] ?? '',
      hdl_url: u.urls_flv[0] ?? '',
    };
  }

  async stopMix(who: Caller, b: StopMixBody): Promise<void> {
    const key = this.taskKey(who.appid, b);
    const task = key ? this.tasks.get(key) : undefined;
    if (!key || !task || task.roomId !== who.roomId)
      throw new LiveError(
        ServerCode.MixNotFound,
        `no mix task with output ${b.stream_id ?? b.mixurl ?? '(none)'} in this room`,
      );
    await this.endTask(key);
  }

  private async endTask(key: string): Promise<void> {
    const t = this.tasks.get(key);
    if (!t) return;
    this.tasks.delete(key);
    if (!t.output.startsWith('url:')) {
      await this.rooms
        .removeStream(t.appid, t.roomId, t.output)
        .catch((e: Error) => this.log.warn({ err: e.message, mix: t.output }, 'mix output not unlisted'));
      this.dir.removeVirtualPublisher(t.appid, t.output);
    }
    await t.stop();
    this.log.info({ appid: t.appid, room: t.roomId, user: t.owner, mix: t.output }, 'mix ended');
    this.tellTask('stopped', t);
  }

  /** Tasks whose start was told (a task that failed to start ends without a word). */
  private readonly told = new WeakSet<MixTask>();

  private tellTask(change: 'started' | 'stopped', t: MixTask): void {
    if (change === 'started') this.told.add(t);
    else if (!this.told.has(t)) return;
    try {
      this.onMixTask?.(change, {
        appid: t.appid,
        roomId: t.roomId,
        output: t.output,
        owner: t.owner,
        inputs: t.inputIds,
      });
    } catch (e) {
      this.log.error({ err: (e as Error)?.stack ?? String(e) }, 'mix task listener failed');
    }
  }

  roomEmpty(appid: number, roomId: string): void {
    for (const [k, t] of this.tasks) if (t.appid === appid && t.roomId === roomId) void this.endTask(k);
  }

  userGone(appid: number, roomId: string, idName: string): void {
    for (const [k, t] of this.tasks)
      if (t.appid === appid && t.roomId === roomId && t.owner === idName) void this.endTask(k);
  }

  // ---------------------------------------------------------------------------------------- relay

  private relayCount(): number {
    let n = 0;
    for (const m of this.relays.values()) n += m.size;
    return n;
  }

  private addRelay(appid: number, streamId: string, key: string, target: PushTarget): void {
    const k = `${appid}:${streamId}`;
    let m = this.relays.get(k);
    if (m?.has(key)) return;
    if (!m) this.relays.set(k, (m = new Map()));
    const outputs =
      target.kind === 'origin'
        ? this.originOutputs(target.name)
        : [{ kind: 'flv' as const, url: target.url }];
    const r = new RelayTask(
      appid,
      streamId,
      key,
      outputs,
      this.udp,
      {
        ffmpeg: this.cfg.mix.ffmpegBinary,
        preset: this.cfg.mix.x264Preset,
        forwardHost: this.cfg.mix.forwardHost || '127.0.0.1',
      },
      this.log,
    );
    m.set(key, r);
    const leg = this.dir.liveLeg(appid, streamId);
    if (leg) void r.up(leg);
    else r.downSince = Date.now();
  }

  private async removeRelay(appid: number, streamId: string, key: string): Promise<void> {
    const k = `${appid}:${streamId}`;
    const m = this.relays.get(k);
    const r = m?.get(key);
    if (!m || !r) return;
    m.delete(key);
    if (!m.size) this.relays.delete(k);
    await r.stop();
  }

  private async target(who: Caller, streamId: string, url: string): Promise<{ key: string; t: PushTarget }> {
    this.usable();
    const t = await checkPushUrl(
      url,
      who,
      streamId,
      this.cfg.relay,
      (u) => this.origin.ownName(u, who.host),
      this.calls,
    );
    if (t.kind === 'origin' && !this.origin.up)
      throw new LiveError(ServerCode.MixUnavailable, `the origin is off: ${this.origin.off || 'not ready'}`);
    return { key: t.kind === 'origin' ? `origin:${t.name}` : t.url, t };
  }

  private checkCaps(appid: number, streamId: string): void {
    const m = this.relays.get(`${appid}:${streamId}`);
    const own = m ? [...m.keys()].filter((k) => k !== AUTO).length : 0;
    if (own >= this.cfg.relay.maxTargetsPerStream)
      throw new LiveError(
        ServerCode.MixLimit,
        `at most ${this.cfg.relay.maxTargetsPerStream} push targets per stream`,
      );
    if (this.relayCount() >= this.cfg.relay.maxRelays)
      throw new LiveError(ServerCode.MixLimit, `at most ${this.cfg.relay.maxRelays} relays on this server`);
  }

  async cdnUrl(who: Caller, streamId: string, url: string): Promise<void> {
    const { key, t } = await this.target(who, streamId, url);
    if (this.relays.get(`${who.appid}:${streamId}`)?.has(key)) return;
    this.checkCaps(who.appid, streamId);
    this.addRelay(who.appid, streamId, key, t);
  }

  async push(who: Caller, op: 'addpush' | 'delpush' | 'clearpush', b: PushBody): Promise<void> {
    if ((await this.rooms.ownerOf(who.appid, b.stream_id)) !== who.idName)
      throw new LiveError(
        ServerCode.PushNotPublisher,
        `stream ${b.stream_id} is not published by ${who.idName}`,
      );
    if (op === 'clearpush') {
      const m = this.relays.get(`${who.appid}:${b.stream_id}`);
      for (const key of [...(m?.keys() ?? [])])
        if (key !== AUTO) await this.removeRelay(who.appid, b.stream_id, key);
      return;
    }
    const { key, t } = await this.target(who, b.stream_id, b.pushurl);
    if (op === 'delpush') return this.removeRelay(who.appid, b.stream_id, key);
    if (this.relays.get(`${who.appid}:${b.stream_id}`)?.has(key)) return;
    this.checkCaps(who.appid, b.stream_id);
    this.addRelay(who.appid, b.stream_id, key, t);
  }

  // ---------------------------------------------------------------------------------------- publishers

  private publisherUp(appid: number, streamId: string, leg: MediaLeg): void {
    if (this.relayAll(appid) && this.remuxable(leg.media) && this.relayCount() < this.cfg.relay.maxRelays)
      this.addRelay(appid, streamId, AUTO, { kind: 'origin', name: originName(appid, streamId) });
    for (const r of this.relays.get(`${appid}:${streamId}`)?.values() ?? []) void r.up(leg);
    this.inputUp(appid, streamId, leg);
  }

  private publisherDown(appid: number, streamId: string): void {
    for (const r of this.relays.get(`${appid}:${streamId}`)?.values() ?? []) void r.down();
    for (const t of this.tasks.values()) if (t.appid === appid) t.inputDown(streamId);
  }

  /**
   * Many nodes: inputs a task waits for are looked for on the other nodes (not live yet when the mix
   * started; their node died and the publisher resumed on another). One look at a time per node.
   */
  private seeking = false;
  private async seekRemote(): Promise<void> {
    if (!this.remote || this.seeking) return;
    this.seeking = true;
    try {
      for (const t of [...this.tasks.values()])
        for (const id of t.waitingInputs) {
          if (this.dir.liveLeg(t.appid, id)) continue; // publisherUp brings it
          const leg = await this.remote.leg(t.appid, id);
          if (leg) void t.inputUp(id, leg);
        }
    } finally {
      this.seeking = false;
    }
  }

  /** Relays whose publisher has been gone longer than mix.idleStopMs end (the stream is not coming back). */
  private sweep(): void {
    void this.seekRemote();
    const limit = Date.now() - this.cfg.mix.idleStopMs;
    for (const [k, m] of this.relays)
      for (const [key, r] of m)
        if (r.downSince && r.downSince < limit) {
          const [appid] = k.split(':');
          void this.removeRelay(Number(appid), r.streamId, key);
        }
  }

  /** /healthz details: the origin, every mix task and relay with its ffmpeg. */
  stats(): Record<string, unknown> {
    return {
      ...this.origin.health(),
      ffmpeg: this.ffmpegOk ? 'ok' : 'missing',
      udpPortsInUse: this.udp.inUse,
      mixTasks: [...this.tasks.values()].map((t) => ({
        appid: t.appid,
        room: t.roomId,
        output: t.output,
        owner: t.owner,
        inputs: t.inputIds,
        ffmpegPid: t.pid ?? null,
        ffmpegStarts: t.starts,
      })),
      relays: [...this.relays.values()].flatMap((m) =>
        [...m.values()].map((r) => ({
          appid: r.appid,
          stream: r.streamId,
          target: r.target,
          live: r.live,
          ffmpegPid: r.pid ?? null,
        })),
      ),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.remote?.close();
    const tasks = [...this.tasks.values()];
    this.tasks.clear();
    const relays = [...this.relays.values()].flatMap((m) => [...m.values()]);
    this.relays.clear();
    await Promise.all([...tasks.map((t) => t.stop()), ...relays.map((r) => r.stop())]);
    await this.origin.stop();
  }
}
