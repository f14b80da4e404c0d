/**
 * The bridge's reading of offers (src/server/bridge/sdpCodecs.ts) and its RTP rewriting
 * (src/server/bridge/RtpRewriter.ts), on offers shaped as Janus 1.1.2 and Chromium write them.
 */
import { isKeyframeStart } from '../../../src/server/bridge/keyframes';
import { RESEND_WINDOW, RtpRewriter } from '../../../src/server/bridge/RtpRewriter';
import {
  CodecError,
  SdpError,
  feedCodecs,
  planViewer,
  sdpCandidates,
} from '../../../src/server/bridge/sdpCodecs';

const session = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdef01234567',
  'a=fingerprint:sha-256 AA:BB',
];

const JANUS_VP8 = [
  ...session,
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=sendonly',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=candidate:1 1 udp 2015363327 127.0.0.2 20001 typ host',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
  'a=mid:1',
  'a=sendonly',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=candidate:1 1 udp 2015363327 127.0.0.2 20001 typ host',
  '',
].join('\r\n');

const JANUS_H264 = JANUS_VP8.replace('96 97', '100').replace(
  /a=rtpmap:96 VP8\/90000\r\n[\s\S]*?a=fmtp:97 apt=96/,
  'a=rtpmap:100 H264/90000\r\na=fmtp:100 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
);

function chromeOffer(video: string[]): string {
  return [
    ...session,
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63',
    'a=mid:0',
    'a=recvonly',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;stereo=1;useinbandfec=1',
    'a=rtpmap:63 red/48000/2',
    `m=video 9 UDP/TLS/RTP/SAVPF ${video
      .map((l) => /^a=rtpmap:(\d+)/.exec(l)?.[1])
      .filter(Boolean)
      .join(' ')}`,
    'a=mid:1',
    'a=recvonly',
    ...video,
    '',
  ].join('\r\n');
}

const CHROME_ALL = chromeOffer([
  'a=rtpmap:96 VP8/90000',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  'a=rtpmap:104 H264/90000',
  'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:106 H264/90000',
  'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:98 VP9/90000',
]);

test('a feed is the first media codec per kind of the Janus offer (rtx left out)', () => {
  const f = feedCodecs(JANUS_VP8);
  expect(f.audio).toMatchObject({ pt: 111, name: 'OPUS', clockRate: 48000, channels: 2 });
  expect(f.video).toMatchObject({ pt: 96, name: 'VP8', clockRate: 90000 });
  expect(f.video!.rtcpFb).toEqual([{ type: 'nack' }, { type: 'nack', parameter: 'pli' }]);
});

test("a page gets the feed's codec under its own payload type; H.264 by packetization mode and profile", () => {
  expect(planViewer(CHROME_ALL, feedCodecs(JANUS_VP8))).toMatchObject({
    audio: { mid: '0', codec: { pt: 111 } },
    video: { mid: '1', codec: { pt: 96, name: 'VP8' } },
  });
  // Same profile first (42e0), never packetization-mode 0.
  expect(planViewer(CHROME_ALL, feedCodecs(JANUS_H264)).video!.codec.pt).toBe(106);
  const baselineOnly = CHROME_ALL.replace(/a=rtpmap:106[^\r]*\r\na=fmtp:106[^\r]*\r\n/, '');
  expect(planViewer(baselineOnly, feedCodecs(JANUS_H264)).video!.codec.pt).toBe(104);
});

