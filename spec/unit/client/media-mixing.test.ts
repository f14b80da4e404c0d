/**
 * Audio effects and mixing on fakes (seed 1.33-1.40, 1.8's mixingBuffer), through the facade: what the
 * published audio track carries (FakeAudioContext.heard: each source reaching the chain's destination,
 * with its gain), that the track is swapped in place (replaceTrack, one offer) and back when mixing ends,
 * and the legacy answers to bad input (false or the error callback, never a throw).
 */
import type { MediaPlatform } from '../../../src/client/platform/Platform';
import { FakeAudio, type FakeAudioContext, type FakeBufferSource } from '../../fakes/FakeAudio';
import { FakeMediaStreamTrack, FakeVideo, type FakeSender } from '../../fakes/FakeMedia';
import { mediaHarness, publishing, type MediaHarness } from '../../fakes/mediaHarness';

const BEEP = 'http://files.test/beep.wav';
const PARAM = { code: 'ZegoClient.Error.Param', msg: expect.any(String) };

interface Mixing {
  h: MediaHarness;
  audio: FakeAudio;
  video: FakeVideo;
  mic: FakeMediaStreamTrack;
  /** The published audio sender. */
  sender: () => FakeSender;
  /** The mixing context (the last one made). */
  ctx: () => FakeAudioContext;
  /** What the published track carries: {} when it is the plain microphone (no chain). */
  heard: () => Record<string, number>;
  /** The buffer source playing now (the last one made). */
  src: () => FakeBufferSource;
}

async function mixing(streamId = 's1'): Promise<Mixing> {
  const h = await mediaHarness({ config: { testing: { backoffMs: 100 } } });
  const audio = new FakeAudio();
  (h.media as MediaPlatform).createAudioContext = audio.create;
  h.platform.files[BEEP] = 'beep';
  h.platform.files['http://files.test/bad.wav'] = 'bad: not audio';
  h.platform.files['http://files.test/boom.wav'] = 'boom';
  const { video, pc } = await publishing(h, streamId);
  const mic = h.media.tracks.find((t) => t.kind === 'audio')!;
  const sender = () => pc.getSenders().find((s) => s.track?.kind === 'audio')!;
  const ctx = () => audio.contexts.at(-1) as FakeAudioContext;
  const heard = () => (audio.contexts.length ? ctx().heard() : {});
  const src = () => ctx().bufferSources.at(-1)!;
  return { h, audio, video, mic, sender, ctx, heard, src };
}

/** preloadEffect's callback arguments. */
async function preload(h: MediaHarness, id: unknown, url: unknown): Promise<unknown[]> {
  const cb = jest.fn();
  (h.zg.preloadEffect.bind(h.zg) as (...a: unknown[]) => void)(id, url, cb);
  await h.platform.advance(0);
  expect(cb).toHaveBeenCalledTimes(1);
  return cb.mock.calls[0]!;
}

describe('preloadEffect / unloadEffect', () => {
  test('fetched and decoded once: callBack() on success, the error otherwise, the id free again after a failure', async () => {
    const { h } = await mixing();
    expect(await preload(h, 1, BEEP)).toEqual([]);
    // 1.12.5's errors: the HTTP status text, the browser's decoding error.
    expect(await preload(h, 2, 'http://files.test/missing.wav')).toEqual(['Not Found']);
    const [decodeErr] = await preload(h, 3, 'http://files.test/bad.wav');
    expect(String(decodeErr)).toContain('EncodingError');
    expect(await preload(h, 3, BEEP)).toEqual([]);
    // An id stays taken until unloaded.
    expect(await preload(h, 1, BEEP)).toEqual([PARAM]);
    expect(h.zg.unloadEffect(1)).toBe(true);
    expect(await preload(h, 1, BEEP)).toEqual([]);
  });

  test('bad arguments: the error callback (1.12.5 stayed silent), never a throw', async () => {
    const { h } = await mixing();
    for (const [id, url] of [
      [0, BEEP],
      ['1', BEEP],
      [NaN, BEEP],
      [1, ''],
      [1, 42],
      [undefined, undefined],
    ])
      expect(await preload(h, id, url)).toEqual([PARAM]);
    expect(() => (h.zg.preloadEffect.bind(h.zg) as (...a: unknown[]) => void)()).not.toThrow();
  });

  test('unloadEffect: true for any effect id, loaded or not (1.12.5), false for 0 or a non-number', async () => {
    const { h } = await mixing();
    expect(h.zg.unloadEffect(7)).toBe(true);
    expect(h.zg.unloadEffect(0)).toBe(false);
    expect((h.zg.unloadEffect.bind(h.zg) as (x: unknown) => boolean)('7')).toBe(false);
  });
});

