/** @jest-environment node */
/**
 * The socket base (src/server/gateway/FrameSocket.ts) on the room plane, over real WebSockets: hostile
 * header shapes, refusals that name their request, strikes that decay, the slow-reader cut, the boundary
 * around handlers; and the room plane's stream caps and app-wide stream ids.
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import type { WebSocket as WsSocket } from 'ws';
import { startServer, type RunningServer, type ServerOptions } from '../../../src/server';
import { resolveConfig } from '../../../src/server/config';
import {
  FrameSocket,
  limitsFrom,
  newCounters,
  scanRef,
  type FrameHeader,
  type FrameRef,
} from '../../../src/server/gateway/FrameSocket';
import { APPID, Raw, SIGN } from '../../helpers/rawRoom';

let server: RunningServer;
let ws: string;
const clients: Raw[] = [];
const client = (id: string, room?: string) => {
  const c = new Raw(ws, id, room);
  clients.push(c);
  return c;
};

async function start(extra: ServerOptions = {}) {
  server = await startServer({
    janus: { enabled: false },
    port: 0,
    log: { level: 'silent' },
    apps: [{ appid: APPID, appSign: SIGN }],
    room: { heartbeatMs: 10_000 },
    ...extra,
  });
  ws = server.url.replace('http', 'ws') + '/ws';
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws?.terminate();
  await server?.close();
});

/** JSON text of `n` nested arrays (built as text: JSON.stringify itself overflows on it). */
const deep = (n: number): string => '['.repeat(n) + '1' + ']'.repeat(n);

async function health(): Promise<Record<string, unknown>> {
  return (await (await fetch(`${server.url}/healthz`)).json()) as Record<string, unknown>;
}

test('hostile header shapes are answered by type, never reach String()/Number(), the server stays up', async () => {
  await start();
  const a = client('alice');
  await a.login();
  const bystander = client('bob', 'other');
  await bystander.login();
  // hb with a deeply nested appid (String(appid) recursed through Array.join and threw).
  const header = JSON.stringify({ Protocol: 'req', cmd: 'hb', seq: 41, ...a.session, room_id: 'r1' });
  a.ws.send(`{"header":${header.slice(0, -1)},"appid":${deep(5000)}},"body":{"reserve":0}}`);
  const r1 = await a.wait((f) => f.header.seq === 41, 'hb reply');
  // Deeper than any frame of the protocol: refused unparsed, named by its cmd and seq.
  expect(r1.header.cmd).toBe('hb');
  expect(r1.body.err_code).toBe(1);
  // bigim_chat with a deeply nested bigmsg_client_id (validate.ts ran String() on it).
  const h2 = JSON.stringify({
    Protocol: 'req',
    cmd: 'bigim_chat',
    appid: APPID,
    seq: 42,
    ...a.session,
    room_id: 'r1',
  });
  a.ws.send(
    `{"header":${h2},"body":{"msgs":[{"msg_category":1,"msg_type":1,"msg_content":"x","bigmsg_client_id":${deep(5000)}}]}}`,
  );
  const r2 = await a.wait((f) => f.header.seq === 42, 'bigim reply');
  expect(r2.body.err_code).toBe(1);
  // Deep, but within the protocol's depth: refused by its schema, by type.
  const r2b = await a.request('bigim_chat', {
    msgs: [{ msg_category: 1, msg_type: 1, msg_content: 'x', bigmsg_client_id: [[['x']]] }],
  });
  expect(r2b.body.err_code).toBe(1000000002);
  // Every header field with the wrong type: still one answer, matched by seq.
  for (const [i, bad] of [
    [1],
    { a: 1 },
    null,
    true,
    Number.MAX_VALUE * 10,
    -1,
    'x'.repeat(100_000),
  ].entries()) {
    a.ws.send(
      JSON.stringify({
        header: {
          Protocol: bad,
          cmd: 'hb',
          appid: bad,
          seq: 100 + i,
          user_id: bad,
          session_id: bad,
          room_id: bad,
        },
        body: { reserve: 0, __proto__: { polluted: 1 }, constructor: bad },
      }).slice(0, 60_000),
    );
  }
  await a.wait((f) => f.header.seq === 105, 'the last hostile reply');
  // A cmd that is not a string is answered with cmd '' and its seq; a huge seq with seq 0.
  a.ws.send(JSON.stringify({ header: { cmd: ['hb'], seq: 7 }, body: {} }));
  const r3 = await a.wait((f) => f.header.seq === 7, 'non-string cmd');
  expect(r3.header.cmd).toBe('');
  expect(r3.body.err_code).toBe(1000000001);
  // Still alive, and the bystander's heartbeat is answered.
  expect((await bystander.request('hb', { reserve: 0 })).body.err_code).toBe(0);
  expect((await a.request('hb', { reserve: 0 })).body.err_code).toBe(0);
  expect({} as Record<string, unknown>).not.toHaveProperty('polluted');
});

