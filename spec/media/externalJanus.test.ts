/**
 * A pool of external Janus (`janus.pool`): two Janus processes this test runs itself (spec/helpers/
 * externalJanus.ts), the server only told their URLs. With real Chromium in the network namespace: two
 * publishers land on different Janus (least loaded), a viewer decodes both; one Janus is SIGKILLed (and not
 * restarted): the viewer of its stream sees state 2, then 0 again (the pool resets only the sessions on the
 * dead Janus; their shims publish and play again at once, placed on the surviving one), never 1, while the
 * stream on the other Janus plays on without a callback. Then the dead Janus comes back at the same URL:
 * the server reconnects to it, and the next publisher goes there (the least loaded again); its second
 * viewer plays from an overflow relay on the other Janus (`janus.maxViewersPerFeed: 1`). A new server
 * process on Janus that kept rooms of an earlier one skips the taken room ids.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, waitForEvent } from '../helpers/browser';
import { createRooms, startExternalJanus, type ExternalJanus } from '../helpers/externalJanus';
import * as media from '../helpers/mediaPage';
import {
  JANUS_IP,
  requireNetns,
  startMediaServer,
  type MediaServer,
  type PoolMember,
} from '../helpers/mediaServer';

jest.setTimeout(120_000);

let janus: ExternalJanus[] = [];
let server: MediaServer;
let browser: Browser;
let context: BrowserContext;

const startServer = () =>
  startMediaServer({
    janus: {
      interface: JANUS_IP,
      iceEnforceList: JANUS_IP,
      pool: janus.map((j) => j.url),
      maxViewersPerFeed: 1,
    },
    turn: { enabled: false },
    origin: { enabled: false },
    relay: { all: false },
  });

beforeAll(async () => {
  requireNetns();
  // Each its own slice of the RTP ports, as two Janus on one host need.
  janus = [await startExternalJanus('20000-20049'), await startExternalJanus('20050-20099')];
  server = await startServer();
  browser = await launchChromium();
  context = await browser.newContext();
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await server?.stop();
  await Promise.all(janus.map((j) => j.stop()));
});

type ExternalMember = PoolMember & { url: string };
const pool = async () => (await server.health()).media.janusPool as ExternalMember[];

/** Polls /healthz until `ok` holds for the pool (bounded). */
async function poolUntil(ok: (m: ExternalMember[]) => boolean, ms: number): Promise<ExternalMember[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = await pool();
    if (ok(m)) return m;
    if (Date.now() > deadline) throw new Error(`pool not as expected within ${ms} ms: ${JSON.stringify(m)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('two external Janus: publishers on both; one SIGKILLed: its stream comes back on the other (state 2 then 0), the other plays on; the dead one back: reconnected, used again, overflow relayed', async () => {
  // The server connected to both, in config order, spawning nothing.
  expect((await pool()).map((m) => [m.up, m.url, m.pid])).toEqual([
    [true, janus[0]!.url, null],
    [true, janus[1]!.url, null],
  ]);
  const p1: Page = await media.loggedInPage(context, server.url, 'pub-1');
  const p2: Page = await media.loggedInPage(context, server.url, 'pub-2');
  const viewer: Page = await media.loggedInPage(context, server.url, 'viewer');
  await media.startPreview(p1, 'local');
  await media.startPreview(p2, 'local');
  await media.publish(p1, 's-1', 'local', { videoDecodeType: 'VP8' });
  await media.publish(p2, 's-2', 'local', { videoDecodeType: 'VP8' });
  // Least loaded: one publisher on each Janus (s-1 on the first on the tie).
  expect((await pool()).map((m) => m.legs)).toEqual([1, 1]);
  await media.play(viewer, 's-1', { videoDecodeType: 'VP8' });
  await media.play(viewer, 's-2', { videoDecodeType: 'VP8' });
  await media.expectMediaFlowing(viewer, 's-1');
  await media.expectMediaFlowing(viewer, 's-2');
  expect((await pool()).map((m) => m.legs)).toEqual([2, 2]); // each viewer leg beside its publisher

  const before = await media.inbound(viewer, 's-2');
  const since = Date.now();
  await janus[0]!.kill(); // s-1's Janus, not restarted
  const broken = await waitForEvent(viewer, 'onPlayStateUpdate', (x) => x[0] === 2, 15_000, since);
  expect(broken.args[1]).toBe('s-1');
  const during = await media.inbound(viewer, 's-2');
  await media.expectMediaFlowing(viewer, 's-2');
  const back = await waitForEvent(
    viewer,
    'onPlayStateUpdate',
    (x) => x[0] === 0 && x[1] === 's-1',
    30_000,
    since,
  );
  const republished = await waitForEvent(p1, 'onPublishStateUpdate', (x) => x[0] === 0, 30_000, since);
  await media.expectMediaFlowing(viewer, 's-1');
  await media.expectMediaFlowing(viewer, 's-2');
  console.log(
    `external janus ${janus[0]!.url} SIGKILLed -> s-1 play state 2 after ${broken.t - since} ms, ` +
      `republished after ${republished.t - since} ms, play state 0 after ${back.t - since} ms`,
  );
  // s-1 now on the surviving Janus beside s-2; the dead one is down, with no URL connected.
  expect((await pool()).map((m) => [m.up, m.url, m.legs])).toEqual([
    [false, '', 0],
    [true, janus[1]!.url, 4],
  ]);
  expect((await media.events(viewer, 'onPlayStateUpdate')).filter((x) => x[0] === 1)).toEqual([]);
  // The stream on the Janus that lived never heard of it.
  const s2 = (await media.events(viewer, 'onPlayStateUpdate')).filter((x) => x[1] === 's-2');
  expect(s2.map((x) => x[0])).toEqual([0]);
  expect((await media.events(p2, 'onPublishStateUpdate')).map((x) => x[0])).toEqual([0]);
  expect(during.framesDecoded).toBeGreaterThanOrEqual(before.framesDecoded);
  expect((await media.inbound(viewer, 's-2')).framesDecoded).toBeGreaterThan(during.framesDecoded);
  expect((await media.events(viewer, 'onStreamUpdated')).filter((x) => x[0] === 1)).toEqual([]);

  // The dead Janus comes back at the same URL: the server reconnects (its retry backoff is at most 2 s).
  const restarted = Date.now();
  await janus[0]!.start();
  await poolUntil((m) => m[0]!.up && m[0]!.url === janus[0]!.url, 15_000);
  console.log(`external janus back -> reconnected ${Date.now() - restarted} ms after it was started`);
  // The least loaded again: the next publisher goes there, and plays.
  const p3: Page = await media.loggedInPage(context, server.url, 'pub-3');
  await media.startPreview(p3, 'local');
  await media.publish(p3, 's-3', 'local', { videoDecodeType: 'VP8' });
  expect((await pool()).map((m) => m.legs)).toEqual([1, 4]);
  await media.play(viewer, 's-3', { videoDecodeType: 'VP8' });
  await media.expectMediaFlowing(viewer, 's-3');
  expect((await pool()).map((m) => m.legs)).toEqual([2, 4]);
  // Overflow relay across external Janus (maxViewersPerFeed 1): a second viewer of s-3 plays from a relay
  // of it on the other Janus.
  const viewer2: Page = await media.loggedInPage(context, server.url, 'viewer-2');
  await media.play(viewer2, 's-3', { videoDecodeType: 'VP8' });
  await media.expectMediaFlowing(viewer2, 's-3');
  expect(Number((await server.health()).media.janusRelays)).toBe(1);
  const [a, b] = await pool();
  expect(a!.legs).toBe(2); // s-3 and its first viewer
  expect(b!.legs).toBeGreaterThanOrEqual(5); // the relay's viewer beside the four
  await Promise.all([p1.close(), p2.close(), p3.close(), viewer.close(), viewer2.close()]);
});

test('a new server process on external Janus that kept rooms (an earlier process crashed, another node): the room ids taken are skipped, publishing works at once', async () => {
  await server.stop();
  // The ids a new process numbers its rooms from, taken on both Janus.
  const ids = Array.from({ length: 10 }, (_, i) => 1000 + i);
  for (const j of janus) await createRooms(j.url, ids);
  server = await startServer();
  const pub: Page = await media.loggedInPage(context, server.url, 'pub-r');
  const viewer: Page = await media.loggedInPage(context, server.url, 'viewer-r');
  await media.startPreview(pub, 'local');
  await media.publish(pub, 's-r', 'local', { videoDecodeType: 'VP8' });
  await media.play(viewer, 's-r', { videoDecodeType: 'VP8' });
  await media.expectMediaFlowing(viewer, 's-r');
  expect((await media.events(pub, 'onPublishStateUpdate')).map((x) => x[0])).toEqual([0]);
  await Promise.all([pub.close(), viewer.close()]);
});
