/**
 * Many Janus on one node (`janus.instances: 2`, a BackendPool of two supervised Janus processes), with real
 * Chromium in the network namespace: two publishers land on different Janus (least loaded), a viewer
 * decodes both, and when the Janus holding one stream is SIGKILLed its viewer sees state 2, then 0 again
 * for that stream (the pool resets only the sessions on the dead Janus; their clients publish and play
 * again at once, placed on the Janus that is up), never 1, while the stream on the other Janus keeps
 * playing without a single callback (its publisher and its play are never reset).
 */
import type { Page } from 'playwright-core';
import { waitForEvent } from '../helpers/browser';
import * as media from '../helpers/mediaPage';
import { useJanusPoolSuite } from '../helpers/mediaServer';

jest.setTimeout(120_000);

const suite = useJanusPoolSuite();
const pool = async () => (await suite.pool()).members;

test('two publishers on two Janus; one Janus killed: its stream comes back (state 2 then 0), the other plays on untouched', async () => {
  const p1: Page = await media.loggedInPage(suite.context, suite.server.url, 'pub-1');
  const p2: Page = await media.loggedInPage(suite.context, suite.server.url, 'pub-2');
  const viewer: Page = await media.loggedInPage(suite.context, suite.server.url, 'viewer');
  await media.startPreview(p1, 'local');
  await media.startPreview(p2, 'local');
  await media.publish(p1, 's-1', 'local', { videoDecodeType: 'VP8' });
  await media.publish(p2, 's-2', 'local', { videoDecodeType: 'VP8' });
  // Least loaded: one publisher on each Janus.
  expect((await pool()).map((m) => m.legs)).toEqual([1, 1]);
  await media.play(viewer, 's-1', { videoDecodeType: 'VP8' });
  await media.play(viewer, 's-2', { videoDecodeType: 'VP8' });
  await media.expectMediaFlowing(viewer, 's-1');
  await media.expectMediaFlowing(viewer, 's-2');
  const members = await pool();
  expect(members.map((m) => m.legs)).toEqual([2, 2]); // each viewer leg beside its publisher

  const victim = members[0]!; // s-1's (the first publisher went to the first Janus)
  const before = await media.inbound(viewer, 's-2');
  const since = Date.now();
  process.kill(victim.pid!, 'SIGKILL');
  const broken = await waitForEvent(viewer, 'onPlayStateUpdate', (x) => x[0] === 2, 15_000, since);
  expect(broken.args[1]).toBe('s-1');
  // s-2 decodes on while s-1 is broken, on the same PeerConnection (its counters only grow).
  const during = await media.inbound(viewer, 's-2');
  await media.expectMediaFlowing(viewer, 's-2');
  const back = await waitForEvent(
    viewer,
    'onPlayStateUpdate',
    (x) => x[0] === 0 && x[1] === broken.args[1],
    30_000,
    since,
  );
  await media.expectMediaFlowing(viewer, 's-1');
  await media.expectMediaFlowing(viewer, 's-2');
  console.log(
    `janus ${victim.pid} killed -> ${String(broken.args[1])} state 2 after ${broken.t - since} ms, 0 after ${back.t - since} ms`,
  );
  expect((await media.events(viewer, 'onPlayStateUpdate')).filter((x) => x[0] === 1)).toEqual([]);
  // The stream on the Janus that lived never heard of it: one play state (0) and one publish state (0).
  const s2 = (await media.events(viewer, 'onPlayStateUpdate')).filter((x) => x[1] === 's-2');
  expect(s2.map((x) => x[0])).toEqual([0]);
  expect((await media.events(p2, 'onPublishStateUpdate')).map((x) => x[0])).toEqual([0]);
  expect(during.framesDecoded).toBeGreaterThanOrEqual(before.framesDecoded);
  expect((await media.inbound(viewer, 's-2')).framesDecoded).toBeGreaterThan(during.framesDecoded);
  // s-1 and its viewer again (on the restarted Janus or beside s-2), nothing left over.
  expect((await pool()).reduce((n, m) => n + m.legs, 0)).toBe(4);
  expect((await media.events(viewer, 'onStreamUpdated')).filter((x) => x[0] === 1)).toEqual([]);
  await Promise.all([p1.close(), p2.close(), viewer.close()]);
});
