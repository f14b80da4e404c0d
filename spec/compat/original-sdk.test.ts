/**
 * Compatibility: the original SDK (npm webrtc-zego@1.12.5, jZego-rtc.js) and our shim in one room on our
 * server. The same scenario runs with every pairing of SDKs; each step's callback arguments must be the same
 * (after replacing times, ids and counters by their type) whichever SDK sends and whichever receives.
 */
import { devToken, openSdkPage, useServerAndBrowser, type SdkFlavour } from '../helpers/browser';
import { normalise, runRoomScenario, type Peer } from '../helpers/roomScenario';

jest.setTimeout(180_000);

const APPID = 1739272706;
const suite = useServerAndBrowser();

async function scenario(fa: SdkFlavour, fb: SdkFlavour, room: string) {
  const a: Peer = {
    page: await openSdkPage(suite.context, suite.server.url, fa),
    idName: `a-${fa}`,
    nickName: 'A',
  };
  const b: Peer = {
    page: await openSdkPage(suite.context, suite.server.url, fb),
    idName: `b-${fb}`,
    nickName: 'B',
  };
  const ws = suite.server.url.replace(/^http/, 'ws') + '/ws';
  try {
    const raw = await runRoomScenario(a, b, { appid: APPID, server: ws, room }, (id) =>
      devToken(suite.server.url, APPID, id),
    );
    // user ids differ per pairing: replace them so the runs compare.
    const text = JSON.stringify(raw)
      .split(a.idName)
      .join('<A>')
      .split(b.idName)
      .join('<B>')
      .split(room)
      .join('<ROOM>');
    return normalise(JSON.parse(text)) as Record<string, { args: unknown[] }>;
  } finally {
    await a.page.close();
    await b.page.close();
  }
}

let reference: Record<string, { args: unknown[] }>;

test('original <-> original on our server (the reference run)', async () => {
  reference = await scenario('original', 'original', 'compat-oo');
  expect(reference['B.recvCustomCommand']!.args).toEqual(['<A>', 'A', 'hello']);
  expect(reference['B.recvReliable']!.args[0]).toBe('quiz');
  expect(reference['A.joinLiveResult']!.args[0]).toBe(true);
});

test.each([
  ['original', 'shim'],
  ['shim', 'original'],
  ['shim', 'shim'],
] as [SdkFlavour, SdkFlavour][])(
  '%s (A) <-> %s (B): same callback arguments as the reference',
  async (fa, fb) => {
    expect(reference).toBeDefined();
    const got = await scenario(fa, fb, `compat-${fa}-${fb}`);
    for (const step of Object.keys(reference)) {
      expect({ step, args: got[step]?.args }).toEqual({ step, args: reference[step]!.args });
    }
  },
);
