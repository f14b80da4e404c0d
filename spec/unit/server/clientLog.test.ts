/** @jest-environment node */
/**
 * client_log (our extension) on the room server, over real WebSockets: off by default (no login-reply
 * field, the command refused), on it writes each line to the server's log with the socket's appid, room
 * and user, at most clientLogs.maxLinesPerMinute per socket; every bad shape, hand-written or generated,
 * is refused as an invalid body, writes nothing, and leaves the server up.
 */
import { Writable } from 'node:stream';
import { startServer, type RunningServer, type ServerOptions } from '../../../src/server';
import { resolveConfig } from '../../../src/server/config';
import { CLIENT_LOG_LINE_BYTES, CLIENT_LOG_MAX_LINES } from '../../../src/protocol/constants';
import { ServerCode } from '../../../src/protocol/errors';
import { validateBody } from '../../../src/protocol/validate';
import { APPID, Raw, SIGN } from '../../helpers/rawRoom';

let server: RunningServer;
let ws: string;
let logged: Record<string, unknown>[] = [];
const clients: Raw[] = [];
const client = (id: string, room?: string) => {
  const c = new Raw(ws, id, room);
  clients.push(c);
  return c;
};

async function start(clientLogs?: ServerOptions['clientLogs']) {
  logged = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n'))
        if (l) logged.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  server = await startServer(
    {
      janus: { enabled: false },
      port: 0,
      log: { level: 'info' },
      apps: [{ appid: APPID, appSign: SIGN }],
      room: { heartbeatMs: 10_000 },
      limits: { messagesPerSecond: 1000, burst: 1000 },
      ...(clientLogs ? { clientLogs } : {}),
    },
    sink,
  );
  ws = server.url.replace('http', 'ws') + '/ws';
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws?.terminate();
  await server?.close();
});

const clientLines = () => logged.filter((l) => l.src === 'client');
const line = (text: string, level = 1) => ({ level, time: 1_700_000_000_000, text });

test('config: clientLogs is off by default and validated', () => {
  expect(resolveConfig().clientLogs).toEqual({ enabled: false, maxLinesPerMinute: 600 });
  expect(() => resolveConfig({ clientLogs: { enabled: 'yes' as never } })).toThrow(
    /clientLogs.enabled must be true or false/,
  );
  expect(() => resolveConfig({ clientLogs: { maxLinesPerMinute: 0 } })).toThrow(
    /clientLogs.maxLinesPerMinute must be an integer/,
  );
  expect(() => resolveConfig({ clientLogs: { level: 1 } as never })).toThrow(
    /clientLogs.level is not a known setting/,
  );
});

test('off (the default): no client_log in the login reply, and the command is refused', async () => {
  await start();
  const a = client('alice');
  const r = await a.login();
  expect(r.body.err_code).toBe(0);
  expect(r.body).not.toHaveProperty('client_log');
  const rsp = await a.request('client_log', { logs: [line('hello')] });
  expect(rsp.body).toMatchObject({
    err_code: ServerCode.UnknownCmd,
    err_message: 'client_log is off on this server',
  });
  expect(clientLines()).toEqual([]);
});

test('on: the login reply says so; each line goes to the server log with appid, room and user', async () => {
  await start({ enabled: true });
  const a = client('alice', 'room-x');
  expect((await a.login()).body.client_log).toBe(1);
  const rsp = await a.request('client_log', {
    logs: [line('room room-x: idle -> logging-in', 0), line('publish s1: live -> retrying', 2)],
  });
  expect(rsp.body.err_code).toBe(0);
  expect(clientLines()).toEqual([
    expect.objectContaining({
      level: 30,
      appid: APPID,
      room: 'room-x',
      idName: 'alice',
      clientLevel: 'debug',
      clientTime: 1_700_000_000_000,
      msg: 'room room-x: idle -> logging-in',
    }),
    expect.objectContaining({ clientLevel: 'warn', msg: 'publish s1: live -> retrying' }),
  ]);
  // Not before login (the gateway refuses it like any room command).
  const b = client('bob');
  await b.open();
  expect((await b.request('client_log', { logs: [line('x')] })).body.err_code).toBe(ServerCode.BadLoginState);
});

