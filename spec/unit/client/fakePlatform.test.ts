/** The fakes themselves: timers fire in due order (including timers set by timers), skew, random, sockets. */
import { FakePlatform, flush } from '../../fakes/FakePlatform';

test('advance fires due timers in time order, ties in scheduling order, including timers set by timers', async () => {
  const p = new FakePlatform({ startMs: 100 });
  const log: string[] = [];
  p.setTimeout(() => log.push(`b@${p.now()}`), 20);
  p.setTimeout(() => {
    log.push(`a@${p.now()}`);
    p.setTimeout(() => log.push(`a2@${p.now()}`), 5);
    p.setTimeout(() => log.push(`a3@${p.now()}`), 500);
  }, 10);
  p.setTimeout(() => log.push(`c@${p.now()}`), 20);
  const cancelled = p.setTimeout(() => log.push('never'), 1);
  p.clearTimeout(cancelled);
  await p.advance(30);
  expect(log).toEqual(['a@110', 'a2@115', 'b@120', 'c@120']);
  expect(p.now()).toBe(130);
  expect(p.pendingTimers).toBe(1);
});

test('microtasks run between two timers, as between two browser tasks', async () => {
  const p = new FakePlatform();
  const log: string[] = [];
  p.setTimeout(() => void Promise.resolve().then(() => log.push('micro')), 0);
  p.setTimeout(() => log.push('second'), 0);
  await p.advance(0);
  expect(log).toEqual(['micro', 'second']);
});

test('skew jumps the clock without firing; overdue timers fire late on the next advance', async () => {
  const p = new FakePlatform({ startMs: 0 });
  const seen: number[] = [];
  p.setTimeout(() => seen.push(p.now()), 2000);
  p.skew(11_000);
  expect(seen).toEqual([]);
  await p.advance(0);
  expect(seen).toEqual([11_000]);
});

test('a runaway timer loop is reported, not spun forever', async () => {
  const p = new FakePlatform();
  const loop = () => void p.setTimeout(loop, 0);
  loop();
  await expect(p.advance(0, 50)).rejects.toThrow(/more than 50 timers/);
});

test('random is seeded, can be fixed, and works detached', () => {
  const a = new FakePlatform({ seed: 7 });
  const b = new FakePlatform({ seed: 7 });
  const detached = a.random;
  const xs = [detached(), detached(), detached()];
  expect(xs).toEqual([b.random(), b.random(), b.random()]);
  for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  a.setRandom(0.25);
  expect(detached()).toBe(0.25);
});

test('sockets: open, serverSend, sent, drop; client close reports onclose in a later task', async () => {
  const p = new FakePlatform();
  const s = p.createWebSocket('ws://x/ws');
  const events: string[] = [];
  s.onopen = () => events.push('open');
  s.onmessage = (ev) => events.push(`msg:${String(ev.data)}`);
  s.onclose = (ev) => events.push(`close:${ev.code}`);
  expect(() => s.send('{}')).toThrow(/readyState=0/);
  s.open();
  s.send(JSON.stringify({ header: { cmd: 'hb' }, body: {} }));
  expect(s.sentCmd('hb')).toHaveLength(1);
  s.serverSend({ a: 1 });
  s.close(1000, 'bye');
  expect(s.readyState).toBe(2);
  expect(events).toEqual(['open', 'msg:{"a":1}']);
  await p.advance(0);
  expect(s.readyState).toBe(3);
  expect(events).toEqual(['open', 'msg:{"a":1}', 'close:1000']);
  const t = p.createWebSocket('ws://y/ws');
  const tEvents: string[] = [];
  t.onerror = () => tEvents.push('error');
  t.onclose = (ev) => tEvents.push(`close:${ev.code}`);
  t.drop();
  await flush();
  expect(tEvents).toEqual(['error', 'close:1006']);
  expect(p.sockets).toEqual([s, t]);
});