describe('playEffect', () => {
  test('mixed into the published track in place (one offer, replaceTrack); end() at its end, the microphone track back', async () => {
    const m = await mixing();
    await preload(m.h, 1, BEEP);
    const start = jest.fn();
    const end = jest.fn();
    expect(m.h.zg.playEffect({ streamId: 's1', effectId: 1 }, start, end)).toBe(true);
    expect(start).toHaveBeenCalledTimes(1);
    const out = m.ctx().destinations[0]!.track;
    await m.h.platform.advance(0);
    expect(m.sender().replaced).toEqual([out]);
    expect(m.heard()).toEqual({ 'fake mic': 1, beep: 1 });
    expect(m.src()).toMatchObject({ offset: 0, loop: false });
    expect(m.h.media.pcs).toHaveLength(1);
    expect(m.h.media.pc.calls.filter((c) => c === 'createOffer')).toHaveLength(1);
    await m.h.platform.advance(0);
    expect(m.sender().replaced).toEqual([out]);
    m.src().finish();
    expect(end).toHaveBeenCalledTimes(1);
    await m.h.platform.advance(0);
    expect(m.sender().replaced).toEqual([out, m.mic]);
    expect(m.ctx().state).toBe('closed');
    // The slot is free: another effect plays.
    expect(m.h.zg.playEffect({ streamId: 's1', effectId: 1 }, start, end)).toBe(true);
    expect(start).toHaveBeenCalledTimes(2);
  });

  test('replace: only the effect while it plays, the microphone again after end()', async () => {
    const m = await mixing();
    await preload(m.h, 1, BEEP);
    const end = jest.fn();
    expect(m.h.zg.playEffect({ streamId: 's1', effectId: 1, replace: true }, undefined, end)).toBe(true);
    expect(m.heard()).toEqual({ beep: 1 });
    m.src().finish();
    expect(end).toHaveBeenCalledTimes(1);
    await m.h.platform.advance(0);
    expect(m.sender().track).toBe(m.mic);
  });

  test('playTime (ms) and loop; pause keeps the position, resume goes on from it (a paused replace gives the microphone back)', async () => {
    const m = await mixing();
    m.h.media.audioDuration = 2;
    await preload(m.h, 1, BEEP);
    expect(m.h.zg.playEffect({ streamId: 's1', effectId: 1, playTime: 500, loop: true, replace: true })).toBe(
      true,
    );
    expect(m.src()).toMatchObject({ offset: 0.5, loop: true });
    m.ctx().currentTime = 1.2;
    expect(m.h.zg.pauseEffect('s1')).toBe(true);
    expect(m.heard()).toEqual({ 'fake mic': 1 });
    expect(m.h.zg.pauseEffect('s1')).toBe(false);
    m.ctx().currentTime = 10;
    expect(m.h.zg.resumeEffect('s1')).toBe(true);
    expect(m.src().offset).toBeCloseTo(1.7, 6);
    expect(m.heard()).toEqual({ beep: 1 });
    expect(m.h.zg.resumeEffect('s1')).toBe(false);
    // 2.8 s later a 2 s loop is 0.5 s into its next round.
    m.ctx().currentTime = 12.8;
    m.h.zg.pauseEffect('s1');
    m.h.zg.resumeEffect('s1');
    expect(m.src().offset).toBeCloseTo(0.5, 6);
    // A stop is not an end: the stopped buffers never ended the effect.
    expect(m.ctx().bufferSources.filter((b) => b.stopped)).toHaveLength(2);
  });

  test('a loop never ends by itself; stopMixingAudio(streamId) stops it without end()', async () => {
    const m = await mixing();
    await preload(m.h, 1, BEEP);
    const end = jest.fn();
    m.h.zg.playEffect({ streamId: 's1', effectId: 1, loop: true }, undefined, end);
    expect(m.h.zg.stopMixingAudio('s1')).toBe(true);
    expect(end).not.toHaveBeenCalled();
    await m.h.platform.advance(0);
    expect(m.sender().track).toBe(m.mic);
  });

  test('bad input gets false (1.12.5: nothing) and changes nothing: unknown effect, second effect, stream not published, no config', async () => {
    const m = await mixing();
    await preload(m.h, 1, BEEP);
    const play = m.h.zg.playEffect.bind(m.h.zg) as (...a: unknown[]) => boolean;
    expect(play({ streamId: 's1', effectId: 9 })).toBe(false);
    expect(play({ streamId: 'nope', effectId: 1 })).toBe(false);
    expect(play({ streamId: 's1', effectId: 0 })).toBe(false);
    expect(play(null)).toBe(false);
    expect(play()).toBe(false);
    expect(m.audio.contexts).toHaveLength(0);
    expect(play({ streamId: 's1', effectId: 1 })).toBe(true);
    expect(play({ streamId: 's1', effectId: 1 })).toBe(false);
    expect(m.ctx().bufferSources).toHaveLength(1);
    expect(m.h.zg.pauseEffect('nope')).toBe(false);
    expect(m.h.zg.resumeEffect('s1')).toBe(false);
    expect((m.h.zg.pauseEffect.bind(m.h.zg) as (x: unknown) => boolean)(undefined)).toBe(false);
  });

  test('without Web Audio: false, the publish untouched', async () => {
    const m = await mixing();
    await preload(m.h, 1, BEEP);
    delete (m.h.media as MediaPlatform).createAudioContext;
    expect(m.h.zg.playEffect({ streamId: 's1', effectId: 1 })).toBe(false);
    expect(m.sender().replaced).toEqual([]);
  });

  test('an effect on a stream without audio: false', async () => {
    const h = await mediaHarness();
    (h.media as MediaPlatform).createAudioContext = new FakeAudio().create;
    h.platform.files[BEEP] = 'beep';
    await publishing(h, 'v1', { preview: { audio: false } });
    await preload(h, 1, BEEP);
    expect(h.zg.playEffect({ streamId: 'v1', effectId: 1 })).toBe(false);
  });
});

