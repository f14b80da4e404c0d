/**
 * Legacy pages (spec/pages: a shared common.js, an anchor, a viewer with a play-mode selector, a device
 * check using the callback navigator.getUserMedia) served from their own site, as users have them. Each
 * runs first with the vendor's jZego-rtc 1.12.5 (the reference: room features and everything before
 * media must behave the same) and then with our jZego-rtc.js, against our server and Janus in real
 * Chromium (inside scripts/netns.sh). Assertions are what a user sees: no uncaught exception, no
 * alert(), video frames advancing, audio-only audible, sound levels that follow the microphone, and a
 * publisher leaving without a play error.
 * The fake microphone plays a steady tone (a generated WAV), so sound levels have something to measure.
 * At most four tabs play at once.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, type SdkFlavour } from '../helpers/browser';
import {
  openLegacyPage,
  startLegacySite,
  writeToneWav,
  type LegacyPage,
  type LegacySite,
} from '../helpers/legacySite';
import { APPID } from '../helpers/mediaPage';
import { startMediaServer, type MediaServer } from '../helpers/mediaServer';

jest.setTimeout(60_000);

let server: MediaServer;
let site: LegacySite;
let browser: Browser;
let context: BrowserContext;
let tmp: string;
const opened: Page[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'zego-legacy-pages-'));
  const wav = join(tmp, 'tone.wav');
  writeToneWav(wav);
  server = await startMediaServer();
  site = await startLegacySite(server.url);
  browser = await launchChromium([`--use-file-for-fake-audio-capture=${wav}`]);
  context = await browser.newContext();
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await site?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close().catch(() => {})));
});

const ws = () => server.url.replace('http', 'ws') + '/ws';

async function open(
  flavour: SdkFlavour,
  file: string,
  query: Record<string, string> = {},
): Promise<LegacyPage> {
  const lp = await openLegacyPage(() => context.newPage(), site.url, flavour, file, {
    appid: String(APPID),
    server: ws(),
    ...query,
  });
  opened.push(lp.page);
  return lp;
}

/** Nothing the user would notice went wrong. */
function expectClean(lp: LegacyPage, what: string): void {
  expect({ what, errors: lp.errors, alerts: lp.dialogs }).toEqual({ what, errors: [], alerts: [] });
}

/** A page global (a `var` of the page's scripts). */
function global<T>(lp: LegacyPage, name: string): Promise<T> {
  return lp.page.evaluate((n) => (window as unknown as Record<string, unknown>)[n], name) as Promise<T>;
}

/** Waits (bounded) for a page condition, with the page's log and alerts in the failure. */
async function until(lp: LegacyPage, what: string, fn: string, ms = 15_000): Promise<void> {
  try {
    await lp.page.waitForFunction(fn, null, { timeout: ms, polling: 100 });
  } catch (e) {
    const logs = await global<string[]>(lp, 'logs').catch(() => []);
    throw new Error(
      `${what}: ${(e as Error).message.split('\n')[0]}\n alerts: ${JSON.stringify(lp.dialogs)}\n` +
        ` errors: ${JSON.stringify(lp.errors)}\n page log: ${JSON.stringify(logs)}`,
    );
  }
}

const levelsOf = async (lp: LegacyPage, id: string, type: string, since: number): Promise<number[]> =>
  lp.page.evaluate(
    ({ id, type, since }) =>
      (
        window as unknown as {
          soundLevels: { t: number; list: { streamID: string; soundLevel: number; type: string }[] }[];
        }
      ).soundLevels
        .filter((r) => r.t >= since)
        .flatMap((r) => r.list.filter((i) => i.streamID === id && i.type === type).map((i) => i.soundLevel)),
    { id, type, since },
  );

