/**
 * Real Chromium + real Janus + the real server process: pages drive dist/ZegoClient.js (script tag) to
 * preview, publish and play; assertions read what a user would see (decoded frames and audio packets from
 * getStats, callbacks fired). Runs inside scripts/netns.sh (see spec/helpers/mediaServer.ts).
 * At most 7 tabs at once (2 cores: Chromium decoding is the bottleneck).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page-side code reaches into window */
import type { Page } from 'playwright-core';
import { waitForEvent } from '../helpers/browser';
import {
  events,
  expectMediaFlowing,
  inbound,
  loggedInPage,
  play,
  publish,
  startPreview,
  zg,
} from '../helpers/mediaPage';
import { useMediaSuite } from '../helpers/mediaServer';

jest.setTimeout(120_000);

const suite = useMediaSuite();
let a: Page;
let b: Page;

beforeAll(async () => {
  a = await loggedInPage(suite.context, suite.server.url, 'pub-a');
  b = await loggedInPage(suite.context, suite.server.url, 'view-b');
  await startPreview(a, 'local');
});

test('A publishes (VP8), B plays: state callbacks, stream list, frames decoded and audio arriving', async () => {
  await publish(a, 's-vp8', 'local', { videoDecodeType: 'VP8' }, 'hello');
  const added = await waitForEvent(b, 'onStreamUpdated', (x) => x[0] === 0);
  expect(added.args[1]).toEqual([
    expect.objectContaining({ stream_id: 's-vp8', anchor_id_name: 'pub-a', extra_info: 'hello' }),
  ]);
  await play(b, 's-vp8', { videoDecodeType: 'VP8' });
  const [st] = await events(b, 'onPlayStateUpdate');
  expect(st).toEqual([0, 's-vp8', 0]);
  const flow = await expectMediaFlowing(b, 's-vp8');
  expect(flow.after.codec).toBe('video/VP8');
  const size = await waitForEvent(b, 'onVideoSizeChanged', (x) => x[0] === 's-vp8');
  expect(size.args).toEqual(['s-vp8', expect.any(Number), expect.any(Number)]);
  expect(size.args[1]).toBeGreaterThan(0);
});

test('H.264 (the default codec): published and played as video/H264', async () => {
  await publish(a, 's-h264');
  await play(b, 's-h264');
  const flow = await expectMediaFlowing(b, 's-h264');
  expect(flow.after.codec).toBe('video/H264');
});

test("audio-only play (playType 'audio'): audio arrives, no video is decoded", async () => {
  // B already plays s-vp8 with video (first test): a second play of the id is refused, as 1.12.
  expect(await zg(b, 'startPlayingStream', 's-vp8', null)).toBe(false);
  expect(await zg(b, 'stopPlayingStream', 's-vp8')).toBe(true);
  await play(b, 's-vp8', { playType: 'audio' });
  await expectMediaFlowing(b, 's-vp8', { video: false });
  const probe = await inbound(b, 's-vp8');
  await new Promise((r) => setTimeout(r, 1000));
  const later = await inbound(b, 's-vp8');
  expect(later.framesDecoded).toBe(probe.framesDecoded);
  expect(later.framesDecoded).toBe(0);
});

test('four viewers of one stream all decode it', async () => {
  const viewers: Page[] = [];
  for (let i = 0; i < 4; i++)
    viewers.push(await loggedInPage(suite.context, suite.server.url, `viewer-${i}`));
  await Promise.all(viewers.map((v) => play(v, 's-vp8', { videoDecodeType: 'VP8' })));
  await Promise.all(viewers.map((v) => expectMediaFlowing(v, 's-vp8')));
  await Promise.all(viewers.map((v) => v.close()));
});

test('camera and microphone toggles reach the viewer (onRemoteCameraStatusUpdate / onRemoteMicStatusUpdate)', async () => {
  await zg(b, 'stopPlayingStream', 's-vp8');
  await play(b, 's-vp8', { videoDecodeType: 'VP8' });
  expect(
    await a.evaluate(() => (window as any).zg.enableCamera(document.getElementById('local'), 'no')),
  ).toBe(false);
  expect(
    await a.evaluate(() => (window as any).zg.enableCamera(document.getElementById('local'), false)),
  ).toBe(true);
  const cam = await waitForEvent(b, 'onRemoteCameraStatusUpdate', (x) => x[1] !== 0);
  expect(cam.args).toEqual(['s-vp8', 2]);
  await a.evaluate(() => (window as any).zg.enableMicrophone(document.getElementById('local'), false));
  const mic = await waitForEvent(b, 'onRemoteMicStatusUpdate', (x) => x[1] !== 0);
  expect(mic.args).toEqual(['s-vp8', 2]);
  await a.evaluate(() => {
    const w = window as any;
    w.zg.enableCamera(document.getElementById('local'), true);
    w.zg.enableMicrophone(document.getElementById('local'), true);
  });
  await waitForEvent(b, 'onRemoteCameraStatusUpdate', (x) => x[1] === 0);
  await waitForEvent(b, 'onRemoteMicStatusUpdate', (x) => x[1] === 0);
});

