/**
 * The per-user and per-app caps shared by every node (CapCounters in Redis): `take` is one Lua script
 * (every counter checked against its limit, then all incremented, or none), `give` another. A room step
 * on the same connection may take them inside its own script (CAP_LUA; RedisRoomStore.join). Each node also
 * counts what it took in a hash of its own, so what a dead node held is given back when it is reaped
 * (NodeLease). Counters at 0 are deleted: no key outlives what it counts.
 */
import type Redis from 'ioredis';
import type { CapCounters, CapItem } from '../caps/CapCounters';

/**
 * The take in Lua, for this file's script and for a room step that takes caps in its own step (the join:
 * one round trip per login). Needs `P` (the key prefix). The counters are ARGV pairs (key, limit) from
 * index i0 to the end. `capFull(i0)`: the 1-based number of the first full one, or 0; `capTake(i0, node)`
 * counts them all, in the node's own hash too (given back when the node is reaped).
 */
export const CAP_LUA = `
local function capFull(i0)
  for i = i0, #ARGV, 2 do
    if tonumber(redis.call('GET', P..'cap:'..ARGV[i]) or '0') >= tonumber(ARGV[i + 1]) then return (i - i0) / 2 + 1 end
  end
  return 0
end
local function capTake(i0, node)
  for i = i0, #ARGV, 2 do
    redis.call('INCR', P..'cap:'..ARGV[i])
    redis.call('HINCRBY', P..'nc:'..node, ARGV[i], 1)
  end
end`;

const TAKE = `
local P, node = ARGV[1], ARGV[2]
${CAP_LUA}
local full = capFull(3)
if full > 0 then return full end
capTake(3, node)
return 0`;

const GIVE = `
local P, node = ARGV[1], ARGV[2]
for i = 3, #ARGV do
  local k = ARGV[i]
  if redis.call('HINCRBY', P..'nc:'..node, k, -1) <= 0 then redis.call('HDEL', P..'nc:'..node, k) end
  if redis.call('DECR', P..'cap:'..k) <= 0 then redis.call('DEL', P..'cap:'..k) end
end
return 0`;

type Runner = (...args: (string | number)[]) => Promise<number>;

export class RedisCapCounters implements CapCounters {
  /** What this node holds now (value(): health details and tests). */
  private readonly mine = new Map<string, number>();
  private readonly takeCmd: Runner;
  private readonly giveCmd: Runner;

  constructor(
    private readonly r: Redis,
    readonly node: string,
    readonly prefix: string,
    private readonly onError: (e: Error) => void,
  ) {
    r.defineCommand('zs_capTake', { numberOfKeys: 0, lua: TAKE });
    r.defineCommand('zs_capGive', { numberOfKeys: 0, lua: GIVE });
    const cmds = r as unknown as Record<string, Runner>;
    this.takeCmd = (...a) => cmds.zs_capTake!(...a);
    this.giveCmd = (...a) => cmds.zs_capGive!(...a);
  }

  async take(items: readonly CapItem[]): Promise<CapItem | null> {
    const args = items.flatMap((it) => [it.key, it.limit]);
    // Redis out of reach: the claim fails shut (the request is refused, never let through uncounted).
    const full = await this.takeCmd(this.prefix, this.node, ...args);
    if (full > 0) return items[full - 1] ?? null;
    this.took(items);
    return null;
  }

  /** True when a step on connection `r` under `prefix` for `node` can take these counters (CAP_LUA). */
  sharesStep(r: Redis, prefix: string, node: string): boolean {
    return r === this.r && prefix === this.prefix && node === this.node;
  }

  /** A step on the same Redis took `items` with CAP_LUA for this node: this node holds them now. */
  took(items: readonly CapItem[]): void {
    for (const it of items) this.mine.set(it.key, (this.mine.get(it.key) ?? 0) + 1);
  }

  give(keys: readonly string[]): void {
    for (const k of keys) {
      const n = (this.mine.get(k) ?? 0) - 1;
      if (n > 0) this.mine.set(k, n);
      else this.mine.delete(k);
    }
    this.giveCmd(this.prefix, this.node, ...keys).catch((e: Error) => this.onError(e));
  }

  value(key: string): number {
    return this.mine.get(key) ?? 0;
  }
}