describe('setMixingAudioVolume', () => {
  test('0-100 scales every mix of the stream, now and for the next effect; out of range or not published: false', async () => {
    const m = await mixing();
    await preload(m.h, 1, BEEP);
    const el = new FakeVideo();
    el.captured.addTrack(new FakeMediaStreamTrack('audio', 'music'));
    m.h.zg.playEffect({ streamId: 's1', effectId: 1 });
    m.h.zg.startMixingAudio('s1', el.el as HTMLAudioElement, false);
    expect(m.h.zg.setMixingAudioVolume('s1', 50)).toBe(true);
    expect(m.heard()).toEqual({ 'fake mic': 1, beep: 0.5, music: 0.5 });
    m.src().finish();
    m.h.zg.playEffect({ streamId: 's1', effectId: 1 });
    expect(m.heard().beep).toBe(0.5);
    expect(m.h.zg.setMixingAudioVolume('s1', 0)).toBe(true);
    expect(m.heard()).toEqual({ 'fake mic': 1 });
    const set = m.h.zg.setMixingAudioVolume.bind(m.h.zg) as (...a: unknown[]) => boolean;
    for (const v of [-1, 101, '50', NaN, undefined]) expect(set('s1', v)).toBe(false);
    expect(set('nope', 50)).toBe(false);
    expect(m.h.zg.setMixingAudioVolume('s1', 100)).toBe(true);
    expect(m.heard()).toEqual({ 'fake mic': 1, beep: 1, music: 1 });
  });
});

