/**
 * One peer connection's operations, one at a time (mediasoup-client's AwaitQueue idea): a task starts
 * once the previous one settled, so a createOffer, a setRemoteDescription, trickled candidates and a
 * replaceTrack never interleave on the same RTCPeerConnection. Written here (a dozen lines) rather than
 * taken from npm: the `awaitqueue` package would add its stop/remove/timing API and an error class to the
 * global script for nothing we use.
 */
export class QueueClosedError extends Error {
  constructor() {
    super('peer connection closed');
  }
}

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** Runs `task` after every task pushed before it; rejects, without running it, once closed. */
  push<T>(task: () => Promise<T> | T): Promise<T> {
    const run = this.tail.then(() => {
      if (this.closed) throw new QueueClosedError();
      return task();
    });
    // The next task waits for this one to settle, whatever its outcome (the caller sees the outcome).
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Tasks not started yet reject with QueueClosedError (the connection they were for is gone). */
  close(): void {
    this.closed = true;
  }
}
