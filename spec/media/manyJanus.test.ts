/**
 * Many Janus on one node (`janus.instances: 2`, a BackendPool of two supervised Janus processes), with real
 * Chromium in the network namespace: two publishers land on different Janus (least loaded), a viewer
 * decodes both, and when the Janus holding one stream is SIGKILLed its viewer sees state 2, then 0 again
 * (the pool resets every session of the node, as one Janus's death did before; clients publish and play
 * again at once, placed on the Janus that are up), never 1, and both streams decode again.
 */
import type { Page } from 'playwright-core';
import { waitForEvent } from '../helpers/browser';
import { events, expectMediaFlowing, loggedInPage, play, publish, startPreview } from '../helpers/mediaPage';
import { JANUS_IP, useMediaSuite } from '../helpers/mediaServer';

jest.setTimeout(120_000);

const suite = useMediaSuite({
  janus: { interface: JANUS_IP, iceEnforceList: JANUS_IP, instances: 2 },
  turn: { enabled: false },
  origin: { enabled: false },
  relay: { all: false },
});

interface PoolMember {
  up: boolean;
  legs: number;
  pid: number | null;
}
const pool = async () => (await suite.server.health()).media.janusPool as PoolMember[];

test('two publishers on two Janus; one Janus killed: its stream comes back (state 2 then 0), both decode again', async () => {
  const p1: Page = await loggedInPage(suite.context, suite.server.url, 'pub-1');
  const p2: Page = await loggedInPage(suite.context, suite.server.url, 'pub-2');
  const viewer: Page = await loggedInPage(suite.context, suite.server.url, 'viewer');
  await startPreview(p1, 'local');
  await startPreview(p2, 'local');
  await publish(p1, 's-1', 'local', { videoDecodeType: 'VP8' });
  await publish(p2, 's-2', 'local', { videoDecodeType: 'VP8' });
  // Least loaded: one publisher on each Janus.
  expect((await pool()).map((m) => m.legs)).toEqual([1, 1]);
  await play(viewer, 's-1', { videoDecodeType: 'VP8' });
  await play(viewer, 's-2', { videoDecodeType: 'VP8' });
  await expectMediaFlowing(viewer, 's-1');
  await expectMediaFlowing(viewer, 's-2');
  const members = await pool();
  expect(members.map((m) => m.legs)).toEqual([2, 2]); // each viewer leg beside its publisher

  const victim = members[0]!;
  const since = Date.now();
  process.kill(victim.pid!, 'SIGKILL');
  const broken = await waitForEvent(viewer, 'onPlayStateUpdate', (x) => x[0] === 2, 15_000, since);
  const back = await waitForEvent(
    viewer,
    'onPlayStateUpdate',
    (x) => x[0] === 0 && x[1] === broken.args[1],
    30_000,
    since,
  );
  await expectMediaFlowing(viewer, 's-1');
  await expectMediaFlowing(viewer, 's-2');
  console.log(
    `janus ${victim.pid} killed -> ${String(broken.args[1])} state 2 after ${broken.t - since} ms, 0 after ${back.t - since} ms`,
  );
  expect((await events(viewer, 'onPlayStateUpdate')).filter((x) => x[0] === 1)).toEqual([]);
  expect((await events(viewer, 'onStreamUpdated')).filter((x) => x[0] === 1)).toEqual([]);
  await Promise.all([p1.close(), p2.close(), viewer.close()]);
});
