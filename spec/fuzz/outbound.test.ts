/**
 * Class 1 of issue 15: calls in flight to a business server. A business server that answers after 1.5 s
 * (relayUrl and thirdTokenUrl) counts the requests it holds at once. Whatever the clients send, it never
 * holds more than the bounds (per socket 8, per user 16 across sockets, per app 128: the defaults); the
 * excess is answered "too many requests" (1000000004) at once, long before the business server answers;
 * the calls that were made succeed; the bystander in another room notices nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServerCode } from '../../src/protocol/errors';
import { Target } from './lib/harness';
import { APPID, fuzzConfig } from './lib/server';
import { roomLogin, type RoomSession } from './lib/sockets';

jest.setTimeout(90_000);

const SIGN = 'ab'.repeat(32);
const ANSWER_MS = 1500;

/** The app's business server: slow, and it keeps count of what it holds at once. */
class Business {
  server!: Server;
  port = 0;
  inFlight = 0;
  maxInFlight = 0;
  served = 0;
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      req.resume();
      setTimeout(() => {
        this.inFlight--;
        this.served++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.url === '/third' ? '{"code":0}' : '"relayed"');
      }, ANSWER_MS);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }
  reset(): void {
    this.maxInFlight = this.inFlight;
    this.served = 0;
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const business = new Business();
let t: Target;
const open: RoomSession[] = [];

beforeAll(async () => {
  await business.start();
  const config = fuzzConfig({ janus: { enabled: false } });
  config.apps = [
    {
      appid: APPID,
      appSign: SIGN,
      relayUrl: `http://127.0.0.1:${business.port}/relay`,
      thirdTokenUrl: `http://127.0.0.1:${business.port}/third`,
    },
  ];
  t = new Target(config);
  await t.start();
});
afterAll(async () => {
  for (const s of open) s.sock.terminate();
  await t.stop();
  await business.stop();
});
afterEach(async () => {
  for (const s of open.splice(0)) s.sock.terminate();
  // Let the business server finish what it holds before the next test counts again.
  const end = Date.now() + 5000;
  while (business.inFlight > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  business.reset();
  const problems = await t.problems();
  if (problems.length) throw new Error(`after the test:\n${problems.join('\n')}`);
});

interface Answer {
  code: number;
  ms: number;
}

/** Sends `n` relay requests at once on a session; resolves with every answer (code, time). */
async function relays(s: RoomSession, n: number): Promise<Answer[]> {
  const sent = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const h = s.header('relay');
    sent.set(h.seq as number, Date.now());
    s.sock.sendJson({ header: h, body: { relay_type: 't', relay_data: `d${i}` } });
  }
  const out: Answer[] = [];
  while (out.length < n) {
    const o = await s.sock.next(ANSWER_MS + 4000);
    if (o.kind !== 'frame') throw new Error(`relay answers: ${o.kind} after ${out.length} of ${n}`);
    const f = o.frame.json as { header: { seq: number }; body: { err_code: number } };
    const at = sent.get(f.header.seq);
    if (at === undefined) continue;
    out.push({ code: f.body.err_code, ms: Date.now() - at });
  }
  return out;
}

const tally = (as: Answer[]) => ({
  ok: as.filter((a) => a.code === 0).length,
  busy: as.filter((a) => a.code === ServerCode.RateLimited).length,
  other: as.filter((a) => a.code !== 0 && a.code !== ServerCode.RateLimited).length,
  slowestBusyMs: Math.max(0, ...as.filter((a) => a.code === ServerCode.RateLimited).map((a) => a.ms)),
});

test('the issue: three sockets send 90 relays each at once: at most 8 per socket reach the business server', async () => {
  const users = await Promise.all(['r-a', 'r-b', 'r-c'].map((id) => roomLogin(t.srv, id, 'relay-room')));
  open.push(...users);
  const answers = await Promise.all(users.map((u) => relays(u, 90)));
  const all = answers.flat();
  const r = tally(all);
  expect(business.maxInFlight).toBeLessThanOrEqual(3 * 8);
  expect(r).toMatchObject({ ok: 24, busy: 270 - 24, other: 0 });
  // The refusals come at once, not after the business server's 1.5 s.
  expect(r.slowestBusyMs).toBeLessThan(1000);
});

test('one user over three sockets (three rooms): at most 16 in flight for the user', async () => {
  const socks = await Promise.all(['u1', 'u2', 'u3'].map((room) => roomLogin(t.srv, 'same-user', room)));
  open.push(...socks);
  const r = tally((await Promise.all(socks.map((s) => relays(s, 30)))).flat());
  expect(business.maxInFlight).toBeLessThanOrEqual(16);
  expect(r).toMatchObject({ ok: 16, busy: 90 - 16, other: 0 });
});

test('one app: 20 users with 10 relays each: at most 128 in flight for the app', async () => {
  const users = await Promise.all(
    Array.from({ length: 20 }, (_, i) => roomLogin(t.srv, `app-user-${i}`, `app-room-${i % 4}`)),
  );
  open.push(...users);
  const r = tally((await Promise.all(users.map((u) => relays(u, 10)))).flat());
  expect(business.maxInFlight).toBeLessThanOrEqual(128);
  expect(r).toMatchObject({ ok: 128, busy: 200 - 128, other: 0 });
});

test('third tokens: 40 logins of one user (40 rooms) and 200 of different users at once stay within the bounds', async () => {
  const loginWithThird = async (idName: string, room: string): Promise<number> => {
    try {
      const s = await roomLogin(t.srv, idName, room, { thirdToken: 'page-token' });
      open.push(s);
      return 0;
    } catch (e) {
      const m = /"err_code":(\d+)/.exec((e as Error).message);
      if (!m) throw e;
      return Number(m[1]);
    }
  };
  const one = await Promise.all(
    Array.from({ length: 40 }, (_, i) => loginWithThird('third-same', `third-${i}`)),
  );
  expect(business.maxInFlight).toBeLessThanOrEqual(16);
  expect({
    ok: one.filter((c) => c === 0).length,
    busy: one.filter((c) => c === ServerCode.RateLimited).length,
  }).toEqual({ ok: 16, busy: 24 });
  business.reset();
  const many = await Promise.all(
    Array.from({ length: 200 }, (_, i) => loginWithThird(`third-user-${i}`, `third-room-${i % 10}`)),
  );
  expect(business.maxInFlight).toBeLessThanOrEqual(128);
  expect(many.filter((c) => c === 0).length).toBe(128);
  expect(many.filter((c) => c === ServerCode.RateLimited).length).toBe(72);
});
