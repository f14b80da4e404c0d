/**
 * ffmpeg command lines for mixing and relaying, as pure functions (unit-tested without ffmpeg).
 *
 * Inputs are Janus RTP forwards described by a static SDP each (forced payload types: Opus 111, video 96),
 * see ../shared/reference/janus-on-loopback.md section 7. An input that stops sending ends after
 * INPUT_TIMEOUT_S (`-listen_timeout`): the overlay then passes the background through (`eof_action=pass`)
 * and the audio mix goes on without it; the mix never stalls on a gone publisher.
 *
 * The mix's timeline is the background (a colour or an image, read at real time), so the output keeps
 * its frame rate with any number of live inputs, zero included. One encode feeds every output through
 * the tee muxer: FLV to the origin (RTMP to nginx, FLV to the hub) or to an external RTMP URL, and RTP to
 * the Janus remote publisher of the room (SSRC 1000 + 10 x mindex, as VideoRoom demultiplexes it; payload
 * types 111 Opus, 107 H.264, 96 VP8, VideoRoom's own).
 */

/** Seconds without packets after which an input counts as stopped. */
export const INPUT_TIMEOUT_S = 1;
/** RTP payload types on forwards (forced by rtp_forward) and towards Janus (its defaults). */
export const PT = { opus: 111, forwardVideo: 96, janusH264: 107, janusVp8: 96 } as const;
/** VideoRoom's remote-publisher SSRCs: 1000 + 10 x mindex (audio is mindex 0, video 1). */
export const REMOTE_SSRC = { audio: 1000, video: 1010 } as const;

export interface RtpInput {
  audioPort?: number;
  videoPort?: number;
  /** The publisher's video codec. */
  videoCodec: 'h264' | 'vp8';
}

