/**
 * Stream mixing as viewers see and hear it (real Chromium, Janus, ffmpeg and the origin, inside
 * scripts/netns.sh): two canvas publishers of solid colours with distinct tones, mixed side by side over a
 * green background; the mix read back from RTMP, HLS and HTTP-FLV with ffmpeg (size, frame rate, the colour
 * of each rectangle and of the background, both tones), and played by a shim viewer through Janus (the
 * same pixels). Then a live layout swap (same output, no new stream), an input that stops, and cleanup.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { waitForEvent } from '../helpers/browser';
import { publishCanvas } from '../helpers/canvasPublisher';
import { addVideo, expectMediaFlowing, loggedInPage, updateMix } from '../helpers/mediaPage';
import { eventually } from '../helpers/eventually';
import { useMediaSuite } from '../helpers/mediaServer';
import { grabFrame, near, pixel, probe, toneLevels } from '../helpers/streamProbe';

jest.setTimeout(180_000);

// A magenta picture for outputBgImage (preset-id://magenta), made before the server reads its config.
const imageDir = mkdtempSync(join(tmpdir(), 'zego-mixbg-'));
const MAGENTA_PNG = join(imageDir, 'magenta.png');
try {
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'color=c=magenta:s=64x36',
    '-frames:v',
    '1',
    MAGENTA_PNG,
  ]);
} catch (e) {
  throw new Error(
    `ffmpeg could not make the background picture (install the Debian package ffmpeg): ${String(e)}`,
  );
}
afterAll(() => rmSync(imageDir, { recursive: true, force: true }));

const IDLE_STOP_MS = 3000;
const suite = useMediaSuite({
  relay: { all: false },
  mix: { idleStopMs: IDLE_STOP_MS, bgImages: { magenta: MAGENTA_PNG } },
});
const RED = [255, 0, 0];
const BLUE = [0, 0, 255];
const GREEN = [0, 255, 0];
const MAGENTA = [255, 0, 255];
const W = 640;
const H = 360;

/** The mix config: a on the left, b on the right, a green strip below both. */
function layout(a: string, b: string) {
  return {
    outputStreamId: 'mix1',
    outputBitrate: 600_000,
    outputFps: 15,
    outputWidth: W,
    outputHeight: H,
    outputBgColor: 0x00ff0000,
    streamList: [
      { streamId: a, top: 0, left: 0, bottom: 300, right: 320 },
      { streamId: b, top: 0, left: 320, bottom: 300, right: 640 },
    ],
  };
}

async function colours(url: string): Promise<{ left: number[]; right: number[]; bg: number[] }> {
  const f = await grabFrame(url, W, H, 1);
  return { left: pixel(f, W, 160, 150), right: pixel(f, W, 480, 150), bg: pixel(f, W, 320, 340) };
}

let anchor: Page;
let other: Page;
let viewer: Page;
let urls: { rtmpUrls: string[]; hlsUrls: string[]; flvUrls: string[] };

beforeAll(async () => {
  anchor = await loggedInPage(suite.context, suite.server.url, 'anchor', 'mix-room');
  other = await loggedInPage(suite.context, suite.server.url, 'cohost', 'mix-room');
  await publishCanvas(anchor, 'red', { color: '#f00', hz: 440 });
  await publishCanvas(other, 'blue', { color: '#00f', hz: 1000 });
});

