/**
 * BackendPool over two fake SFUs (spec/fakes/FakeBackend.ts): placement (a publisher to the least loaded
 * SFU that is up, a subscriber to its publisher's, a remote publisher likewise), calls before placement,
 * and what the pool says when one SFU dies and comes back.
 */
import { BackendPool } from '../../../src/server/media/BackendPool';
import { FakeBackend } from '../../fakes/FakeBackend';

const tick = () => new Promise((r) => setTimeout(r, 5));

function pool() {
  const a = new FakeBackend();
  const b = new FakeBackend();
  const p = new BackendPool([a, b]);
  const said: string[] = [];
  p.on('down', () => said.push('down'));
  p.on('up', () => said.push('up'));
  return { a, b, p, said };
}

test('publishers go to the least loaded SFU; subscribers follow their publisher', async () => {
  const { a, b, p } = pool();
  const p1 = await p.openLeg();
  await p1.publish('1:r', 's1', 'offer');
  const p2 = await p.openLeg();
  await p2.publish('1:r', 's2', 'offer');
  // One each (a first on a tie).
  expect(a.open.map((l) => l.role)).toEqual(['publisher']);
  expect(b.open.map((l) => l.role)).toEqual(['publisher']);
  // Two viewers of s2: on b, subscribed to s2's own leg there.
  for (let i = 0; i < 2; i++) {
    const v = await p.openLeg();
    await v.subscribe(p2);
    await v.answer('answer');
    await v.up;
  }
  expect(b.open.map((l) => l.role)).toEqual(['publisher', 'subscriber', 'subscriber']);
  expect(b.open.slice(1).every((l) => l.publisher === b.open[0])).toBe(true);
  // The next publisher goes to the SFU with fewer legs: a (1) rather than b (3).
  const p3 = await p.openLeg();
  await p3.publish('1:r', 's3', 'offer');
  expect(a.open.map((l) => l.role)).toEqual(['publisher', 'publisher']);
  expect(p.health()).toMatchObject({ up: true, legs: 5 });
});

test('a subscriber is placed on the SFU of its publisher (and a remote publisher counts as placed)', async () => {
  const { a, b, p } = pool();
  const pub = await p.openLeg();
  await pub.publish('1:r', 's', 'offer');
  const home = a.open.length === 1 ? a : b;
  for (let i = 0; i < 3; i++) {
    const v = await p.openLeg();
    await v.subscribe(pub);
  }
  expect(home.open.length).toBe(4);
  expect(home.open.filter((l) => l.role === 'subscriber').every((l) => l.publisher === home.open[0])).toBe(
    true,
  );
  const remote = await p.addRemotePublisher('1:r', 'mix', { videoCodec: 'vp8', audio: true });
  const away = home === a ? b : a;
  expect(away.open.length).toBe(1); // the least loaded
  const v = await p.openLeg();
  await v.subscribe(remote.leg);
  expect(away.open.length).toBe(2);
});

test('calls before placement wait; a leg closed before placement never opens one; trickles reach the SFU', async () => {
  const { a, b, p } = pool();
  const early = await p.openLeg();
  await expect(early.trickle(null)).rejects.toThrow('not placed');
  await early.close();
  await expect(early.up).rejects.toThrow('closed');
  expect(a.legs.length + b.legs.length).toBe(0);
  const leg = await p.openLeg();
  await leg.publish('1:r', 's', 'offer');
  await leg.trickle({ candidate: 'c1' });
  await leg.up;
  const inner = [...a.open, ...b.open][0]!;
  expect(inner.trickles).toEqual([{ candidate: 'c1' }]);
  await leg.close();
  expect(inner.closed).toBe(true);
});

test('one SFU dies: lost (only its legs), never down while the other serves; new legs avoid the dead one; the last one dies: down', async () => {
  const { a, b, p, said } = pool();
  const lost: ((leg: import('../../../src/server/media/MediaBackend').MediaLeg) => boolean)[] = [];
  p.on('lost', (isDead) => lost.push(isDead));
  a.comeBack();
  b.comeBack();
  await tick();
  expect(said).toEqual(['up']);
  const onA = await p.openLeg();
  await onA.publish('1:r', 'a', 'offer');
  const onB = await p.openLeg();
  await onB.publish('1:r', 'b', 'offer');
  const unplaced = await p.openLeg();
  a.down();
  await tick();
  expect(said).toEqual(['up']);
  expect(lost).toHaveLength(1);
  expect([lost[0]!(onA), lost[0]!(onB), lost[0]!(unplaced)]).toEqual([true, false, false]);
  for (let i = 0; i < 3; i++) await (await p.openLeg()).publish('1:r', `s${i}`, 'offer');
  expect([a.open.length, b.open.length]).toEqual([0, 4]);
  // Both down: down, and no up until one is back.
  b.down();
  await tick();
  expect(said).toEqual(['up', 'down']);
  expect(lost).toHaveLength(1);
  expect(p.up).toBe(false);
  await expect(p.openLeg()).rejects.toThrow('unavailable');
  a.comeBack();
  await tick();
  expect(said).toEqual(['up', 'down', 'up']);
});
