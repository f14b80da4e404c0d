/** @jest-environment node */
/**
 * QuietCollector: a full GC once many connections closed (at least 200, and at least as many as remain
 * open) and none for 2 s, a follow-up 10 s later if it is still quiet (the one V8 shrinks its young
 * generation in), at most one per 10 s, never over a heap above 128 MiB.
 */
import { QuietCollector } from '../../../src/server/QuietCollector';

function rig(heapMiB = 20) {
  let open = 0;
  let closed = 0;
  let now = 0;
  let heap = heapMiB * 1024 * 1024;
  const gc = jest.fn();
  const c = new QuietCollector({
    open: () => open,
    closed: () => closed,
    gc,
    now: () => now,
    heapUsed: () => heap,
    everyMs: 60_000,
  });
  /** At `ms`: `n` open, `m` more closed since the last step; then one check. */
  const at = (ms: number, n: number, m = 0) => {
    now = ms;
    open = n;
    closed += m;
    c.check();
  };
  return { c, gc, at, setHeap: (mib: number) => (heap = mib * 1024 * 1024) };
}

test('a storm that ends: one collection 2 s after the last close, then its follow-up 10 s later', () => {
  const { c, gc, at } = rig();
  at(0, 1200); // the storm: sockets open...
  at(1000, 600, 600); // ...and close
  at(2000, 10, 590);
  expect(gc).not.toHaveBeenCalled(); // still closing a second ago
  at(3000, 10);
  expect(gc).not.toHaveBeenCalled(); // not quiet for 2 s yet
  at(4000, 10);
  expect(gc).toHaveBeenCalledTimes(1);
  at(9000, 10);
  expect(gc).toHaveBeenCalledTimes(1);
  at(14_000, 10); // still quiet: the follow-up
  expect(gc).toHaveBeenCalledTimes(2);
  at(60_000, 10);
  expect(gc).toHaveBeenCalledTimes(2); // nothing more closed
  expect(c.runs).toBe(2);
  c.dispose();
});

test('steady churn, a small storm or a big population: no collection', () => {
  const { c, gc, at } = rig();
  // 150 close and it is quiet: under 200.
  at(0, 1000, 150);
  at(5000, 1000);
  // 300 more close of 1,300: fewer than remain open.
  at(6000, 1000, 300);
  at(10_000, 1000);
  // A close every second keeps it from being quiet.
  for (let t = 11_000; t < 20_000; t += 1000) at(t, 10, 100);
  expect(gc).not.toHaveBeenCalled();
  at(22_000, 10);
  expect(gc).toHaveBeenCalledTimes(1); // now: 1,350 closed, 10 open, quiet 2 s
  c.dispose();
});

test('no follow-up when the next storm has begun; at most one per 10 s; never over a big heap', () => {
  const { c, gc, at, setHeap } = rig();
  at(0, 0, 500);
  at(2500, 0);
  expect(gc).toHaveBeenCalledTimes(1);
  at(5000, 0, 400); // another storm ends
  at(8000, 0);
  expect(gc).toHaveBeenCalledTimes(1); // under 10 s since the last
  at(12_600, 0); // the follow-up's time, but 400 closed meanwhile: the storm's own collection instead
  expect(gc).toHaveBeenCalledTimes(2);
  setHeap(300);
  at(30_000, 0, 1000);
  at(40_000, 0);
  expect(gc).toHaveBeenCalledTimes(2);
  c.dispose();
});

test('a health check or a page closing now and then does not keep a storm from being collected', () => {
  const { c, gc, at } = rig();
  at(0, 800);
  at(1000, 2, 800);
  // Monitoring opens and closes a connection every second.
  for (let t = 2000; t <= 4000; t += 1000) at(t, 2, 1);
  expect(gc).toHaveBeenCalledTimes(1);
  c.dispose();
});
