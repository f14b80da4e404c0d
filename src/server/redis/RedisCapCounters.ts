/**
 * The per-user and per-app caps shared by every node (CapCounters in Redis): `take` is one Lua script
 * (every counter checked against its limit, then all incremented, or none), `give` another. Each node also
 * counts what it took in a hash of its own, so what a dead node held is given back when it is reaped
 * (NodeLease). Counters at 0 are deleted: no key outlives what it counts.
 */
import type Redis from 'ioredis';
import type { CapCounters, CapItem } from '../caps/CapCounters';

const TAKE = `
local P, node = ARGV[1], ARGV[2]
for i = 3, #ARGV, 2 do
  if tonumber(redis.call('GET', P..'cap:'..ARGV[i]) or '0') >= tonumber(ARGV[i + 1]) then return (i - 1) / 2 end
end
for i = 3, #ARGV, 2 do
  redis.call('INCR', P..'cap:'..ARGV[i])
  redis.call('HINCRBY', P..'nc:'..node, ARGV[i], 1)
end
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
    r: Redis,
    private readonly node: string,
    private readonly prefix: string,
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
    for (const it of items) this.mine.set(it.key, (this.mine.get(it.key) ?? 0) + 1);
    return null;
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
