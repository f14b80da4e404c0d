/**
 * Class 5 of issue 15: a class starting at 9:00. 1,000 pages load the built script and its map at once
 * (brotli, as Chromium asks), then 1,000 slow readers do, then 1,000 reloads (304): everything is served,
 * byte for byte, from memory (brotli, ETag, 304), while a bystander in its own room beats every 20 ms
 * and must keep being answered (the goal is 50 ms; see STALL_LIMIT_MS). Before this work the same storm
 * took 2.4 s per 1,000 loads with no compression, and the bystander waited up to 833 ms.
 */
import { readFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { Target } from './lib/harness';
import { ROOT, fuzzConfig, sleep } from './lib/server';
import { roomLogin, type RoomSession } from './lib/sockets';

jest.setTimeout(180_000);

const PAGES = 1000;
/**
 * A guard, not the goal: no beat may wait 2 s (what the original SDK's 5 s request timeout would begin to
 * feel). The fuzz suite runs its files side by side on a shared 2-core machine, where the load generator,
 * the other files and the server compete for the CPU (a profile of the server alone in this storm: its
 * longest busy stretch ~40 ms, 13 of them GC). bench/storms.js measures it against the 50 ms goal.
 */
const STALL_LIMIT_MS = 2000;
const SCRIPT = readFileSync(join(ROOT, 'dist', 'ZegoClient.js'));
const MAP = readFileSync(join(ROOT, 'dist', 'ZegoClient.js.map'));

const t = new Target(fuzzConfig({ janus: { enabled: false } }));
beforeAll(() => t.start());
afterAll(() => t.stop());

interface StormResult {
  ms: number;
  statuses: Record<string, number>;
  encodings: Record<string, number>;
  sizes: Record<string, number>;
  tags: { js: string; map: string } | null;
  first: { js: string; map: string } | null;
  errors: string[];
}

/** Runs the storm in its own process (lib/pageLoadStorm.js), so that its work does not delay the bystander. */
function storm(slow: boolean, tags?: { js: string; map: string }): Promise<StormResult> {
  return new Promise((resolve, reject) => {
    const args = [String(t.srv.port), String(PAGES), slow ? '1' : '0', ...(tags ? [tags.js, tags.map] : [])];
    const child = fork(join(__dirname, 'lib', 'pageLoadStorm.js'), args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const timer = setTimeout(
      () => (child.kill('SIGKILL'), reject(new Error('storm: no result in 150 s'))),
      150_000,
    );
    child.once('message', (m) => (clearTimeout(timer), resolve(m as StormResult)));
    child.once('exit', (code) => code && (clearTimeout(timer), reject(new Error(`storm exited ${code}`))));
  });
}

/** A bystander beating every 20 ms; resolves its round trips when stopped. */
async function fastBystander(): Promise<{ stop(): Promise<number[]> }> {
  const s: RoomSession = await roomLogin(t.srv, 'fast-bystander', 'fast-bystander-room');
  const sent = new Map<number, number>();
  const rtts: number[] = [];
  s.sock.ws.on('message', (d: Buffer) => {
    const seq = (JSON.parse(String(d)) as { header: { seq: number } }).header.seq;
    const at = sent.get(seq);
    if (at === undefined) return;
    rtts.push(performance.now() - at);
    sent.delete(seq);
  });
  const timer = setInterval(() => {
    const h = s.header('hb');
    sent.set(h.seq as number, performance.now());
    s.sock.sendJson({ header: h, body: { reserve: 0 } });
  }, 20);
  return {
    async stop() {
      clearInterval(timer);
      await sleep(500);
      const late = [...sent.values()].map((at) => performance.now() - at).filter((ms) => ms > 500);
      s.sock.terminate();
      return [...rtts, ...late];
    },
  };
}

test('1,000 page loads at once (full speed, slow readers, reloads): all served from memory, the bystander keeps beating', async () => {
  await sleep(2000); // the files are compressed behind the start
  const by = await fastBystander();
  const fast = await storm(false);
  const slow = await storm(true);
  const reloads = await storm(false, fast.tags ?? undefined);
  const rtts = await by.stop();
  const loop = (await t.srv.health()).eventLoop;
  const sorted = [...rtts].sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? NaN;
  const max = sorted.at(-1) ?? NaN;
  console.log(
    `page-load storm: 1,000 loads in ${(fast.ms / 1000).toFixed(2)} s, 1,000 slow readers in ` +
      `${(slow.ms / 1000).toFixed(2)} s, 1,000 reloads in ${(reloads.ms / 1000).toFixed(2)} s; bystander ` +
      `${rtts.length} beats, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms; the server's worst event-loop ` +
      `delay since start ${loop?.maxMs} ms`,
  );
  for (const r of [fast, slow]) {
    expect(r.errors).toEqual([]);
    expect(r.statuses).toEqual({ '200/200': PAGES });
    expect(r.encodings).toEqual({ 'br/br': PAGES });
    // Every page got the same bytes, and they are the built files.
    expect(Object.keys(r.sizes)).toHaveLength(1);
  }
  expect(brotliDecompressSync(Buffer.from(fast.first!.js, 'base64')).equals(SCRIPT)).toBe(true);
  expect(brotliDecompressSync(Buffer.from(slow.first!.map, 'base64')).equals(MAP)).toBe(true);
  expect(reloads.statuses).toEqual({ '304/304': PAGES });
  expect(reloads.sizes).toEqual({ '0/0': PAGES });
  expect(rtts.length).toBeGreaterThan(50);
  expect(max).toBeLessThan(STALL_LIMIT_MS);
  expect(await t.problems()).toEqual([]);
});
