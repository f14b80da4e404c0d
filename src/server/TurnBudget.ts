/**
 * At most `perTurn` pieces of some work per turn of the event loop; the rest wait for later turns, first
 * come first served. A thousand page loads arriving together were all answered in the turn that read
 * them (each answer a writev of the script or its map), so that turn held every room's heartbeat for
 * ~100 ms; with the answers spread, a heartbeat waits behind one turn's share.
 */
export class TurnBudget {
  private used = 0;
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;
  /** Pieces that waited at least one turn (health details). */
  deferred = 0;

  constructor(private readonly perTurn: number) {}

  /** Resolves when this turn (or a later one) has room for one more piece. */
  slot(): Promise<void> | null {
    this.schedule();
    if (this.used < this.perTurn && this.waiting.length === 0) {
      this.used++;
      return null;
    }
    this.deferred++;
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** At the end of each turn: a fresh budget, spent first on those waiting. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.used = 0;
      while (this.used < this.perTurn && this.waiting.length) {
        this.used++;
        this.waiting.shift()!();
      }
      if (this.waiting.length || this.used) this.schedule();
    });
  }
}
