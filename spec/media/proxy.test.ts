/**
 * The cloud proxy as a user behind the strictest firewall sees it: Chromium in a network namespace of its
 * own (spec/helpers/browserNetns.ts) whose nftables let out nothing but TCP to the proxy's host and port
 * (no UDP, no route to Janus, not even the server's own port). The server (built CLI) runs Janus, coturn
 * and the proxy (nginx) outside it. The page itself is loaded through the proxy, calls
 * `ZegoClient.setCloudProxyConfig` with two proxies, the first of which is dropped by the firewall (a proxy
 * that is down: its packets vanish), and `config.server` names a host the browser cannot even resolve:
 * everything must go through the second proxy. It logs in, publishes and plays (frames decoded, through
 * TURN over TLS on the proxy's port). A wrong or expired proxy token reaches the login error callback with
 * its code.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { devToken, openSdkPage, ROOT, waitForEvent } from '../helpers/browser';
import { browserNetns, SERVER_SIDE_IP, type BrowserNetns } from '../helpers/browserNetns';
import {
  APPID,
  expectMediaFlowing,
  MEDIA_CALLBACKS,
  play,
  publish,
  startPreview,
} from '../helpers/mediaPage';
import { requireNetns, startMediaServer, type MediaServer } from '../helpers/mediaServer';
import { selectedPath } from '../helpers/turnProbe';

jest.setTimeout(240_000);

const DEV_APP_SIGN = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
const PROXY_NAME = 'proxy.zego.test';
const DEAD_NAME = 'dead.zego.test';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, SERVER_SIDE_IP, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The built server's proxy-token minting (the same code the CLI runs). */
function mint(o: { ttlS?: number; now?: number } = {}): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { mintProxyToken } = require(join(ROOT, 'dist', 'server', 'index.js')) as {
    mintProxyToken(o: { appid: number; appSign: string; ttlS?: number; now?: number }): string;
  };
  return mintProxyToken({ appid: APPID, appSign: DEV_APP_SIGN, ...o });
}

let ns: BrowserNetns;
let server: MediaServer;
let browser: Browser;
let context: BrowserContext;
let proxyPort: number;
let deadPort: number;
let origin: string;

beforeAll(async () => {
  requireNetns();
  [proxyPort, deadPort] = [await freePort(), await freePort()];
  server = await startMediaServer({
    host: SERVER_SIDE_IP,
    devAppSign: DEV_APP_SIGN,
    turn: { port: 0, tlsPort: 0 },
    proxy: { enabled: true, port: proxyPort, publicHost: PROXY_NAME },
  });
  const health = await server.health();
  expect(health.proxy).toMatchObject({ state: 'up', port: proxyPort });
  const spki = /"proxySpki":"([A-Za-z0-9+/=]{44})"/.exec(server.output())?.[1];
  if (!spki) throw new Error(`the server logged no proxy certificate:\n${server.output()}`);
  ns = await browserNetns();
  // Out of the browser's namespace: TCP to the proxy's host and port, and nothing else at all.
  ns.exec('nft', [
    'add table inet zegoproxy; ' +
      'add chain inet zegoproxy out { type filter hook output priority 0; policy drop; }; ' +
      'add rule inet zegoproxy out oif lo accept; ' +
      `add rule inet zegoproxy out ip daddr ${SERVER_SIDE_IP} tcp dport ${proxyPort} counter accept; ` +
      `add rule inet zegoproxy out ip daddr ${SERVER_SIDE_IP} tcp dport ${deadPort} counter drop; ` +
      'add rule inet zegoproxy out counter drop',
  ]);
  browser = await ns.launch([
    `--ignore-certificate-errors-spki-list=${spki}`,
    `--host-resolver-rules=MAP ${PROXY_NAME} ${SERVER_SIDE_IP}, MAP ${DEAD_NAME} ${SERVER_SIDE_IP}, MAP * ~NOTFOUND, EXCLUDE ${SERVER_SIDE_IP}`,
  ]);
  context = await browser.newContext();
  origin = `https://${PROXY_NAME}:${proxyPort}`;
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  ns?.close();
  await server?.stop();
});