test('no codec in common: a CodecError naming both sides', () => {
  const vp9 = chromeOffer(['a=rtpmap:98 VP9/90000']);
  expect(() => planViewer(vp9, feedCodecs(JANUS_VP8))).toThrow(CodecError);
  expect(() => planViewer(vp9, feedCodecs(JANUS_VP8))).toThrow(
    "no codec in common: the stream's video is VP8, the offer's video lists VP9",
  );
  const mode0 = chromeOffer([
    'a=rtpmap:102 H264/90000',
    'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  ]);
  expect(() => planViewer(mode0, feedCodecs(JANUS_H264))).toThrow(
    "the stream's video is H264 (packetization-mode=1), the offer's video lists H264 (packetization-mode=0)",
  );
});

test('an audio-only page of a stream with video gets audio only; a page receiving nothing is refused', () => {
  const audioOnly = chromeOffer([]).replace(/m=video[\s\S]*$/, '');
  expect(planViewer(audioOnly, feedCodecs(JANUS_VP8))).toEqual({
    audio: expect.objectContaining({ mid: '0' }),
  });
  const sendOnly = CHROME_ALL.replace(/a=recvonly/g, 'a=sendonly');
  expect(() => planViewer(sendOnly, feedCodecs(JANUS_VP8))).toThrow('receives neither audio nor video');
});

test('garbage is an SdpError with the reason', () => {
  expect(() => planViewer('hello', feedCodecs(JANUS_VP8))).toThrow(SdpError);
  expect(() => planViewer('v=0\r\nm=video x\r\n', feedCodecs(JANUS_VP8))).toThrow('bad m-line');
  expect(() => planViewer('v=0\r\ns=-\r\n', feedCodecs(JANUS_VP8))).toThrow('no audio or video section');
  expect(() => planViewer(CHROME_ALL.replace(/a=ice-ufrag:\w+\r\n/, ''), feedCodecs(JANUS_VP8))).toThrow(
    'ICE',
  );
  expect(() => planViewer(CHROME_ALL.replace(/a=fingerprint:[^\r]+\r\n/, ''), feedCodecs(JANUS_VP8))).toThrow(
    'fingerprint',
  );
  const many = session.join('\r\n') + '\r\n' + 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n'.repeat(17);
  expect(() => planViewer(many, feedCodecs(JANUS_VP8))).toThrow('more than 16 m-sections');
});

test('candidates of a bundled answer are given once, with the first m-section', () => {
  expect(sdpCandidates(JANUS_VP8)).toEqual([
    { candidate: 'candidate:1 1 udp 2015363327 127.0.0.2 20001 typ host', sdpMid: '0', sdpMLineIndex: 0 },
  ]);
});

describe('RtpRewriter', () => {
  const seq = (x: number) => x & 0xffff;
  test('a fixed random offset per viewer; gaps stay gaps; NACKs map back', () => {
    const r = new RtpRewriter(90000, () => 0.5);
    const a = r.rewrite(1111, 100, 9000, 0);
    expect(a).toEqual({ seq: seq(100 + 0x8000), ts: 9000 + 0x8000_0000 });
    expect(r.rewrite(1111, 102, 12000, 33)).toEqual({ seq: seq(102 + 0x8000), ts: 12000 + 0x8000_0000 });
    expect(r.toUpstream(seq(101 + 0x8000))).toBe(101);
    expect(r.sentRecently(seq(102 + 0x8000))).toBe(true);
    expect(r.sentRecently(seq(101 + 0x8000))).toBe(false);
  });
  test('sequence numbers and timestamps wrap', () => {
    const r = new RtpRewriter(90000, () => 0.99999);
    const a = r.rewrite(1, 65535, 0xffff_fff0, 0);
    const b = r.rewrite(1, 0, 0x10, 20);
    expect(seq(b.seq - a.seq)).toBe(1);
    expect((b.ts - a.ts + 2 ** 32) % 2 ** 32).toBe(0x20);
  });
  test('a new upstream SSRC (the feed resubscribed) continues the stream: next seq, ts by the wall clock', () => {
    const r = new RtpRewriter(90000, () => 0.25);
    const a = r.rewrite(1, 500, 1000, 1000);
    const b = r.rewrite(2, 7, 424242, 1100); // 100 ms later, all new numbers
    expect(seq(b.seq - a.seq)).toBe(1);
    expect((b.ts - a.ts + 2 ** 32) % 2 ** 32).toBe(9000);
    const c = r.rewrite(2, 8, 424242 + 3000, 1133);
    expect(seq(c.seq - b.seq)).toBe(1);
    expect(r.toUpstream(c.seq)).toBe(8);
  });
  test('a late (reordered) packet does not move the continuity point back', () => {
    const r = new RtpRewriter(48000, () => 0);
    r.rewrite(1, 10, 960, 0);
    r.rewrite(1, 12, 2880, 40);
    r.rewrite(1, 11, 1920, 41);
    const n = r.rewrite(2, 0, 0, 60);
    expect(n.seq).toBe(13);
  });
  test('the resend window is the last RESEND_WINDOW packets out', () => {
    const r = new RtpRewriter(90000, () => 0);
    for (let i = 0; i < RESEND_WINDOW + 5; i++) r.rewrite(1, i, i * 3000, i);
    expect(r.sentRecently(4)).toBe(false);
    expect(r.sentRecently(5)).toBe(true);
    expect(r.sentRecently(RESEND_WINDOW + 4)).toBe(true);
  });
});

test('keyframe starts, from the payload (RFC 7741 VP8, RFC 6184 H.264)', () => {
  const k = (codec: string, bytes: number[]) => isKeyframeStart(codec, Uint8Array.from(bytes));
  // VP8: S=1 PID=0 and P=0 in the payload header; with the extension bytes (I with a 15-bit picture id).
  expect(k('VP8', [0x10, 0x50, 0x2a])).toBe(true);
  expect(k('VP8', [0x10, 0x51, 0x2a])).toBe(false); // P=1: an inter frame
  expect(k('VP8', [0x00, 0x50])).toBe(false); // not the start of the partition
  expect(k('VP8', [0x11, 0x50])).toBe(false); // PID 1
  expect(k('VP8', [0x90, 0x80, 0x81, 0x23, 0x50])).toBe(true);
  expect(k('VP8', [0x90, 0x80, 0x81, 0x23, 0x51])).toBe(false);
  expect(k('VP8', [0x90, 0xe0, 0x05, 0x07, 0x20, 0x50])).toBe(true); // I (7-bit id), L, T: one byte each
  expect(k('VP8', [0x90])).toBe(false);
  // H.264: IDR, SPS in a STAP-A, an FU-A starting an IDR; not a P slice or an FU-A middle.
  expect(k('H264', [0x65, 0x88])).toBe(true);
  expect(k('H264', [0x41, 0x9a])).toBe(false);
  expect(k('H264', [0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce])).toBe(true);
  expect(k('H264', [0x78, 0x00, 0x02, 0x41, 0x42])).toBe(false);
  expect(k('H264', [0x7c, 0x85, 0x00])).toBe(true);
  expect(k('H264', [0x7c, 0x05, 0x00])).toBe(false);
  expect(k('H264', [0x78, 0x00, 0x00, 0x67])).toBe(false); // a zero-size unit ends the walk
  expect(k('OPUS', [0x65, 0x88])).toBe(false);
});