test('two canvases mixed side by side: RTMP, HLS and HTTP-FLV show the size, frame rate, colours and both tones', async () => {
  const [id, infos] = (await updateMix(anchor, layout('red', 'blue'))) as [string, (typeof urls)[]];
  expect(id).toBe('mix1');
  urls = infos[0]!;
  expect(urls.rtmpUrls[0]).toMatch(/^rtmp:\/\/127\.0\.0\.1:\d+\/live\/\d+_mix1$/);
  expect(urls.flvUrls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/live\/\d+_mix1\.flv$/);
  expect(urls.hlsUrls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hls\/\d+_mix1\/index\.m3u8$/);
  for (const url of [urls.rtmpUrls[0]!, urls.flvUrls[0]!]) {
    await eventually(async () => {
      const facts = await probe(url);
      expect(facts.video).toMatchObject({ codec: 'h264', width: W, height: H });
      expect(facts.video!.fps).toBeCloseTo(15, 0);
      expect(facts.audio?.codec).toBe('aac');
      const c = await colours(url);
      expect({ url, ...c, ok: near(c.left, RED) && near(c.right, BLUE) && near(c.bg, GREEN) }).toMatchObject({
        ok: true,
      });
    }, 30_000);
    const [a440, a1000, control] = await toneLevels(url, [440, 1000, 700]);
    expect(a440!).toBeGreaterThan(control! + 20);
    expect(a1000!).toBeGreaterThan(control! + 20);
  }
  await eventually(async () => {
    const c = await colours(urls.hlsUrls[0]!);
    expect(near(c.left, RED) && near(c.right, BLUE) && near(c.bg, GREEN)).toBe(true);
  }, 30_000);
});

test('a shim viewer plays outputStreamId through Janus and decodes the same pixels', async () => {
  viewer = await loggedInPage(suite.context, suite.server.url, 'viewer', 'mix-room');
  // The mix is a room stream: the viewer's login list had it.
  const listed = await viewer.evaluate(
    () => (window as any).__events.find((e: any) => e.name === 'loginOk').args[0],
  );
  expect(listed.map((s: any) => s.stream_id)).toContain('mix1');
  await addVideo(viewer, 'mixv');
  await viewer.evaluate(() => (window as any).zg.startPlayingStream('mix1', document.getElementById('mixv')));
  await waitForEvent(viewer, 'onPlayStateUpdate', (a) => a[0] === 0 && a[1] === 'mix1', 20_000);
  await expectMediaFlowing(viewer, 'mix1');
  await eventually(async () => {
    const px = await viewer.evaluate(() => {
      const v = document.getElementById('mixv') as HTMLVideoElement;
      const c = document.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(v, 0, 0);
      const at = (x: number, y: number) => [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)];
      return { w: v.videoWidth, h: v.videoHeight, left: at(160, 150), right: at(480, 150), bg: at(320, 340) };
    });
    expect(px).toMatchObject({ w: W, h: H });
    expect(near(px.left, RED) && near(px.right, BLUE) && near(px.bg, GREEN)).toBe(true);
  }, 20_000);
});

test('a second updateMixStream swaps the rectangles live: same output, no new stream', async () => {
  const since = Date.now();
  const [id] = await updateMix(anchor, layout('blue', 'red'));
  expect(id).toBe('mix1');
  await eventually(async () => {
    const c = await colours(urls.flvUrls[0]!);
    expect(near(c.left, BLUE) && near(c.right, RED)).toBe(true);
  }, 15_000);
  // Viewers were not told about a new stream, and the WebRTC viewer is still playing it.
  const updates = await viewer.evaluate(
    (since) => (window as any).__events.filter((e: any) => e.name === 'onStreamUpdated' && e.t >= since),
    since,
  );
  expect(updates).toEqual([]);
  await expectMediaFlowing(viewer, 'mix1');
});

test('an input that stops leaves its rectangle to the background; the mix goes on', async () => {
  await other.evaluate(() => (window as any).zg.stopPublishingStream('blue'));
  await eventually(async () => {
    const c = await colours(urls.flvUrls[0]!);
    // Layout is now blue left, red right: the left turns green.
    expect(near(c.left, GREEN) && near(c.right, RED)).toBe(true);
  }, 20_000);
  await expectMediaFlowing(viewer, 'mix1');
});

test('stopMixStream ends it: the room hears 12002, no ffmpeg, forward or port is left', async () => {
  const since = Date.now() - 1;
  await anchor.evaluate(() =>
    (window as any).zg.stopMixStream(
      { outputStreamId: 'mix1' },
      (window as any).__record('stopOk'),
      (window as any).__record('stopErr'),
    ),
  );
  await waitForEvent(anchor, 'stopOk', () => true, 10_000, since);
  await waitForEvent(
    viewer,
    'onStreamUpdated',
    (a) => a[0] === 1 && (a[1] as any[])[0].stream_id === 'mix1',
    10_000,
    since,
  );
  await eventually(async () => {
    const h = await suite.server.health();
    const live = (h as any).live;
    expect(live.mixTasks).toEqual([]);
    expect(live.udpPortsInUse).toBe(0);
  }, 5000);
});

