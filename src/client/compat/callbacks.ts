/**
 * Calling a page's callback: only a function is called, and one that throws is logged, never allowed to
 * break the SDK (a page bug must not stop the reports that follow).
 */
import { Logger } from '../core/Logger';

/* eslint-disable @typescript-eslint/no-explicit-any -- legacy callbacks take any arguments */
export type Cb = ((...args: any[]) => void) | undefined | null;

export function invoke(log: Logger, fn: unknown, ...args: unknown[]): void {
  if (typeof fn !== 'function') return;
  try {
    (fn as (...a: unknown[]) => void)(...args);
  } catch (e) {
    log.error('a callback threw:', e);
  }
}

/** The statics (detection, enumDevices) have no client and no config: they log through this one. */
export const staticLog = new Logger();
