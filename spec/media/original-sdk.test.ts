/**
 * The original SDK (webrtc-zego@1.12.5) against our media plane, in real Chromium (inside
 * scripts/netns.sh): it logs in, dispatches, connects to /media and, asked to play, gets a clear error
 * (it always offers; our SFU offers to players) instead of a hang. A shim publishes the stream it asks for.
 */
import { devToken, openSdkPage, waitForEvent } from '../helpers/browser';
import { APPID, loggedInPage, publish, startPreview } from '../helpers/mediaPage';
import { useMediaSuite } from '../helpers/mediaServer';

jest.setTimeout(90_000);

const suite = useMediaSuite();

test('original SDK: login, dispatch and play -> a session error in onPlayStateUpdate at once, not a hang', async () => {
  const pub = await loggedInPage(suite.context, suite.server.url, 'o-pub', 'orig-room');
  await startPreview(pub, 'local');
  await publish(pub, 'o-s1', 'local', { videoDecodeType: 'VP8' });

  const page = await openSdkPage(suite.context, suite.server.url, 'original');
  const token = await devToken(suite.server.url, APPID, 'o-view');
  await page.evaluate(
    ({ appid, token, ws }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const zg = new w.ZegoClient();
      w.zg = zg;
      zg.onPlayStateUpdate = w.__record('onPlayStateUpdate');
      zg.onStreamUpdated = w.__record('onStreamUpdated');
      zg.config({
        appid,
        idName: 'o-view',
        nickName: 'o-view',
        server: ws,
        logLevel: 3,
        remoteLogLevel: 100,
      });
      zg.login('orig-room', 2, token, w.__record('loginOk'), w.__record('loginErr'));
    },
    { appid: APPID, token, ws: suite.server.url.replace('http', 'ws') + '/ws' },
  );
  const login = await waitForEvent(page, 'loginOk', () => true, 15_000);
  expect((login.args[0] as { stream_id: string }[]).map((s) => s.stream_id)).toEqual(['o-s1']);
  const t0 = Date.now();
  const started = await page.evaluate(() => {
    const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const v = document.createElement('video');
    document.body.appendChild(v);
    return w.zg.startPlayingStream('o-s1', v);
  });
  expect(started).toBe(true);
  // The original reports the refused session at once; by its own policy it then keeps retrying (state 2)
  // within streamRetryTime, each retry refused the same way.
  const st = await waitForEvent(page, 'onPlayStateUpdate', () => true, 20_000);
  const elapsed = st.t - t0;
  expect([1, 2]).toContain(st.args[0]);
  expect(st.args[1]).toBe('o-s1');
  expect(st.args[2]).toEqual({ code: 'ZegoPlayWeb.Error.Session', msg: 'create session error' });
  expect(elapsed).toBeLessThan(5_000);
  console.log(`original SDK play -> ${JSON.stringify(st.args)} after ${elapsed} ms`);
});
