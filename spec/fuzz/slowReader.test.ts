/**
 * A slow reader: in a room with 40 streams of 1 KiB extra_info (within the default caps of 10 streams
 * per user and 50 per room), one client stops reading its socket and asks `stream_info` 40 times a
 * second. The server must give up on it within a few seconds (the client, once it reads again, sees
 * 4007, or 1006 if the server dropped the connection outright), its RSS must stay bounded meanwhile,
 * and the bystander in another room must not notice.
 */
import type { Socket } from 'node:net';
import { CloseCode } from '../../src/protocol/errors';
import { Target } from './lib/harness';
import { fuzzConfig, sleep } from './lib/server';
import { roomLogin, type RoomSession } from './lib/sockets';

jest.setTimeout(60_000);
const ROOM = 'big-room';
const PUBLISHERS = 4;
const STREAMS_EACH = 10;
const EXTRA = 'x'.repeat(1024);
/** The server must have closed the slow reader within this after it stopped reading, ms. */
const CLOSE_WITHIN_MS = 10_000;
const RSS_GROWTH_LIMIT_MIB = 40;

const t = new Target(fuzzConfig({ janus: { enabled: false } }));
const sessions: RoomSession[] = [];

beforeAll(() => t.start());
afterAll(async () => {
  for (const s of sessions) s.sock.terminate();
  await t.stop();
});

const underlying = (s: RoomSession) => (s.sock.ws as unknown as { _socket: Socket })._socket;

test('a client that stops reading is closed (4007) with bounded server memory; the bystander is fine', async () => {
  for (let p = 0; p < PUBLISHERS; p++) {
    const pub = await roomLogin(t.srv, `pub${p}`, ROOM);
    sessions.push(pub);
    for (let k = 0; k < STREAMS_EACH; k++) {
      pub.sock.sendJson({
        header: pub.header('stream'),
        body: {
          sub_cmd: 2001,
          stream_msg: JSON.stringify({ stream_id: `pub${p}-cam${k}`, extra_info: EXTRA }),
        },
      });
      const o = await pub.sock.next(3000);
      const code =
        o.kind === 'frame' ? (o.frame.json as { body?: { err_code?: unknown } }).body?.err_code : o.kind;
      if (code !== 0)
        throw new Error(`announcing stream ${k} of pub${p} failed: ${JSON.stringify(o).slice(0, 300)}`);
    }
  }
  const slow = await roomLogin(t.srv, 'slow', ROOM);
  sessions.push(slow);
  const base = await t.srv.health();
  const usersBefore = base.users ?? 0;
  const rssBase = base.memory?.rssMiB;
  if (rssBase === undefined) throw new Error(`/healthz has no memory.rssMiB: ${JSON.stringify(base)}`);

  underlying(slow).pause();
  const flood = setInterval(() => {
    if (slow.sock.open) slow.sock.sendJson({ header: slow.header('stream_info'), body: { reserve: 0 } });
  }, 25);
  const started = Date.now();
  let rssPeak = rssBase;
  let gone = '';
  try {
    while (!gone && Date.now() - started < CLOSE_WITHIN_MS) {
      await sleep(250);
      const h = await t.srv.health();
      rssPeak = Math.max(rssPeak, h.memory?.rssMiB ?? 0);
      // The server dropped the slow reader: it left its room (or its socket errored on our side).
      if ((h.users ?? usersBefore) < usersBefore) gone = 'it left the room';
      else if (slow.sock.closed) gone = `our socket saw close ${slow.sock.closed.code}`;
    }
  } finally {
    clearInterval(flood);
  }
  const took = Date.now() - started;
  underlying(slow).resume();
  const closed = await slow.sock.waitClose(5000);
  const problems = await t.problems();
  const report =
    `slow reader ${gone ? `dropped after ${took} ms (${gone})` : `still served after ${took} ms`}, ` +
    `close ${closed ? closed.code : 'none'}; server RSS ${rssBase} MiB at start, ${rssPeak} MiB at peak`;
  if (!gone) throw new Error(`${report}: the server never gave up on a client that does not read`);
  expect([CloseCode.SlowReader, 1006]).toContain(closed?.code);
  if (rssPeak - rssBase >= RSS_GROWTH_LIMIT_MIB)
    throw new Error(`${report}: grew by ${rssPeak - rssBase} MiB (limit ${RSS_GROWTH_LIMIT_MIB})`);
  if (problems.length) throw new Error(`${report}; but:\n${problems.join('\n')}`);
  // The publishers, who read, are still served.
  for (const pub of sessions.slice(0, PUBLISHERS)) {
    pub.sock.drain();
    pub.sock.sendJson({ header: pub.header('hb'), body: { reserve: 0 } });
    const o = await pub.sock.next(3000);
    expect(o.kind).toBe('frame');
  }
});
