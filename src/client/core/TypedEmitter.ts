/**
 * A small typed event emitter: event name -> argument tuple. The engine emits through it and the facade
 * maps its events to the legacy `onXxx` handlers (the way ws builds `onopen` over its emitter). A listener
 * that throws is reported to `onListenerError` and never stops the others or the emitter.
 */
export type EventMap = { [name: string]: unknown[] };

type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners: { [K in keyof E]?: Listener<E[K]>[] } = {};

  constructor(private readonly onListenerError: (event: string, error: unknown) => void = () => {}) {}

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    (this.listeners[event] ??= []).push(fn);
    return () => this.off(event, fn);
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): void {
    const list = this.listeners[event];
    if (list) this.listeners[event] = list.filter((f) => f !== fn);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    // A copy: a listener may remove itself (or another) while the event is delivered.
    for (const fn of [...(this.listeners[event] ?? [])]) {
      try {
        fn(...args);
      } catch (e) {
        this.onListenerError(String(event), e);
      }
    }
  }
}
