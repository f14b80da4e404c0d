/**
 * The original SDK (webrtc-zego@1.12.5) against our media plane, in real Chromium (inside
 * scripts/netns.sh): it logs in, dispatches, connects to /media and, asked to play, gets a clear error
 * (it always offers; our SFU offers to players) instead of a hang. A shim publishes the stream it asks for.
 * And it publishes: relay-only through our coturn, as 1.12.5 always does, with the pushes it waits for.
 */
import { devToken, openSdkPage, waitForEvent } from '../helpers/browser';
import { APPID, expectMediaFlowing, loggedInPage, play, publish, startPreview } from '../helpers/mediaPage';
import { selectedPath } from '../helpers/turnProbe';
import { useMediaSuite } from '../helpers/mediaServer';

jest.setTimeout(90_000);

// Relay-only for every app (dev mode): the shim viewer below goes through TURN like the original SDK.
const suite = useMediaSuite({ turn: { relayOnly: true } });

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

test('original SDK publishes through our server, relay-only through TURN (CandidateInfoPush, PublishEventPush), and a shim viewer decodes its frames and gets its audio', async () => {
  // The shim viewer is relay-only too (turn.relayOnly): both legs go through coturn.
  const page = await openSdkPage(suite.context, suite.server.url, 'original');
  const token = await devToken(suite.server.url, APPID, 'o-pub2');
  const since = Date.now();
  await page.evaluate(
    ({ appid, token, ws }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const zg = new w.ZegoClient();
      w.zg = zg;
      zg.onPublishStateUpdate = w.__record('onPublishStateUpdate');
      zg.config({
        appid,
        idName: 'o-pub2',
        nickName: 'o-pub2',
        server: ws,
        logLevel: 3,
        remoteLogLevel: 100,
      });
      zg.login(
        'orig-room2',
        1,
        token,
        () => {
          const v = document.createElement('video');
          v.muted = true;
          document.body.appendChild(v);
          zg.startPreview(
            v,
            { audio: true, video: true },
            () => {
              w.__record('previewOk')();
              zg.startPublishingStream('o-live', v, '', { videoDecodeType: 'VP8' });
            },
            w.__record('previewErr'),
          );
        },
        w.__record('loginErr'),
      );
    },
    { appid: APPID, token, ws: suite.server.url.replace('http', 'ws') + '/ws' },
  );
  const st = await waitForEvent(page, 'onPublishStateUpdate', (a) => a[1] === 'o-live', 30_000, since);
  expect(st.args.slice(0, 2)).toEqual([0, 'o-live']);
  console.log(`original SDK publish -> state 0 after ${st.t - since} ms`);
  const viewer = await loggedInPage(suite.context, suite.server.url, 'o-view2', 'orig-room2');
  await play(viewer, 'o-live');
  await expectMediaFlowing(viewer, 'o-live');
  expect(await selectedPath(viewer, 'players', 'o-live')).toMatchObject({
    localType: 'relay',
    policy: 'relay',
  });
  // The original offered relay candidates only: Janus's side of its pair is coturn's relay.
  const coturn = (await suite.server.health()).media as Record<string, unknown>;
  expect(coturn.turn).toBe('up');
});
