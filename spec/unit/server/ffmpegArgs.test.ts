/** @jest-environment node */
/** The mix and relay command lines (pure): what ffmpeg is told to do, checked without running it. */
import { mixArgs, mixCommands, relayArgs, sdpOf } from '../../../src/server/mix/ffmpegArgs';

const input = {
  audioPort: 30000,
  videoPort: 30002,
  videoCodec: 'h264' as const,
  x: 0,
  y: 0,
  width: 320,
  height: 300,
};

test('an SDP per input: Opus 111 and the publisher codec on 96, each on its port', () => {
  expect(sdpOf(input)).toContain('m=audio 30000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2');
  expect(sdpOf(input)).toContain(
    'm=video 30002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1',
  );
  expect(sdpOf({ videoPort: 30006, videoCodec: 'vp8' })).not.toContain('m=audio');
  expect(sdpOf({ videoPort: 30006, videoCodec: 'vp8' })).toContain('a=rtpmap:96 VP8/90000');
});

test('a mix: background, named scale/overlay per input in layer order, one encode to every output', () => {
  const args = mixArgs({
    width: 640,
    height: 360,
    fps: 15,
    videoBitrate: 600_000,
    audioBitrate: 64_000,
    channels: 2,
    bgColor: '0x00ff00',
    inputs: [input, { ...input, audioPort: undefined, x: 320 }],
    sdpFiles: ['/t/in0.sdp', '/t/in1.sdp'],
    outputs: [
      { kind: 'flv', url: 'rtmp://127.0.0.1:1935/live/1_m' },
      { kind: 'janus', host: '127.0.0.1', port: 5000, rtcpPort: 5001 },
    ],
    videoEncode: 'h264',
    preset: 'ultrafast',
  });
  const graph = args[args.indexOf('-filter_complex') + 1]!;
  expect(args).toContain('color=c=0x00ff00:s=640x360:r=15');
  expect(args).not.toContain('-nostdin'); // filter commands come on stdin
  // Inputs probe next to nothing (latency), a relay probes fully (it copies).
  expect(args.join(' ')).toContain('-analyzeduration 0 -probesize 32');
  expect(graph).toContain('scale@s0=w=320:h=300');
  expect(graph).toContain('overlay@o1=x=320:y=0:eof_action=pass');
  // Two audio inputs in the mix: the silent base and the first input (the second has none).
  expect(graph).toContain('[1:a][2:a]amix=inputs=2');
  const tee = args[args.length - 1]!;
  expect(tee).toContain(
    "[select=\\'v:0,a:0\\':f=flv:flvflags=no_duration_filesize:onfail=ignore]rtmp://127.0.0.1:1935/live/1_m",
  );
  expect(tee).toContain('ssrc=1010:payload_type=107');
  expect(tee).toContain('ssrc=1000:payload_type=111');
  expect(tee).toContain('rtp://127.0.0.1:5000?rtcpport=5001');
});

test('the RTP to a Janus remote publisher goes to its host (an external Janus: its rtpHost)', () => {
  const tee = (host: string) => {
    const args = mixArgs({
      width: 320,
      height: 240,
      fps: 15,
      videoBitrate: 300_000,
      audioBitrate: 64_000,
      channels: 2,
      bgColor: '0x000000',
      inputs: [],
      sdpFiles: [],
      outputs: [{ kind: 'janus', host, port: 5000, rtcpPort: 5001 }],
      videoEncode: 'vp8',
      preset: 'ultrafast',
    });
    return args[args.length - 1]!;
  };
  expect(tee('10.0.0.5')).toContain('rtp://10.0.0.5:5000?rtcpport=5001');
  expect(tee('10.0.0.5')).not.toContain('127.0.0.1');
  expect(tee('janus-b.internal')).toContain('rtp://janus-b.internal:5000?');
  expect(tee('fd00::5')).toContain('rtp://[fd00::5]:5000?');
});

test('a new layout as filter commands: only what changed', () => {
  expect(mixCommands(1, input, { ...input, x: 320 })).toEqual(['coverlay@o1 -1 x 320\n']);
  expect(mixCommands(0, input, { ...input, width: 160, height: 90, y: 10 })).toEqual([
    'cscale@s0 -1 w 160\n',
    'cscale@s0 -1 h 90\n',
    'coverlay@o0 -1 y 10\n',
  ]);
  expect(mixCommands(0, input, input)).toEqual([]);
});

test('a relay copies H.264 and transcodes VP8; Opus becomes AAC', () => {
  const out = [{ kind: 'flv' as const, url: 'rtmp://x/live/a' }];
  const copy = relayArgs('/t/in.sdp', input, out, { preset: 'ultrafast', fps: 25 });
  expect(copy.join(' ')).toContain('-c:v copy');
  expect(copy.join(' ')).toContain('-analyzeduration 1000000 -probesize 500000');
  expect(copy.join(' ')).toContain('-c:a aac');
  const vp8 = relayArgs('/t/in.sdp', { ...input, videoCodec: 'vp8' }, out, { preset: 'ultrafast', fps: 25 });
  expect(vp8.join(' ')).toContain('-c:v libx264');
});
