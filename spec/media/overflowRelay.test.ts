/**
 * Overflow relay across a pool of two supervised Janus (`janus.maxViewersPerFeed: 1`), with real Chromium in
 * the network namespace: the first viewer of a stream subscribes on the publisher's Janus; the second would
 * pass the limit there, so the stream is relayed to the other Janus (VideoRoom `publish_remotely` into
 * `add_remote_publisher`) and the second viewer's session is placed there and decodes frames. When the
 * publisher stops, both viewers hear the end, and nothing is left on either Janus (no handle, no room, no
 * relay: the remote publisher and the forwarders are gone with it).
 */
import type { Page } from 'playwright-core';
import { waitForEvent } from '../helpers/browser';
import * as media from '../helpers/mediaPage';
import { useJanusPoolSuite } from '../helpers/mediaServer';

jest.setTimeout(120_000);

const suite = useJanusPoolSuite({ maxViewersPerFeed: 1 });
const health = async () => {
  const { members, relays } = await suite.pool();
  return { janusPool: members, janusRelays: relays };
};

/** Plays `streamId` and resolves with the time from the call to the first decoded frame (bounded). */
async function firstFrameMs(page: Page, streamId: string): Promise<number> {
  const t0 = Date.now();
  await media.play(page, streamId, { videoDecodeType: 'VP8' });
  for (;;) {
    if ((await media.inbound(page, streamId)).framesDecoded > 0) return Date.now() - t0;
    if (Date.now() - t0 > 15_000) throw new Error(`no frame decoded on ${streamId} in 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('threshold 1, two viewers: the second plays through a relay on the other Janus; the publisher stops: both hear it, nothing is left', async () => {
  const pub = await media.loggedInPage(suite.context, suite.server.url, 'pub');
  const v1 = await media.loggedInPage(suite.context, suite.server.url, 'viewer-1');
  const v2 = await media.loggedInPage(suite.context, suite.server.url, 'viewer-2');
  await media.startPreview(pub, 'local');
  await media.publish(pub, 's-big', 'local', { videoDecodeType: 'VP8' });
  const home = (await health()).janusPool.findIndex((m) => m.legs === 1);
  expect(home).toBeGreaterThanOrEqual(0);
  const away = 1 - home;

  const first = await firstFrameMs(v1, 's-big');
  let h = await health();
  expect(h.janusPool[home]!.legs).toBe(2); // the publisher and the first viewer
  expect(h.janusPool[away]!.legs).toBe(0);
  expect(h.janusRelays).toBe(0);

  const second = await firstFrameMs(v2, 's-big');
  h = await health();
  expect(h.janusPool[home]!.legs).toBe(2);
  expect(h.janusPool[away]!.legs).toBe(1); // the second viewer, on the relay's Janus
  expect(h.janusPool[away]!.rooms).toBe(1); // the relay's room there
  expect(h.janusRelays).toBe(1);
  await media.expectMediaFlowing(v1, 's-big');
  const flow = await media.expectMediaFlowing(v2, 's-big');
  expect(flow.after.width).toBe(640);
  console.log(
    `first decoded frame: viewer on the source Janus ${first} ms, viewer on the overflow Janus ${second} ms`,
  );

  expect(await media.zg(pub, 'stopPublishingStream', 's-big')).toBe(true);
  const gone = (x: unknown[]) => x[0] === 1 && (x[1] as { stream_id: string }[])[0]?.stream_id === 's-big';
  await waitForEvent(v1, 'onStreamUpdated', gone, 10_000);
  await waitForEvent(v2, 'onStreamUpdated', gone, 10_000);
  // The players were closed by the server (reason 4): every handle, room and relay is gone on both Janus.
  const deadline = Date.now() + 10_000;
  for (;;) {
    h = await health();
    if (h.janusRelays === 0 && h.janusPool.every((m) => m.legs === 0 && m.rooms === 0)) break;
    if (Date.now() > deadline) throw new Error(`left over: ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all([pub.close(), v1.close(), v2.close()]);
});