export interface MixInput extends RtpInput {
  /** Where the input goes in the output, pixels, already checked to be inside it. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Output =
  /** FLV over RTMP or HTTP (origin, hub, external RTMP). */
  | { kind: 'flv'; url: string }
  /** RTP to a Janus VideoRoom remote publisher at `host` (or to the stitcher in front of it). */
  | { kind: 'janus'; host: string; port: number; rtcpPort: number };

export interface MixSpec {
  width: number;
  height: number;
  fps: number;
  videoBitrate: number;
  audioBitrate: number;
  channels: number;
  /** "0xRRGGBB". */
  bgColor: string;
  /** An image file scaled to the output, instead of the colour. */
  bgImage?: string;
  /** Inputs in layer order (the last one on top); SDP files by index. */
  inputs: MixInput[];
  sdpFiles: string[];
  outputs: Output[];
  videoEncode: 'h264' | 'vp8';
  preset: string;
}

export function sdpOf(i: RtpInput): string {
  const lines = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=janus-rtp-forward', 'c=IN IP4 127.0.0.1', 't=0 0'];
  if (i.audioPort)
    lines.push(`m=audio ${i.audioPort} RTP/AVP ${PT.opus}`, `a=rtpmap:${PT.opus} opus/48000/2`);
  if (i.videoPort) {
    lines.push(`m=video ${i.videoPort} RTP/AVP ${PT.forwardVideo}`);
    lines.push(
      i.videoCodec === 'h264'
        ? `a=rtpmap:${PT.forwardVideo} H264/90000\r\na=fmtp:${PT.forwardVideo} packetization-mode=1`
        : `a=rtpmap:${PT.forwardVideo} VP8/90000`,
    );
  }
  return lines.join('\r\n') + '\r\n';
}

const COMMON = ['-hide_banner', '-loglevel', 'warning', '-stats_period', '1', '-stats'];
/**
 * An RTP input. `quickProbe` (mixing, which decodes): probe next to nothing. An input's timeline starts with
 * the first packet ffmpeg reads, and whatever is read before the mix runs puts the background that far
 * behind the inputs (with a full probe, up to a keyframe wait: the mix was ~2.5 s late); the picture size
 * comes with the first keyframe anyway. A relay copies the stream and needs its parameters up front.
 */
const rtpInput = (sdp: string, quickProbe = false) => [
  '-protocol_whitelist',
  'file,udp,rtp',
  '-listen_timeout',
  String(INPUT_TIMEOUT_S),
  '-analyzeduration',
  quickProbe ? '0' : '1000000',
  '-probesize',
  quickProbe ? '32' : '500000',
  '-fflags',
  '+nobuffer+genpts',
  '-i',
  sdp,
];

/** The tee muxer's output list (each slave ignores its own failure: one dead target never stops the rest). */
function teeOf(outputs: Output[], flvSelect: string, janus: { video: string; audio: string } | null): string {
  return outputs
    .map((o) => {
      if (o.kind === 'flv')
        return `[select=\\'${flvSelect}\\':f=flv:flvflags=no_duration_filesize:onfail=ignore]${o.url.replace(/([|\\[\]])/g, '\\$1')}`;
      if (!janus) return '';
      const rtp = (ssrc: number, pt: number, sel: string) =>
        `[select=\\'${sel}\\':f=rtp:ssrc=${ssrc}:payload_type=${pt}:onfail=ignore]rtp://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}?rtcpport=${o.rtcpPort}&pkt_size=1200`;
      return [
        rtp(REMOTE_SSRC.video, janus.video === 'vp8' ? PT.janusVp8 : PT.janusH264, 'v:0'),
        janus.audio ? rtp(REMOTE_SSRC.audio, PT.opus, janus.audio) : '',
      ]
        .filter(Boolean)
        .join('|');
    })
    .filter(Boolean)
    .join('|');
}

function videoEncoder(codec: 'h264' | 'vp8', fps: number, bitrate: number, preset: string): string[] {
  const kb = `${Math.max(50, Math.round(bitrate / 1000))}k`;
  const gop = String(fps);
  if (codec === 'vp8')
    return [
      '-c:v',
      'libvpx',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-b:v',
      kb,
      '-g',
      gop,
      '-auto-alt-ref',
      '0',
    ];
  return [
    '-c:v',
    'libx264',
    '-preset',
    preset,
    '-tune',
    'zerolatency',
    '-profile:v',
    'baseline',
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    kb,
    '-maxrate',
    kb,
    '-bufsize',
    kb,
    '-g',
    gop,
    '-keyint_min',
    gop,
    // FLV needs the parameter sets out of band, WebRTC players in band before every keyframe: both.
    '-flags',
    '+global_header',
    '-x264-params',
    'repeat-headers=1',
  ];
}

/**
 * ffmpeg's stdin commands (`c<target> -1 <command> <arg>`, one line each) that move and resize input `i`
 * of a running mix from `from` to `to`: a new layout without a new process.
 */
export function mixCommands(i: number, from: MixInput, to: MixInput): string[] {
  const out: string[] = [];
  if (to.width !== from.width) out.push(`cscale@s${i} -1 w ${to.width}\n`);
  if (to.height !== from.height) out.push(`cscale@s${i} -1 h ${to.height}\n`);
  if (to.x !== from.x) out.push(`coverlay@o${i} -1 x ${to.x}\n`);
  if (to.y !== from.y) out.push(`coverlay@o${i} -1 y ${to.y}\n`);
  return out;
}

/** ffmpeg arguments of one mix (stdin stays open: filter commands come that way). */
export function mixArgs(m: MixSpec): string[] {
  const args = [...COMMON];
  if (m.bgImage) args.push('-re', '-loop', '1', '-framerate', String(m.fps), '-i', m.bgImage);
  else args.push('-re', '-f', 'lavfi', '-i', `color=c=${m.bgColor}:s=${m.width}x${m.height}:r=${m.fps}`);
  args.push('-re', '-f', 'lavfi', '-i', `anullsrc=r=48000:cl=${m.channels === 1 ? 'mono' : 'stereo'}`);
  for (const f of m.sdpFiles) args.push(...rtpInput(f, true));
  const g: string[] = [`[0:v]scale=${m.width}:${m.height},setsar=1,format=yuv420p[b0]`];
  const audio: string[] = ['[1:a]'];
  m.inputs.forEach((inp, i) => {
    const k = i + 2;
    if (inp.videoPort) {
      // Named, so a new layout can move and resize them live (mixCommands).
      g.push(`[${k}:v]scale@s${i}=w=${inp.width}:h=${inp.height},setsar=1[s${i}]`);
      g.push(`[b${i}][s${i}]overlay@o${i}=x=${inp.x}:y=${inp.y}:eof_action=pass:repeatlast=0[b${i + 1}]`);
    } else g.push(`[b${i}]null[b${i + 1}]`);
    if (inp.audioPort) audio.push(`[${k}:a]`);
  });
  g.push(`[b${m.inputs.length}]fps=${m.fps},format=yuv420p[vout]`);
  g.push(
    `${audio.join('')}amix=inputs=${audio.length}:duration=first:dropout_transition=0:normalize=0,` +
      `aresample=48000,asplit=2[aflv][artp]`,
  );
  args.push('-filter_complex', g.join(';'), '-map', '[vout]', '-map', '[aflv]', '-map', '[artp]');
  args.push(...videoEncoder(m.videoEncode, m.fps, m.videoBitrate, m.preset));
  const ab = `${Math.max(16, Math.round(m.audioBitrate / 1000))}k`;
  args.push('-c:a:0', 'aac', '-b:a:0', ab, '-c:a:1', 'libopus', '-b:a:1', ab);
  args.push('-ac', String(m.channels), '-ar', '48000');
  // Never hold packets long to interleave them: a live output goes out as it is made.
  args.push('-max_interleave_delta', '50000');
  args.push('-f', 'tee', teeOf(m.outputs, 'v:0,a:0', { video: m.videoEncode, audio: 'a:1' }));
  return args;
}

/**
 * ffmpeg arguments of one relay (one published stream to FLV targets): H.264 is copied (a remux, next to
 * no CPU), VP8 is transcoded; Opus always becomes AAC (FLV cannot carry Opus).
 */
export function relayArgs(
  sdp: string,
  input: RtpInput,
  outputs: Output[],
  o: { preset: string; fps: number },
): string[] {
  const args = [...COMMON, '-nostdin', ...rtpInput(sdp)];
  const maps: string[] = [];
  if (input.videoPort) maps.push('-map', '0:v:0');
  if (input.audioPort) maps.push('-map', '0:a:0');
  args.push(...maps);
  if (input.videoPort)
    args.push(
      ...(input.videoCodec === 'h264'
        ? ['-c:v', 'copy']
        : videoEncoder('h264', o.fps, 1_000_000, o.preset).concat(['-r', String(o.fps)])),
    );
  if (input.audioPort) args.push('-c:a', 'aac', '-b:a', '64k', '-ar', '48000', '-ac', '2');
  const sel = [input.videoPort ? 'v:0' : '', input.audioPort ? 'a:0' : ''].filter(Boolean).join(',');
  args.push('-f', 'tee', teeOf(outputs, sel, null));
  return args;
}