test('rate-limit refusals echo the request cmd and seq', async () => {
  await start({ limits: { messagesPerSecond: 10, burst: 5 } });
  const a = client('alice');
  await a.login();
  const seqs: number[] = [];
  for (let i = 0; i < 12; i++) seqs.push(a.send('hb', { reserve: 0 }));
  for (const seq of seqs) {
    const r = await a.wait((f) => f.header.seq === seq && f.header.Protocol === 'rsp', `reply ${seq}`);
    expect(r.header.cmd).toBe('hb');
    expect([0, 1000000004]).toContain(r.body.err_code);
  }
  const refused = a.frames.filter((f) => f.body.err_code === 1000000004);
  expect(refused.length).toBeGreaterThanOrEqual(5);
  expect(a.closed).toBeNull();
});

test('scanRef reads cmd and seq from the first bytes only, and nothing else', () => {
  expect(scanRef('{"header":{"cmd":"hb","seq":12,"x":1},"body":{}}')).toEqual({ cmd: 'hb', seq: 12 });
  expect(scanRef('{"header":{"seq":3}}')).toEqual({ cmd: '', seq: 3 });
  expect(scanRef(' '.repeat(2000) + '{"header":{"cmd":"hb","seq":12}}')).toEqual({ cmd: '', seq: 0 });
  expect(scanRef('{"header":{"cmd":"h\\"b","seq":99999999999999999999}}')).toEqual({ cmd: '', seq: 0 });
});

test('strikes decay: bursts averaging the rate are never closed, a sustained flood is (4001)', async () => {
  await start({
    limits: { messagesPerSecond: 25, burst: 20, floodStrikes: 12, strikeDecayPerSecond: 10 },
  });
  const a = client('alice');
  await a.login();
  // 25 every second: 5 refused per round. Without decay the third round would pass 12 strikes.
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 25; i++) a.send('hb', { reserve: 0 });
    await new Promise((r) => setTimeout(r, 1000));
  }
  expect(a.closed).toBeNull();
  expect(a.frames.filter((f) => f.body.err_code === 1000000004).length).toBeGreaterThanOrEqual(16);
  const flood = client('flood');
  await flood.login();
  for (let i = 0; i < 200; i++) flood.send('hb', { reserve: 0 });
  const end = Date.now() + 3000;
  while (!flood.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  expect(flood.closed?.code).toBe(4001);
  expect((await a.request('hb', { reserve: 0 })).body.err_code).toBe(0);
});

test('a client that stops reading is closed as a slow reader (4007) and its queue freed', async () => {
  await start({
    limits: { maxOutboundBytes: 256 * 1024, messagesPerSecond: 1000, burst: 1000 },
    room: { maxStreamsPerRoom: 50, maxStreamsPerUser: 10 },
  });
  const extra = 'e'.repeat(1000);
  for (let u = 0; u < 5; u++) {
    const p = client(`pub${u}`);
    await p.login();
    for (let i = 0; i < 10; i++)
      expect(
        (
          await p.request('stream', {
            sub_cmd: 2001,
            stream_msg: JSON.stringify({ stream_id: `s${u}-${i}`, extra_info: extra }),
          })
        ).body.err_code,
      ).toBe(0);
  }
  const slow = client('slow');
  await slow.login();
  const sock = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  sock.pause();
  // ~56 KiB per reply: far more than the kernel buffers and the high-water mark together.
  for (let i = 0; i < 400; i++) slow.send('stream_info', { reserve: 0 });
  const end = Date.now() + 5000;
  let closes: Record<string, number> = {};
  while (Date.now() < end) {
    closes = ((await health()).roomSockets as { closes: Record<string, number> }).closes;
    if (closes['4007']) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(closes['4007']).toBe(1);
  sock.resume();
  const bystander = client('bystander', 'other');
  await bystander.login();
  expect((await bystander.request('hb', { reserve: 0 })).body.err_code).toBe(0);
});

test('stream caps per user and per room, extra_info size, ids unique per app across rooms', async () => {
  await start({ room: { maxStreamsPerUser: 2, maxStreamsPerRoom: 3, maxExtraInfoBytes: 16 } });
  const announce = (c: Raw, id: string, extra = '') =>
    c.request('stream', { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: id, extra_info: extra }) });
  const a = client('alice');
  const b = client('bob');
  const c = client('carol', 'r2');
  await a.login();
  await b.login();
  await c.login();
  expect((await announce(a, 'a1', 'x'.repeat(17))).body.err_code).toBe(1000000005);
  expect((await announce(a, 'a1', 'x'.repeat(16))).body.err_code).toBe(0);
  expect((await announce(a, 'a2')).body.err_code).toBe(0);
  expect((await announce(a, 'a3')).body.err_code).toBe(1000000014);
  // Updating a listed stream is not a new one.
  expect((await announce(a, 'a2', 'new')).body.err_code).toBe(0);
  expect((await announce(b, 'b1')).body.err_code).toBe(0);
  expect((await announce(b, 'b2')).body.err_code).toBe(1000000014);
  // Another room of the same app cannot list an id that is live elsewhere.
  expect((await announce(c, 'a1')).body.err_code).toBe(1000000011);
  // Once it ends, it can.
  expect(
    (await a.request('stream', { sub_cmd: 2002, stream_msg: JSON.stringify({ stream_id: 'a1' }) })).body
      .err_code,
  ).toBe(0);
  expect((await announce(c, 'a1')).body.err_code).toBe(0);
  expect((await health()).streams).toBe(3);
});

