/** @jest-environment node */
/** Presence on a fake clock: one lease per user, one grace timer, what ends when, and once. */
import { Presence, type UserRef } from '../../../src/server/presence/Presence';
import { FakePlatform } from '../../fakes/FakePlatform';

const alice: UserRef = { appid: 1, roomId: 'r1', idName: 'alice' };
let clock: FakePlatform;
let p: Presence;
let events: string[];

beforeEach(() => {
  clock = new FakePlatform();
  p = new Presence(clock, 1000);
  events = [];
  p.on('userGone', (u, why) => events.push(`user ${u.idName} ${why}`));
  p.on('streamGone', (u, s, why) => events.push(`stream ${s} ${why}`));
});

test('a graceful departure is final at once; a lost one after the grace', async () => {
  p.roomDown(alice, true);
  expect(events).toEqual(['user alice left']);
  p.roomDown(alice, false);
  await clock.advance(999);
  expect(events).toHaveLength(1);
  await clock.advance(1);
  expect(events).toEqual(['user alice left', 'user alice expired']);
  expect(clock.pendingTimers).toBe(0);
});

test('coming back within the grace forgives the loss and clears the timer', async () => {
  p.roomDown(alice, false);
  p.streamDown(alice, 's1', false);
  expect(p.lostStreamOwner(1, 's1')).toEqual(alice);
  await clock.advance(500);
  p.roomUp(alice);
  expect(clock.pendingTimers).toBe(1); // the stream is still lost
  p.streamUp(alice, 's1');
  expect(clock.pendingTimers).toBe(0);
  expect(p.lostStreamOwner(1, 's1')).toBeUndefined();
  await clock.advance(5000);
  expect(events).toEqual([]);
});

test('overlapping losses share the first deadline; a stopped stream is gone at once', async () => {
  p.streamDown(alice, 's1', false);
  await clock.advance(600);
  p.streamDown(alice, 's2', false);
  p.streamDown(alice, 's3', true);
  expect(events).toEqual(['stream s3 stopped']);
  await clock.advance(400);
  expect(events).toEqual(['stream s3 stopped', 'stream s1 expired', 'stream s2 expired']);
  expect(p.inGrace).toBe(0);
});

test('dispose clears every timer', () => {
  p.roomDown(alice, false);
  p.streamDown({ ...alice, idName: 'bob' }, 's', false);
  expect(clock.pendingTimers).toBe(2);
  p.dispose();
  expect(clock.pendingTimers).toBe(0);
});
