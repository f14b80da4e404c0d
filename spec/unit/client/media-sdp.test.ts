/** SDP munging (src/client/media/sdp.ts) on Chrome-like SDP: codec filter, bitrate cap, Opus params, candidates. */
import {
  hasCandidates,
  keepVideoCodec,
  setOpusParams,
  setVideoBitrate,
  videoPayloads,
} from '../../../src/client/media/sdp';
import { CHROME_OFFER, serverSdp } from '../../fakes/FakeMedia';

const lines = (sdp: string) => sdp.split('\r\n').filter(Boolean);
const section = (sdp: string, kind: 'audio' | 'video') => {
  const all = lines(sdp);
  const start = all.findIndex((l) => l.startsWith(`m=${kind}`));
  const end = all.findIndex((l, i) => i > start && l.startsWith('m='));
  return all.slice(start, end < 0 ? undefined : end);
};
const ptLines = (sec: string[]) => sec.filter((l) => /^a=(rtpmap|fmtp|rtcp-fb):\d+/.test(l));
const ptOf = (l: string) => /^a=[a-z-]+:(\d+)/.exec(l)![1];

test('the sample offer has VP8, two H264, VP9, RED, ULPFEC and their RTX', () => {
  expect(Object.fromEntries(videoPayloads(CHROME_OFFER))).toEqual({
    '96': 'VP8',
    '97': 'rtx',
    '102': 'H264',
    '103': 'rtx',
    '106': 'H264',
    '107': 'rtx',
    '98': 'VP9',
    '99': 'rtx',
    '114': 'red',
    '115': 'rtx',
    '116': 'ulpfec',
  });
});

test('keepVideoCodec H264: both H264 payloads and the RTX that repair them (by apt), in m-line order', () => {
  const out = keepVideoCodec(CHROME_OFFER, 'H264');
  const v = section(out, 'video');
  expect(v[0]).toBe('m=video 9 UDP/TLS/RTP/SAVPF 102 103 106 107');
  expect(new Set(ptLines(v).map(ptOf))).toEqual(new Set(['102', '103', '106', '107']));
  expect(v).toContain('a=fmtp:103 apt=102');
  expect(v).toContain('a=fmtp:107 apt=106');
  expect(v).toContain('a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f');
  expect(v.filter((l) => l.startsWith('a=rtcp-fb:102'))).toHaveLength(5);
  expect(v.filter((l) => l.startsWith('a=rtcp-fb:106'))).toHaveLength(2);
  // Nothing of VP8 / VP9 / RED / ULPFEC (nor their RTX) is left.
  for (const pt of ['96', '97', '98', '99', '114', '115', '116'])
    expect(v.some((l) => l.startsWith(`a=rtpmap:${pt} `) || l.startsWith(`a=fmtp:${pt} `))).toBe(false);
  // Non-payload lines of the section are kept, in order.
  const others = (sec: string[]) => sec.slice(1).filter((l) => !/^a=(rtpmap|fmtp|rtcp-fb):\d+/.test(l));
  expect(others(v)).toEqual(others(section(CHROME_OFFER, 'video')));
  // The audio section and the session head are untouched.
  expect(section(out, 'audio')).toEqual(section(CHROME_OFFER, 'audio'));
  expect(lines(out).slice(0, 7)).toEqual(lines(CHROME_OFFER).slice(0, 7));
  expect(out.endsWith('\r\n')).toBe(true);
});

test('keepVideoCodec VP8: only 96 and its RTX 97', () => {
  const v = section(keepVideoCodec(CHROME_OFFER, 'VP8'), 'video');
  expect(v[0]).toBe('m=video 9 UDP/TLS/RTP/SAVPF 96 97');
  expect(ptLines(v)).toEqual([
    'a=rtpmap:96 VP8/90000',
    'a=rtcp-fb:96 goog-remb',
    'a=rtcp-fb:96 transport-cc',
    'a=rtcp-fb:96 ccm fir',
    'a=rtcp-fb:96 nack',
    'a=rtcp-fb:96 nack pli',
    'a=rtpmap:97 rtx/90000',
    'a=fmtp:97 apt=96',
  ]);
  // ssrc-group / ssrc lines are not payload lines: kept.
  expect(v).toContain('a=ssrc-group:FID 2001 2002');
});

