/**
 * Mixing, CDN relay and the overflow relay with external Janus reached at an address other than
 * 127.0.0.1 (the network namespace's veth address 127.0.0.2 stands for "another machine"): two Janus this
 * test runs itself (spec/helpers/externalJanus.ts), the first reached at its URL's host (127.0.0.1), the
 * second given `rtpHost: "127.0.0.2"` (its remote publishers are bound there only, so RTP sent to
 * 127.0.0.1 would be lost), and `mix.forwardHost: "127.0.0.2"` (every rtp_forward to this node's ffmpeg
 * goes there). With real Chromium: a canvas publisher lands on the first Janus; its mix output enters the
 * second (the least loaded) as a remote publisher and a viewer decodes the mix's pixels there; the
 * stream's CDN relay shows its colour over HTTP-FLV; a second viewer of the stream
 * (`maxViewersPerFeed: 1`) plays from an overflow relay on the second Janus (publish_remotely to
 * 127.0.0.2).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, waitForEvent } from '../helpers/browser';
import { publishCanvas } from '../helpers/canvasPublisher';
import { eventually } from '../helpers/eventually';
import { startExternalJanus, type ExternalJanus } from '../helpers/externalJanus';
import * as media from '../helpers/mediaPage';
import {
  JANUS_IP,
  requireNetns,
  startMediaServer,
  type MediaServer,
  type PoolMember,
} from '../helpers/mediaServer';
import { grabFrame, near, pixel } from '../helpers/streamProbe';

jest.setTimeout(180_000);

const ROOM = 'hosts-room';
const RED = [255, 0, 0];
const GREEN = [0, 255, 0];
let janus: ExternalJanus[] = [];
let server: MediaServer;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  requireNetns();
  janus = [await startExternalJanus('20000-20049'), await startExternalJanus('20050-20099')];
  server = await startMediaServer({
    janus: {
      interface: JANUS_IP,
      iceEnforceList: JANUS_IP,
      pool: [janus[0]!.url, { urls: [janus[1]!.url], rtpHost: JANUS_IP }],
      maxViewersPerFeed: 1,
    },
    mix: { forwardHost: JANUS_IP },
    relay: { all: true },
    turn: { enabled: false },
  });
  browser = await launchChromium();
  context = await browser.newContext();
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await server?.stop();
  await Promise.all(janus.map((j) => j.stop()));
});

const health = async () => {
  const m = (await server.health()).media;
  return { members: m.janusPool as PoolMember[], relays: Number(m.janusRelays ?? 0) };
};

/** The picture in <video id> of `page`: its size and the colour at (x, y). */
async function videoPixel(page: Page, id: string, x: number, y: number) {
  return page.evaluate(
    ({ id, x, y }) => {
      const v = document.getElementById(id) as HTMLVideoElement;
      const c = document.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(v, 0, 0);
      return { w: v.videoWidth, px: [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)] };
    },
    { id, x, y },
  );
}

test('Janus at 127.0.0.1 and 127.0.0.2: the mix output plays from the second, the CDN relay and an overflow viewer decode frames', async () => {
  const anchor = await media.loggedInPage(context, server.url, 'anchor', ROOM);
  await publishCanvas(anchor, 'red', { color: '#f00', hz: 440 });
  // The publisher on the first Janus (least loaded, first on the tie).
  expect((await health()).members.map((m) => m.legs)).toEqual([1, 0]);

  // The mix: red on the left half over green; its output enters the second Janus (127.0.0.2).
  const since = Date.now() - 1;
  const sent = await anchor.evaluate(
    (c) =>
      (window as any).zg.updateMixStream(
        c,
        (window as any).__record('mixOk'),
        (window as any).__record('mixErr'),
      ),
    {
      outputStreamId: 'mixh',
      outputBitrate: 600_000,
      outputFps: 15,
      outputWidth: 640,
      outputHeight: 360,
      outputBgColor: 0x00ff0000,
      streamList: [{ streamId: 'red', top: 0, left: 0, bottom: 360, right: 320 }],
    },
  );
  expect(sent).toBe(true);
  await Promise.race([
    waitForEvent(anchor, 'mixOk', () => true, 30_000, since),
    waitForEvent(anchor, 'mixErr', () => true, 30_000, since).then((e) => {
      throw new Error(`updateMixStream error: ${JSON.stringify(e.args)}`);
    }),
  ]);
  const mixViewer = await media.loggedInPage(context, server.url, 'mix-viewer', ROOM);
  await media.addVideo(mixViewer, 'mixv');
  await mixViewer.evaluate(() =>
    (window as any).zg.startPlayingStream('mixh', document.getElementById('mixv')),
  );
  await waitForEvent(mixViewer, 'onPlayStateUpdate', (a) => a[0] === 0 && a[1] === 'mixh', 20_000);
  await media.expectMediaFlowing(mixViewer, 'mixh');
  // Its subscriber on the second Janus, where the remote publisher is.
  expect((await health()).members.map((m) => m.legs)).toEqual([1, 1]);
  await eventually(async () => {
    const left = await videoPixel(mixViewer, 'mixv', 160, 180);
    const right = await videoPixel(mixViewer, 'mixv', 480, 180);
    expect(left.w).toBe(640);
    expect(near(left.px, RED)).toBe(true);
    expect(near(right.px, GREEN)).toBe(true);
  }, 20_000);

  // The CDN relay (relay.all): rtp_forward to 127.0.0.2, ffmpeg to the origin; the FLV shows red.
  const listed = await mixViewer.evaluate(
    () => (window as any).__events.find((e: any) => e.name === 'loginOk').args[0],
  );
  const red = (listed as any[]).find((s) => s.stream_id === 'red');
  expect(red?.urls_flv?.[0]).toMatch(/\/live\/\d+_red\.flv$/);
  await eventually(async () => {
    const f = await grabFrame(red.urls_flv[0], 320, 240, 0.5);
    expect(near(pixel(f, 320, 160, 120), RED)).toBe(true);
  }, 30_000);

  // Overflow: the first viewer of red on its Janus, the second from a relay on the second Janus.
  const v1 = await media.loggedInPage(context, server.url, 'viewer-1', ROOM);
  const v2 = await media.loggedInPage(context, server.url, 'viewer-2', ROOM);
  await media.play(v1, 'red');
  await media.expectMediaFlowing(v1, 'red');
  await media.play(v2, 'red');
  const flow = await media.expectMediaFlowing(v2, 'red');
  expect(flow.after.width).toBe(320);
  const h = await health();
  expect(h.relays).toBe(1);
  expect(h.members.map((m) => m.legs)).toEqual([2, 2]); // red + viewer-1 | mix viewer + viewer-2
  await Promise.all([anchor.close(), mixViewer.close(), v1.close(), v2.close()]);
});
