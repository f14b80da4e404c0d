/**
 * Timer helpers for server code. The server also runs inside jest's jsdom environment (integration tests
 * drive real shim clients against it), where timers are numbers without `unref`.
 */

/** Lets the process exit while the timer is pending (a no-op where timers have no unref). */
export function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/**
 * Wraps a callback run by a timer or an event emitter (no caller to hand an error to): a failure is
 * logged with what was running, never thrown into the process.
 */
export function guarded<A extends unknown[]>(
  log: { error(obj: object, msg: string): void },
  what: string,
  fn: (...args: A) => void,
): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (e) {
      log.error({ err: (e as Error)?.stack ?? String(e) }, `${what} failed`);
    }
  };
}
