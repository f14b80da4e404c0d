/**
 * Issue 15, class 7, through the pages themselves: a page calls the documented API with odd but accepted
 * values (over-long messages, numbers where strings belong, a string where a list belongs, 1,001 custom
 * command members) with the original 1.12.5 and with the shim, in real Chromium against our server. Twice
 * through the list is more than the ten protocol errors that would close a socket: the page keeps its
 * room socket (no onTempBroken, onDisconnect or onKickOut), a last message still succeeds, the server
 * counted no protocol error, and an empty room name is refused without one too.
 */
import {
  devToken,
  openSdkPage,
  useServerAndBrowser,
  waitForEvent,
  type SdkFlavour,
} from '../helpers/browser';
import { setupAndLogin, type Peer } from '../helpers/roomScenario';

jest.setTimeout(120_000);

const APPID = 1739272706;
const suite = useServerAndBrowser();

async function protocolErrors(): Promise<number> {
  const h = (await (await fetch(`${suite.server.url}/healthz`)).json()) as {
    roomSockets: { protocolErrors: number };
  };
  return h.roomSockets.protocolErrors;
}

test.each(['original', 'shim'] as SdkFlavour[])(
  '%s: odd values through the API get their errors; the room socket stays; no protocol error',
  async (flavour) => {
    const before = await protocolErrors();
    const page = await openSdkPage(suite.context, suite.server.url, flavour);
    const peer: Peer = { page, idName: `odd-${flavour}`, nickName: 'Odd' };
    const ws = suite.server.url.replace(/^http/, 'ws') + '/ws';
    await setupAndLogin(peer, {
      appid: APPID,
      server: ws,
      room: `odd-room-${flavour}`,
      token: await devToken(suite.server.url, APPID, peer.idName),
    });
    const settled = await page.evaluate(async () => {
      const w = window as unknown as { zg: Record<string, (...a: unknown[]) => unknown> };
      const zg = w.zg;
      const long = (n: number) => 'x'.repeat(n);
      const outcomes: string[] = [];
      const call = (name: string, ...args: unknown[]) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(() => (outcomes.push(`${name}: no callback in 8 s`), resolve()), 8000);
          const done = (what: string) => () => (
            clearTimeout(t),
            outcomes.push(`${name}: ${what}`),
            resolve()
          );
          try {
            const r = zg[name]!.call(zg, ...args, done('ok'), done('error'));
            // Methods that answer false at once call back nothing.
            if (r === false) done('false')();
          } catch (e) {
            done(`threw ${(e as Error).message}`)();
          }
        });
      for (let round = 0; round < 2; round++) {
        await call('sendReliableMessage', 123, 'd');
        await call('sendReliableMessage', long(2000), 'd');
        await call('sendReliableMessage', 't', {});
        await call('sendRelayMessage', null, 'd');
        await call('sendBigRoomMessage', '1', 1, 'x');
        await call('sendBigRoomMessage', 1, 1, long(9000));
        await call('sendCustomCommand', 'bob', 'x');
        await call('sendCustomCommand', Array<string>(1001).fill('bob'), 'x');
        await new Promise((r) => setTimeout(r, 600)); // sendRoomMsg: one per 500 ms
        await call('sendRoomMsg', 1, 1, long(9000));
      }
      await call('sendReliableMessage', 'still', 'here');
      return outcomes;
    });
    const events = (
      await page.evaluate(() => (window as unknown as { __events: { name: string }[] }).__events)
    ).map((e) => e.name);
    // Every call was answered (an error, or false at once); none waited out a timeout.
    expect(settled.filter((s) => /no callback|threw/.test(s))).toEqual([]);
    expect(settled.at(-1)).toBe('sendReliableMessage: ok');
    expect(events.filter((n) => ['onTempBroken', 'onDisconnect', 'onKickOut'].includes(n))).toEqual([]);
    expect((await protocolErrors()) - before).toBe(0);

    // An empty room name (both SDKs accept '' as a room id): a fresh client's first login is refused, no
    // strike.
    await page.evaluate(
      ({ appid, server, token }) => {
        const w = window as unknown as Record<string, unknown> & {
          __record: (n: string) => (...a: unknown[]) => void;
        };
        const zg = new (w.ZegoClient as new () => Record<string, (...a: unknown[]) => unknown>)();
        zg.config!.call(zg, {
          appid,
          idName: 'empty-room',
          nickName: 'E',
          server,
          logLevel: 3,
          remoteLogLevel: 100,
          logUrl: '',
        });
        zg.login!.call(zg, '', 1, token, w.__record('empty.success'), w.__record('empty.error'));
      },
      { appid: APPID, server: ws, token: await devToken(suite.server.url, APPID, 'empty-room') },
    );
    const empty = await Promise.race([
      waitForEvent(page, 'empty.error', undefined, 15_000).then(() => 'error'),
      waitForEvent(page, 'empty.success', undefined, 15_000).then(() => 'success'),
    ]);
    expect(empty).toBe('error');
    expect((await protocolErrors()) - before).toBe(0);
    await page.close();
  },
);
