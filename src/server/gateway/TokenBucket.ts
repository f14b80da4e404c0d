/** A token bucket per socket: `rate` messages per second with bursts up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  /** Messages refused so far (a sustained flood closes the socket). */
  strikes = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens < 1) {
      this.strikes++;
      return false;
    }
    this.tokens -= 1;
    return true;
  }
}
