/**
 * An app with `streamAuth: true` (not dev mode: tokens minted as a business server would), in real
 * Chromium against the server and Janus (inside scripts/netns.sh): publishing and playing need valid
 * streamParams; without them the page hears ZegoPublish.Error.Session / ZegoPlay.Error.Session at once.
 * Also: publishing an externalMediaStream (a canvas), as screen-share-style pages do.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import type { Page } from 'playwright-core';
import { mintLoginToken } from '../../src/server/auth/loginToken';
import { mintStreamParams } from '../../src/server/auth/streamToken';
import { openSdkPage, waitForEvent } from '../helpers/browser';
import { MEDIA_CALLBACKS, expectMediaFlowing } from '../helpers/mediaPage';
import { useMediaSuite } from '../helpers/mediaServer';

jest.setTimeout(90_000);

const APPID = 4242;
const SIGN = '5a'.repeat(32);
const suite = useMediaSuite({ apps: [{ appid: APPID, appSign: SIGN, streamAuth: true }] });

async function user(idName: string): Promise<Page> {
  const page = await openSdkPage(suite.context, suite.server.url, 'shim');
  await page.evaluate(
    ({ appid, idName, token, ws, names }) => {
      const w = window as unknown as Record<string, any>;
      const zg = new w.ZegoClient();
      w.zg = zg;
      for (const n of names) zg[n] = w.__record(n);
      zg.config({ appid, idName, nickName: idName, server: ws, logLevel: 3 });
      zg.login('auth-room', 1, token, w.__record('loginOk'), w.__record('loginErr'));
    },
    {
      appid: APPID,
      idName,
      token: mintLoginToken({ appid: APPID, appSign: SIGN, idName }),
      ws: suite.server.url.replace('http', 'ws') + '/ws',
      names: MEDIA_CALLBACKS,
    },
  );
  await waitForEvent(page, 'loginOk');
  return page;
}

test('streamAuth: no or wrong streamParams -> Session errors; valid ones publish and play', async () => {
  const a = await user('auth-a');
  const b = await user('auth-b');
  // A canvas stream as externalMediaStream (synchronous success, as 1.12).
  await a.evaluate(() => {
    const w = window as unknown as Record<string, any>;
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext('2d')!;
    let n = 0;
    setInterval(() => {
      ctx.fillStyle = `hsl(${(n += 7) % 360}, 80%, 50%)`;
      ctx.fillRect(0, 0, 320, 240);
    }, 40);
    const v = document.createElement('video');
    v.id = 'local';
    v.muted = true;
    document.body.appendChild(v);
    w.zg.startPreview(
      v,
      { externalMediaStream: canvas.captureStream(25), width: 320, height: 240, frameRate: 25, bitrate: 500 },
      w.__record('previewOk'),
      w.__record('previewErr'),
    );
  });
  await waitForEvent(a, 'previewOk');

  const since = Date.now();
  await a.evaluate(() =>
    (window as any).zg.startPublishingStream('auth-s', document.getElementById('local'), '', {
      videoDecodeType: 'VP8',
    }),
  );
  const refused = await waitForEvent(a, 'onPublishStateUpdate', () => true, 10_000, since);
  expect(refused.args).toEqual([
    1,
    'auth-s',
    { code: 'ZegoPublish.Error.Session', msg: expect.stringContaining('result 8') },
  ]);

  const forged = mintStreamParams({ appid: APPID, appSign: '00'.repeat(32), streamId: 'auth-s' });
  const since2 = Date.now();
  await a.evaluate(
    (p) =>
      (window as any).zg.startPublishingStream('auth-s', document.getElementById('local'), '', {
        videoDecodeType: 'VP8',
        streamParams: p,
      }),
    forged,
  );
  const forgedSt = await waitForEvent(a, 'onPublishStateUpdate', () => true, 10_000, since2);
  expect(forgedSt.args[0]).toBe(1);

  const good = mintStreamParams({ appid: APPID, appSign: SIGN, streamId: 'auth-s' });
  const since3 = Date.now();
  await a.evaluate(
    (p) =>
      (window as any).zg.startPublishingStream('auth-s', document.getElementById('local'), '', {
        videoDecodeType: 'VP8',
        streamParams: p,
      }),
    good,
  );
  const ok = await waitForEvent(a, 'onPublishStateUpdate', () => true, 15_000, since3);
  expect(ok.args).toEqual([0, 'auth-s', 0]);

  const since4 = Date.now();
  await b.evaluate(() => {
    const v = document.createElement('video');
    v.muted = true;
    document.body.appendChild(v);
    (window as any).zg.startPlayingStream('auth-s', v);
  });
  const noParams = await waitForEvent(b, 'onPlayStateUpdate', () => true, 10_000, since4);
  expect(noParams.args).toEqual([
    1,
    'auth-s',
    { code: 'ZegoPlay.Error.Session', msg: expect.stringContaining('result 8') },
  ]);
  const since5 = Date.now();
  await b.evaluate((p) => {
    const v = document.createElement('video');
    v.muted = true;
    document.body.appendChild(v);
    (window as any).zg.startPlayingStream('auth-s', v, undefined, {
      streamParams: p,
      videoDecodeType: 'VP8',
    });
  }, good);
  const played = await waitForEvent(b, 'onPlayStateUpdate', () => true, 15_000, since5);
  expect(played.args).toEqual([0, 'auth-s', 0]);
  // The canvas frames arrive (no audio track in this stream).
  await expectMediaFlowing(b, 'auth-s', { audio: false });
});
