/**
 * BackendPool over two fake SFUs (spec/fakes/FakeBackend.ts): placement (a publisher to the least loaded
 * SFU that is up, a subscriber to its publisher's, a remote publisher likewise), calls before placement,
 * and what the pool says when one SFU dies and comes back.
 */
import { BackendPool } from '../../../src/server/media/BackendPool';
import { FakeBackend } from '../../fakes/FakeBackend';

const tick = () => new Promise((r) => setTimeout(r, 5));

function pool(maxViewersPerFeed = 0) {
  const a = new FakeBackend();
  const b = new FakeBackend();
  const p = new BackendPool([a, b], maxViewersPerFeed);
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
  expect(away.open[0]!.relay).toBeUndefined(); // a mix output, not a relay
  const v = await p.openLeg();
  await v.subscribe(remote.leg);
  expect(away.open.length).toBe(2);
});

test('mixing and CDN relay through the pool: rtp_forward and keyframes are asked of the SFU holding the publisher, a mix output goes to the least loaded', async () => {
  const { a, b, p } = pool();
  const p1 = await p.openLeg();
  await p1.publish('1:r', 's1', 'offer');
  const p2 = await p.openLeg();
  await p2.publish('1:r', 's2', 'offer');
  const [onA, onB] = [a.open[0]!, b.open[0]!];
  // A viewer of s1 makes a the busier SFU (2 legs to 1).
  await (await p.openLeg()).subscribe(p1);
  // What MixTask / RelayTask do with the publisher's (pool) leg MediaService hands them.
  const stop = await p2.forward({ host: '127.0.0.1', audioPort: 30002, videoPort: 30004 });
  await p2.requestKeyframe();
  expect(onB.forwards).toEqual([{ host: '127.0.0.1', audioPort: 30002, videoPort: 30004 }]);
  expect(onB.keyframes).toBe(1);
  expect([onA.forwards, onA.keyframes]).toEqual([[], 0]);
  await p1.forward({ host: '127.0.0.1', videoPort: 30006 });
  expect(onA.forwards).toEqual([{ host: '127.0.0.1', videoPort: 30006 }]);
  await stop();
  expect(onB.forwards).toEqual([]);
  // The mix output (LiveService: backend.addRemotePublisher) on the least loaded SFU, b; its viewers there.
  const mix = await p.addRemotePublisher('1:r', 'mix', { videoCodec: 'h264', audio: true });
  expect(b.open).toContain(mix.leg);
  const v = await p.openLeg();
  await v.subscribe(mix.leg);
  expect(b.open.filter((l) => l.role === 'subscriber').map((l) => l.publisher)).toEqual([mix.leg]);
  // b dies: the mix output's viewer is among the dead legs (its session is reset with b's).
  const lost: ((leg: import('../../../src/server/media/MediaBackend').MediaLeg) => boolean)[] = [];
  p.on('lost', (isDead) => lost.push(isDead));
  b.down();
  expect([lost[0]!(v), lost[0]!(mix.leg), lost[0]!(p1)]).toEqual([true, true, false]);
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

test('overflow: past maxViewersPerFeed on the source SFU, viewers go to a relay on the other; the relay ends with its source', async () => {
  const { a, b, p } = pool(2);
  const pub = await p.openLeg();
  await pub.publish('1:r', 's', 'offer');
  const src = a.open[0]!;
  const viewers = [];
  for (let i = 0; i < 5; i++) {
    const v = await p.openLeg();
    await v.subscribe(pub);
    viewers.push(v);
  }
  // Two beside the source; a relay on b (a remote publisher fed by publishRemotely) takes the next two; the
  // fifth has nowhere else to go (every SFU holds a feed of it): on the source's SFU.
  expect(a.open.map((l) => l.role)).toEqual(['publisher', 'subscriber', 'subscriber', 'subscriber']);
  const remote = b.open[0]!;
  expect(b.open.map((l) => l.role)).toEqual([null, 'subscriber', 'subscriber']);
  expect(remote.room).toBe('1:r');
  // Added as a relay (the SFU asks no keyframes of it beyond its viewers').
  expect(remote.relay).toBe(true);
  expect(b.open.slice(1).every((l) => l.publisher === remote)).toBe(true);
  expect(src.remotes).toEqual([40000 + remote.id]);
  expect(p.health()).toMatchObject({ relays: 1 });
  // A viewer of the relay leaves: the next one takes its place there.
  await viewers[2]!.close();
  const next = await p.openLeg();
  await next.subscribe(pub);
  expect(b.open.filter((l) => l.role === 'subscriber')).toHaveLength(2);
  // The source ends: the remote publisher is removed and the forwarders stopped.
  await pub.close();
  expect(remote.closed).toBe(true);
  expect(src.remotes).toEqual([]);
  expect(p.health()).toMatchObject({ relays: 0 });
});

test("overflow between SFUs on other hosts: publishRemotely sends to the target SFU's RTP address", async () => {
  const { a, b, p } = pool(1);
  a.rtpHost = '10.0.0.5';
  b.rtpHost = '10.0.0.6';
  const pub = await p.openLeg();
  await pub.publish('1:r', 's', 'offer');
  for (let i = 0; i < 2; i++) await (await p.openLeg()).subscribe(pub);
  const src = a.open[0]!;
  expect(src.remotes).toEqual([40000 + b.open[0]!.id]);
  expect(src.remoteHosts).toEqual(['10.0.0.6']);
  // A mix output placed on a member says where to send it: that member's address.
  const out = await p.addRemotePublisher('1:r', 'mix', { videoCodec: 'h264', audio: true });
  const holder = p.owner.get(out.leg) as FakeBackend;
  expect(out.host).toBe(holder.rtpHost);
});

test('overflow: a relay viewer counts as dead when its source SFU dies; a dead relay SFU drops its relay', async () => {
  const { a, b, p } = pool(1);
  const lost: ((leg: import('../../../src/server/media/MediaBackend').MediaLeg) => boolean)[] = [];
  p.on('lost', (isDead) => lost.push(isDead));
  const pub = await p.openLeg();
  await pub.publish('1:r', 's', 'offer');
  const v1 = await p.openLeg();
  await v1.subscribe(pub);
  const v2 = await p.openLeg();
  await v2.subscribe(pub); // on b, through the relay
  expect(b.open).toHaveLength(2);
  b.down();
  expect(lost[0]!(v2)).toBe(true);
  expect(lost[0]!(v1)).toBe(false);
  expect(p.health()).toMatchObject({ relays: 0 });
  b.comeBack();
  const v3 = await p.openLeg();
  await v3.subscribe(pub); // a new relay on b
  expect(p.health()).toMatchObject({ relays: 1 });
  a.down();
  expect(lost[1]!(v3)).toBe(true); // its source was on a
  expect(p.health()).toMatchObject({ relays: 0 });
});

test('overflow: viewers arriving together share one relay', async () => {
  const { a, b, p } = pool(1);
  const pub = await p.openLeg();
  await pub.publish('1:r', 's', 'offer');
  const vs = await Promise.all([1, 2, 3].map(() => p.openLeg()));
  await Promise.all(vs.map((v) => v.subscribe(pub)));
  expect(p.health()).toMatchObject({ relays: 1 });
  expect(b.open.map((l) => l.role)).toEqual([null, 'subscriber']);
  expect(a.open.map((l) => l.role)).toEqual(['publisher', 'subscriber', 'subscriber']);
});
