/**
 * setSoundLevelDelegate / onSoundLevelUpdate on fakes: 1.12.5's scaling (100 x the positive peak of the
 * latest 4096 samples), its argument checks and return value, one report per interval for every
 * published and played stream, silence for a muted microphone, and nothing left running once the
 * streams stop or the delegate is turned off.
 */
import { ZegoClient } from '../../../src/client/compat/ZegoClient';
import { levelOf, LEVEL_WINDOW } from '../../../src/client/media/SoundLevels';
import type { MediaPlatform } from '../../../src/client/platform/Platform';
import { FakeAudio } from '../../fakes/FakeAudio';
import type { FakeMediaStreamTrack } from '../../fakes/FakeMedia';
import { mediaHarness, playing, publishing, type MediaHarness } from '../../fakes/mediaHarness';
import { FakePlatform } from '../../fakes/FakePlatform';

type Item = { streamID: string; soundLevel: number; type: string };

async function withAudio(): Promise<{ h: MediaHarness; audio: FakeAudio; reports: Item[][] }> {
  const h = await mediaHarness();
  const audio = new FakeAudio();
  (h.media as MediaPlatform).createAudioContext = audio.create;
  const reports: Item[][] = [];
  (h.zg as unknown as { onSoundLevelUpdate: (l: Item[]) => void }).onSoundLevelUpdate = (l) =>
    reports.push(l);
  return { h, audio, reports };
}

const micOf = (h: MediaHarness): FakeMediaStreamTrack => h.media.tracks.find((t) => t.kind === 'audio')!;

describe('levelOf: the 1.12.5 scaling', () => {
  test('100 x the highest sample, negative peaks ignored, not rounded', () => {
    expect(levelOf(Float32Array.from([0, 0.5, -0.9, 0.25]))).toBe(50);
    expect(levelOf(Float32Array.from([-0.7, -0.2]))).toBe(0);
    expect(levelOf(Float32Array.from([0.123]))).toBeCloseTo(12.3, 5);
    expect(levelOf(new Float32Array(LEVEL_WINDOW))).toBe(0);
  });

  test('capped at 100', () => {
    expect(levelOf(Float32Array.from([1.5]))).toBe(100);
  });

  test('the window is 1.12.5 ScriptProcessorNode buffer (4096 frames)', () => {
    expect(LEVEL_WINDOW).toBe(4096);
  });
});

test('at load, before anything exists: no throw, returns nothing, no timer, no AudioContext', async () => {
  const platform = new FakePlatform();
  const zg = new ZegoClient(platform);
  expect(zg.setSoundLevelDelegate(true, 1000)).toBeUndefined();
  expect(platform.pendingTimers).toBe(0);
  // With a media platform too, nothing is made until a stream exists.
  const { h, audio, reports } = await withAudio();
  h.zg.setSoundLevelDelegate(true, 1000);
  await h.platform.advance(5000);
  expect(audio.contexts).toHaveLength(0);
  expect(reports).toEqual([]);
});

test('publisher and player: one report per interval, 100 x the peak, push first then pull', async () => {
  const { h, audio, reports } = await withAudio();
  h.zg.setSoundLevelDelegate(true, 200);
  await publishing(h, 's1');
  audio.tone(micOf(h), 0.75);
  const { pc } = await playing(h, 's2');
  const remoteAudio = pc.transceivers.find((t) => t.kind === 'audio')!.receiver.track;
  audio.tone(remoteAudio, 0.25);
  reports.length = 0;
  await h.platform.advance(200);
  expect(reports).toHaveLength(1);
  expect(reports[0]).toEqual([
    { streamID: 's1', soundLevel: 75, type: 'push' },
    { streamID: 's2', soundLevel: 25, type: 'pull' },
  ]);
  await h.platform.advance(199);
  expect(reports).toHaveLength(1);
  await h.platform.advance(1);
  expect(reports).toHaveLength(2);
  // One AudioContext for all, resumed (a context made without a gesture starts suspended).
  expect(audio.contexts).toHaveLength(1);
  expect(audio.contexts[0]!.state).toBe('running');
  expect(audio.liveAnalysers.map((a) => a.fftSize)).toEqual([4096, 4096]);
});

test('a muted microphone (enableMicrophone false) reads 0; unmuted, the tone again', async () => {
  const { h, audio, reports } = await withAudio();
  h.zg.setSoundLevelDelegate(true, 100);
  const { video } = await publishing(h, 's1');
  audio.tone(micOf(h), 0.5);
  await h.platform.advance(100);
  expect(reports.at(-1)).toEqual([{ streamID: 's1', soundLevel: 50, type: 'push' }]);
  expect(h.zg.enableMicrophone(video.el, false)).toBe(true);
  await h.platform.advance(100);
  expect(reports.at(-1)).toEqual([{ streamID: 's1', soundLevel: 0, type: 'push' }]);
  h.zg.enableMicrophone(video.el, true);
  await h.platform.advance(100);
  expect(reports.at(-1)![0]!.soundLevel).toBe(50);
});

test('a player reports 0 until its audio arrives, and 0 without audio (playType video), never throwing', async () => {
  const { h, reports } = await withAudio();
  h.zg.setSoundLevelDelegate(true, 100);
  await playing(h, 'v1', { playType: 'video' });
  await h.platform.advance(100);
  expect(reports.at(-1)).toEqual([{ streamID: 'v1', soundLevel: 0, type: 'pull' }]);
});

