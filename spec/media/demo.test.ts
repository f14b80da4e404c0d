/**
 * The demo page `npm start` serves at `/`, used as a user would (clicks), in two tabs: each logs in,
 * previews and publishes; each then plays the other's stream: a video call. Real Chromium + Janus + the
 * server process, inside scripts/netns.sh.
 */
import type { Page } from 'playwright-core';
import { useMediaSuite } from '../helpers/mediaServer';

jest.setTimeout(90_000);

const suite = useMediaSuite();

async function join(idName: string): Promise<Page> {
  const page = await suite.context.newPage();
  await page.goto(`${suite.server.url}/`);
  await page.fill('#idName', idName);
  await page.dispatchEvent('#idName', 'change');
  await page.click('#login');
  await page.waitForFunction(
    () => (document.getElementById('logout') as HTMLButtonElement).disabled === false,
    null,
    {
      timeout: 10_000,
    },
  );
  await page.click('#preview');
  await page.waitForFunction(
    () => (document.getElementById('local') as HTMLVideoElement).videoWidth > 0,
    null,
    {
      timeout: 10_000,
    },
  );
  await page.click('#publish');
  await page.waitForFunction(() => document.getElementById('pubState')!.textContent === 'playing', null, {
    timeout: 20_000,
  });
  return page;
}

/** Clicks "play" on the other user's tile and waits until its <video> shows moving frames. */
async function watch(page: Page, streamId: string): Promise<void> {
  const tile = `#tile-${streamId}`;
  await page.waitForSelector(tile, { timeout: 10_000 });
  await page.click(`${tile} button:text("play")`);
  await page.waitForFunction(
    (sel) => {
      const v = document.querySelector(`${sel} video`) as HTMLVideoElement | null;
      const state = document.querySelector(`${sel} .state`)?.textContent;
      return !!v && v.videoWidth > 0 && v.currentTime > 0.5 && state === 'playing';
    },
    tile,
    { timeout: 20_000 },
  );
  await page.waitForFunction(
    (sel) => /kbps video/.test(document.querySelector(`${sel} .q`)?.textContent ?? ''),
    tile,
    {
      timeout: 10_000,
    },
  );
}

test('two tabs of the demo make a video call through the UI', async () => {
  const alice = await join('alice');
  const bob = await join('bob');
  await watch(alice, 'bob-cam');
  await watch(bob, 'alice-cam');
  const quality = await bob.textContent('#pubQuality');
  expect(quality).toMatch(/\d+ kbps video/);
  const h = await suite.server.health();
  expect(h.media).toMatchObject({ publishers: 2, sessions: 4 });
});