test('the same user takes its stream id along when it moves rooms', async () => {
  await start();
  const a = client('alice');
  const watcher = client('watcher');
  await a.login();
  await watcher.login();
  await a.request('stream', { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: 'cam' }) });
  const moved = client('alice', 'r2');
  moved.frames = [];
  // A second session of the same idName in another room (the page changed rooms).
  const r = await moved.login();
  expect(r.body.err_code).toBe(0);
  expect(
    (await moved.request('stream', { sub_cmd: 2001, stream_msg: JSON.stringify({ stream_id: 'cam' }) })).body
      .err_code,
  ).toBe(0);
  await watcher.push('push_stream_update', (b) => b.stream_cmd === 12002);
  expect((await health()).streams).toBe(1);
});

// ---- FrameSocket on a fake socket: the boundary around protocol code ----

class FakeWs extends EventEmitter {
  readonly OPEN = 1;
  readonly CONNECTING = 0;
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  closedWith: number | null = null;
  send(t: string) {
    this.sent.push(t);
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = 3;
    this.emit('close');
  }
  terminate() {
    this.readyState = 3;
  }
}

class Probe extends FrameSocket {
  refusals: [FrameRef, string][] = [];
  closedCount = 0;
  constructor(
    ws: FakeWs,
    private readonly impl: (h: FrameHeader) => unknown,
  ) {
    super(
      ws as unknown as WsSocket,
      limitsFrom(resolveConfig({ log: { level: 'silent' } })),
      pino({ level: 'silent' }),
      newCounters(),
    );
  }
  protected onFrame(h: FrameHeader): unknown {
    return this.impl(h);
  }
  protected refuse(ref: FrameRef, why: string): void {
    this.refusals.push([ref, why]);
  }
  protected onClosed(): void {
    this.closedCount++;
  }
}

test('FrameSocket: sync and async handler failures are answered as internal errors, the socket lives on', async () => {
  const ws = new FakeWs();
  const p = new Probe(ws, (h) => {
    if (h.seq === 1) throw new Error('sync bug');
    if (h.seq === 2) return Promise.reject(new Error('async bug'));
    return undefined;
  });
  ws.emit('message', Buffer.from('{"header":{"cmd":"a","seq":1},"body":{}}'), false);
  ws.emit('message', Buffer.from('{"header":{"cmd":"b","seq":2},"body":{}}'), false);
  ws.emit('message', Buffer.from('not json'), false);
  ws.emit('message', Buffer.from([1, 2, 3]), true);
  ws.emit('message', Buffer.from('{"header":[1],"body":{}}'), false);
  await new Promise((r) => setImmediate(r));
  expect(p.refusals).toEqual([
    [{ cmd: 'a', seq: 1 }, 'internal'],
    [{ cmd: '', seq: 0 }, 'malformed'],
    [{ cmd: '', seq: 0 }, 'malformed'],
    [{ cmd: '', seq: 0 }, 'malformed'],
    [{ cmd: 'b', seq: 2 }, 'internal'],
  ]);
  expect(ws.closedWith).toBeNull();
  p.close(4005, 'x');
  p.close(4005, 'x');
  expect(p.closedCount).toBe(1);
});

test('FrameSocket: over the high-water mark the socket is closed 4007 and nothing more is sent', () => {
  const ws = new FakeWs();
  const p = new Probe(ws, () => undefined) as unknown as { sendText(t: string): boolean; isClosed: boolean };
  expect(p.sendText('x')).toBe(true);
  ws.bufferedAmount = 2 * 1024 * 1024;
  expect(p.sendText('y')).toBe(false);
  expect(ws.closedWith).toBe(4007);
  expect(p.isClosed).toBe(true);
  expect(p.sendText('z')).toBe(false);
  expect(ws.sent).toEqual(['x']);
});
