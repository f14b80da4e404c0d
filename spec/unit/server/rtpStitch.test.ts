/** @jest-environment node */
/** RtpStitcher: a sender that restarts (new random seq/ts, same SSRC) comes out continuous. */
import { stitch } from '../../../src/server/origin/RtpStitcher';

function rtp(seq: number, ts: number, ssrc = 1010, pt = 107): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}
const seqOf = (b: Buffer) => b.readUInt16BE(2);
const tsOf = (b: Buffer) => b.readUInt32BE(4);

test('a run goes through unchanged; the next run continues its sequence and timestamps', () => {
  const states = new Map();
  const out: Buffer[] = [];
  for (let i = 0; i < 5; i++) {
    const p = rtp((65533 + i) & 0xffff, 1000 + i * 6000);
    stitch(states, p, 1000 + i * 66);
    out.push(p);
  }
  expect(out.map(seqOf)).toEqual([65533, 65534, 65535, 0, 1]);
  // A restart 500 ms later: seq 40000 (behind by wrap logic), timestamp anywhere.
  const p = rtp(40000, 7);
  stitch(states, p, 1264 + 500);
  expect(seqOf(p)).toBe(2);
  expect(tsOf(p)).toBe(1000 + 4 * 6000 + 45000);
  const q = rtp(40001, 7 + 6000);
  stitch(states, q, 1830);
  expect([seqOf(q), tsOf(q)]).toEqual([3, 1000 + 4 * 6000 + 45000 + 6000]);
  // A late packet of the old run is not mistaken for a new run.
  const late = rtp(39990, 1);
  stitch(states, late, 1840);
  expect(seqOf(late)).toBe((39990 + (2 - 40000)) & 0xffff);
});

test('audio (Opus, 48 kHz) and video keep separate states; a non-RTP datagram is left alone', () => {
  const states = new Map();
  const a = rtp(10, 100, 1000, 111);
  stitch(states, a, 0);
  const a2 = rtp(30000, 5, 1000, 111);
  stitch(states, a2, 1000);
  expect([seqOf(a2), tsOf(a2)]).toEqual([11, 100 + 48000]);
  const junk = Buffer.from('hello world!!');
  stitch(states, junk, 0);
  expect(junk.toString()).toBe('hello world!!');
});
