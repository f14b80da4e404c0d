/**
 * TURN as a user behind a restrictive firewall sees it: Chromium in a network namespace of its own whose
 * nftables drop every UDP datagram and which has no route to Janus (spec/helpers/browserNetns.ts); the
 * server, Janus and coturn (spawned by the server) outside it. Pages load dist/ZegoClient.js from the
 * server, publish and play; frames must be decoded and audio packets arrive, through TURN over TCP and
 * over TLS (the server's self-signed dev certificate, trusted by its SPKI hash only). With
 * `turn.enabled: false` the same page fails the way its user sees it. coturn killed mid-call comes back
 * and so do the streams.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitForEvent } from '../helpers/browser';
import { browserNetns, SERVER_SIDE_IP, type BrowserNetns } from '../helpers/browserNetns';
import { events, expectMediaFlowing, loggedInPage, play, publish, startPreview } from '../helpers/mediaPage';
import { requireNetns, startMediaServer, type MediaServer } from '../helpers/mediaServer';
import { loggedSpki, selectedPath } from '../helpers/turnProbe';

jest.setTimeout(240_000);

const TURN_SECRET = 'turn-suite-secret-0123456789';
const PEER_PORT = 3480;

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
    r = await rig({ transports: [transport], port: 0, tlsPort: 0, secret: TURN_SECRET });
    const { pub, viewer, t } = await call(r, `t-${transport}`);
    await expectMediaFlowing(viewer, `t-${transport}`);
    const pubPath = await selectedPath(pub, 'publishers', `t-${transport}`);
    const viewPath = await selectedPath(viewer, 'players', `t-${transport}`);
    expect(pubPath).toMatchObject({ localType: 'relay', relayProtocol });
    expect(viewPath).toMatchObject({ localType: 'relay', relayProtocol });
    console.log(`TURN/${transport}: publish ${t.published} ms, play ${t.played} ms`);
  });
});

describe('coturn as the server runs it', () => {
  let r: Rig | undefined;
  afterAll(() => down(r));

  test('the relay reaches the media server and refuses any other address (403 Forbidden IP)', async () => {
    r = await rig({ transports: ['tcp'], port: 0, tlsPort: 0, secret: TURN_SECRET });
    const media = (await r.server.health()).media as { turnPort: number };
    // A UDP echo peer on the media server's address (Janus's 127.0.0.2) and one on another loopback address.
    const peers = ['127.0.0.2', '127.0.0.1'].map((ip) =>
      spawn('turnutils_peer', ['-L', ip, '-p', String(PEER_PORT)], { stdio: 'ignore' }),
    );
    try {
      await new Promise((res) => setTimeout(res, 300));
      const relay = (peer: string) =>
        spawnSync(
          'turnutils_uclient',
          [
            '-t',
            '-W',
            TURN_SECRET,
            '-u',
            'probe',
            '-e',
            peer,
            '-r',
            String(PEER_PORT),
            '-n',
            '3',
            '-p',
            String(media.turnPort),
            SERVER_SIDE_IP,
          ],
          { encoding: 'utf8', timeout: 20_000 },
        );
      const ok = relay('127.0.0.2');
      expect(ok.stdout + ok.stderr).toMatch(/tot_recv_msgs=6\b/);
      for (const other of ['127.0.0.1', SERVER_SIDE_IP]) {
        const refused = relay(other);
        expect(refused.stdout + refused.stderr).toMatch(/error 403 \(Forbidden IP\)/);
        expect(refused.stdout + refused.stderr).not.toMatch(/tot_recv_msgs=[1-9]/);
      }
    } finally {
      for (const p of peers) p.kill('SIGKILL');
    }
  });

  test('coturn killed mid-call: restarted at once, and the call comes back (state 2 then 0, frames again)', async () => {
    const { pub, viewer } = await call(r!, 'k-1');
    await expectMediaFlowing(viewer, 'k-1');
    const before = (await r!.server.health()).media as { turnPid: number; turnStarts: number };
    const t0 = Date.now();
    process.kill(before.turnPid, 'SIGKILL');
    // The supervisor restarts coturn at once (a first death is never backed off).
    let after = before;
    for (
      const end = Date.now() + 10_000;
      after.turnStarts === before.turnStarts || after.turnPid === before.turnPid;
    ) {
      if (Date.now() > end) throw new Error(`coturn not restarted within 10 s:\n${r!.server.output()}`);
      await new Promise((res) => setTimeout(res, 50));
      after = (await r!.server.health()).media as typeof before;
    }
    const restartedMs = Date.now() - t0;
    const pubBack = await waitForEvent(
      pub,
      'onPublishStateUpdate',
      (a) => a[0] === 0 && a[1] === 'k-1',
      60_000,
      t0,
    );
    const viewBack = await waitForEvent(
      viewer,
      'onPlayStateUpdate',
      (a) => a[0] === 0 && a[1] === 'k-1',
      60_000,
      t0,
    );
    await expectMediaFlowing(viewer, 'k-1', { ms: 30_000 });
    const states = async (p: Page, n: string) =>
      ((await events(p, n)) as unknown[][]).filter((a) => a[1] === 'k-1').map((a) => a[0]);
    expect(await states(pub, 'onPublishStateUpdate')).toEqual([0, 2, 0]);
    expect(await states(viewer, 'onPlayStateUpdate')).toContain(2);
    console.log(
      `coturn killed: restarted after ${restartedMs} ms; publisher live again after ${pubBack.t - t0} ms, viewer after ${viewBack.t - t0} ms`,
    );
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
    expect(st.args[2]).toEqual({
      code: 'ZegoPublish.Error.ConnectionFailed',
      msg: 'ice Connection state failed',
    });
  } finally {
    await down(r);
  }
});
