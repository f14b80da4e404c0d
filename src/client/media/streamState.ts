/**
 * The life of one published or played stream as data (convention 6): a string union, the moves allowed
 * between its values, and the legacy state each value reports.
 *
 *   idle -> dispatching -> connecting -> negotiating -> live            (first attempt)
 *   live -> retrying -> live | failed                                    (a break after the start)
 *   connecting -> retrying                                               (play: the stream is listed but
 *                                                                         not live yet, the server said)
 *   negotiating | live | retrying -> ending -> failed | stopped          (play: the stream ended)
 *   any non-final -> failed | stopped                                    (final failure / stop)
 *
 * A retry cycle stays `retrying` through its attempts (their steps are in the timeline), so the page
 * hears state 2 once per cycle, as 1.12.
 */

export type StreamState =
  | 'idle'
  | 'dispatching'
  | 'connecting'
  | 'negotiating'
  | 'live'
  | 'retrying'
  /** Play: the server said the stream ended; waiting STREAM_END_WAIT_MS for the room to confirm it. */
  | 'ending'
  | 'failed'
  | 'stopped';

export const STREAM_MOVES: Readonly<Record<StreamState, readonly StreamState[]>> = {
  idle: ['dispatching', 'stopped'],
  dispatching: ['connecting', 'failed', 'stopped'],
  connecting: ['negotiating', 'retrying', 'failed', 'stopped'],
  negotiating: ['live', 'ending', 'failed', 'stopped'],
  live: ['retrying', 'ending', 'failed', 'stopped'],
  retrying: ['live', 'ending', 'failed', 'stopped'],
  ending: ['failed', 'stopped'],
  failed: [],
  stopped: [],
};

/** Legacy `on…StateUpdate` type reported on entering a state: 0 started, 1 error (final), 2 retrying. */
export const LEGACY_STATE: Readonly<Partial<Record<StreamState, 0 | 1 | 2>>> = {
  live: 0,
  failed: 1,
  retrying: 2,
};

export function isFinal(s: StreamState): boolean {
  return STREAM_MOVES[s].length === 0;
}
