/**
 * Class 2 of issue 15: messages that never end. A socket's unfinished message counts against a small
 * budget (limits.maxFragments frames, limits.maxMessageBytes bytes) and every socket's together against a
 * server-wide one (limits.maxUnfinishedFragments / maxUnfinishedBytes); past either the socket is closed
 * 1009 at once, on both planes, before or after login. What the sockets held is given back; a page's own
 * fragmented message (a browser splits large ones) still arrives; the bystander notices nothing.
 */
import WebSocket from 'ws';
import { CloseCode, ServerCode } from '../../src/protocol/errors';
import { Target } from './lib/harness';
import { fuzzConfig, sleep } from './lib/server';
import { Sock, isMediaPush, isRoomPush, roomLogin, type RoomSession } from './lib/sockets';

jest.setTimeout(120_000);

interface Unfinished {
  fragments: number;
  bytes: number;
  closed: number;
}

async function unfinished(t: Target): Promise<Unfinished> {
  return (await t.srv.health()).unfinishedMessages as Unfinished;
}

/** Sends `n` fragments of one message that never ends (each `size` bytes); stops when the socket closes. */
function fragments(ws: WebSocket, n: number, size = 1, first = '{'): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const chunk = 'x'.repeat(size);
    const pump = () => {
      // In batches, so the server's close can come back between them.
      for (let k = 0; k < 500 && sent < n; k++, sent++) {
        if (ws.readyState !== WebSocket.OPEN) return resolve(sent);
        ws.send(sent === 0 ? first : chunk, { fin: false }, () => {});
      }
      if (sent >= n || ws.readyState !== WebSocket.OPEN) return resolve(sent);
      setImmediate(pump);
    };
    pump();
  });
}

async function closeCodes(socks: Sock[], ms = 5000): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  await Promise.all(
    socks.map(async (s) => {
      const c = await s.waitClose(ms);
      const k = c ? String(c.code) : 'open';
      out[k] = (out[k] ?? 0) + 1;
    }),
  );
  return out;
}

async function settledPool(t: Target): Promise<Unfinished> {
  const end = Date.now() + 5000;
  let u = await unfinished(t);
  while ((u.fragments !== 0 || u.bytes !== 0) && Date.now() < end) {
    await sleep(100);
    u = await unfinished(t);
  }
  return u;
}

describe('per socket (defaults: 128 frames, 1 MiB)', () => {
  const t = new Target(fuzzConfig({ janus: { urls: ['ws://127.0.0.1:1'], startTimeoutMs: 100 } }));
  beforeAll(() => t.start());
  afterAll(() => t.stop());

  test('the issue: 40 room and 40 media sockets send 16,000 fragments each of a message that never ends', async () => {
    const before = await t.srv.health();
    const socks = await Promise.all([
      ...Array.from({ length: 40 }, () => Sock.open(t.srv.ws('/ws'), isRoomPush)),
      ...Array.from({ length: 40 }, () => Sock.open(t.srv.ws('/media'), isMediaPush)),
    ]);
    const t0 = Date.now();
    const sent = await Promise.all(socks.map((s) => fragments(s.ws, 16_000)));
    const codes = await closeCodes(socks);
    const took = Date.now() - t0;
    const peak = await t.srv.health();
    for (const s of socks) s.terminate();
    expect(codes).toEqual({ [CloseCode.TooBig]: 80 });
    // Closed at once: none of them got far past its budget before the close reached it.
    expect(Math.max(...sent)).toBeLessThan(16_000);
    expect(took).toBeLessThan(10_000);
    const u = await settledPool(t);
    expect(u).toMatchObject({ fragments: 0, bytes: 0 });
    expect(u.closed).toBeGreaterThanOrEqual(80);
    const growth = (peak.memory?.rssMiB ?? 0) - (before.memory?.rssMiB ?? 0);
    if (growth > 30) throw new Error(`RSS grew ${growth.toFixed(1)} MiB during the attack (before: +69 MiB)`);
    expect(await t.problems()).toEqual([]);
  });

  test('bytes: a message over limits.maxMessageBytes in 64 KiB fragments is closed 1009 at the frame that passes it', async () => {
    const s = await Sock.open(t.srv.ws('/ws'), isRoomPush);
    await fragments(s.ws, 40, 64 * 1024);
    const c = await s.waitClose(5000);
    s.terminate();
    expect(c?.code).toBe(CloseCode.TooBig);
    expect((await unfinished(t)).closed).toBeGreaterThanOrEqual(81);
    expect(await settledPool(t)).toMatchObject({ fragments: 0, bytes: 0 });
    expect(await t.problems()).toEqual([]);
  });

  test("a page's own fragmented message (as Chromium splits a large one) arrives, and the socket stays", async () => {
    const s = await roomLogin(t.srv, 'fragmenting-page', 'frag-room');
    try {
      const msg = JSON.stringify({ header: s.header('hb'), body: { reserve: 0 } });
      const parts = [msg.slice(0, 10), msg.slice(10, 40), msg.slice(40)];
      parts.forEach((p, i) => s.sock.ws.send(p, { fin: i === parts.length - 1 }));
      const o = await s.sock.next(3000);
      expect(o.kind === 'frame' ? (o.frame.json as { body: { err_code: number } }).body.err_code : o).toBe(0);
      // 200 KB in four fragments: over limits.maxFrameBytes, refused unread; the socket stays.
      const big = JSON.stringify({
        header: s.header('relay'),
        body: { relay_type: 't', relay_data: 'x'.repeat(200_000) },
      });
      const q = Math.ceil(big.length / 4);
      for (let i = 0; i < 4; i++) s.sock.ws.send(big.slice(i * q, (i + 1) * q), { fin: i === 3 });
      const r = await s.sock.next(3000);
      expect(r.kind === 'frame' ? (r.frame.json as { body: { err_code: number } }).body.err_code : r).toBe(
        ServerCode.TooLarge,
      );
      expect(s.sock.open).toBe(true);
    } finally {
      s.sock.terminate();
    }
  });
});

