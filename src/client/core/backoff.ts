/**
 * The 1.10-1.12 retry schedule for rooms and streams: the first retry after a random 1-4 s, then
 * 2^round(n/2+1) s, at most 32 s (legacy-sdk.md section 6).
 */
export const legacyBackoff =
  (rand: () => number) =>
  (n: number): number =>
    n === 0 ? 1000 + Math.floor(rand() * 3000) : Math.min(32, 2 ** Math.round(n / 2 + 1)) * 1000;