/** Resolves when the room tells `page` that `streamId` was deleted (12002 as onStreamUpdated type 1). */
function streamDeleted(page: Page, streamId: string, since: number, ms: number) {
  return waitForEvent(
    page,
    'onStreamUpdated',
    (a) => a[0] === 1 && (a[1] as any[]).some((s) => s.stream_id === streamId),
    ms,
    since,
  );
}

async function noTaskLeft(): Promise<void> {
  await eventually(async () => {
    const live = ((await suite.server.health()) as any).live;
    expect(live.mixTasks).toEqual([]);
    expect(live.udpPortsInUse).toBe(0);
  }, 5000);
}

test('outputBgImage preset-id://NAME: the picture mapped in mix.bgImages is the background', async () => {
  await updateMix(anchor, {
    outputStreamId: 'mix2',
    outputBitrate: 600_000,
    outputFps: 15,
    outputWidth: W,
    outputHeight: H,
    outputBgColor: 0x00ff0000,
    outputBgImage: 'preset-id://magenta',
    streamList: [{ streamId: 'red', top: 0, left: 0, bottom: 300, right: 320 }],
  });
  const flv = `${urls.flvUrls[0]!.replace(/mix1\.flv$/, 'mix2.flv')}`;
  await eventually(async () => {
    const c = await colours(flv);
    // red on the left; the picture (not the green colour) on the right and below.
    expect({ ...c, ok: near(c.left, RED) && near(c.right, MAGENTA) && near(c.bg, MAGENTA) }).toMatchObject({
      ok: true,
    });
  }, 30_000);
  // An unknown preset is refused with a clear error and starts nothing.
  const since = Date.now() - 1;
  const sent = await anchor.evaluate(() =>
    (window as any).zg.updateMixStream(
      {
        outputStreamId: 'mix-nobg',
        outputBitrate: 300_000,
        outputFps: 15,
        outputWidth: 320,
        outputHeight: 240,
        outputBgImage: 'preset-id://nothing',
        streamList: [{ streamId: 'red', top: 0, left: 0, bottom: 240, right: 320 }],
      },
      (window as any).__record('mixOk'),
      (window as any).__record('mixErr'),
    ),
  );
  expect(sent).toBe(true);
  const err = await waitForEvent(anchor, 'mixErr', () => true, 10_000, since);
  expect(JSON.stringify(err.args)).toMatch(/nothing|bgImage|BgImage/);
});

test('a task whose inputs have all been gone for mix.idleStopMs ends, and frees what it held', async () => {
  const since = Date.now() - 1;
  await anchor.evaluate(() => (window as any).zg.stopPublishingStream('red'));
  const gone = await streamDeleted(viewer, 'mix2', since, IDLE_STOP_MS + 15_000);
  // Not before the idle time: the inputs may come back until then.
  expect(gone.t - since).toBeGreaterThanOrEqual(IDLE_STOP_MS - 500);
  await noTaskLeft();
});

test("the owner's logout ends its task at once: the room hears the delete, nothing is left", async () => {
  await publishCanvas(other, 'blue2', { color: '#00f', hz: 1000 });
  await updateMix(anchor, {
    outputStreamId: 'mix3',
    outputBitrate: 300_000,
    outputWidth: 320,
    outputHeight: 240,
    outputFps: 15,
    streamList: [{ streamId: 'blue2', top: 0, left: 0, bottom: 240, right: 320 }],
  });
  const since = Date.now() - 1;
  await anchor.evaluate(() => (window as any).zg.logout());
  const gone = await streamDeleted(viewer, 'mix3', since, 10_000);
  expect(gone.t - since).toBeLessThan(IDLE_STOP_MS);
  await noTaskLeft();
});