test('keepVideoCodec returns the SDP unchanged (same string) when the codec is absent', () => {
  const vp8Only = keepVideoCodec(CHROME_OFFER, 'VP8');
  expect(keepVideoCodec(vp8Only, 'H264')).toBe(vp8Only);
  const audioOnly = lines(CHROME_OFFER)
    .slice(
      0,
      lines(CHROME_OFFER).findIndex((l) => l.startsWith('m=video')),
    )
    .join('\n');
  expect(keepVideoCodec(audioOnly, 'H264')).toBe(audioOnly);
});

test('keepVideoCodec matches codec names case-insensitively and accepts LF line endings', () => {
  const lower = CHROME_OFFER.replace('H264/90000', 'h264/90000').replace(/\r\n/g, '\n');
  const v = section(keepVideoCodec(lower, 'H264'), 'video');
  expect(v[0]).toBe('m=video 9 UDP/TLS/RTP/SAVPF 102 103 106 107');
});

test('setVideoBitrate: b=AS:<kbps> right after the video c= line; audio untouched; an old cap is replaced', () => {
  const out = setVideoBitrate(CHROME_OFFER, 800);
  const v = section(out, 'video');
  expect(v.slice(0, 3)).toEqual([
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107 98 99 114 115 116',
    'c=IN IP4 0.0.0.0',
    'b=AS:800',
  ]);
  expect(section(out, 'audio').some((l) => l.startsWith('b='))).toBe(false);
  const twice = section(setVideoBitrate(out, 1500.4), 'video');
  expect(twice.filter((l) => l.startsWith('b='))).toEqual(['b=AS:1500']);
});

test('setVideoBitrate with tias (Firefox): b=TIAS:<bps>, replacing b=AS', () => {
  const out = setVideoBitrate(setVideoBitrate(CHROME_OFFER, 800), 300, true);
  const v = section(out, 'video');
  expect(v[2]).toBe('b=TIAS:300000');
  expect(v.filter((l) => l.startsWith('b='))).toEqual(['b=TIAS:300000']);
});

test('setVideoBitrate without a c= line puts the cap right after the m= line', () => {
  const noC = CHROME_OFFER.replace(/m=video([^\r]*)\r\nc=IN IP4 0.0.0.0\r\n/, 'm=video$1\r\n');
  expect(section(setVideoBitrate(noC, 500), 'video')[1]).toBe('b=AS:500');
});

test('setOpusParams merges into the Opus fmtp: existing params kept, given ones set or replaced', () => {
  const out = setOpusParams(CHROME_OFFER, { maxaveragebitrate: 48000, stereo: 0 });
  expect(section(out, 'audio')).toContain(
    'a=fmtp:111 minptime=10;useinbandfec=1;maxaveragebitrate=48000;stereo=0',
  );
  const stereo = CHROME_OFFER.replace(
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=fmtp:111 stereo=1;minptime=10',
  );
  expect(section(setOpusParams(stereo, { stereo: 0 }), 'audio')).toContain('a=fmtp:111 minptime=10;stereo=0');
  // Other payloads' fmtp (RED 63) and the video section are not touched.
  expect(section(out, 'audio')).toContain('a=fmtp:63 111/111');
  expect(section(out, 'video')).toEqual(section(CHROME_OFFER, 'video'));
});

test('setOpusParams adds an fmtp line when Opus has none; no Opus, no change', () => {
  const noFmtp = CHROME_OFFER.replace('a=fmtp:111 minptime=10;useinbandfec=1\r\n', '');
  const a = section(setOpusParams(noFmtp, { stereo: 0 }), 'audio');
  expect(a.filter((l) => l.startsWith('a=fmtp:111'))).toEqual(['a=fmtp:111 stereo=0']);
  const noOpus = noFmtp.replace('a=rtpmap:111 opus/48000/2\r\n', '');
  expect(setOpusParams(noOpus, { stereo: 0 })).toBe(noOpus);
});

test('hasCandidates: a=candidate lines (CRLF or LF); not end-of-candidates alone', () => {
  expect(hasCandidates(serverSdp('answer', true))).toBe(true);
  expect(hasCandidates(serverSdp('answer', true).replace(/\r\n/g, '\n'))).toBe(true);
  expect(hasCandidates(serverSdp('answer', false))).toBe(false);
  expect(hasCandidates(serverSdp('offer', false) + 'a=end-of-candidates\r\n')).toBe(false);
  expect(hasCandidates(CHROME_OFFER)).toBe(false);
});
