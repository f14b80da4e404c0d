/**
 * The bridge worker's entry points, fuzzed: its IPC channel (every message from the server is checked by
 * type: a malformed one with an id gets one `bad` reply, one without an id nothing, and the worker stays
 * up) and the page offers it answers (viewerOpen with mutated offers: an answer or a `sdp` / `codec`
 * error, never a crash, nothing left open after). The built worker (dist/server/bridge.js) runs as the
 * server runs it: a Node child with an IPC channel. Plus the offer reader on arbitrary text.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { RTCPeerConnection } from 'werift';
import { BRIDGE_CONFIG_ENV, BRIDGE_READY_LINE, type BridgeWorkerConfig } from '../../src/server/bridge/ipc';
import { CodecError, SdpError, feedCodecs, planViewer } from '../../src/server/bridge/sdpCodecs';

jest.setTimeout(180_000);

const WORKER = join(__dirname, '..', '..', 'dist', 'server', 'bridge.js');
const RUNS = 150;

class Worker {
  child!: ChildProcess;
  out = '';
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Record<string, unknown>) => void>();
  readonly replies: Record<string, unknown>[] = [];

  async start(): Promise<void> {
    if (!existsSync(WORKER)) throw new Error(`${WORKER} missing: run "npm run build" first`);
    const cfg: BridgeWorkerConfig = {
      portRange: [47000, 47999],
      ips: ['127.0.0.1'],
      iceServers: [],
      maxViewers: 50,
      maxFeeds: 10,
    };
    this.child = fork(WORKER, [], {
      env: { ...process.env, [BRIDGE_CONFIG_ENV]: JSON.stringify(cfg) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.on('message', (m: Record<string, unknown>) => {
      if (typeof m.id !== 'number') return;
      this.replies.push(m);
      this.waiting.get(m.id)?.(m);
      this.waiting.delete(m.id);
    });
    const deadline = Date.now() + 10_000;
    while (!this.out.includes(BRIDGE_READY_LINE)) {
      if (Date.now() > deadline) throw new Error(`worker not ready: ${this.out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a raw message; with an id, resolves with its reply (rejects after 3 s). */
  send(msg: unknown, id?: number): Promise<Record<string, unknown> | null> {
    this.child.send(msg as object);
    if (id === undefined) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(msg).slice(0, 200)}`)), 3000);
      this.waiting.set(id, (r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
  }

  request(cmd: string, body: unknown): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return this.send({ id, cmd, body }, id) as Promise<Record<string, unknown>>;
  }

  newId(): number {
    return this.nextId++;
  }
}

const w = new Worker();
beforeAll(() => w.start());
afterAll(() => {
  w.child.kill('SIGKILL');
});

async function offer(direction: 'sendonly' | 'recvonly'): Promise<string> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
  });
  pc.addTransceiver('audio', { direction });
  pc.addTransceiver('video', { direction });
  const o = await pc.createOffer();
  await pc.close();
  return o.sdp;
}

const CMDS = [
  'feedOpen',
  'feedClose',
  'viewerOpen',
  'viewerCandidate',
  'viewerClose',
  'stats',
  'nope',
  '__proto__',
];

test('any message: one reply to each with an id (bad ones: code "bad"), none without; the worker stays up', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.anything(),
        fc.record({ cmd: fc.constantFrom(...CMDS), body: fc.anything() }),
        fc.record({
          cmd: fc.constantFrom(...CMDS),
          body: fc.record(
            {
              feedId: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
              viewerId: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.string()),
              offer: fc.oneof(fc.string({ maxLength: 200 }), fc.constant('v=0'), fc.integer()),
              candidate: fc.oneof(fc.string({ maxLength: 100 }), fc.constant('')),
              sdpMLineIndex: fc.oneof(fc.integer({ min: -3, max: 100 }), fc.constant(null)),
            },
            { requiredKeys: [] },
          ),
        }),
      ),
      fc.boolean(),
      async (raw, withId) => {
        const id = w.newId();
        const msg =
          withId && typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { ...raw, id } : raw;
        if (msg === undefined) return; // process.send cannot carry undefined
        const reply = await w.send(msg, msg === raw ? undefined : id);
        if (reply) {
          expect(reply.id).toBe(id);
          if (!reply.ok) expect(['bad', 'feed', 'sdp', 'codec', 'limit']).toContain(reply.code);
        }
        expect(w.alive).toBe(true);
      },
    ),
    { numRuns: RUNS },
  );
  await new Promise((r) => setTimeout(r, 300));
  expect(w.alive).toBe(true);
  // Never two replies to one id.
  const ids = w.replies.map((r) => r.id);
  expect(new Set(ids).size).toBe(ids.length);
});

test('mutated page offers: an answer or a clear sdp/codec error, never a crash; nothing left open', async () => {
  const feedOffer = await offer('sendonly');
  const opened = await w.request('feedOpen', { feedId: 1, offer: feedOffer });
  expect(opened).toMatchObject({ ok: true });
  const base = await offer('recvonly');
  const lines = base.split('\r\n');
  let viewer = 1;
  const outcomes: Record<string, number> = {};
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
          fc.record({ op: fc.constant('dup' as const), at: fc.nat() }),
          fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 80 }) }),
          fc.record({
            op: fc.constant('codec' as const),
            at: fc.nat(),
            name: fc.constantFrom('VP9', 'AV1', 'H265', 'PCMU'),
          }),
          fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
        ),
        { maxLength: 6 },
      ),
      async (edits) => {
        let l = [...lines];
        for (const e of edits) {
          const at = e.at % Math.max(1, l.length);
          if (e.op === 'drop') l.splice(at, 1);
          else if (e.op === 'dup') l.splice(at, 0, l[at] ?? '');
          else if (e.op === 'insert') l.splice(at, 0, e.text);
          else if (e.op === 'cut') l = l.slice(0, at);
          else l = l.map((x) => x.replace(/^(a=rtpmap:\d+ )(VP8|opus)\//, `$1${e.name}/`));
        }
        const id = viewer++;
        const r = await w.request('viewerOpen', { viewerId: id, feedId: 1, offer: l.join('\r\n') });
        const key = r.ok ? 'answered' : String(r.code);
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        if (!r.ok) expect(['sdp', 'codec']).toContain(r.code);
        expect(await w.request('viewerClose', { viewerId: id })).toMatchObject({ ok: true });
        expect(w.alive).toBe(true);
      },
    ),
    { numRuns: RUNS },
  );
  console.log(`mutated offers: ${JSON.stringify(outcomes)}`);
  expect(outcomes.answered).toBeGreaterThan(0);
  const stats = await w.request('stats', {});
  expect(stats.body).toMatchObject({ feeds: 1, viewers: 0 });
  expect(await w.request('feedClose', { feedId: 1 })).toMatchObject({ ok: true });
  expect((await w.request('stats', {})).body).toMatchObject({ feeds: 0, viewers: 0 });
});

test('the offer reader on any text: an SdpError or a CodecError, nothing else', async () => {
  const feed = feedCodecs(await offer('sendonly'));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.string().map((s) => `v=0\r\n${s}`),
        fc.array(fc.string()).map((a) => `v=0\r\n${a.join('\r\n')}`),
      ),
      (text) => {
        try {
          planViewer(text, feed);
        } catch (e) {
          expect(e instanceof SdpError || e instanceof CodecError).toBe(true);
        }
      },
    ),
    { numRuns: 2000 },
  );
});
