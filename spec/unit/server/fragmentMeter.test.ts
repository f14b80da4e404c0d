/** @jest-environment node */
/**
 * FragmentMeter: the frame-header scan that counts what a socket's unfinished message holds (issue 15,
 * class 2), on hand-made RFC 6455 frames fed in awkward chunks.
 */
import { FragmentMeter, UnfinishedPool } from '../../../src/server/gateway/FragmentMeter';

/** A masked client frame (as browsers send): FIN bit, opcode, payload. */
function frame(fin: boolean, opcode: number, payload: Buffer | string): Buffer {
  const p = Buffer.from(payload);
  const len = p.length;
  const head =
    len < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len])
      : len < 65536
        ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 127, 0, 0, 0, 0]), u32(len)]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(p.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([head, mask, body]);
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** Feeds `data` to the meter `step` bytes at a time. */
function feed(m: FragmentMeter, data: Buffer, step = data.length): void {
  for (let i = 0; i < data.length; i += step) m.onData(data.subarray(i, i + step));
}

function meter(pool = new UnfinishedPool(1000, 1 << 20), budget = { maxFragments: 4, maxBytes: 1000 }) {
  const over: string[] = [];
  return { m: new FragmentMeter(pool, budget, (why) => over.push(why)), pool, over };
}

test('a whole message holds nothing once its last frame is in; fragments and bytes count until then', () => {
  const { m, pool, over } = meter();
  feed(m, frame(true, 1, 'hello'));
  expect(pool.stats()).toEqual({ fragments: 0, bytes: 0, closed: 0 });
  feed(m, Buffer.concat([frame(false, 1, 'ab'), frame(false, 0, 'cd')]));
  expect([pool.fragments, pool.bytes]).toEqual([2, 4]);
  // A ping between fragments counts for nothing; the last fragment frees the message.
  feed(m, frame(true, 9, 'ping'));
  expect([pool.fragments, pool.bytes]).toEqual([2, 4]);
  feed(m, frame(true, 0, 'e'));
  expect([pool.fragments, pool.bytes]).toEqual([0, 0]);
  expect(over).toEqual([]);
});

test('headers and payloads split anywhere (one byte at a time), 16- and 64-bit lengths', () => {
  const { m, pool, over } = meter(new UnfinishedPool(1000, 1 << 24), { maxFragments: 10, maxBytes: 1 << 20 });
  const big = Buffer.alloc(70_000, 0x61);
  const stream = Buffer.concat([frame(false, 2, big), frame(false, 0, Buffer.alloc(300, 1))]);
  feed(m, stream, 1);
  expect([pool.fragments, pool.bytes]).toEqual([2, 70_300]);
  feed(m, frame(true, 0, ''), 3);
  expect([pool.fragments, pool.bytes, over.length]).toEqual([0, 0, 0]);
});

test('past the socket budget: frames (empty ones too) or bytes, the meter says so once and stops', () => {
  const a = meter();
  feed(a.m, Buffer.concat(Array.from({ length: 5 }, () => frame(false, 0, ''))));
  expect(a.over).toEqual(['message in over limits.maxFragments frames']);
  // What it held went back to the pool.
  expect([a.pool.fragments, a.pool.bytes, a.pool.closed]).toEqual([0, 0, 1]);
  feed(a.m, frame(false, 0, 'more'));
  expect(a.over).toHaveLength(1);
  const b = meter();
  // A frame announcing more than the socket's budget is refused at its header, before its payload.
  b.m.onData(frame(true, 1, Buffer.alloc(1001)).subarray(0, 8));
  expect(b.over).toEqual(['message over limits.maxMessageBytes']);
});

test('past the server-wide budget: the socket that goes past it is the one told; the others keep theirs', () => {
  const pool = new UnfinishedPool(5, 1 << 20);
  const x = meter(pool);
  const y = meter(pool);
  feed(x.m, Buffer.concat([frame(false, 1, 'a'), frame(false, 0, 'b'), frame(false, 0, 'c')]));
  feed(y.m, Buffer.concat([frame(false, 1, 'a'), frame(false, 0, 'b')]));
  expect(pool.fragments).toBe(5);
  feed(y.m, frame(false, 0, 'c'));
  expect([x.over, y.over]).toEqual([[], ['unfinished messages over the server-wide budget']]);
  expect(pool.fragments).toBe(3);
  x.m.dispose();
  expect([pool.fragments, pool.bytes]).toEqual([0, 0]);
});
