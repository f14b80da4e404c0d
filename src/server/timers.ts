/**
 * Timer helpers for server code. The server also runs inside jest's jsdom environment (integration tests
 * drive real shim clients against it), where timers are numbers without `unref`.
 */

/** Lets the process exit while the timer is pending (a no-op where timers have no unref). */
export function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