test('at most maxLinesPerMinute lines per socket: the rest are dropped, and that is said once', async () => {
  await start({ enabled: true, maxLinesPerMinute: 5 });
  const a = client('alice');
  await a.login();
  const logs = Array.from({ length: 4 }, (_, i) => line(`line ${i}`));
  expect((await a.request('client_log', { logs })).body.err_code).toBe(0);
  expect((await a.request('client_log', { logs })).body.err_code).toBe(0);
  expect(clientLines().map((l) => l.msg)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 0']);
  expect(logged.filter((l) => String(l.msg).startsWith('client log lines over the rate'))).toEqual([
    expect.objectContaining({ level: 40, idName: 'alice', room: 'r1' }),
  ]);
  // Another socket has its own budget.
  const b = client('bob');
  await b.login();
  expect((await b.request('client_log', { logs: [line('from bob')] })).body.err_code).toBe(0);
  expect(clientLines().at(-1)).toMatchObject({ idName: 'bob', msg: 'from bob' });
});

/** Park–Miller, seeded: the generated shapes are the same on every run. */
function prng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** A random JSON value, nested at most `depth`, biased towards near-misses of a log line. */
function junk(r: () => number, depth = 3): unknown {
  const pick = Math.floor(r() * 12);
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor(r() * 10) - 3; // around the level range
    case 3:
      return r() * 1e3;
    case 4:
      return 'x'.repeat(Math.floor(r() * 700));
    case 5:
      return '中'.repeat(Math.floor(r() * 300));
    case 6:
      return -Math.floor(r() * 1e13);
    case 7:
      return depth > 0 ? Array.from({ length: Math.floor(r() * 4) }, () => junk(r, depth - 1)) : [];
    default: {
      // An object with some of a line's fields, each maybe wrong.
      const o: Record<string, unknown> = {};
      if (r() < 0.8) o.level = r() < 0.5 ? Math.floor(r() * 4) : junk(r, depth - 1);
      if (r() < 0.8) o.time = r() < 0.5 ? 1_700_000_000_000 : junk(r, depth - 1);
      if (r() < 0.8) o.text = r() < 0.5 ? 'ok' : junk(r, depth - 1);
      if (r() < 0.2) o.extra = junk(r, depth - 1);
      return o;
    }
  }
}

const BAD_SHAPES: [string, unknown][] = [
  ['no logs', {}],
  ['logs a string', { logs: 'hello' }],
  ['logs an object', { logs: { level: 1, time: 1, text: 'x' } }],
  ['no lines', { logs: [] }],
  ['too many lines', { logs: Array.from({ length: CLIENT_LOG_MAX_LINES + 1 }, () => line('x')) }],
  ['a line null', { logs: [null] }],
  ['a line an array', { logs: [[1, 1, 'x']] }],
  ['a line a string', { logs: ['x'] }],
  ['level missing', { logs: [{ time: 1, text: 'x' }] }],
  ['level -1', { logs: [{ level: -1, time: 1, text: 'x' }] }],
  ['level 4', { logs: [{ level: 4, time: 1, text: 'x' }] }],
  ['level 1.5', { logs: [{ level: 1.5, time: 1, text: 'x' }] }],
  ['level "1"', { logs: [{ level: '1', time: 1, text: 'x' }] }],
  ['time a string', { logs: [{ level: 1, time: '1', text: 'x' }] }],
  ['time negative', { logs: [{ level: 1, time: -1, text: 'x' }] }],
  ['time fractional', { logs: [{ level: 1, time: 1.5, text: 'x' }] }],
  ['time huge', { logs: [{ level: 1, time: 2 ** 60, text: 'x' }] }],
  ['text missing', { logs: [{ level: 1, time: 1 }] }],
  ['text a number', { logs: [{ level: 1, time: 1, text: 42 }] }],
  ['text an object', { logs: [{ level: 1, time: 1, text: { toString: 'x' } }] }],
  ['text over the limit', { logs: [line('x'.repeat(CLIENT_LOG_LINE_BYTES + 1))] }],
  ['text over the limit in bytes', { logs: [line('é'.repeat(CLIENT_LOG_LINE_BYTES / 2 + 1))] }],
  ['one bad line among good ones', { logs: [line('a'), line('b'), { level: 9, time: 1, text: 'c' }] }],
];