/** A page loaded through the proxy that sets the cloud proxy, creates `window.zg` and logs in. */
async function proxiedPage(idName: string, room: string, proxyToken: string): Promise<Page> {
  const page = await openSdkPage(context, origin, 'shim');
  const token = await devToken(server.url, APPID, idName);
  await page.evaluate(
    ({ appid, idName, token, room, names, proxies, proxyToken }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      w.proxyTaken = w.ZegoClient.setCloudProxyConfig(proxies, proxyToken, true);
      const zg = new w.ZegoClient();
      w.zg = zg;
      for (const n of names) zg[n] = w.__record(n);
      // A server name the browser cannot resolve: only the proxies can carry anything.
      zg.config({ appid, idName, nickName: idName, server: 'wss://rtc.zego.test/ws', logLevel: 3 });
      zg.login(room, 1, token, w.__record('loginOk'), w.__record('loginErr'));
    },
    {
      appid: APPID,
      idName,
      token,
      room,
      names: MEDIA_CALLBACKS,
      proxies: [
        { hostName: DEAD_NAME, port: deadPort },
        { hostName: PROXY_NAME, port: proxyPort },
      ],
      proxyToken,
    },
  );
  expect(await page.evaluate(() => (window as unknown as { proxyTaken: boolean }).proxyTaken)).toBe(true);
  return page;
}

const counter = (rules: string, port: number) =>
  Number(new RegExp(`tcp dport ${port} counter packets (\\d+)`).exec(rules)?.[1] ?? -1);

test('the browser reaches the proxy and nothing else: not the server port, not the dead proxy', async () => {
  const page = await openSdkPage(context, origin, 'shim');
  const direct = await page.evaluate(
    (url) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve('open');
        ws.onclose = () => resolve('closed');
        setTimeout(() => resolve('no answer'), 3000);
      }),
    server.url.replace('http', 'ws') + '/ws',
  );
  expect(direct).not.toBe('open');
  await page.close();
});

test('with setCloudProxyConfig the page logs in, publishes and plays through the second proxy (frames decoded, TURN over TLS on the proxy port)', async () => {
  const proxyToken = mint();
  const t0 = Date.now();
  const pub = await proxiedPage('px-pub', 'px-room', proxyToken);
  await waitForEvent(pub, 'loginOk', () => true, 20_000);
  const loginMs = Date.now() - t0;
  // The dead proxy was tried first (its SYNs were dropped), then the live one.
  const rules = ns.exec('nft', ['list', 'table', 'inet', 'zegoproxy']);
  expect(counter(rules, deadPort)).toBeGreaterThan(0);
  expect(counter(rules, proxyPort)).toBeGreaterThan(0);
  await startPreview(pub, 'local');
  await publish(pub, 'px-1', 'local', { videoDecodeType: 'VP8' });
  const viewer = await proxiedPage('px-view', 'px-room', proxyToken);
  await waitForEvent(viewer, 'loginOk', () => true, 20_000);
  await play(viewer, 'px-1');
  await expectMediaFlowing(viewer, 'px-1');
  for (const [page, which] of [
    [pub, 'publishers'],
    [viewer, 'players'],
  ] as const)
    expect(await selectedPath(page, which, 'px-1')).toEqual({
      localType: 'relay',
      relayProtocol: 'tls',
      policy: 'relay',
    });
  const dropped = counter(ns.exec('nft', ['list', 'table', 'inet', 'zegoproxy']), deadPort);
  console.log(`through the proxy: login ${loginMs} ms (dead proxy first: ${dropped} SYNs dropped)`);
});

test.each([
  [
    'a wrong token',
    () => mint().replace(/.$/, (c) => (c === '0' ? '1' : '0')),
    'cloud-proxy token does not verify code:1000000021',
  ],
  [
    'an expired token',
    () => mint({ now: Date.now() - 7200_000, ttlS: 60 }),
    'cloud-proxy token expired code:1000000022',
  ],
  [
    'a token of another app',
    () => mint().replace(/^zgp1\.\d+\./, 'zgp1.42.'),
    'cloud-proxy token does not verify code:1000000021',
  ],
  ['no token at all', () => 'x', 'malformed cloud-proxy token code:1000000021'],
])('%s: the login error callback gets the code, nothing else happens', async (what, token, msg) => {
  const page = await proxiedPage(`px-bad-${what.length}`, 'px-bad', token());
  const err = await waitForEvent(page, 'loginErr', () => true, 20_000);
  expect(err.args[0]).toEqual({ code: 'ZegoClient.Error.Server', msg });
  expect(
    await page.evaluate(
      () => (window as unknown as { zg: { engine: { loggedIn: boolean } } }).zg.engine.loggedIn,
    ),
  ).toBe(false);
  await page.close();
});
