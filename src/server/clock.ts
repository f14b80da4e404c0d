/**
 * Time for server logic that waits (grace periods, sweeps): injected, so unit tests drive it with a fake
 * clock (spec/fakes/FakePlatform.ts has the same shape) instead of sleeping.
 */
import { unref } from './timers';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process clock; its timers never keep the process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => unref(setTimeout(fn, ms)),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