test('stops with the streams: no report, no timer, the context closed', async () => {
  const { h, audio, reports } = await withAudio();
  h.zg.setSoundLevelDelegate(true, 100);
  await publishing(h, 's1');
  await playing(h, 's2');
  await h.platform.advance(100);
  expect(reports.at(-1)!.map((i) => i.streamID)).toEqual(['s1', 's2']);
  h.zg.stopPlayingStream('s2');
  await h.platform.advance(100);
  expect(reports.at(-1)!.map((i) => i.streamID)).toEqual(['s1']);
  expect(audio.liveAnalysers).toHaveLength(1);
  h.zg.stopPublishingStream('s1');
  const n = reports.length;
  await h.platform.advance(1000);
  expect(reports).toHaveLength(n);
  expect(audio.contexts.every((c) => c.state === 'closed')).toBe(true);
  expect(audio.liveAnalysers).toHaveLength(0);
  // A new stream starts it again.
  await playing(h, 's3');
  await h.platform.advance(100);
  expect(reports.at(-1)!.map((i) => i.streamID)).toEqual(['s3']);
});

test('a player that fails (state 1) leaves the reports', async () => {
  const { h, reports } = await withAudio();
  h.zg.setSoundLevelDelegate(true, 100);
  await publishing(h, 's1');
  await playing(h, 's2');
  h.ms.closeSession(h.ms.session, 1);
  await h.platform.advance(100);
  expect(h.mcalls.onPlayStateUpdate.at(-1)![0]).toBe(1);
  expect(reports.at(-1)!.map((i) => i.streamID)).toEqual(['s1']);
});

test('disabled: reports stop, analysers go, the interval resets to 1000 ms', async () => {
  const { h, audio, reports } = await withAudio();
  h.zg.setSoundLevelDelegate(true, 300);
  await publishing(h, 's1');
  await h.platform.advance(300);
  expect(reports).toHaveLength(1);
  h.zg.setSoundLevelDelegate(false);
  await h.platform.advance(3000);
  expect(reports).toHaveLength(1);
  expect(audio.liveAnalysers).toHaveLength(0);
  h.zg.setSoundLevelDelegate(true);
  await h.platform.advance(999);
  expect(reports).toHaveLength(1);
  await h.platform.advance(1);
  expect(reports).toHaveLength(2);
});

test('enabled after the streams started: it measures them from then on', async () => {
  const { h, audio, reports } = await withAudio();
  await publishing(h, 's1');
  audio.tone(micOf(h), 0.25);
  await h.platform.advance(3000);
  expect(reports).toEqual([]);
  h.zg.setSoundLevelDelegate(true, 500);
  await h.platform.advance(500);
  expect(reports).toEqual([[{ streamID: 's1', soundLevel: 25, type: 'push' }]]);
});

test.each([
  ['a non-boolean flag', ['yes', 200]],
  ['an interval below 100 ms', [true, 99]],
  ['an interval above 3000 ms', [true, 3001]],
  ['a string interval', [true, '500']],
])('%s: nothing changes (1.12.5 logs an error)', async (_name, args) => {
  const { h, reports } = await withAudio();
  const spy = jest.spyOn(console, 'error').mockImplementation(() => {});
  expect((h.zg.setSoundLevelDelegate as (...a: unknown[]) => unknown)(...args)).toBeUndefined();
  expect(spy).toHaveBeenCalledTimes(1);
  spy.mockRestore();
  await publishing(h, 's1');
  await h.platform.advance(5000);
  expect(reports).toEqual([]);
});

test('an interval of 0 / missing keeps the current one (1000 ms by default); a new one applies from the next report, as 1.12.5', async () => {
  const { h, reports } = await withAudio();
  h.zg.setSoundLevelDelegate(true, 0);
  await publishing(h, 's1');
  await h.platform.advance(999);
  expect(reports).toHaveLength(0);
  await h.platform.advance(1);
  expect(reports).toHaveLength(1);
  h.zg.setSoundLevelDelegate(true, 3000);
  h.zg.setSoundLevelDelegate(true, 100);
  // The armed 1000 ms wait runs out first, then every 100 ms.
  await h.platform.advance(999);
  expect(reports).toHaveLength(1);
  await h.platform.advance(1);
  expect(reports).toHaveLength(2);
  await h.platform.advance(1000);
  expect(reports).toHaveLength(12);
});

test('a throwing onSoundLevelUpdate does not stop the reports', async () => {
  const { h } = await withAudio();
  let n = 0;
  (h.zg as unknown as { onSoundLevelUpdate: () => void }).onSoundLevelUpdate = () => {
    n++;
    throw new Error('page bug');
  };
  const spy = jest.spyOn(console, 'error').mockImplementation(() => {});
  h.zg.setSoundLevelDelegate(true, 100);
  await publishing(h, 's1');
  await h.platform.advance(300);
  spy.mockRestore();
  expect(n).toBe(3);
});

test('logout stops the meter; the delegate stays on for the next streams', async () => {
  const { h, audio, reports } = await withAudio();
  h.zg.setSoundLevelDelegate(true, 100);
  await publishing(h, 's1');
  await h.platform.advance(100);
  h.zg.logout();
  const n = reports.length;
  await h.platform.advance(1000);
  expect(reports).toHaveLength(n);
  expect(audio.liveAnalysers).toHaveLength(0);
});
