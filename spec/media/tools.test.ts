/**
 * Snapshots (3.6), recording (3.7-3.11), a failing device (1.9+) and screen sharing (4, 2.23) as a user
 * sees them: real Chromium, our server, Janus.
 *  - The viewer snapshots the anchor's played video: the <img> has the video's size and the fake
 *    camera's pixels; saveSnapShot downloads a PNG of that size.
 *  - The viewer records the played stream, with a pause: the downloaded webm plays in ffprobe (Debian's
 *    ffmpeg) with the recorded time, the paused time left out; an audio-only recording has no video.
 *  - The anchor's camera track ends by itself (stopped, and `ended` dispatched, as a browser does for an
 *    unplugged device): onDeviceError once, and the viewer hears the camera is off.
 *  - Screen sharing in headless Chromium 156: with `--use-fake-ui-for-media-stream`, getDisplayMedia
 *    returns a fake 1280x720 "screen" whatever else is asked, which never ends; without it,
 *    `--auto-select-tab-capture-source-by-title=<title>` captures that tab (its viewport's size), and
 *    closing the tab ends the capture, as a user's "Stop sharing" does. So the sharer runs in a second
 *    Chromium without the fake UI: the viewer decodes frames of the shared tab's size, and closing the
 *    tab fires onScreenSharingEnded exactly once.
 * At most four tabs at once.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, waitForEvent } from '../helpers/browser';
import { loggedInPage, play, publish, startPreview } from '../helpers/mediaPage';
import { startMediaServer, type MediaServer } from '../helpers/mediaServer';

jest.setTimeout(60_000);

let server: MediaServer;
let browser: Browser;
let context: BrowserContext;
let tmp: string;

beforeAll(async () => {
  try {
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
  } catch {
    throw new Error('ffprobe not found: the recording tests need it (apt-get install -y ffmpeg)');
  }
  tmp = mkdtempSync(join(tmpdir(), 'zego-tools-'));
  server = await startMediaServer();
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true });
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pageErrors(p: Page): string[] {
  return ((p as Page & { consoleLines?: string[] }).consoleLines ?? []).filter((l) =>
    l.startsWith('[pageerror]'),
  );
}

/** ffprobe's streams (codec type and name) and the last packet's time per stream type, s. */
function probe(file: string): { streams: string[]; end: Record<string, number> } {
  const json = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_packets', '-of', 'json', file], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }),
  ) as {
    streams: { index: number; codec_type: string; codec_name: string }[];
    packets: { stream_index: number; pts_time?: string }[];
  };
  const end: Record<string, number> = {};
  for (const p of json.packets) {
    const type = json.streams.find((s) => s.index === p.stream_index)!.codec_type;
    end[type] = Math.max(end[type] ?? 0, Number(p.pts_time ?? 0));
  }
  return { streams: json.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort(), end };
}

/** Runs `action` in the page and saves the download it starts; returns its file name and path. */
async function download(page: Page, action: () => Promise<unknown>): Promise<{ name: string; path: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), action()]);
  const path = join(tmp, dl.suggestedFilename());
  await dl.saveAs(path);
  return { name: dl.suggestedFilename(), path };
}