describe('server-wide (limits.maxUnfinishedFragments 2,000, maxUnfinishedBytes 2 MiB)', () => {
  const t = new Target(
    fuzzConfig({
      janus: { enabled: false },
      limits: { maxUnfinishedFragments: 2000, maxUnfinishedBytes: 2 * 1024 * 1024 },
    }),
  );
  beforeAll(() => t.start());
  afterAll(() => t.stop());

  test('40 logged-in sockets hold 100 fragments each: those past 2,000 together are closed 1009, the rest finish their message', async () => {
    const users: RoomSession[] = [];
    for (let i = 0; i < 40; i++) users.push(await roomLogin(t.srv, `holder-${i}`, 'hold-room'));
    try {
      const msgs = users.map((u) => JSON.stringify({ header: u.header('hb'), body: { reserve: 0 } }));
      // One socket after the other, so the budget fills in a known order: 20 x 100 = 2,000 fit.
      for (let i = 0; i < users.length; i++) {
        const ws = users[i]!.sock.ws;
        for (let k = 0; k < 100 && ws.readyState === WebSocket.OPEN; k++)
          ws.send(k === 0 ? msgs[i]!.slice(0, 1) : '', { fin: false });
        await sleep(30);
      }
      const end = Date.now() + 5000;
      while (users.filter((u) => u.sock.closed).length < 20 && Date.now() < end) await sleep(50);
      await sleep(200);
      // The first twenty fit the budget (20 x 100); each later one is closed at its first fragment.
      expect(users.map((u) => u.sock.closed?.code ?? 'open')).toEqual([
        ...Array<string>(20).fill('open'),
        ...Array<number>(20).fill(CloseCode.TooBig),
      ]);
      // Those kept finish their message and it is answered.
      for (const [i, u] of users.entries()) {
        if (u.sock.closed) continue;
        u.sock.drain();
        u.sock.ws.send(msgs[i]!.slice(1), { fin: true });
        const o = await u.sock.next(3000);
        expect(o.kind === 'frame' ? (o.frame.json as { body: { err_code: number } }).body.err_code : o).toBe(
          0,
        );
      }
      expect(await settledPool(t)).toMatchObject({ fragments: 0, bytes: 0 });
    } finally {
      for (const u of users) u.sock.terminate();
    }
    expect(await t.problems()).toEqual([]);
  });

  test('bytes: four sockets each holding 600 KB of an unfinished message: the one past 2 MiB is closed 1009', async () => {
    const socks = await Promise.all(Array.from({ length: 4 }, () => Sock.open(t.srv.ws('/ws'), isRoomPush)));
    try {
      for (const s of socks) {
        await fragments(s.ws, 10, 60_000);
        await sleep(300);
      }
      await socks[3]!.waitClose(3000);
      expect(socks.map((s) => s.closed?.code ?? 'open')).toEqual(['open', 'open', 'open', CloseCode.TooBig]);
      for (const s of socks.slice(0, 3)) s.terminate();
      expect(await settledPool(t)).toMatchObject({ fragments: 0, bytes: 0 });
    } finally {
      for (const s of socks) s.terminate();
    }
    expect(await t.problems()).toEqual([]);
  });
});
