/**
 * A token bucket per socket: `rate` messages per second with bursts up to `burst`. Every refusal is a
 * strike; strikes are forgiven at `strikeDecayPerSecond`, and all at once when the bucket is full again
 * (the client stayed under the rate long enough to refill it). So a client that bursts now and then
 * (125 `hb` every 3 s averages under the rate) is never closed, while a sustained flood, which never lets
 * the bucket refill, piles strikes up.
 */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private strikeScore = 0;
  private lastStrike = Date.now();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly strikeDecayPerSecond = 0,
  ) {
    this.tokens = burst;
  }

  /** Refusals not yet forgiven. */
  get strikes(): number {
    return this.decayed(Date.now());
  }

  private decayed(now: number): number {
    return Math.max(0, this.strikeScore - ((now - this.lastStrike) * this.strikeDecayPerSecond) / 1000);
  }

  /** Takes `cost` tokens (a large message costs more than one: see FrameSocket), or refuses with a strike. */
  take(cost = 1): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens >= this.burst) this.strikeScore = 0;
    if (this.tokens < Math.min(cost, this.burst)) {
      this.strikeScore = this.decayed(now) + 1;
      this.lastStrike = now;
      return false;
    }
    this.tokens -= cost;
    return true;
  }
}
