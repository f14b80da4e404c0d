/**
 * Many nodes, across nodes, with the whole media plane (real Chromium, three server processes each with its
 * own Janus, ffmpeg and origin, one Redis; inside scripts/netns.sh):
 * - a page on node B mixes a stream published on node A with one published on node B: node A's Janus
 *   forwards its stream (rtp_forward, asked over NodeCalls) to node B's mixer beside node B's own, node B's
 *   origin serves the mix (frames read with ffmpeg), and the input published again on node A comes back;
 * - the admin API's end-stream through node B ends a publisher on node A as on one node: its page hears
 *   onPublishStateUpdate(1), node A's Janus no longer holds it, the room hears the stream go;
 * - node A killed: its publisher resumes on a third node C, and node B's mix finds the input there and
 *   takes it from node C's Janus without being asked again.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { mintLoginToken } from '../../src/server/auth/loginToken';
import { freePort } from '../fuzz/lib/server';
import { adminCall } from '../helpers/adminClient';
import { launchChromium, waitForEvent } from '../helpers/browser';
import { publishCanvas } from '../helpers/canvasPublisher';
import { eventually } from '../helpers/eventually';
import { APPID, loggedInPage, updateMix } from '../helpers/mediaPage';
import { JANUS_IP, startMediaServer, type MediaServer } from '../helpers/mediaServer';
import { grabFrame, near, pixel, probe } from '../helpers/streamProbe';

jest.setTimeout(180_000);

const SIGN = 'cd'.repeat(32);
const ADMIN = { appid: APPID, secret: 'admin-secret-cross-0123456789' };
const RED = [255, 0, 0];
const GREEN = [0, 255, 0];
const BLUE = [0, 0, 255];
/** The mix: node A's stream on the left, node B's on the right. */
const W = 640;
const H = 240;
let a: MediaServer;
let b: MediaServer;
/** A third node: where node A's publisher resumes when node A is killed. */
let c: MediaServer;
let browser: Browser;
let context: BrowserContext;
let anchor: Page;
let mixer: Page;

const node = (redis: Record<string, unknown>, janusPorts: string, mixPorts: string) => ({
  apps: [{ appid: APPID, appSign: SIGN, adminSecret: ADMIN.secret }],
  janus: { interface: JANUS_IP, iceEnforceList: JANUS_IP, rtpPortRange: janusPorts },
  turn: { enabled: false },
  relay: { all: false },
  mix: { rtpPortRange: mixPorts },
  redis: { nodeTtlMs: 1500, ...redis },
});

const page = (server: MediaServer, idName: string, config: Record<string, unknown> = {}) =>
  loggedInPage(
    context,
    server.url,
    idName,
    'cross-room',
    config,
    mintLoginToken({ appid: APPID, appSign: SIGN, idName }),
  );

/** A mix of two inputs side by side. */
const sideBySide = (output: string, left: string, right: string) => ({
  outputStreamId: output,
  outputBitrate: 300_000,
  outputFps: 15,
  outputWidth: W,
  outputHeight: H,
  streamList: [
    { streamId: left, top: 0, left: 0, bottom: H, right: W / 2 },
    { streamId: right, top: 0, left: W / 2, bottom: H, right: W },
  ],
});

/** The colour at the middle of each half of a frame of the mix. */
async function sides(url: string): Promise<{ left: number[]; right: number[] }> {
  const f = await grabFrame(url, W, H, 1);
  return { left: pixel(f, W, W / 4, H / 2), right: pixel(f, W, (3 * W) / 4, H / 2) };
}

beforeAll(async () => {
  const redisPort = await freePort();
  b = await startMediaServer(node({ spawn: true, port: redisPort }, '20300-20399', '31000-31099'));
  a = await startMediaServer(node({ url: `redis://127.0.0.1:${redisPort}` }, '20200-20299', '31100-31199'));
  c = await startMediaServer(node({ url: `redis://127.0.0.1:${redisPort}` }, '20400-20499', '31200-31299'));
  browser = await launchChromium();
  context = await browser.newContext();
  anchor = await page(a, 'anchor-a');
  mixer = await page(b, 'mixer-b');
  await publishCanvas(anchor, 'red-a', { color: '#f00', hz: 440 });
  await publishCanvas(mixer, 'blue-b', { color: '#00f', hz: 1000 });
  await waitForEvent(
    mixer,
    'onStreamUpdated',
    (x) => x[0] === 0 && (x[1] as { stream_id: string }[])[0]?.stream_id === 'red-a',
    20_000,
  );
});
afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await a?.stop();
  await c?.stop();
  await b?.stop();
});

