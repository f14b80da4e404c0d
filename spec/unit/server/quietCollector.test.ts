/** @jest-environment node */
/**
 * QuietCollector: a full GC once the open connections fell by half after a peak and stayed down, and a
 * follow-up 10 s later if it is still quiet (the one V8 shrinks its young generation in).
 */
import { QuietCollector } from '../../../src/server/QuietCollector';

function rig() {
  let open = 0;
  let now = 0;
  const gc = jest.fn();
  const c = new QuietCollector({ open: () => open, gc, now: () => now, everyMs: 60_000 });
  const at = (ms: number, n: number) => {
    now = ms;
    open = n;
    c.check();
  };
  return { c, gc, at };
}

test('a storm that ends: one collection after the quiet time, none while it lasts or for a small dip', () => {
  const { c, gc, at } = rig();
  at(0, 100);
  at(1000, 1200); // the storm
  at(2000, 1100); // a dip, not half
  at(3000, 900);
  expect(gc).not.toHaveBeenCalled();
  at(4000, 50); // over: fell by half and by 200+
  at(5000, 40);
  expect(gc).not.toHaveBeenCalled(); // not quiet for 2 s yet
  at(6500, 40);
  expect(gc).toHaveBeenCalledTimes(1);
  at(7500, 40);
  at(15_000, 40);
  expect(gc).toHaveBeenCalledTimes(1);
  at(16_500, 40); // still quiet 10 s later: the follow-up
  expect(gc).toHaveBeenCalledTimes(2);
  at(40_000, 40);
  expect(gc).toHaveBeenCalledTimes(2); // nothing more fell
  expect(c.runs).toBe(2);
  c.dispose();
});

test('no follow-up when the next storm has begun meanwhile', () => {
  const { gc, at, c } = rig();
  at(0, 1000);
  at(1000, 0);
  at(3500, 0);
  expect(gc).toHaveBeenCalledTimes(1);
  at(8000, 900);
  at(13_600, 900);
  expect(gc).toHaveBeenCalledTimes(1);
  c.dispose();
});

test('a second storm within 10 s of a collection waits for the interval; a drop under 200 never counts', () => {
  const { c, gc, at } = rig();
  at(0, 1000);
  at(1000, 0);
  at(3500, 0);
  expect(gc).toHaveBeenCalledTimes(1);
  at(4000, 800); // a second storm: the follow-up is off
  at(5000, 0);
  at(8000, 0);
  expect(gc).toHaveBeenCalledTimes(1); // fell and quiet, but not 10 s since the last
  at(13_600, 0);
  expect(gc).toHaveBeenCalledTimes(2);
  at(40_000, 150);
  at(41_000, 0);
  at(50_000, 0);
  expect(gc).toHaveBeenCalledTimes(3); // the follow-up of the second (at 23.6 s); 150 never counts
  c.dispose();
});
