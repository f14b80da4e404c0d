/** @jest-environment node */
/**
 * KeyframePacer: our keyframe requests to one browser publisher go out at most once per window (libwebrtc
 * drops a request that comes within 300 ms of the last one it acted on); one asked inside the window is sent
 * at its end, not dropped, and asks arriving meanwhile join it.
 */
import { KEYFRAME_WINDOW_MS, KeyframePacer } from '../../../src/server/media/KeyframePacer';

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

function pacer(send: () => Promise<void> = async () => {}, onError?: (e: Error) => void) {
  const sent: number[] = [];
  const p = new KeyframePacer(async () => {
    sent.push(Date.now());
    await send();
  }, onError);
  return { p, sent };
}

test('the first ask goes at once; one inside the window goes at its end; asks meanwhile join it', async () => {
  const { p, sent } = pacer();
  const t0 = Date.now();
  await p.ask();
  expect(sent).toEqual([t0]);
  jest.advanceTimersByTime(100);
  await p.ask(); // 100 ms later: libwebrtc would drop it
  jest.advanceTimersByTime(50);
  await p.ask(); // joins the one waiting
  expect(sent).toEqual([t0]);
  jest.advanceTimersByTime(KEYFRAME_WINDOW_MS - 150 - 1);
  expect(sent).toEqual([t0]);
  jest.advanceTimersByTime(1);
  expect(sent).toEqual([t0, t0 + KEYFRAME_WINDOW_MS]);
  // The window starts again from that one.
  jest.advanceTimersByTime(KEYFRAME_WINDOW_MS - 1);
  await p.ask();
  expect(sent).toHaveLength(2);
  jest.advanceTimersByTime(1);
  expect(sent).toEqual([t0, t0 + KEYFRAME_WINDOW_MS, t0 + 2 * KEYFRAME_WINDOW_MS]);
  // Past the window: at once again.
  jest.advanceTimersByTime(KEYFRAME_WINDOW_MS);
  await p.ask();
  expect(sent).toEqual([
    t0,
    t0 + KEYFRAME_WINDOW_MS,
    t0 + 2 * KEYFRAME_WINDOW_MS,
    t0 + 3 * KEYFRAME_WINDOW_MS,
  ]);
});

test('the window is libwebrtc 300 ms plus a margin for the way to the browser', () => {
  expect(KEYFRAME_WINDOW_MS).toBeGreaterThanOrEqual(300);
  expect(KEYFRAME_WINDOW_MS).toBeLessThan(400);
});

test('an ask sent at once fails to its caller; a deferred one that fails is reported, not thrown', async () => {
  const errors: string[] = [];
  const { p } = pacer(
    async () => {
      throw new Error('janus keyframe timed out');
    },
    (e) => errors.push(e.message),
  );
  await expect(p.ask()).rejects.toThrow('timed out');
  await p.ask(); // deferred: resolves at once
  jest.advanceTimersByTime(KEYFRAME_WINDOW_MS);
  await Promise.resolve();
  await Promise.resolve();
  expect(errors).toEqual(['janus keyframe timed out']);
});

test('stop: a waiting request is dropped and later asks send nothing', async () => {
  const { p, sent } = pacer();
  await p.ask();
  await p.ask();
  p.stop();
  jest.advanceTimersByTime(10 * KEYFRAME_WINDOW_MS);
  await p.ask();
  expect(sent).toHaveLength(1);
});
