/**
 * Many nodes with real media: two server processes, each with its own supervised Janus, sharing one Redis
 * (node A spawns it), in the network namespace. A shim page on node B plays a stream a shim page published
 * on node A: the room crosses nodes through Redis, and dispatch sends the viewer to node A's media plane
 * (the node that holds the publisher), where it decodes frames.
 */
import { createServer } from 'node:net';
import type { Page } from 'playwright-core';
import { waitForEvent } from '../helpers/browser';
import { expectMediaFlowing, loggedInPage, play, publish, startPreview } from '../helpers/mediaPage';
import { JANUS_IP, startMediaServer, type MediaServer } from '../helpers/mediaServer';

jest.setTimeout(120_000);

const DEV_SIGN = '5a'.repeat(32);
let a: MediaServer;
let b: MediaServer;
let browser: import('playwright-core').Browser;
let context: import('playwright-core').BrowserContext;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One node: dev mode with a shared devAppSign (a token from either node logs in on both). */
const node = (redis: Record<string, unknown>, rtpPortRange: string) => ({
  devAppSign: DEV_SIGN,
  janus: { interface: JANUS_IP, iceEnforceList: JANUS_IP, rtpPortRange },
  turn: { enabled: false },
  origin: { enabled: false },
  relay: { all: false },
  redis,
});

beforeAll(async () => {
  const redisPort = await freePort();
  a = await startMediaServer(node({ spawn: true, port: redisPort }, '20000-20099'));
  b = await startMediaServer(node({ url: `redis://127.0.0.1:${redisPort}` }, '20100-20199'));
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
