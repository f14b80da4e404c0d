/**
 * Audio effects and mixing as a viewer hears them (seed 1.33-1.40, 1.8's mixingBuffer), and
 * getAudioInfo (3.5): real Chromium, our server, Janus. The publisher's fake microphone plays a 440 Hz
 * tone (a WAV fed as the fake capture, the capture's audio processing off so the tone stays clean); the
 * effects, the <audio> element and the mixed buffers play other tones, made in the page. The viewer's
 * received audio goes through a Web Audio analyser (spec/helpers/audioProbe.ts): each tone's level, in
 * dB, tells what reaches the viewer: both while an effect plays, only the effect with `replace`, the
 * microphone again once `end` fired; volume 50 is -6 dB; a paused effect is gone and comes back.
 * Bad input gets the legacy answer (false or the error callback), never an exception. Two tabs.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { installAudioTools, spectrum } from '../helpers/audioProbe';
import { launchChromium, waitForEvent } from '../helpers/browser';
import { writeToneWav } from '../helpers/legacySite';
import { loggedInPage, play, publish, startPreview } from '../helpers/mediaPage';
import { startMediaServer, type MediaServer } from '../helpers/mediaServer';

jest.setTimeout(60_000);

const MIC = 440;
const EFFECT = 1200;
const MUSIC = 2000;
const CHUNK1 = 3000;
const CHUNK2 = 3600;
const TONES = [MIC, EFFECT, MUSIC, CHUNK1, CHUNK2];
/** A 0.5 sine arrives at about -20 dB; silence at a tone's frequency is below -70 dB. */
const PRESENT = -40;
const ABSENT = -60;
/** setMixingAudioVolume(50): half the amplitude, -6.02 dB. */
const HALF_DB = 20 * Math.log10(0.5);

let server: MediaServer;
let browser: Browser;
let context: BrowserContext;
let tmp: string;
let pub: Page;
let viewer: Page;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'zego-mixing-'));
  const wav = join(tmp, 'mic.wav');
  writeToneWav(wav, MIC, 0.5, 2);
  server = await startMediaServer();
  browser = await launchChromium([`--use-file-for-fake-audio-capture=${wav}`]);
  context = await browser.newContext();
  pub = await loggedInPage(context, server.url, 'fx-pub', 'fx-room');
  await installAudioTools(pub);
  await pub.evaluate(() => {
    const w = window as any;
    for (const n of ['effectStart', 'effectEnd']) w[n] = w.__record(n);
  });
  // Audio only, and the capture's processing off: a steady tone is what noise suppression removes.
  await startPreview(pub, 'local', {
    video: false,
    noiseSuppression: false,
    autoGainControl: false,
    echoCancellation: false,
  });
  await publish(pub, 'fx');
  viewer = await loggedInPage(context, server.url, 'fx-view', 'fx-room');
  await installAudioTools(viewer);
  await play(viewer, 'fx');
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

