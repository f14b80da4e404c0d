/**
 * CDN relay and the origin as CDN pages use them (real Chromium, Janus, ffmpeg, nginx and the HTTP-FLV hub,
 * inside scripts/netns.sh): every stream relayed in dev mode (stream lists carry playable urls_*; a page
 * with flv.js plays urls_flv, filterStreamList picks it), publishTarget addpush/delpush, cdnUrl on publish,
 * refused push URLs, the original SDK 1.12.5 calling updateMixStream, bad mix input, ffmpeg killed mid-task,
 * and nothing left behind (no ffmpeg child, no port).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { devToken, openSdkPage, ROOT, waitForEvent } from '../helpers/browser';
import { publishCanvas } from '../helpers/canvasPublisher';
import { APPID, loggedInPage, MEDIA_CALLBACKS } from '../helpers/mediaPage';
import { eventually } from '../helpers/eventually';
import { useMediaSuite } from '../helpers/mediaServer';
import { grabFrame, near, pixel, probe } from '../helpers/streamProbe';

jest.setTimeout(180_000);

const suite = useMediaSuite();
const ROOM = 'cdn-room';
let pub: Page;
let viewer: Page;

const live = async () => ((await suite.server.health()) as any).live;

/** Frames of `url` decoded by flv.js in a page: the played frame count after a few seconds. */
async function flvJsFrames(page: Page, url: string): Promise<{ before: number; after: number }> {
  await page.addScriptTag({
    content: readFileSync(join(ROOT, 'node_modules/flv.js/dist/flv.min.js'), 'utf8'),
  });
  return page.evaluate(async (url) => {
    const w = window as any;
    if (!w.flvjs.isSupported()) throw new Error('flv.js: MSE not supported');
    const v = document.createElement('video');
    v.muted = true;
    document.body.appendChild(v);
    const p = w.flvjs.createPlayer({ type: 'flv', isLive: true, url });
    p.attachMediaElement(v);
    p.load();
    void v.play();
    const frames = () => v.getVideoPlaybackQuality().totalVideoFrames;
    const until = Date.now() + 15_000;
    while (frames() < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    const before = frames();
    await new Promise((r) => setTimeout(r, 2000));
    return { before, after: frames() };
  }, url);
}

beforeAll(async () => {
  viewer = await loggedInPage(suite.context, suite.server.url, 'cdn-viewer', ROOM);
  pub = await loggedInPage(suite.context, suite.server.url, 'cdn-pub', ROOM);
  await publishCanvas(pub, 'cyan', { color: '#0ff', hz: 600 });
});

test('dev mode relays every stream: the list carries urls_flv/urls_hls/urls_rtmp, flv.js plays urls_flv', async () => {
  const added = await waitForEvent(viewer, 'onStreamUpdated', (a) => a[0] === 0, 15_000);
  const s = (added.args[1] as any[])[0];
  expect(s.urls_flv[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/live\/\d+_cyan\.flv$/);
  expect(s.urls_hls[0]).toMatch(/\/hls\/\d+_cyan\/index\.m3u8$/);
  expect(s.urls_rtmp[0]).toMatch(/^rtmp:\/\/127\.0\.0\.1:\d+\/live\/\d+_cyan$/);
  // filterStreamList: an http: page gets the HTTP-FLV URL.
  expect(await viewer.evaluate(() => (window as any).zg.filterStreamList('cyan'))).toEqual([s.urls_flv[0]]);
  await eventually(async () => {
    const facts = await probe(s.urls_rtmp[0], 15_000);
    expect(facts.video?.codec).toBe('h264');
    const f = await grabFrame(s.urls_flv[0], 320, 240, 0.5);
    expect(near(pixel(f, 320, 160, 120), [0, 255, 255])).toBe(true);
  }, 30_000);
  const { before, after } = await flvJsFrames(viewer, s.urls_flv[0]);
  expect(before).toBeGreaterThan(0);
  expect(after).toBeGreaterThan(before + 10);
});

async function publishTarget(page: Page, cfg: object): Promise<{ name: string; args: unknown[] }> {
  const since = Date.now() - 1;
  const sent = await page.evaluate(
    (c) =>
      (window as any).zg.publishTarget(
        c,
        (window as any).__record('ptOk'),
        (window as any).__record('ptErr'),
      ),
    cfg,
  );
  expect(sent).toBe(true);
  return Promise.race([
    waitForEvent(page, 'ptOk', () => true, 15_000, since),
    waitForEvent(page, 'ptErr', () => true, 15_000, since),
  ]);
}

test('publishTarget: addpush to two origin URLs, delpush one: frames on the kept one only; a foreign host is refused', async () => {
  const rtmp = (await live()).rtmpPort as number;
  const http = (await live()).httpPort as number;
  const a = `rtmp://127.0.0.1:${rtmp}/live/pushA`;
  const b = `rtmp://127.0.0.1:${rtmp}/live/pushB`;
  expect((await publishTarget(pub, { streamId: 'cyan', type: 'addpush', pushUrl: a })).name).toBe('ptOk');
  expect((await publishTarget(pub, { streamId: 'cyan', type: 'addpush', pushUrl: b })).name).toBe('ptOk');
  for (const name of ['pushA', 'pushB'])
    await eventually(async () => {
      const f = await grabFrame(`http://127.0.0.1:${http}/live/${name}.flv`, 320, 240, 0.5);
      expect(near(pixel(f, 320, 160, 120), [0, 255, 255])).toBe(true);
    }, 30_000);
  expect((await publishTarget(pub, { streamId: 'cyan', type: 'delpush', pushUrl: a })).name).toBe('ptOk');
  await expect(probe(a, 6000)).rejects.toThrow();
  const f = await grabFrame(`http://127.0.0.1:${http}/live/pushB.flv`, 320, 240, 0.5);
  expect(near(pixel(f, 320, 160, 120), [0, 255, 255])).toBe(true);
  const refused = await publishTarget(pub, {
    streamId: 'cyan',
    type: 'addpush',
    pushUrl: 'rtmp://cdn.example.com/live/x',
  });
  expect(refused).toMatchObject({
    name: 'ptErr',
    args: [{ code: 1000000019, message: expect.stringContaining('not allowed') }],
  });
  expect((await publishTarget(pub, { streamId: 'cyan', type: 'clearpush', pushUrl: '' })).name).toBe('ptOk');
  await eventually(async () => {
    const targets = (await live()).relays.map((r: any) => r.target);
    expect(targets).toEqual(['auto']);
  }, 5000);
});

test('cdnUrl on publish: the stream is on the origin under that name', async () => {
  const rtmp = (await live()).rtmpPort as number;
  const http = (await live()).httpPort as number;
  const page = await loggedInPage(suite.context, suite.server.url, 'cdn-pub2', ROOM);
  await publishCanvas(page, 'magenta', {
    color: '#f0f',
    hz: 500,
    cdnUrl: `rtmp://127.0.0.1:${rtmp}/live/bycdn`,
  });
  await eventually(async () => {
    const f = await grabFrame(`http://127.0.0.1:${http}/live/bycdn.flv`, 320, 240, 0.5);
    expect(near(pixel(f, 320, 160, 120), [255, 0, 255])).toBe(true);
  }, 30_000);
  // A cdnUrl on a host nobody allowed: the publish fails with the reason.
  const since = Date.now() - 1;
  await page.evaluate(() =>
    (window as any).zg.startPublishingStream('refused', document.getElementById('local-magenta'), '', {
      cdnUrl: 'rtmp://cdn.example.com/live/x',
    }),
  );
  const failed = await waitForEvent(page, 'onPublishStateUpdate', (a) => a[1] === 'refused', 15_000, since);
  expect(failed.args).toEqual([
    1,
    'refused',
    { code: 'ZegoPublish.Error.Dispatch', msg: expect.stringMatching(/not allowed.*code:1000000019/) },
  ]);
  await page.close();
});

test('the original SDK 1.12.5 calls updateMixStream against our server: success with URLs that play', async () => {
  const page = await openSdkPage(suite.context, suite.server.url, 'original');
  const token = await devToken(suite.server.url, APPID, 'orig-anchor');
  await page.evaluate(
    ({ appid, token, ws, room, names }) => {
      const w = window as any;
      const zg = new w.ZegoClient();
      w.zg = zg;
      for (const n of names) zg[n] = w.__record(n);
      zg.config({
        appid,
        idName: 'orig-anchor',
        nickName: 'orig-anchor',
        server: ws,
        logLevel: 3,
        remoteLogLevel: 100,
      });
      zg.login(room, 1, token, w.__record('loginOk'), w.__record('loginErr'));
    },
    {
      appid: APPID,
      token,
      ws: suite.server.url.replace('http', 'ws') + '/ws',
      room: ROOM,
      names: MEDIA_CALLBACKS,
    },
  );
  await waitForEvent(page, 'loginOk', () => true, 15_000);
  await page.evaluate(() =>
    (window as any).zg.updateMixStream(
      {
        outputStreamId: 'origmix',
        outputBitrate: 400_000,
        outputFps: 15,
        outputWidth: 320,
        outputHeight: 240,
        streamList: [{ streamId: 'cyan', top: 0, left: 0, bottom: 240, right: 320 }],
      },
      (window as any).__record('mixOk'),
      (window as any).__record('mixErr'),
    ),
  );
  const ok = await waitForEvent(page, 'mixOk', () => true, 30_000);
  const [id, infos] = ok.args as [string, { flvUrls: string[]; rtmpUrls: string[]; hlsUrls: string[] }[]];
  expect(id).toBe('origmix');
  expect(infos[0]!.flvUrls[0]).toMatch(/\/live\/\d+_origmix\.flv$/);
  await eventually(async () => {
    const f = await grabFrame(infos[0]!.flvUrls[0]!, 320, 240, 0.5);
    expect(near(pixel(f, 320, 160, 120), [0, 255, 255])).toBe(true);
  }, 30_000);
  // flv.js plays the mix too.
  const { after, before } = await flvJsFrames(page, infos[0]!.flvUrls[0]!);
  expect(after).toBeGreaterThan(before + 10);
  await page.evaluate(() =>
    (window as any).zg.stopMixStream(
      { outputStreamId: 'origmix' },
      (window as any).__record('stopOk'),
      (window as any).__record('stopErr'),
    ),
  );
  await waitForEvent(page, 'stopOk', () => true, 10_000);
  await page.close();
});

test('outputUrl: the mix is pushed to that RTMP URL only (here our origin under a name of the page)', async () => {
  const rtmp = (await live()).rtmpPort as number;
  const http = (await live()).httpPort as number;
  const since = Date.now() - 1;
  const url = `rtmp://127.0.0.1:${rtmp}/live/urlmix`;
  await viewer.evaluate(
    (u) =>
      (window as any).zg.updateMixStream(
        {
          outputUrl: u,
          outputBitrate: 300_000,
          outputFps: 15,
          outputWidth: 320,
          outputHeight: 240,
          outputBgColor: 0xffff0000,
          streamList: [{ streamId: 'cyan', top: 0, left: 0, bottom: 120, right: 160 }],
        },
        (window as any).__record('uOk'),
        (window as any).__record('uErr'),
      ),
    url,
  );
  const ok = await waitForEvent(viewer, 'uOk', () => true, 30_000, since);
  // As 1.12.5: no outputStreamId, so success's first argument is undefined (null once recorded).
  expect(ok.args[0]).toBeNull();
  await eventually(async () => {
    const f = await grabFrame(`http://127.0.0.1:${http}/live/urlmix.flv`, 320, 240, 0.5);
    expect(near(pixel(f, 320, 80, 60), [0, 255, 255])).toBe(true); // the input, top left
    expect(near(pixel(f, 320, 240, 180), [255, 255, 0])).toBe(true); // the yellow background
  }, 30_000);
  // Not a room stream: nobody heard 12001 for it.
  const listed = await viewer.evaluate(() =>
    (window as any).__events.filter((e: any) => e.name === 'onStreamUpdated').flatMap((e: any) => e.args[1]),
  );
  expect(listed.map((x: any) => x.stream_id)).not.toContain('urlmix');
  const s2 = Date.now() - 1;
  await viewer.evaluate(
    (u) =>
      (window as any).zg.stopMixStream(
        { outputUrl: u },
        (window as any).__record('usOk'),
        (window as any).__record('usErr'),
      ),
    url,
  );
  await waitForEvent(viewer, 'usOk', () => true, 10_000, s2);
  await eventually(async () => expect((await live()).mixTasks).toEqual([]), 5000);
});

test('bad mix input gets the legacy errors; nothing is started', async () => {
  const call = async (cfg: object) => {
    const since = Date.now() - 1;
    await viewer.evaluate(
      (c) =>
        (window as any).zg.updateMixStream(
          c,
          (window as any).__record('bOk'),
          (window as any).__record('bErr'),
        ),
      cfg,
    );
    return waitForEvent(viewer, 'bErr', () => true, 10_000, since);
  };
  const base = {
    outputStreamId: 'bad',
    outputBitrate: 300_000,
    outputFps: 15,
    outputWidth: 320,
    outputHeight: 240,
  };
  const missing = await call({
    ...base,
    streamList: [{ streamId: 'nope', top: 0, left: 0, bottom: 10, right: 10 }],
  });
  expect(missing.args).toEqual([
    { code: 'ZegoClient.Error.Server', msg: expect.stringContaining('code:1000000150') },
    ['nope'],
  ]);
  const outside = await call({
    ...base,
    streamList: [{ streamId: 'cyan', top: 0, left: 0, bottom: 241, right: 10 }],
  });
  expect((outside.args[0] as any).msg).toMatch(/outside the 320x240 output.*code:1000000002/);
  const zero = await call({
    ...base,
    streamList: [{ streamId: 'cyan', top: 5, left: 5, bottom: 5, right: 10 }],
  });
  expect((zero.args[0] as any).msg).toMatch(/zero or negative size.*code:1000000002/);
  // 1.12.5's synchronous false: no size.
  expect(
    await viewer.evaluate(() =>
      (window as any).zg.updateMixStream({ outputStreamId: 'x', streamList: [{}] }),
    ),
  ).toBe(false);
  const since = Date.now() - 1;
  await viewer.evaluate(() =>
    (window as any).zg.stopMixStream(
      { outputStreamId: 'unknown' },
      (window as any).__record('sOk'),
      (window as any).__record('sErr'),
    ),
  );
  const unknown = await waitForEvent(viewer, 'sErr', () => true, 10_000, since);
  expect((unknown.args[0] as any).msg).toMatch(/code:1000000016/);
  expect((await live()).mixTasks).toEqual([]);
});

test('ffmpeg killed mid-task is restarted and the mix goes on; at the end no ffmpeg, forward or port is left', async () => {
  const since = Date.now() - 1;
  await pub.evaluate(() =>
    (window as any).zg.updateMixStream(
      {
        outputStreamId: 'killmix',
        outputBitrate: 300_000,
        outputFps: 15,
        outputWidth: 320,
        outputHeight: 240,
        streamList: [{ streamId: 'cyan', top: 0, left: 0, bottom: 240, right: 320 }],
      },
      (window as any).__record('kOk'),
      (window as any).__record('kErr'),
    ),
  );
  const ok = await waitForEvent(pub, 'kOk', () => true, 30_000, since);
  const flv = (ok.args[1] as any[])[0].flvUrls[0] as string;
  await eventually(async () => expect((await probe(flv, 10_000)).video?.codec).toBe('h264'), 30_000);
  const task = (await live()).mixTasks[0];
  process.kill(task.ffmpegPid, 'SIGKILL');
  await eventually(async () => {
    const t = (await live()).mixTasks[0];
    expect(t.ffmpegStarts).toBeGreaterThan(task.ffmpegStarts);
    expect(t.ffmpegPid).not.toBe(task.ffmpegPid);
    const f = await grabFrame(flv, 320, 240, 0.5);
    expect(near(pixel(f, 320, 160, 120), [0, 255, 255])).toBe(true);
  }, 30_000);
  // Everything ends: the mix (owner logs out) and the relays (the publisher stops).
  await pub.evaluate(() => (window as any).zg.logout());
  await eventually(async () => {
    const l = await live();
    expect(l.mixTasks).toEqual([]);
    expect(l.relays.filter((r: any) => r.live)).toEqual([]);
    // No ffmpeg child of the server is left (the process table).
    const kids = readFileSync(`/proc/${suite.server.pid}/task/${suite.server.pid}/children`, 'utf8')
      .split(/\s+/)
      .filter(Boolean)
      .map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
    expect(kids.filter((k) => k === 'ffmpeg')).toEqual([]);
  }, 15_000);
});