test('validateBody: every hand-written bad shape is refused, the good edge cases pass', () => {
  for (const [name, body] of BAD_SHAPES)
    expect({ name, ok: validateBody('client_log', body) }).not.toEqual({ name, ok: null });
  expect(validateBody('client_log', { logs: [line('x'.repeat(CLIENT_LOG_LINE_BYTES), 3)] })).toBeNull();
  expect(
    validateBody('client_log', { logs: Array.from({ length: CLIENT_LOG_MAX_LINES }, () => line('x')) }),
  ).toBeNull();
  expect(validateBody('client_log', { logs: [{ level: 0, time: 0, text: '' }] })).toBeNull();
});

test('fuzz: bad shapes (hand-written and 300 generated) are refused as invalid bodies and never logged, the server stays up', async () => {
  await start({ enabled: true });
  // A refused body is not a protocol error (issue 15): one socket hears every refusal. Should one close
  // it anyway, the fuzzer logs in again, and the count of sessions says so.
  let a = client('alice');
  await a.login();
  let sessions = 1;
  const r = prng(20240917);
  const generated: [string, unknown][] = Array.from({ length: 300 }, (_, i) => {
    const body =
      r() < 0.3
        ? junk(r)
        : { logs: r() < 0.2 ? junk(r) : Array.from({ length: 1 + Math.floor(r() * 3) }, () => junk(r)) };
    return [`generated #${i}`, body];
  });
  let refused = 0;
  for (const [name, body] of [...BAD_SHAPES, ...generated]) {
    const fault = validateBody('client_log', body);
    const valid = fault === null;
    const seq = a.send('client_log', body);
    const rsp = await a.replyOrClose(seq);
    if (!rsp) {
      // No answer: the frame was the tenth protocol error and closed the socket.
      expect({ name, valid, closed: a.closed?.code }).toEqual({ name, valid: false, closed: 4004 });
      refused++;
      a = client(`alice${++sessions}`);
      await a.login();
      continue;
    }
    const code = rsp.body.err_code;
    // A generated shape may happen to be a valid log body: then it is logged, like any other.
    if (valid) expect({ name, code }).toEqual({ name, code: 0 });
    else {
      refused++;
      expect({ name, code }).toEqual({
        name,
        code: fault?.tooLarge ? ServerCode.TooLarge : ServerCode.InvalidBody,
      });
    }
  }
  expect(refused).toBeGreaterThan(250);
  // Exactly the lines of the shapes that happened to be valid reached the log; no refused one did.
  const validLines = [...BAD_SHAPES, ...generated]
    .filter(([, b]) => validateBody('client_log', b) === null)
    .reduce((n, [, b]) => n + (b as { logs: unknown[] }).logs.length, 0);
  expect(clientLines()).toHaveLength(validLines);
  expect(sessions).toBe(1);
  expect(a.closed).toBeNull();
  expect((await a.request('hb', { reserve: 0 })).body.err_code).toBe(0);
  expect((await a.request('client_log', { logs: [line('still here')] })).body.err_code).toBe(0);
  expect(clientLines().at(-1)).toMatchObject({ msg: 'still here' });
}, 60_000);
