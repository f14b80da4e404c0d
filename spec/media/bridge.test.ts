/**
 * The client-offer play path (issue 16) in real Chromium against the built server, its Janus and its
 * bridge worker, inside scripts/netns.sh: pages on the original SDK (webrtc-zego@1.12.5) play streams
 * that shim pages publish. These pages take every candidate (relay: 'off', helpers/originalPage.ts): they
 * offer exactly as 1.12.5 does, without the TURN server the original needs relay-only (see
 * bridgeTurn.test.ts for that).
 */
import type { Page } from 'playwright-core';
import { waitForEvent } from '../helpers/browser';
import { loggedInPage, publish, startPreview } from '../helpers/mediaPage';
import { useMediaSuite } from '../helpers/mediaServer';
import { expectOriginalMedia, originalPage, originalPlay } from '../helpers/originalPage';

jest.setTimeout(120_000);

const suite = useMediaSuite();

async function shimPublisher(
  idName: string,
  room: string,
  streamId: string,
  codec: 'VP8' | 'H264',
): Promise<Page> {
  const pub = await loggedInPage(suite.context, suite.server.url, idName, room);
  await startPreview(pub, 'local');
  await publish(pub, streamId, 'local', { videoDecodeType: codec });
  return pub;
}

test('shim publisher (VP8) -> original viewer: state 0, frames and audio, its size and quality callbacks', async () => {
  const pub = await shimPublisher('b-pub1', 'b-room1', 'b-s1', 'VP8');
  const view = await originalPage(suite.context, suite.server.url, 'b-view1', 'b-room1');
  const t0 = Date.now();
  expect(await originalPlay(view, 'b-s1')).toBe(true);
  const st = await waitForEvent(view, 'onPlayStateUpdate', () => true, 20_000);
  expect(st.args.slice(0, 2)).toEqual([0, 'b-s1']);
  const { after } = await expectOriginalMedia(view);
  expect(after.width).toBe(640);
  expect(after.codec).toBe('video/VP8');
  const size = await waitForEvent(view, 'onVideoSizeChanged', () => true, 10_000);
  expect(size.args).toEqual(['b-s1', 640, 480]);
  // The original skips its first quality sample: the second comes about 6 s after state 0.
  const q = await waitForEvent(
    view,
    'onPlayQualityUpdate',
    (a) => (a[1] as { videoFPS: number }).videoFPS > 0,
    15_000,
  );
  const quality = q.args[1] as Record<string, number>;
  expect(q.args[0]).toBe('b-s1');
  expect(quality.videoBitrate).toBeGreaterThan(0);
  expect(quality.audioBitrate).toBeGreaterThan(0);
  console.log(JSON.stringify(q.args));
  console.log(`original viewer: state 0 after ${st.t - t0} ms; quality ${JSON.stringify(quality)}`);
  const health = await suite.server.health();
  expect(health.media.bridge).toBe('up');
  expect(health.media.bridgeLegs).toBe(1);
  expect(health.media.bridgeFeeds).toBe(1);
  await view.close();
  await pub.close();
});
