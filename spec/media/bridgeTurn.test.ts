/**
 * The original SDK (webrtc-zego@1.12.5) exactly as it runs, relay-only, playing through the bridge: its
 * media goes page -> coturn (spawned by the server, TURN credentials from CreateSessionRsp) -> the bridge
 * -> Janus. In real Chromium against the built server, its Janus, coturn and the bridge worker, inside
 * scripts/netns.sh. First a shim publisher, then an original-SDK publisher (relay-only too): both ends on
 * the original SDK.
 */
import type { Page } from 'playwright-core';
import { waitForEvent } from '../helpers/browser';
import { loggedInPage, publish, startPreview } from '../helpers/mediaPage';
import { useMediaSuite } from '../helpers/mediaServer';
import {
  expectOriginalMedia,
  originalPage,
  originalPaths,
  originalPlay,
  originalPublish,
} from '../helpers/originalPage';

jest.setTimeout(120_000);

const suite = useMediaSuite();
const opened: Page[] = [];
const track = (p: Page) => (opened.push(p), p);
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close().catch(() => {});
});

test('relay-only original viewer of a shim publisher, through TURN and the bridge: state 0, frames, audio, quality', async () => {
  const pub = track(await loggedInPage(suite.context, suite.server.url, 't-pub1', 't-room1'));
  await startPreview(pub, 'local');
  await publish(pub, 't-s1', 'local', { videoDecodeType: 'VP8' });
  const view = track(
    await originalPage(suite.context, suite.server.url, 't-v1', 't-room1', { relay: 'as-is' }),
  );
  const t0 = Date.now();
  expect(await originalPlay(view, 't-s1')).toBe(true);
  const st = await waitForEvent(view, 'onPlayStateUpdate', () => true, 25_000);
  expect(st.args.slice(0, 2)).toEqual([0, 't-s1']);
  const { after } = await expectOriginalMedia(view);
  expect(after.width).toBe(640);
  // Relay-only, as 1.12.5 builds its peer connection: the page's side of the pair is coturn's relay.
  expect(await originalPaths(view)).toEqual([{ localType: 'relay', policy: 'relay' }]);
  const size = await waitForEvent(view, 'onVideoSizeChanged', () => true, 10_000);
  expect(size.args).toEqual(['t-s1', 640, 480]);
  const q = await waitForEvent(
    view,
    'onPlayQualityUpdate',
    (a) => (a[1] as { videoFPS: number }).videoFPS > 0,
    15_000,
  );
  expect((q.args[1] as { audioBitrate: number }).audioBitrate).toBeGreaterThan(0);
  const h = await suite.server.health();
  expect(h.media.turn).toBe('up');
  expect(h.media.bridgeLegs).toBe(1);
  console.log(
    `relay-only original viewer: state 0 after ${st.t - t0} ms, quality ${JSON.stringify(q.args[1])}`,
  );
});

test("original publisher -> original viewer, both relay-only: the viewer decodes the publisher's frames and audio", async () => {
  const pub = track(
    await originalPage(suite.context, suite.server.url, 't-opub', 't-room2', { relay: 'as-is', role: 1 }),
  );
  const pubMs = await originalPublish(pub, 't-live');
  const view = track(
    await originalPage(suite.context, suite.server.url, 't-oview', 't-room2', { relay: 'as-is' }),
  );
  const t0 = Date.now();
  expect(await originalPlay(view, 't-live')).toBe(true);
  const st = await waitForEvent(view, 'onPlayStateUpdate', () => true, 25_000);
  expect(st.args.slice(0, 2)).toEqual([0, 't-live']);
  const { after } = await expectOriginalMedia(view);
  expect(after.codec).toBe('video/VP8');
  expect(await originalPaths(view)).toEqual([{ localType: 'relay', policy: 'relay' }]);
  console.log(`original -> original: publish state 0 after ${pubMs} ms, play state 0 after ${st.t - t0} ms`);
});