/** Waits until `n` sound-level reports for (id, type) arrived after `since`; returns their levels. */
async function nextLevels(lp: LegacyPage, id: string, type: string, n: number): Promise<number[]> {
  const since = Date.now();
  const deadline = since + n * 1000 + 5000;
  for (;;) {
    const l = await levelsOf(lp, id, type, since);
    if (l.length >= n) return l.slice(0, n);
    if (Date.now() > deadline)
      throw new Error(`no ${n} sound levels for ${type} ${id}: ${JSON.stringify(l)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The played <video> of a stream: frames decoded and time over `ms`. */
async function progress(lp: LegacyPage, streamId: string, ms = 1500) {
  const probe = () =>
    lp.page.evaluate((id) => {
      const v = document.getElementById(`play-${id}`) as HTMLVideoElement | null;
      if (!v) return null;
      const src = v.srcObject as MediaStream | null;
      return {
        frames: v.getVideoPlaybackQuality().totalVideoFrames,
        time: v.currentTime,
        readyState: v.readyState,
        width: v.videoWidth,
        kinds: src ? src.getTracks().map((t) => t.kind) : [],
      };
    }, streamId);
  const a = await probe();
  await new Promise((r) => setTimeout(r, ms));
  const b = await probe();
  if (!a || !b) throw new Error(`no <video> for ${streamId}`);
  return { before: a, after: b };
}

const FLAVOURS: SdkFlavour[] = ['original', 'shim'];
/** Sound level of the fake microphone's tone, well above silence (0). */
const TONE_MIN = 2;

describe('the shared script at load', () => {
  test('version, browser check, sound level delegate, devices and buttons: the same with 1.12.5 and the shim, no exception, no alert', async () => {
    const seen: Record<string, unknown> = {};
    for (const flavour of FLAVOURS) {
      const lp = await open(flavour, 'viewer.html', { idName: `load-${flavour}` });
      await until(lp, `${flavour}: detection and devices`, 'detectResult !== null && deviceList !== null');
      seen[flavour] = await lp.page.evaluate(() => {
        const w = window as unknown as Record<string, any>;
        return {
          version: document.getElementById('version')!.textContent,
          detect: w.detectResult,
          cameras: w.deviceList.cameras.length,
          microphones: w.deviceList.microphones.length,
          bound: typeof document.getElementById('loginBtn')!.onclick,
          legacyGum: typeof (navigator as unknown as Record<string, unknown>).getUserMedia,
        };
      });
      expectClean(lp, flavour);
    }
    expect(seen.original).toEqual({
      version: '1.12.5',
      detect: {
        webRtc: true,
        capture: true,
        videoDecodeType: { H264: true, VP8: true },
        screenSharing: true,
      },
      cameras: 1,
      microphones: expect.any(Number),
      bound: 'function',
      legacyGum: 'function',
    });
    // screenSharing too: the shim shares the screen (getDisplayMedia), so it reports what the browser can.
    expect(seen.shim).toEqual(seen.original);
  });

  test("the shim's other checks (from the seed's API; 1.12.5 no longer has them) answer from the browser", async () => {
    const lp = await open('shim', 'viewer.html', { idName: 'checks' });
    const r = await lp.page.evaluate(async () => {
      const Z = (window as unknown as Record<string, any>).ZegoClient;
      return {
        webrtc: Z.isSupportWebrtc(),
        h264: await new Promise((ok, err) => Z.isSupportH264(ok, err)),
        types: await new Promise((ok, err) => Z.supportVideoCodeType(ok, err)),
      };
    });
    expect(r).toEqual({ webrtc: true, h264: true, types: { H264: true, VP8: true, VP9: true, H265: false } });
    const original = await open('original', 'viewer.html', { idName: 'checks-o' });
    expect(await original.page.evaluate(() => typeof (window as any).ZegoClient.isSupportWebrtc)).toBe(
      'undefined',
    );
    expectClean(lp, 'shim');
  });
});

describe('a call: anchor, viewers with the play-mode selector, the anchor leaving', () => {
  const ROOM = 'legacy-call';
  const STREAM = 'anchor-cam';
  let anchor: LegacyPage;

  test('anchor page: stateCenter.role read in the login callback, then preview and publish; the same state with 1.12.5', async () => {
    const state: Record<string, unknown> = {};
    for (const flavour of FLAVOURS) {
      const lp = await open(flavour, 'anchor.html', {
        idName: 'anchor',
        nickName: 'Anchor',
        room: `${ROOM}-${flavour}`,
        streamId: STREAM,
      });
      await until(lp, `${flavour}: buttons bound`, 'deviceList !== null');
      // 1.12.5 stops before media: publishing to our server it throws while building its
      // RTCPeerConnection from the empty TURN/STUN fields of our CreateSessionRsp.
      if (flavour === 'original') await lp.page.uncheck('#autoPublish');
      await lp.page.click('#loginBtn');
      await until(lp, `${flavour}: login callback`, 'stateAtLogin !== undefined');
      expect(await global(lp, 'roleAtLogin')).toBe(1);
      state[flavour] = await global(lp, 'stateAtLogin');
      // The page went on to publish (the role said anchor).
      await until(lp, `${flavour}: preview`, "document.getElementById('preview').videoWidth > 0");
      if (flavour === 'shim') {
        await until(lp, 'shim: publish success', `logs.indexOf('publish success ${STREAM}') >= 0`, 20_000);
        anchor = lp;
        opened.splice(opened.indexOf(lp.page), 1); // kept for the next tests
      }
      expectClean(lp, flavour);
    }
    const norm = (s: unknown) => JSON.parse(JSON.stringify(s).split(`${ROOM}-original`).join(`${ROOM}-shim`));
    expect(norm(state.shim)).toEqual(norm(state.original));
    expect(state.shim).toMatchObject({
      role: 1,
      idName: 'anchor',
      runState: 2,
      isLogin: true,
      userid: 'anchor',
    });
  });

  test('the anchor hears itself: sound levels of the tone, 0 when muted', async () => {
    expect(anchor).toBeDefined();
    const tone = await nextLevels(anchor, STREAM, 'push', 2);
    await anchor.page.click('#micBtn');
    await nextLevels(anchor, STREAM, 'push', 1); // the report in flight when the click came
    const muted = await nextLevels(anchor, STREAM, 'push', 2);
    await anchor.page.click('#micBtn');
    await nextLevels(anchor, STREAM, 'push', 1);
    const back = await nextLevels(anchor, STREAM, 'push', 1);
    // The capture's audio processing (AGC, noise suppression) brings the 0.5 sine to a steady ~5.
    expect(Math.min(...tone)).toBeGreaterThan(TONE_MIN);
    expect(muted).toEqual([0, 0]);
    expect(back[0]).toBeGreaterThan(TONE_MIN);
    expectClean(anchor, 'anchor');
  });

  let auto: LegacyPage;
  let audioOnly: LegacyPage;

  test('viewer page, play mode left at "auto": the same login list as 1.12.5, then video frames advance and audio plays', async () => {
    expect(anchor).toBeDefined();
    // 1.12.5 up to the login list only, the play checkbox off (its playing, through the bridge: bridge.test.ts).
    const original = await open('original', 'viewer.html', { idName: 'viewer-o', room: `${ROOM}-shim` });
    await until(original, 'original: loaded', 'deviceList !== null');
    await original.page.uncheck('#autoPlay');
    await original.page.click('#loginBtn');
    await until(original, 'original: login', 'streamsAtLogin !== undefined');
    const originalList = await global(original, 'streamsAtLogin');
    expectClean(original, 'original viewer');

    auto = await open('shim', 'viewer.html', { idName: 'viewer-auto', room: `${ROOM}-shim` });
    await until(auto, 'shim: loaded', 'deviceList !== null');
    expect(await auto.page.inputValue('#playType')).toBe('auto');
    await auto.page.click('#loginBtn');
    await until(auto, 'shim: login', 'streamsAtLogin !== undefined');
    expect(await global(auto, 'streamsAtLogin')).toEqual(originalList);
    expect(originalList).toEqual([`${STREAM} by anchor`]);
    await until(auto, 'shim: play success', `logs.indexOf('play success ${STREAM}') >= 0`, 20_000);
    await until(auto, 'shim: first frames', `document.getElementById('play-${STREAM}').currentTime > 0.3`);
    const p = await progress(auto, STREAM);
    expect(p.after.kinds.sort()).toEqual(['audio', 'video']);
    expect(p.after.frames - p.before.frames).toBeGreaterThan(10);
    expect(p.after.time).toBeGreaterThan(p.before.time + 0.5);
    expect(p.after.readyState).toBeGreaterThanOrEqual(2);
    expect(p.after.width).toBeGreaterThan(0);
    opened.splice(opened.indexOf(auto.page), 1);
    expectClean(auto, 'auto viewer');
  });

  test('viewer page, play mode "audio": audible at once (readyState >= 2, time advancing), no video', async () => {
    audioOnly = await open('shim', 'viewer.html', { idName: 'viewer-audio', room: `${ROOM}-shim` });
    await until(audioOnly, 'loaded', 'deviceList !== null');
    await audioOnly.page.selectOption('#playType', 'audio');
    await audioOnly.page.click('#loginBtn');
    await until(audioOnly, 'play success', `logs.indexOf('play success ${STREAM}') >= 0`, 20_000);
    await until(audioOnly, 'audio playing', `document.getElementById('play-${STREAM}').readyState >= 2`);
    const p = await progress(audioOnly, STREAM);
    expect(p.after.kinds).toEqual(['audio']);
    expect(p.after.readyState).toBeGreaterThanOrEqual(2);
    expect(p.after.time).toBeGreaterThan(p.before.time + 0.5);
    expect(p.after.width).toBe(0);
    opened.splice(opened.indexOf(audioOnly.page), 1);
    expectClean(audioOnly, 'audio viewer');
  });

  test("the viewers' sound levels follow the anchor's microphone: the tone, then silence when it mutes", async () => {
    const tone = await nextLevels(auto, STREAM, 'pull', 2);
    const toneAudio = await nextLevels(audioOnly, STREAM, 'pull', 1);
    await anchor.page.click('#micBtn');
    // Reports in flight and the jitter buffer: skip two, then silence.
    await nextLevels(auto, STREAM, 'pull', 2);
    const silent = await nextLevels(auto, STREAM, 'pull', 2);
    await anchor.page.click('#micBtn');
    expect(Math.min(...tone, ...toneAudio)).toBeGreaterThan(TONE_MIN);
    expect(Math.max(...silent)).toBeLessThan(0.5);
    expectClean(auto, 'auto viewer');
  });

  test('the anchor leaves: the viewers see the stream deleted, stop it themselves, no play error, no alert', async () => {
    await anchor.page.click('#leaveBtn');
    for (const v of [auto, audioOnly])
      await until(v, 'stream deleted', `logs.indexOf('stream deleted ${STREAM}') >= 0`, 10_000);
    // Longer than any wait for the room's delete: a late error would show now.
    await new Promise((r) => setTimeout(r, 1500));
    for (const v of [auto, audioOnly]) {
      const logs = await global<string[]>(v, 'logs');
      expect(logs.filter((l) => /play (retry|failed)/.test(l))).toEqual([]);
      expect(await v.page.evaluate((id) => !!document.getElementById(`play-${id}`), STREAM)).toBe(false);
      expectClean(v, 'viewer after the anchor left');
    }
    expectClean(anchor, 'anchor');
    await Promise.all([anchor, auto, audioOnly].map((p) => p.page.close()));
  });

  test("an anchor whose tab closes: its viewer's player ends without an error either", async () => {
    const a = await open('shim', 'anchor.html', {
      idName: 'anchor2',
      room: 'legacy-close',
      streamId: 'cam2',
    });
    await until(a, 'loaded', 'deviceList !== null');
    await a.page.click('#loginBtn');
    await until(a, 'publish', "logs.indexOf('publish success cam2') >= 0", 20_000);
    const v = await open('shim', 'viewer.html', { idName: 'viewer2', room: 'legacy-close' });
    await until(v, 'loaded', 'deviceList !== null');
    await v.page.click('#loginBtn');
    await until(v, 'play success', "logs.indexOf('play success cam2') >= 0", 20_000);
    await a.page.close();
    await until(v, 'stream deleted', "logs.indexOf('stream deleted cam2') >= 0", 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await global<string[]>(v, 'logs')).filter((l) => /play (retry|failed)/.test(l))).toEqual([]);
    expectClean(v, 'viewer');
  });
});

describe('other pages', () => {
  test('device check with the callback navigator.getUserMedia at load: camera shown, with 1.12.5 and the shim', async () => {
    for (const flavour of FLAVOURS) {
      const lp = await open(flavour, 'gum.html');
      await until(lp, `${flavour}: getUserMedia callback`, 'gumResult !== null');
      expect(await global(lp, 'gumResult')).toBe('ok 1 audio 1 video');
      await until(lp, `${flavour}: camera shown`, "document.getElementById('check').readyState >= 2");
      expectClean(lp, flavour);
    }
  });

  test('an anchor page fetching its token from the SDK server, another origin (CORS)', async () => {
    for (const flavour of FLAVOURS) {
      const lp = await open(flavour, 'anchor.html', {
        idName: `cors-${flavour}`,
        room: `legacy-cors-${flavour}`,
        tokenUrl: `${server.url}/token`,
      });
      await until(lp, `${flavour}: loaded`, 'deviceList !== null');
      if (flavour === 'original') await lp.page.uncheck('#autoPublish');
      await lp.page.click('#loginBtn');
      await until(lp, `${flavour}: login with the cross-origin token`, 'stateAtLogin !== undefined', 10_000);
      expectClean(lp, flavour);
    }
  });
});
