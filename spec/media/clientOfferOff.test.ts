/**
 * The original SDK (webrtc-zego@1.12.5) against our media plane, in real Chromium (inside
 * scripts/netns.sh), for an app that keeps client-offer play off (`clientOfferPlay: false`, the default
 * outside dev mode): it logs in, dispatches, connects to /media and, asked to play, gets a clear error
 * (it always offers; only the bridge answers player offers) instead of a hang. A shim publishes the
 * stream it asks for. With client-offer play on, spec/media/bridge.test.ts.
 */
import { mintLoginToken } from '../../src/server/auth/loginToken';
import { waitForEvent } from '../helpers/browser';
import { loggedInPage, publish, startPreview } from '../helpers/mediaPage';
import { useMediaSuite } from '../helpers/mediaServer';
import { originalPage, originalPlay } from '../helpers/originalPage';

jest.setTimeout(90_000);

const APPID = 4343;
const SIGN = '6b'.repeat(32);
const suite = useMediaSuite({ apps: [{ appid: APPID, appSign: SIGN, clientOfferPlay: false }] });
const token = (idName: string) => mintLoginToken({ appid: APPID, appSign: SIGN, idName });

test('original SDK, client-offer play off: login, dispatch and play -> a session error in onPlayStateUpdate at once, not a hang', async () => {
  const pub = await loggedInPage(
    suite.context,
    suite.server.url,
    'o-pub',
    'orig-room',
    { appid: APPID },
    token('o-pub'),
  );
  await startPreview(pub, 'local');
  await publish(pub, 'o-s1', 'local', { videoDecodeType: 'VP8' });

  const page = await originalPage(suite.context, suite.server.url, 'o-view', 'orig-room', {
    relay: 'off',
    appid: APPID,
    token: token('o-view'),
  });
  const login = await waitForEvent(page, 'loginOk', () => true, 15_000);
  expect((login.args[0] as { stream_id: string }[]).map((s) => s.stream_id)).toEqual(['o-s1']);
  const t0 = Date.now();
  expect(await originalPlay(page, 'o-s1')).toBe(true);
  // The original reports the refused session at once; by its own policy it then keeps retrying (state 2)
  // within streamRetryTime, each retry refused the same way.
  const st = await waitForEvent(page, 'onPlayStateUpdate', () => true, 20_000);
  const elapsed = st.t - t0;
  expect([1, 2]).toContain(st.args[0]);
  expect(st.args[1]).toBe('o-s1');
  expect(st.args[2]).toEqual({ code: 'ZegoPlayWeb.Error.Session', msg: 'create session error' });
  expect(elapsed).toBeLessThan(5_000);
  const health = await suite.server.health();
  // No app plays through the bridge: the worker is not even started.
  expect(health.media.bridge).toBeUndefined();
  console.log(`original SDK play -> ${JSON.stringify(st.args)} after ${elapsed} ms`);
});