describe('startMixingAudio / stopMixingAudio', () => {
  function element(label: string, playing = true): FakeVideo {
    const el = new FakeVideo();
    if (playing) el.captured.addTrack(new FakeMediaStreamTrack('audio', label));
    return el;
  }

  test("the element's sound with the microphone, or in its place with replace; stop puts the microphone track back", async () => {
    const m = await mixing();
    const music = element('music');
    expect(m.h.zg.startMixingAudio('s1', music.el as HTMLAudioElement, false)).toBe(true);
    expect(m.heard()).toEqual({ 'fake mic': 1, music: 1 });
    const out = m.ctx().destinations[0]!.track;
    await m.h.platform.advance(0);
    expect(m.sender().track).toBe(out);
    // The same element again: still true, mixed once.
    expect(m.h.zg.startMixingAudio('s1', music.el as HTMLAudioElement, false)).toBe(true);
    expect(music.captures).toBe(1);
    const voice = element('voice');
    expect(m.h.zg.startMixingAudio('s1', voice.el as HTMLAudioElement, true)).toBe(true);
    expect(m.heard()).toEqual({ music: 1, voice: 1 });
    expect(m.h.zg.stopMixingAudio('s1', [voice.el])).toBe(true);
    expect(m.heard()).toEqual({ 'fake mic': 1, music: 1 });
    expect(m.h.zg.stopMixingAudio('s1')).toBe(true);
    await m.h.platform.advance(0);
    expect(m.sender().replaced).toEqual([out, m.mic]);
    expect(m.h.media.pc.calls.filter((c) => c === 'createOffer')).toHaveLength(1);
  });

  test('1.8: an array of elements; an element not playing yet joins when its track comes', async () => {
    const m = await mixing();
    const a = element('a');
    const later = element('later', false);
    expect(m.h.zg.startMixingAudio('s1', [a.el, later.el] as HTMLAudioElement[], false)).toBe(true);
    expect(m.heard()).toEqual({ 'fake mic': 1, a: 1 });
    later.captured.addTrack(new FakeMediaStreamTrack('audio', 'later'));
    later.captured.fire('addtrack');
    expect(m.heard()).toEqual({ 'fake mic': 1, a: 1, later: 1 });
  });

  test('bad input: false, never a throw', async () => {
    const m = await mixing();
    const start = m.h.zg.startMixingAudio.bind(m.h.zg) as (...a: unknown[]) => boolean;
    const stop = m.h.zg.stopMixingAudio.bind(m.h.zg) as (...a: unknown[]) => boolean;
    const el = element('x').el;
    expect(start('nope', el, false)).toBe(false);
    expect(start('s1', null, false)).toBe(false);
    expect(start('s1', [], false)).toBe(false);
    expect(start('s1', [el, {}], false)).toBe(false);
    expect(start('s1', { play: 'no' }, false)).toBe(false);
    // An element that cannot be captured (no captureStream).
    expect(start('s1', { play: () => undefined }, false)).toBe(false);
    expect(stop('nope')).toBe(false);
    expect(stop('s1', [])).toBe(false);
    expect(stop('s1', el)).toBe(false);
    expect(stop('s1', [el])).toBe(true);
    expect(m.sender().replaced).toEqual([]);
  });
});

