/**
 * Many nodes with real media: two server processes, each with its own supervised Janus, sharing one Redis
 * (node A spawns it), in the network namespace. A shim page on node B plays a stream a shim page published
 * on node A: the room crosses nodes through Redis, and dispatch sends the viewer to node A's media plane
 * (the node that holds the publisher), where it decodes frames.
 */
import type { Page } from 'playwright-core';
import { freePort } from '../fuzz/lib/server';
import { waitForEvent } from '../helpers/browser';
import { events, expectMediaFlowing, loggedInPage, play, publish, startPreview } from '../helpers/mediaPage';
import { JANUS_IP, startMediaServer, type MediaServer } from '../helpers/mediaServer';

jest.setTimeout(120_000);

const DEV_SIGN = '5a'.repeat(32);
let a: MediaServer;
let b: MediaServer;
let browser: import('playwright-core').Browser;
let context: import('playwright-core').BrowserContext;

/** One node: dev mode with a shared devAppSign (a token from either node logs in on both). */
const node = (redis: Record<string, unknown>, rtpPortRange: string) => ({
  devAppSign: DEV_SIGN,
  janus: { interface: JANUS_IP, iceEnforceList: JANUS_IP, rtpPortRange },
  turn: { enabled: false },
  origin: { enabled: false },
  relay: { all: false },
  redis: { nodeTtlMs: 1500, ...redis },
});

beforeAll(async () => {
  const redisPort = await freePort();
  // Node B spawns Redis: node A is the one killed below.
  b = await startMediaServer(node({ spawn: true, port: redisPort }, '20100-20199'));
  a = await startMediaServer(node({ url: `redis://127.0.0.1:${redisPort}` }, '20000-20099'));
  const { launchChromium } = await import('../helpers/browser');
  browser = await launchChromium();
  context = await browser.newContext();
});
afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await b?.stop();
  await a?.stop();
});

test('a shim on node B plays a stream published on node A: frames decoded, the player on A', async () => {
  const pub: Page = await loggedInPage(context, a.url, 'pub-a');
  const viewer: Page = await loggedInPage(context, b.url, 'view-b');
  await startPreview(pub, 'local');
  await publish(pub, 's-across', 'local', { videoDecodeType: 'VP8' }, 'from A');
  const added = await waitForEvent(viewer, 'onStreamUpdated', (x) => x[0] === 0);
  expect(added.args[1]).toEqual([
    expect.objectContaining({ stream_id: 's-across', anchor_id_name: 'pub-a', extra_info: 'from A' }),
  ]);
  await play(viewer, 's-across', { videoDecodeType: 'VP8' });
  const flow = await expectMediaFlowing(viewer, 's-across');
  expect(flow.after.codec).toBe('video/VP8');
  // Node A's media plane holds both sessions (publisher and viewer); node B's holds none.
  const [ha, hb] = [await a.health(), await b.health()];
  expect(ha.media).toMatchObject({ sessions: 2, publishers: 1 });
  expect(hb.media).toMatchObject({ sessions: 0, publishers: 0 });
  // The publisher stops: the viewer on node B hears the stream end (12002 through Redis).
  const since = Date.now();
  await pub.evaluate(() =>
    (window as unknown as { zg: { stopPublishingStream(id: string): boolean } }).zg.stopPublishingStream(
      's-across',
    ),
  );
  await waitForEvent(viewer, 'onStreamUpdated', (x) => x[0] === 1, 10_000, since);
  await Promise.all([pub.close(), viewer.close()]);
});

test('node A killed mid-call: its publisher resumes on node B, the viewer sees state 2 then 0, no ghost', async () => {
  const ws = (m: MediaServer) => `${m.url.replace('http', 'ws')}/ws`;
  const pub = await loggedInPage(context, a.url, 'pub-k', 'kill-room', { server: [ws(a), ws(b)] });
  const viewer = await loggedInPage(context, b.url, 'view-k', 'kill-room');
  await startPreview(pub, 'local');
  await publish(pub, 's-kill', 'local', { videoDecodeType: 'VP8' });
  await waitForEvent(viewer, 'onStreamUpdated', (x) => x[0] === 0);
  await play(viewer, 's-kill', { videoDecodeType: 'VP8' });
  await expectMediaFlowing(viewer, 's-kill');

  const since = Date.now();
  process.kill(a.pid, 'SIGKILL'); // its Janus dies with it
  const broken = await waitForEvent(
    viewer,
    'onPlayStateUpdate',
    (x) => x[0] === 2 && x[1] === 's-kill',
    15_000,
    since,
  );
  const back = await waitForEvent(pub, 'onReconnect', undefined, 30_000, since);
  const pubUp = await waitForEvent(
    pub,
    'onPublishStateUpdate',
    (x) => x[0] === 0 && x[1] === 's-kill',
    30_000,
    since,
  );
  const viewUp = await waitForEvent(
    viewer,
    'onPlayStateUpdate',
    (x) => x[0] === 0 && x[1] === 's-kill',
    30_000,
    since,
  );
  const flow = await expectMediaFlowing(viewer, 's-kill');
  console.log(
    `node killed -> viewer state 2 after ${broken.t - since} ms; publisher's room back on node B after ` +
      `${back.t - since} ms, publishing after ${pubUp.t - since} ms; viewer state 0 after ${viewUp.t - since} ms`,
  );
  expect(flow.after.codec).toBe('video/VP8');
  // Never a final failure, and the stream never left the viewer's list.
  expect((await events(viewer, 'onPlayStateUpdate')).filter((x) => x[0] === 1)).toEqual([]);
  expect((await events(viewer, 'onStreamUpdated')).filter((x) => x[0] === 1)).toEqual([]);
  // No ghost once node A's lease is reaped: node B holds the publisher and the viewer, one session each.
  await new Promise((r) => setTimeout(r, 3000));
  const h = await b.health();
  expect(h.media).toMatchObject({ publishers: 1, sessions: 2 });
  await Promise.all([pub.close(), viewer.close()]);
});