afterEach(() => {
  // Nothing the user would notice: no uncaught exception in either page.
  for (const p of [pub, viewer]) {
    const lines = ((p as Page & { consoleLines?: string[] }).consoleLines ?? []).filter((l) =>
      l.startsWith('[pageerror]'),
    );
    expect(lines).toEqual([]);
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the viewer hears: dB by tone. */
async function heard(ms = 1000): Promise<Record<number, number>> {
  const levels = await spectrum(viewer, 'play-fx', TONES, ms);
  return Object.fromEntries(TONES.map((f, i) => [f, Math.round(levels[i]! * 10) / 10]));
}

/** The tones present (above PRESENT); fails on a tone between PRESENT and ABSENT (neither clearly). */
function present(levels: Record<number, number>): number[] {
  const unclear = TONES.filter((f) => levels[f]! < PRESENT && levels[f]! > ABSENT);
  if (unclear.length) throw new Error(`unclear levels ${JSON.stringify(levels)}`);
  return TONES.filter((f) => levels[f]! >= PRESENT);
}

/** Evaluates a zg call in the publisher page. */
function call<T = unknown>(fn: string, ...args: unknown[]): Promise<T> {
  return pub.evaluate(
    ({ fn, args }) => new Function('zg', 'w', 'args', `return ${fn}`)((window as any).zg, window, args),
    {
      fn,
      args,
    },
  ) as Promise<T>;
}

/** preloadEffect of a tone made in the page; resolves with the callback's arguments. */
function preloadTone(id: number, hz: number, seconds: number): Promise<unknown[]> {
  return pub.evaluate(
    ({ id, hz, seconds }) =>
      new Promise<unknown[]>((resolve) => {
        const w = window as any;
        w.zg.preloadEffect(id, w.__wavUrl(hz, seconds), (...a: unknown[]) => resolve(a.map(String)));
      }),
    { id, hz, seconds },
  );
}

test('an effect reaches the viewer with the microphone, alone with replace, and the microphone alone again after end', async () => {
  expect(present(await heard())).toEqual([MIC]);
  expect(await preloadTone(1, EFFECT, 2.5)).toEqual([]);
  let since = Date.now();
  expect(await call(`zg.playEffect({ streamId: 'fx', effectId: 1 }, w.effectStart, w.effectEnd)`)).toBe(true);
  await waitForEvent(pub, 'effectStart', () => true, 1000, since);
  await sleep(400);
  expect(present(await heard())).toEqual([MIC, EFFECT]);
  await waitForEvent(pub, 'effectEnd', () => true, 5000, since);
  await sleep(500);
  expect(present(await heard())).toEqual([MIC]);

  since = Date.now();
  expect(await call(`zg.playEffect({ streamId: 'fx', effectId: 1, replace: true }, null, w.effectEnd)`)).toBe(
    true,
  );
  await sleep(500);
  expect(present(await heard())).toEqual([EFFECT]);
  await waitForEvent(pub, 'effectEnd', () => true, 5000, since);
  await sleep(500);
  expect(present(await heard())).toEqual([MIC]);
});

test('a looping effect: volume 50 is -6 dB, pause silences it, resume brings it back at that volume, stopMixingAudio ends it', async () => {
  expect(await call(`zg.playEffect({ streamId: 'fx', effectId: 1, loop: true })`)).toBe(true);
  await sleep(400);
  const full = await heard();
  expect(present(full)).toEqual([MIC, EFFECT]);
  expect(await call(`zg.setMixingAudioVolume('fx', 50)`)).toBe(true);
  await sleep(400);
  const half = await heard();
  expect(half[EFFECT]! - full[EFFECT]!).toBeGreaterThan(HALF_DB - 1.5);
  expect(half[EFFECT]! - full[EFFECT]!).toBeLessThan(HALF_DB + 1.5);
  // The microphone is not touched by the mixing volume.
  expect(Math.abs(half[MIC]! - full[MIC]!)).toBeLessThan(1.5);
  expect(await call(`zg.pauseEffect('fx')`)).toBe(true);
  await sleep(400);
  expect(present(await heard())).toEqual([MIC]);
  expect(await call(`zg.resumeEffect('fx')`)).toBe(true);
  await sleep(400);
  const resumed = await heard();
  expect(present(resumed)).toEqual([MIC, EFFECT]);
  expect(Math.abs(resumed[EFFECT]! - half[EFFECT]!)).toBeLessThan(1.5);
  expect(await call(`zg.stopMixingAudio('fx')`)).toBe(true);
  expect(await call(`zg.setMixingAudioVolume('fx', 100)`)).toBe(true);
  await sleep(400);
  expect(present(await heard())).toEqual([MIC]);
});

test('<audio> mixing: with the microphone, then in its place with replace; stopMixingAudio puts the microphone back', async () => {
  await pub.evaluate((hz) => {
    const w = window as any;
    const a = document.createElement('audio');
    a.id = 'music';
    a.loop = true;
    a.src = w.__wavUrl(hz, 1);
    document.body.appendChild(a);
    return a.play();
  }, MUSIC);
  expect(await call(`zg.startMixingAudio('fx', document.getElementById('music'), false)`)).toBe(true);
  await sleep(400);
  const full = await heard();
  expect(present(full)).toEqual([MIC, MUSIC]);
  expect(await call(`zg.setMixingAudioVolume('fx', 50)`)).toBe(true);
  await sleep(400);
  const half = await heard();
  expect(half[MUSIC]! - full[MUSIC]!).toBeGreaterThan(HALF_DB - 1.5);
  expect(half[MUSIC]! - full[MUSIC]!).toBeLessThan(HALF_DB + 1.5);
  expect(await call(`zg.setMixingAudioVolume('fx', 100)`)).toBe(true);
  expect(await call(`zg.stopMixingAudio('fx', [document.getElementById('music')])`)).toBe(true);
  await sleep(400);
  expect(present(await heard())).toEqual([MIC]);
  expect(await call(`zg.startMixingAudio('fx', [document.getElementById('music')], true)`)).toBe(true);
  await sleep(400);
  expect(present(await heard())).toEqual([MUSIC]);
  expect(await call(`zg.stopMixingAudio('fx')`)).toBe(true);
  await sleep(400);
  expect(present(await heard())).toEqual([MIC]);
  await pub.evaluate(() => (document.getElementById('music') as HTMLAudioElement).pause());
});

test('mixingBuffer: chunks heard one after the other, then the microphone alone; stopMixingBuffer', async () => {
  const done = await pub.evaluate(
    ({ a, b }) =>
      new Promise<unknown[][]>((resolve) => {
        const w = window as any;
        const calls: unknown[][] = [];
        const cb = (...x: unknown[]) => {
          calls.push(x.map(String));
          if (calls.length === 2) resolve(calls);
        };
        w.zg.mixingBuffer('fx', 'tts', w.__wav(a, 2), cb);
        w.zg.mixingBuffer('fx', 'tts', w.__wav(b, 2), cb);
      }),
    { a: CHUNK1, b: CHUNK2 },
  );
  const t0 = Date.now();
  expect(done).toEqual([[], []]);
  await sleep(400);
  expect(present(await heard(800))).toEqual([MIC, CHUNK1]);
  await sleep(2600 - (Date.now() - t0));
  expect(present(await heard(800))).toEqual([MIC, CHUNK2]);
  await sleep(4600 - (Date.now() - t0));
  expect(present(await heard(800))).toEqual([MIC]);
  expect(await call(`zg.stopMixingBuffer('fx')`)).toBe(true);
});

test('bad input: false or the error callback, never an exception', async () => {
  expect(await preloadTone(2, EFFECT, 1)).toEqual([]);
  const r = await pub.evaluate(async () => {
    const w = window as any;
    const zg = w.zg;
    const cb = (f: (done: (...a: unknown[]) => void) => void) =>
      new Promise<string[]>((resolve) =>
        f((...a) => resolve(a.map((x) => ((x as any)?.msg ? JSON.stringify(x) : String(x))))),
      );
    const out: Record<string, unknown> = {
      unknownEffect: zg.playEffect({ streamId: 'fx', effectId: 99 }),
      notPublished: zg.playEffect({ streamId: 'nope', effectId: 2 }),
      noConfig: zg.playEffect(),
      first: zg.playEffect({ streamId: 'fx', effectId: 2, loop: true }),
      second: zg.playEffect({ streamId: 'fx', effectId: 2 }),
      volume101: zg.setMixingAudioVolume('fx', 101),
      volumeNegative: zg.setMixingAudioVolume('fx', -1),
      volumeString: zg.setMixingAudioVolume('fx', '50'),
      volumeNotPublished: zg.setMixingAudioVolume('nope', 50),
      pauseNotPublished: zg.pauseEffect('nope'),
      mixNotAnElement: zg.startMixingAudio('fx', {}, false),
      unloadZero: zg.unloadEffect(0),
    };
    out.stopped = zg.stopMixingAudio('fx');
    out.resumeNothing = zg.resumeEffect('fx');
    out.missingFile = await cb((d) => zg.preloadEffect(3, `${location.origin}/no-such-file.wav`, d));
    out.notAudio = await cb((d) =>
      zg.preloadEffect(4, URL.createObjectURL(new Blob(['not audio'], { type: 'text/plain' })), d),
    );
    out.badId = await cb((d) => zg.preloadEffect('x', 'y', d));
    out.bufferNotPublished = await cb((d) => zg.mixingBuffer('nope', 's', new ArrayBuffer(8), d));
    out.bufferNotABuffer = await cb((d) => zg.mixingBuffer('fx', 's', 'bytes', d));
    out.bufferNotAudio = await cb((d) => zg.mixingBuffer('fx', 's', new ArrayBuffer(8), d));
    return out;
  });
  const param = [JSON.stringify({ code: 'ZegoClient.Error.Param', msg: 'params error' })];
  expect(r).toEqual({
    unknownEffect: false,
    notPublished: false,
    noConfig: false,
    first: true,
    second: false,
    volume101: false,
    volumeNegative: false,
    volumeString: false,
    volumeNotPublished: false,
    pauseNotPublished: false,
    mixNotAnElement: false,
    unloadZero: false,
    stopped: true,
    resumeNothing: false,
    missingFile: ['Not Found'],
    notAudio: [expect.stringContaining('EncodingError')],
    badId: param,
    bufferNotPublished: param,
    bufferNotABuffer: param,
    bufferNotAudio: [expect.stringContaining('EncodingError')],
  });
  await sleep(400);
  expect(present(await heard())).toEqual([MIC]);
});

test('getAudioInfo(preview).instant: the tone vs silence (microphone off)', async () => {
  const read = () =>
    pub.evaluate(async () => {
      const w = window as any;
      const info = w.ZegoClient.getAudioInfo(document.getElementById('local'), w.__record('audioInfoErr'));
      const values: number[] = [];
      for (let i = 0; i < 8; i++) {
        await new Promise((r) => setTimeout(r, 100));
        values.push(info.instant);
      }
      info.stop();
      return values.sort((a, b) => a - b)[4]!;
    });
  const tone = await read();
  expect(await call(`zg.enableMicrophone(document.getElementById('local'), false)`)).toBe(true);
  const silence = await read();
  expect(await call(`zg.enableMicrophone(document.getElementById('local'), true)`)).toBe(true);
  // The RMS of a 0.5 sine is 0.354.
  expect(tone).toBeGreaterThan(0.25);
  expect(tone).toBeLessThan(0.45);
  expect(silence).toBeLessThan(0.01);
  expect(await call(`w.ZegoClient.getAudioInfo(document.createElement('video'))`)).toBe(false);
});
