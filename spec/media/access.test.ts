/**
 * Per-app access rules in real Chromium against the server and Janus (inside scripts/netns.sh): stream ids
 * are app-wide, so by default (as the legacy service) a user of one room may play a stream published in
 * another room of the app; an app with `crossRoomPlay: false` keeps its rooms apart.
 */
import type { Page } from 'playwright-core';
import { mintLoginToken } from '../../src/server/auth/loginToken';
import { waitForEvent } from '../helpers/browser';
import { expectMediaFlowing, loggedInPage, publish, startPreview } from '../helpers/mediaPage';
import { useMediaSuite } from '../helpers/mediaServer';

jest.setTimeout(90_000);

const OPEN = { appid: 5101, appSign: '51'.repeat(32) };
const CLOSED = { appid: 5102, appSign: '52'.repeat(32), crossRoomPlay: false };
const suite = useMediaSuite({ apps: [OPEN, CLOSED] });

function user(app: { appid: number; appSign: string }, idName: string, room: string): Promise<Page> {
  const token = mintLoginToken({ appid: app.appid, appSign: app.appSign, idName });
  return loggedInPage(suite.context, suite.server.url, idName, room, { appid: app.appid }, token);
}

async function playOutcome(page: Page, streamId: string): Promise<unknown[]> {
  const since = Date.now();
  await page.evaluate((id) => {
    const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const v = document.createElement('video');
    v.autoplay = true;
    v.muted = true;
    document.body.appendChild(v);
    return w.zg.startPlayingStream(id, v);
  }, streamId);
  return (await waitForEvent(page, 'onPlayStateUpdate', (a) => a[1] === streamId, 20_000, since)).args;
}

test('crossRoomPlay: by default another room of the app plays the stream; switched off, it cannot', async () => {
  const pubOpen = await user(OPEN, 'xr-pub', 'room-a');
  const viewOpen = await user(OPEN, 'xr-view', 'room-b');
  await startPreview(pubOpen, 'local', { videoQuality: 1 });
  await publish(pubOpen, 'xr-open', 'local', { videoDecodeType: 'VP8' });
  expect((await playOutcome(viewOpen, 'xr-open'))[0]).toBe(0);
  await expectMediaFlowing(viewOpen, 'xr-open');

  const pubClosed = await user(CLOSED, 'xr-pub', 'room-a');
  const sameRoom = await user(CLOSED, 'xr-same', 'room-a');
  const viewClosed = await user(CLOSED, 'xr-view', 'room-b');
  await startPreview(pubClosed, 'local', { videoQuality: 1 });
  await publish(pubClosed, 'xr-closed', 'local', { videoDecodeType: 'VP8' });
  const refused = await playOutcome(viewClosed, 'xr-closed');
  expect(refused[0]).toBe(1);
  expect(refused[2]).toMatchObject({ code: 'ZegoPlay.Error.Session' });
  // The same room still plays it.
  expect((await playOutcome(sameRoom, 'xr-closed'))[0]).toBe(0);
  await expectMediaFlowing(sameRoom, 'xr-closed');
  for (const p of [pubOpen, viewOpen, pubClosed, sameRoom, viewClosed]) await p.close();
});
