/**
 * Real Chromium + real Janus + the real server: pages drive dist/ZegoClient.js (script tag) to preview,
 * publish and play; assertions read what a user would see (decoded frames, audio packets, callbacks).
 * Runs inside scripts/netns.sh (see spec/helpers/mediaServer.ts).
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { launchChromium, waitForEvent } from '../helpers/browser';
import { expectMediaFlowing, loggedInPage, startPreview } from '../helpers/mediaPage';
import { startMediaServer, type MediaServer } from '../helpers/mediaServer';

jest.setTimeout(90_000);

let server: MediaServer;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  server = await startMediaServer();
  browser = await launchChromium();
  context = await browser.newContext();
});
afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await server?.stop();
});

test('A publishes (VP8), B plays: state callbacks, stream list, frames decoded and audio arriving', async () => {
  const a = await loggedInPage(context, server.url, 'pub-a');
  const b = await loggedInPage(context, server.url, 'view-b');
  await startPreview(a, 'local');
  const ok = await a.evaluate(() => {
    const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    return w.zg.startPublishingStream('s-vp8', document.getElementById('local'), 'hello', {
      videoDecodeType: 'VP8',
    });
  });
  expect(ok).toBe(true);
  const st = await waitForEvent(a, 'onPublishStateUpdate', () => true, 20_000);
  expect(st.args).toEqual([0, 's-vp8', 0]);
  const added = await waitForEvent(b, 'onStreamUpdated', (x) => x[0] === 0);
  expect((added.args[1] as { stream_id: string }[])[0]!.stream_id).toBe('s-vp8');
  await b.evaluate(() => {
    const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const v = document.createElement('video');
    v.id = 'remote';
    v.autoplay = true;
    v.muted = true;
    document.body.appendChild(v);
    return w.zg.startPlayingStream('s-vp8', v);
  });
  const play = await waitForEvent(b, 'onPlayStateUpdate', () => true, 20_000);
  expect(play.args.slice(0, 2)).toEqual([0, 's-vp8']);
  const flow = await expectMediaFlowing(b, 's-vp8');
  expect(flow.after.codec).toBe('video/VP8');
  const size = await waitForEvent(b, 'onVideoSizeChanged', () => true, 10_000);
  expect(size.args[0]).toBe('s-vp8');
  expect(size.args[1]).toBeGreaterThan(0);
}, 90_000);