describe('an anchor and a viewer', () => {
  let anchor: Page;
  let viewer: Page;

  beforeAll(async () => {
    anchor = await loggedInPage(context, server.url, 'tools-anchor', 'tools-room');
    await anchor.evaluate(() => {
      const w = window as any;
      w.zg.onDeviceError = w.__record('onDeviceError');
    });
    await startPreview(anchor, 'local', { videoQuality: 2 });
    await publish(anchor, 'cam');
    viewer = await loggedInPage(context, server.url, 'tools-viewer', 'tools-room');
    await play(viewer, 'cam');
    await viewer.waitForFunction(
      () => (document.getElementById('play-cam') as HTMLVideoElement).videoWidth > 0,
      null,
      { timeout: 15_000 },
    );
  });

  afterEach(() => {
    expect([...pageErrors(anchor), ...pageErrors(viewer)]).toEqual([]);
  });

  test("takeSnapShot: the <img> has the played video's size and the camera's pixels (not black); saveSnapShot downloads that PNG", async () => {
    const shot = await viewer.evaluate(async () => {
      const w = window as any;
      const v = document.getElementById('play-cam') as HTMLVideoElement;
      const img = document.createElement('img');
      const loaded = new Promise((r) => (img.onload = r));
      w.ZegoClient.takeSnapShot(v, img);
      await loaded;
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i]! + px[i + 1]! + px[i + 2]! > 60) lit++;
      return {
        video: [v.videoWidth, v.videoHeight],
        img: [img.naturalWidth, img.naturalHeight],
        jpeg: img.src.startsWith('data:image/jpeg;base64,'),
        lit: lit / (px.length / 4),
      };
    });
    expect(shot.video[0]).toBeGreaterThan(0);
    expect(shot.img).toEqual(shot.video);
    expect(shot.jpeg).toBe(true);
    // Chromium's fake camera: a bright test pattern over most of the frame.
    expect(shot.lit).toBeGreaterThan(0.5);

    const file = await download(viewer, () =>
      viewer.evaluate(() =>
        (window as any).ZegoClient.saveSnapShot(document.getElementById('play-cam'), 'snap'),
      ),
    );
    expect(file.name).toBe('snap.png');
    const png = readFileSync(file.path);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // IHDR: width and height at bytes 16 and 20.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual(shot.video);
  });

  test('recording the played stream: 2 s, a 1.5 s pause, 1.5 s more: the webm has video and audio for ~3.5 s; recording twice is an error', async () => {
    const since = Date.now();
    await viewer.evaluate(() => {
      const w = window as any;
      return w.ZegoClient.startRecord(
        document.getElementById('play-cam'),
        undefined,
        w.__record('recordStarted'),
      );
    });
    const started = await waitForEvent(viewer, 'recordStarted', () => true, 5000, since);
    expect(started.args).toEqual([]);
    // A second recording while this one runs: the error callback, and the first goes on.
    await viewer.evaluate(() => {
      const w = window as any;
      return w.ZegoClient.startRecord(
        document.getElementById('play-cam'),
        undefined,
        w.__record('recordTwice'),
      );
    });
    const twice = await waitForEvent(viewer, 'recordTwice', () => true, 5000, since);
    expect(twice.args).toEqual([{ code: 'ZegoClient.Error.Param', msg: 'already recording' }]);
    await sleep(2000);
    await viewer.evaluate(() => (window as any).ZegoClient.pauseRecord());
    await sleep(1500);
    await viewer.evaluate(() => (window as any).ZegoClient.resumeRecord());
    await sleep(1500);
    await viewer.evaluate(() => (window as any).ZegoClient.stopRecord());
    await sleep(300);
    const file = await download(viewer, () =>
      viewer.evaluate(() => (window as any).ZegoClient.saveRecord('clip')),
    );
    expect(file.name).toBe('clip.webm');
    const p = probe(file.path);
    expect(p.streams).toEqual(['audio:opus', expect.stringMatching(/^video:vp[89]$/)]);
    expect(p.end.video).toBeGreaterThan(3.0);
    expect(p.end.video).toBeLessThan(4.1);
    expect(p.end.audio).toBeGreaterThan(3.0);
    expect(p.end.audio).toBeLessThan(4.1);
  });

  test('an audio-only recording ({audio: true}, the microphone): no video stream, ~1.5 s of audio', async () => {
    const since = Date.now();
    await viewer.evaluate(() => {
      const w = window as any;
      return w.ZegoClient.startRecord(
        document.getElementById('play-cam'),
        { audio: true },
        w.__record('audioStarted'),
      );
    });
    expect((await waitForEvent(viewer, 'audioStarted', () => true, 5000, since)).args).toEqual([]);
    await sleep(1500);
    // Read from the URL saveRecord returns (no download without a name).
    const b64 = await viewer.evaluate(async () => {
      const Z = (window as any).ZegoClient;
      Z.stopRecord();
      await new Promise((r) => setTimeout(r, 300));
      const url = Z.saveRecord();
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    });
    const path = join(tmp, 'voice.webm');
    writeFileSync(path, Buffer.from(b64, 'base64'));
    const p = probe(path);
    expect(p.streams).toEqual(['audio:opus']);
    expect(p.end.audio).toBeGreaterThan(1.0);
    expect(p.end.audio).toBeLessThan(2.1);
  });

  test("the anchor's camera track ends by itself: onDeviceError once, the viewer hears the camera is off", async () => {
    const since = Date.now();
    const label = await anchor.evaluate(() => {
      const w = window as any;
      const t = (
        w.zg.engine.media.previews.get(document.getElementById('local')).stream as MediaStream
      ).getVideoTracks()[0]!;
      t.stop();
      t.dispatchEvent(new Event('ended'));
      return t.label;
    });
    const err = await waitForEvent(anchor, 'onDeviceError', () => true, 5000, since);
    expect(err.args).toEqual([{ deviceName: label, deviceType: 'camera', errorCode: -6 }]);
    const off = await waitForEvent(viewer, 'onRemoteCameraStatusUpdate', (a) => a[1] === 2, 10_000, since);
    expect(off.args).toEqual(['cam', 2]);
    await sleep(500);
    const errors = (await anchor.evaluate(() => (window as any).__events)).filter(
      (e: { name: string; t: number }) => e.name === 'onDeviceError' && e.t >= since,
    );
    expect(errors).toHaveLength(1);
  });
});