test('switchDevice replaces the camera track without renegotiation: the viewer keeps decoding', async () => {
  const devices = (await a.evaluate(
    () => new Promise((resolve, reject) => (window as any).zg.enumDevices(resolve, reject)),
  )) as { cameras: { deviceId: string }[]; microphones: unknown[]; speakers: unknown[] };
  expect(devices.cameras.length).toBeGreaterThan(0);
  expect(devices.microphones.length).toBeGreaterThan(0);
  const offersBefore = await a.evaluate(
    () => (window as any).zg.engine.media.publishers.get('s-vp8').session.pc.localDescription.sdp,
  );
  await a.evaluate(
    (id) =>
      new Promise((resolve, reject) =>
        (window as any).zg.switchDevice('video', document.getElementById('local'), id, resolve, reject),
      ),
    devices.cameras[0]!.deviceId,
  );
  await expectMediaFlowing(b, 's-vp8');
  const offersAfter = await a.evaluate(
    () => (window as any).zg.engine.media.publishers.get('s-vp8').session.pc.localDescription.sdp,
  );
  expect(offersAfter).toBe(offersBefore);
  const published = await events(a, 'onPublishStateUpdate');
  expect(published.filter((x) => x[1] === 's-vp8')).toEqual([[0, 's-vp8', 0]]);
});

test('updateStreamExtraInfo reaches viewers (onStreamExtraInfoUpdated)', async () => {
  expect(await zg(a, 'updateStreamExtraInfo', 's-vp8', 'new-info')).toBe(true);
  const upd = await waitForEvent(b, 'onStreamExtraInfoUpdated', (x) =>
    (x[0] as { stream_id: string; extra_info: string }[]).some(
      (s) => s.stream_id === 's-vp8' && s.extra_info === 'new-info',
    ),
  );
  expect(upd.args[0]).toEqual([expect.objectContaining({ stream_id: 's-vp8', extra_info: 'new-info' })]);
});

test('quality callbacks carry plausible numbers (cycle 1000 ms; the first sample is skipped)', async () => {
  expect(await zg(a, 'setQualityMonitorCycle', 999)).toBe(false);
  expect(await zg(a, 'setQualityMonitorCycle', 1000)).toBe(true);
  expect(await zg(b, 'setQualityMonitorCycle', 1000)).toBe(true);
  const pq = await waitForEvent(
    a,
    'onPublishQualityUpdate',
    (x) => x[0] === 's-vp8' && (x[1] as any).videoFPS > 5,
    15_000,
  );
  const q = pq.args[1] as Record<string, number>;
  expect(q.videoBitrate).toBeGreaterThan(50);
  expect(q.videoBitrate).toBeLessThan(5000);
  expect(q.audioBitrate).toBeGreaterThan(5);
  expect(q.videoFPS).toBeLessThan(40);
  const vq = await waitForEvent(
    b,
    'onPlayQualityUpdate',
    (x) => x[0] === 's-vp8' && (x[1] as any).videoFPS > 5,
    15_000,
  );
  const v = vq.args[1] as Record<string, number>;
  expect(v.videoBitrate).toBeGreaterThan(50);
  expect(v.frameWidth).toBeGreaterThan(0);
  expect(v.frameHeight).toBeGreaterThan(0);
  expect(v.videoTransferFPS).toBeGreaterThan(5);
});

test('stopPublishingStream: viewers get onStreamUpdated(1); every Janus handle is freed once players stop', async () => {
  expect(await zg(a, 'stopPublishingStream', 's-h264')).toBe(true);
  expect(await zg(a, 'stopPublishingStream', 's-vp8')).toBe(true);
  expect(await zg(a, 'stopPublishingStream', 's-vp8')).toBe(false);
  await waitForEvent(
    b,
    'onStreamUpdated',
    (x) => x[0] === 1 && (x[1] as { stream_id: string }[])[0]?.stream_id === 's-vp8',
  );
  await zg(b, 'stopPlayingStream', 's-vp8');
  await zg(b, 'stopPlayingStream', 's-h264');
  const deadline = Date.now() + 5000;
  let h = await suite.server.health();
  while ((h.media.janusHandles as number) !== 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    h = await suite.server.health();
  }
  expect(h.media).toMatchObject({ janus: 'up', sessions: 0, publishers: 0, janusHandles: 0 });
});
