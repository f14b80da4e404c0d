/** @jest-environment node */
/** TurnBudget: at most N pieces per turn of the event loop; the rest in later turns, in order. */
import { TurnBudget } from '../../../src/server/TurnBudget';

const turn = () => new Promise((r) => setImmediate(r));

test('a burst of 10 with 3 per turn: 3 at once, then 3 per turn, first come first served', async () => {
  const b = new TurnBudget(3);
  const done: number[] = [];
  const turns: number[][] = [];
  for (let i = 0; i < 10; i++) {
    const w = b.slot();
    if (!w) done.push(i);
    else void w.then(() => done.push(i));
  }
  turns.push([...done]);
  for (let k = 0; k < 6; k++) {
    await turn();
    turns.push([...done]);
  }
  expect(turns[0]).toEqual([0, 1, 2]);
  expect(done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Never more than three more in a turn.
  for (let k = 1; k < turns.length; k++)
    expect(turns[k]!.length - turns[k - 1]!.length).toBeLessThanOrEqual(3);
  expect(b.deferred).toBe(7);
});

test('under the budget nothing waits', async () => {
  const b = new TurnBudget(32);
  for (let i = 0; i < 32; i++) expect(b.slot()).toBeNull();
  await turn();
  expect(b.slot()).toBeNull();
  expect(b.deferred).toBe(0);
});
