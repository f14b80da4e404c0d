/**
 * The concrete crashers of issue 7 (each one stopped the whole process on the unhardened server), one
 * named test each, plus the ones the fuzz properties found. Each must get its documented answer, and
 * afterwards the process is alive, /healthz answers and the bystander in another room noticed nothing.
 * The server runs with the default limits (the rate-limit case needs them).
 */
import {
  checkMediaClose,
  checkMediaReply,
  checkRoomAnswer,
  mediaExpectations,
  type Sent,
} from './lib/contract';
import { FRAME_DEADLINE_MS, FUZZ_ROOM, Target } from './lib/harness';
import { STATUS_LINE, buildRequest, rawRequest } from './lib/rawHttp';
import { APPID } from './lib/server';
import { Sock, isMediaPush, mediaLogin, roomLogin, type Outcome } from './lib/sockets';

jest.setTimeout(60_000);
const t = new Target();

beforeAll(() => t.start());
afterAll(() => t.stop());
// A crasher that worked kills the server: the next case gets a fresh one.
beforeEach(() => t.ensureAlive());

const nestedArrays = (d: number) => '['.repeat(d) + ']'.repeat(d);

/** Fails with the crash (and the server's output) or any disturbance, else returns. */
async function expectUnharmed(): Promise<void> {
  const death = await t.deathAfterFrame();
  if (death) throw new Error(death);
  const problems = await t.problems();
  if (problems.length) throw new Error(problems.join('\n'));
}

describe('HTTP requests that stopped the process', () => {
  test.each(['//', '//@', 'http://[::1', '/dist/%', '/dist/%E0%A4%A'])('GET %s', async (target) => {
    const o = await rawRequest(t.srv.port, buildRequest('GET', target, 'HTTP/1.1', ['Host: 127.0.0.1']));
    await expectUnharmed();
    if (o.kind !== 'status' || !STATUS_LINE.test(o.line))
      throw new Error(`GET ${target}: no HTTP status line (${JSON.stringify(o)})`);
  });
});

function expectRoom(sent: Sent, o: Outcome): void {
  const problem = checkRoomAnswer(sent, o);
  if (problem) throw new Error(problem);
}

function expectMedia(sent: Sent, o: Outcome): void {
  const problem =
    o.kind === 'frame'
      ? checkMediaReply(mediaExpectations(sent), o.frame)
      : o.kind === 'close'
        ? checkMediaClose(o)
        : 'no answer (reply or close) within the deadline';
  if (problem) throw new Error(problem);
}

describe('media frames that stopped the process', () => {
  const hb = (seq: number, sessionId: unknown) =>
    JSON.stringify({
      header: { version: '1.0.1', cmd: 'ClientHBReq', appid: APPID, seq, user_id: 'x', session_id: 0 },
      body: {},
    }).replace(
      '"session_id":0',
      `"session_id":${typeof sessionId === 'string' ? sessionId : JSON.stringify(sessionId)}`,
    );

  test('ClientHBReq with a 3,500-deep session_id, before login', async () => {
    const sock = await Sock.open(t.srv.ws('/media'), isMediaPush);
    const sent = { data: hb(7, nestedArrays(3500)), binary: false };
    sock.send(sent.data);
    const o = await sock.next(FRAME_DEADLINE_MS);
    sock.terminate();
    await expectUnharmed();
    expectMedia(sent, o);
  });

  test('ClientHBReq with a 3,500-deep session_id, after the rate limit is reached', async () => {
    // Logged in: before login every beat is a protocol error, and the tenth closes the socket (4004)
    // long before the rate limit is reached.
    const { sock } = await mediaLogin(t.srv, 'crash-media-hb', FUZZ_ROOM);
    // The media bucket holds 2 x limits.burst (200 by default): 210 beats empty it.
    for (let seq = 1; seq <= 210; seq++) sock.send(hb(seq, 0));
    const sent = { data: hb(211, nestedArrays(3500)), binary: false };
    sock.send(sent.data);
    let limited = 0;
    let last: Outcome;
    for (;;) {
      last = await sock.next(FRAME_DEADLINE_MS);
      if (last.kind !== 'frame') break;
      const f = last.frame.json as { header?: { seq?: unknown }; body?: { result?: unknown } };
      if (f?.body?.result === 10) limited++;
      if (f?.header?.seq === 211) break;
    }
    sock.terminate();
    await expectUnharmed();
    expect(limited).toBeGreaterThan(0); // the deep frame really came after the limit was reached
    expectMedia(sent, last);
  });
});

describe('room frames that stopped the process', () => {
  test('hb with a deeply nested header.appid, after login', async () => {
    const s = await roomLogin(t.srv, 'crash-hb', FUZZ_ROOM);
    const h = s.header('hb');
    const data = JSON.stringify({ header: { ...h, appid: 0 }, body: { reserve: 0 } }).replace(
      '"appid":0',
      `"appid":${nestedArrays(3500)}`,
    );
    s.sock.send(data);
    const o = await s.sock.next(FRAME_DEADLINE_MS);
    s.sock.terminate();
    await expectUnharmed();
    expectRoom({ data, binary: false }, o);
  });

  test('bigim_chat with a deeply nested msgs[0].bigmsg_client_id, after login', async () => {
    const s = await roomLogin(t.srv, 'crash-bigim', FUZZ_ROOM);
    const data = JSON.stringify({
      header: s.header('bigim_chat'),
      body: { msgs: [{ msg_category: 1, msg_type: 1, msg_content: 'x', bigmsg_client_id: 0 }] },
    }).replace('"bigmsg_client_id":0', `"bigmsg_client_id":${nestedArrays(3500)}`);
    s.sock.send(data);
    const o = await s.sock.next(FRAME_DEADLINE_MS);
    s.sock.terminate();
    await expectUnharmed();
    expectRoom({ data, binary: false }, o);
  });

  // Found by the fuzz properties: an object whose toString is not callable cannot become a string.
  test('any request with header.appid {"toString": null}, after login', async () => {
    const s = await roomLogin(t.srv, 'crash-tostring', FUZZ_ROOM);
    const data = JSON.stringify({
      header: { ...s.header('stream_info'), appid: { toString: null } },
      body: {},
    });
    s.sock.send(data);
    const o = await s.sock.next(FRAME_DEADLINE_MS);
    s.sock.terminate();
    await expectUnharmed();
    expectRoom({ data, binary: false }, o);
  });
});