test('a page on node B mixes streams of node A and node B: node A forwards its own, node B serves the mix', async () => {
  const t0 = Date.now();
  const [id, infos] = (await updateMix(mixer, sideBySide('xmix', 'red-a', 'blue-b'))) as [
    string,
    { flvUrls: string[] }[],
  ];
  expect(id).toBe('xmix');
  const flv = infos[0]!.flvUrls[0]!;
  // Node B's origin serves it: the URL names node B's origin port.
  const hb = await b.health();
  expect((hb.live as any).mixTasks).toEqual([
    expect.objectContaining({ output: 'xmix', inputs: ['red-a', 'blue-b'] }),
  ]);
  await eventually(async () => {
    const facts = await probe(flv);
    expect(facts.video).toMatchObject({ codec: 'h264', width: W, height: H });
    const c = await sides(flv);
    expect({ ...c, ok: near(c.left, RED) && near(c.right, BLUE) }).toMatchObject({ ok: true });
  }, 40_000);
  console.log(
    `mix on node B of a stream on node A: red frames read from node B's origin ${Date.now() - t0} ms after the request`,
  );
  // Each publisher stays on its own node: node A's was forwarded, not moved.
  expect((await a.health()).media).toMatchObject({ publishers: 1 });
  expect((await b.health()).media).toMatchObject({ publishers: 1 });

  // The input's publisher stops and publishes again (green now): node A tells node B, whose mix asks for a
  // new forward and shows it.
  await anchor.evaluate(() => {
    const w = window as any;
    w.zg.stopPublishingStream('red-a');
    const v = document.getElementById('local-red-a') as HTMLVideoElement;
    w.zg.stopPreview(v);
    v.remove(); // the next canvas's preview takes its id
  });
  const again = Date.now();
  await publishCanvas(anchor, 'red-a', { color: '#0f0', hz: 440 });
  await eventually(async () => {
    const c = await sides(flv);
    expect({ ...c, ok: near(c.left, GREEN) && near(c.right, BLUE) }).toMatchObject({ ok: true });
  }, 40_000);
  console.log(`the input published again on node A: green in node B's mix ${Date.now() - again} ms later`);

  const stopAt = Date.now() - 1;
  await mixer.evaluate(() =>
    (window as any).zg.stopMixStream(
      { outputStreamId: 'xmix' },
      (window as any).__record('stopOk'),
      (window as any).__record('stopErr'),
    ),
  );
  await waitForEvent(mixer, 'stopOk', () => true, 10_000, stopAt);
  await eventually(async () => expect(((await b.health()).live as any).mixTasks).toEqual([]), 10_000, 200);
});

test('end-stream through node B ends the publisher on node A: its page hears it, node A holds it no more', async () => {
  const endAt = Date.now() - 1;
  const ended = await adminCall(b.url, 'end-stream', { streamId: 'red-a' }, ADMIN);
  expect(ended.body).toEqual({ code: 0, data: { roomId: 'cross-room', streamId: 'red-a' } });
  const st = await waitForEvent(
    anchor,
    'onPublishStateUpdate',
    (x) => x[1] === 'red-a' && x[0] === 1,
    10_000,
    endAt,
  );
  console.log(
    `end-stream through node B: the publisher's page on node A heard state 1 after ${st.t - endAt} ms`,
  );
  await waitForEvent(mixer, 'onStreamUpdated', (x) => x[0] === 1, 10_000, endAt);
  // Node A's Janus holds nothing any more: no handle, no VideoRoom (a room without publishers goes).
  await eventually(
    async () =>
      expect((await a.health()).media).toMatchObject({ publishers: 0, janusHandles: 0, janusRooms: 0 }),
    10_000,
    200,
  );
  const listed = await adminCall(b.url, 'list-streams', { roomId: 'cross-room' }, ADMIN);
  const left = listed.body.data!.streams as { streamId: string }[];
  expect(left.map((x) => x.streamId)).toEqual(['blue-b']);
});

test('node A killed: its publisher resumes on node C, and the mix on node B takes it from there', async () => {
  const ws = (m: MediaServer) => `${m.url.replace('http', 'ws')}/ws`;
  const pub = await page(a, 'anchor-k', { server: [ws(a), ws(c)] });
  await publishCanvas(pub, 'yellow-k', { color: '#ff0', hz: 700 });
  const YELLOW = [255, 255, 0];
  const [, infos] = (await updateMix(mixer, sideBySide('kmix', 'yellow-k', 'blue-b'))) as [
    string,
    { flvUrls: string[] }[],
  ];
  const flv = infos[0]!.flvUrls[0]!;
  await eventually(async () => {
    const x = await sides(flv);
    expect({ ...x, ok: near(x.left, YELLOW) && near(x.right, BLUE) }).toMatchObject({ ok: true });
  }, 40_000);

  const since = Date.now();
  process.kill(a.pid, 'SIGKILL'); // its Janus dies with it
  const back = await waitForEvent(
    pub,
    'onPublishStateUpdate',
    (x) => x[0] === 0 && x[1] === 'yellow-k',
    30_000,
    since,
  );
  expect((await c.health()).media).toMatchObject({ publishers: 1 });
  // Node B sees node A gone (its lease, 1.5 s; the sweep, 2 s), looks for the input again and finds it on
  // node C, whose Janus forwards it now: nobody asked for the mix again.
  await eventually(async () => {
    const x = await sides(flv);
    expect({ ...x, ok: near(x.left, YELLOW) && near(x.right, BLUE) }).toMatchObject({ ok: true });
  }, 40_000);
  console.log(
    `node A killed: the publisher was back on node C after ${back.t - since} ms; node B's mix showed it ` +
      `again ${Date.now() - since} ms after the kill`,
  );
});