describe('mixingBuffer / stopMixingBuffer', () => {
  const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0)).buffer;

  test('chunks play one after another in call order; callBack() per chunk; stopMixingBuffer puts the microphone back', async () => {
    const m = await mixing();
    const cb = jest.fn();
    m.h.zg.mixingBuffer('s1', 'src', bytes('one'), cb);
    m.h.zg.mixingBuffer('s1', 'src', bytes('two'), cb);
    await m.h.platform.advance(0);
    expect(cb.mock.calls).toEqual([[], []]);
    expect(m.heard()).toEqual({ 'fake mic': 1, one: 1 });
    m.src().finish();
    expect(m.heard()).toEqual({ 'fake mic': 1, two: 1 });
    m.src().finish();
    // The queue ran dry: the slot (and the chain) stay until stopMixingBuffer.
    expect(m.heard()).toEqual({ 'fake mic': 1 });
    m.h.zg.mixingBuffer('s1', 'src', bytes('three'), cb);
    await m.h.platform.advance(0);
    expect(m.heard()).toEqual({ 'fake mic': 1, three: 1 });
    expect(m.h.zg.stopMixingBuffer('s1')).toBe(true);
    await m.h.platform.advance(0);
    expect(m.sender().track).toBe(m.mic);
  });

  test('while an effect plays a chunk is refused, and an effect while chunks play', async () => {
    const m = await mixing();
    await preload(m.h, 1, BEEP);
    m.h.zg.playEffect({ streamId: 's1', effectId: 1 });
    const cb = jest.fn();
    m.h.zg.mixingBuffer('s1', 'src', bytes('one'), cb);
    await m.h.platform.advance(0);
    expect(cb.mock.calls).toEqual([[PARAM]]);
    // stopMixingBuffer stops whatever holds the slot (as 1.12.5).
    expect(m.h.zg.stopMixingBuffer('s1')).toBe(true);
    m.h.zg.mixingBuffer('s1', 'src', bytes('one'), cb);
    await m.h.platform.advance(0);
    expect(m.h.zg.playEffect({ streamId: 's1', effectId: 1 })).toBe(false);
  });

  test('bad input: the error callback (1.12.5: nothing), never a throw', async () => {
    const m = await mixing();
    const mix = m.h.zg.mixingBuffer.bind(m.h.zg) as (...a: unknown[]) => void;
    const cb = jest.fn();
    mix('nope', 'src', bytes('x'), cb);
    mix('s1', 'src', 'not a buffer', cb);
    mix('s1', 'src', bytes('bad data'), cb);
    expect(() => mix()).not.toThrow();
    await m.h.platform.advance(0);
    expect(cb.mock.calls.slice(0, 2)).toEqual([[PARAM], [PARAM]]);
    expect(String(cb.mock.calls[2]![0])).toContain('EncodingError');
    expect((m.h.zg.stopMixingBuffer.bind(m.h.zg) as (x: unknown) => boolean)('nope')).toBe(false);
  });
});

describe('mixing and the publish', () => {
  test('switchDevice while mixing rewires the chain: the published track stays the mix', async () => {
    const m = await mixing();
    await preload(m.h, 1, BEEP);
    m.h.zg.playEffect({ streamId: 's1', effectId: 1, loop: true });
    await m.h.platform.advance(0);
    const out = m.sender().track;
    expect(out).toBe(m.ctx().destinations[0]!.track);
    expect(m.h.zg.switchDevice('audio', m.video.el, 'mic2')).toBe(true);
    await m.h.platform.advance(0);
    const fresh = m.h.media.tracks.at(-1)!;
    expect(m.heard()).toEqual({ [fresh.label]: 1, beep: 1 });
    expect(m.ctx().sources.at(-1)!.track).toBe(fresh);
    expect(m.sender().track).toBe(out);
  });

  test('a retry after a break sends the mix from its first offer', async () => {
    const m = await mixing();
    await preload(m.h, 1, BEEP);
    m.h.zg.playEffect({ streamId: 's1', effectId: 1, loop: true });
    const out = m.ctx().destinations[0]!.track;
    m.h.media.pc.setIceState('failed');
    await m.h.platform.advance(100);
    expect(m.h.media.pcs).toHaveLength(2);
    expect(m.h.media.pc.transceivers.map((t) => t.sender.track)).toContain(out);
  });

  test('stopPublishingStream ends every mix (no end()), and a chunk decoded later starts nothing', async () => {
    const m = await mixing();
    await preload(m.h, 1, BEEP);
    const end = jest.fn();
    m.h.zg.playEffect({ streamId: 's1', effectId: 1 }, undefined, end);
    const cb = jest.fn();
    expect(m.h.zg.stopPublishingStream('s1')).toBe(true);
    expect(m.ctx().state).toBe('closed');
    expect(end).not.toHaveBeenCalled();
    m.h.zg.mixingBuffer('s1', 'src', new ArrayBuffer(4), cb);
    await m.h.platform.advance(0);
    expect(cb.mock.calls).toEqual([[PARAM]]);
    expect(m.audio.contexts.filter((c) => c.state !== 'closed')).toHaveLength(0);
  });
});