describe('screen sharing', () => {
  const TITLE = 'ZegoShareTarget';
  let shareBrowser: Browser;

  beforeAll(async () => {
    shareBrowser = await launchChromium(
      [`--auto-select-tab-capture-source-by-title=${TITLE}`],
      ['--use-fake-ui-for-media-stream'],
    );
  });

  afterAll(async () => {
    await shareBrowser?.close().catch(() => {});
  });

  test("the viewer decodes frames of the shared tab's size; closing the tab fires onScreenSharingEnded exactly once", async () => {
    const ctx = await shareBrowser.newContext();
    const target = await ctx.newPage();
    await target.setContent(
      `<title>${TITLE}</title><body style="margin:0;background:#2a6"><h1 style="color:#fff">shared</h1></body>`,
    );
    // The shared surface: the tab's viewport (Playwright's default, 1280x720). An emulated viewport of
    // another size is not what headless tab capture sends (it scales to the window), so the default stays.
    const size = await target.evaluate(() => [innerWidth, innerHeight]);
    expect(size).toEqual([1280, 720]);
    const sharer = await loggedInPage(ctx, server.url, 'sharer', 'screen-room');
    const shared = await sharer.evaluate(
      () =>
        new Promise((resolve) => {
          const w = window as any;
          w.zg.onScreenSharingEnded = w.__record('onScreenSharingEnded');
          w.zg.startScreenSharing(
            { frameRate: 15 },
            false,
            (ok: boolean, stream: MediaStream, err: unknown) => {
              w.screen = stream;
              const s = stream && stream.getVideoTracks()[0]!.getSettings();
              resolve({ ok, err: err ? String(err) : null, size: s ? [s.width, s.height] : null });
            },
          );
        }),
    );
    expect(shared).toEqual({ ok: true, err: null, size });
    // The seed's way: preview the stream (externalMediaStream), then publish it.
    const previewed = await sharer.evaluate(
      () =>
        new Promise((resolve) => {
          const w = window as any;
          const v = document.createElement('video');
          v.id = 'screen';
          v.muted = true;
          document.body.appendChild(v);
          w.zg.startPreview(
            v,
            { externalMediaStream: w.screen },
            () => resolve(true),
            (e: unknown) => resolve(String(e)),
          );
        }),
    );
    expect(previewed).toBe(true);
    await publish(sharer, 'screen', 'screen');
    const viewer = await loggedInPage(ctx, server.url, 'screen-viewer', 'screen-room');
    await play(viewer, 'screen');
    await viewer
      .waitForFunction(
        ([w, h]) => {
          const v = document.getElementById('play-screen') as HTMLVideoElement;
          return (
            v.videoWidth === w && v.videoHeight === h && v.getVideoPlaybackQuality().totalVideoFrames > 5
          );
        },
        size,
        { timeout: 15_000, polling: 200 },
      )
      .catch(async (e: Error) => {
        const got = await viewer.evaluate(() => {
          const v = document.getElementById('play-screen') as HTMLVideoElement;
          return [v.videoWidth, v.videoHeight, v.getVideoPlaybackQuality().totalVideoFrames];
        });
        throw new Error(
          `viewer: ${JSON.stringify(got)} (width, height, frames), want ${JSON.stringify(size)}: ${e.message}`,
        );
      });

    const since = Date.now();
    await target.close();
    await waitForEvent(sharer, 'onScreenSharingEnded', () => true, 5000, since);
    await sleep(1000);
    const ended = (await sharer.evaluate(() => (window as any).__events)).filter(
      (e: { name: string }) => e.name === 'onScreenSharingEnded',
    );
    expect(ended).toHaveLength(1);
    // stopScreenShot afterwards: nothing more.
    await sharer.evaluate(() => (window as any).zg.stopScreenShot());
    expect([...pageErrors(sharer), ...pageErrors(viewer)]).toEqual([]);
    await ctx.close();
  });
});
