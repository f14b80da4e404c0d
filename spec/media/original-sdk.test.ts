/**
 * The original SDK (webrtc-zego@1.12.5) publishing through our media plane, in real Chromium (inside
 * scripts/netns.sh): relay-only through our coturn, as 1.12.5 always does, with the pushes it waits for.
 * Its play: spec/media/bridge.test.ts (through the bridge) and clientOfferOff.test.ts (an app without it).
 */
import { devToken, openSdkPage, waitForEvent } from '../helpers/browser';
import { APPID, expectMediaFlowing, loggedInPage, play } from '../helpers/mediaPage';
import { selectedPath } from '../helpers/turnProbe';
import { useMediaSuite } from '../helpers/mediaServer';

jest.setTimeout(90_000);

// Relay-only for every app (dev mode): the shim viewer below goes through TURN like the original SDK.
const suite = useMediaSuite({ turn: { relayOnly: true } });

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
