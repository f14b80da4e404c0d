/**
 * A node's lease in Redis (many nodes): each node renews its entry in `P nodes` (a sorted set of
 * deadlines, in Redis time) every third of `redis.nodeTtlMs`, and looks for nodes whose deadline passed.
 * One node wins each dead node (ZREM is atomic): it gets the dead node's members, gives back its caps
 * (RedisCapCounters' per-node hash) and hands the members to the room plane, which lets them leave as a
 * lost socket does (Presence grace, then their streams end unless they logged in again elsewhere).
 *
 * A node that finds its own entry gone (Redis restarted empty, or others reaped it after a long stall)
 * says so (`lost`): what its clients hold is no longer in Redis, and the room plane has them log in again.
 */
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { guarded, unref } from '../timers';

/** A member of a dead node: [appid, roomId, idName, sessionId]. */
export type DeadMember = [appid: string, roomId: string, idName: string, sessionId: string];
/**
 * A session of a dead node replaced by a login on another node within the node's last lease (the user
 * came back elsewhere before the node was found dead): nobody told its departure yet.
 */
export type ReplacedMember = [
  appid: string,
  roomId: string,
  idName: string,
  sessionId: string,
  nickName: string,
  role: number,
];

const BEAT = `
local P, node, ttl, first = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local had = redis.call('ZSCORE', P..'nodes', node)
redis.call('ZADD', P..'nodes', now + ttl, node)
-- Members of this node replaced from another node more than a lease ago: this live node has told them.
redis.call('ZREMRANGEBYSCORE', P..'nr:'..node, '-inf', now - ttl)
if first == '1' or had then return 1 end
return 0`;

const REAP = `
local P, self = ARGV[1], ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', P..'nodes', '-inf', now, 'LIMIT', 0, 1)
local d = dead[1]
if not d or d == self then return {} end
redis.call('ZREM', P..'nodes', d)
local members = redis.call('SMEMBERS', P..'nm:'..d)
redis.call('DEL', P..'nm:'..d)
local replaced = redis.call('ZRANGE', P..'nr:'..d, 0, -1)
redis.call('DEL', P..'nr:'..d)
local caps = redis.call('HGETALL', P..'nc:'..d)
for i = 1, #caps, 2 do
  local k = P..'cap:'..caps[i]
  if redis.call('DECRBY', k, tonumber(caps[i + 1])) <= 0 then redis.call('DEL', k) end
end
redis.call('DEL', P..'nc:'..d)
redis.call('HDEL', P..'media', d)
redis.call('HDEL', P..'nstat', d)
return {d, members, replaced}`;

type Runner = (...args: (string | number)[]) => Promise<unknown>;

export class NodeLease {
  /**
   * A dead node's members (set by index.ts: the room plane lets them leave), and its sessions that were
   * replaced from another node while it was dead (their departure is told).
   */
  onDeadMembers: (node: string, members: DeadMember[], replaced: ReplacedMember[]) => void = () => {};
  /** This node's entry was gone from Redis (set by index.ts): false = not handled yet, asked again. */
  onLost: () => Promise<boolean> = () => Promise.resolve(true);
  /** This node's line in the operator's node list (JSON), kept beside its lease at every beat (set by startOps). */
  statsOf: (() => string) | null = null;
  private lost = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly beatCmd: Runner;
  private readonly reapCmd: Runner;
  private beaten = false;
  private busy = false;

  constructor(
    private readonly r: Redis,
    readonly node: string,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    r.defineCommand('zs_nodeBeat', { numberOfKeys: 0, lua: BEAT });
    r.defineCommand('zs_nodeReap', { numberOfKeys: 0, lua: REAP });
    const cmds = r as unknown as Record<string, Runner>;
    this.beatCmd = (...a) => cmds.zs_nodeBeat!(...a);
    this.reapCmd = (...a) => cmds.zs_nodeReap!(...a);
  }

  /**
   * No reaping before this (ms): after a start or a reconnection the other nodes get one TTL to beat first,
   * so a Redis outage longer than the TTL does not make live nodes look dead to the first one back.
   */
  private reapAfter = 0;
  /** When a beat last got through (ms). */
  private lastBeat = 0;

  /** The first beat (the node is alive from now on), then one every third of the TTL. */
  async start(): Promise<void> {
    this.reapAfter = Date.now() + this.ttlMs;
    await this.beatCmd(this.prefix, this.node, this.ttlMs, '1');
    this.lastBeat = Date.now();
    this.beaten = true;
    await this.publishStats();
    this.timer = unref(
      setInterval(
        guarded(this.log, 'node lease', () => void this.tick()),
        Math.max(100, Math.floor(this.ttlMs / 3)),
      ),
    );
  }

  private mediaUrl = '';

  /** Where this node's media plane is reached, for dispatch on the other nodes (kept with the lease). */
  async setMediaUrl(url: string): Promise<void> {
    this.mediaUrl = url;
    await this.advertise();
  }

  private async advertise(): Promise<void> {
    if (this.mediaUrl) await this.r.hset(`${this.prefix}media`, this.node, this.mediaUrl);
  }

  /** The media URL another node advertised (undefined: none, or the node is gone). */
  async mediaUrlOf(node: string): Promise<string | undefined> {
    return (await this.r.hget(`${this.prefix}media`, node)) ?? undefined;
  }

  private async publishStats(): Promise<void> {
    if (this.statsOf) await this.r.hset(`${this.prefix}nstat`, this.node, this.statsOf());
  }

  /** The names of the nodes alive now (their lease not reaped, not stopped). */
  async liveNodes(): Promise<string[]> {
    const live = await this.r.zrange(`${this.prefix}nodes`, 0, -1, 'WITHSCORES');
    const out: string[] = [];
    for (let i = 0; i + 1 < live.length; i += 2) if (Number(live[i + 1]) > 0) out.push(live[i]!);
    return out;
  }

  /** The lines of the nodes alive now (their lease not reaped, not stopped), as each last published it. */
  async liveStats(): Promise<string[]> {
    const [live, stats] = await Promise.all([
      this.r.zrange(`${this.prefix}nodes`, 0, -1, 'WITHSCORES'),
      this.r.hgetall(`${this.prefix}nstat`),
    ]);
    const out: string[] = [];
    for (let i = 0; i + 1 < live.length; i += 2) {
      const s = stats[live[i]!];
      // A node stopped cleanly has deadline 0 until it is reaped.
      if (s && Number(live[i + 1]) > 0) out.push(s);
    }
    return out;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const had = await this.beatCmd(this.prefix, this.node, this.ttlMs, this.beaten ? '0' : '1');
      // Our own beats did not get through for a TTL: neither did the others'. They get a TTL to beat again.
      const now = Date.now();
      if (now - this.lastBeat > this.ttlMs) this.reapAfter = now + this.ttlMs;
      this.lastBeat = now;
      if (Number(had) === 0) {
        this.log.warn({ node: this.node }, 'this node was gone from redis: writing back what it holds');
        this.lost = true;
      }
      this.beaten = true;
      await this.publishStats();
      if (this.lost) {
        await this.advertise();
        this.lost = !(await this.onLost());
      }
      for (let i = 0; i < 16 && Date.now() >= this.reapAfter; i++) {
        const r = (await this.reapCmd(this.prefix, this.node)) as [string, string[], string[]] | [];
        if (r.length === 0) break;
        const [dead, members, replaced] = r as [string, string[], string[]];
        // A node that stopped cleanly left nothing; one that died left members (said louder).
        if (members.length)
          this.log.warn({ node: dead, members: members.length }, 'a node died: its members leave');
        else this.log.info({ node: dead }, 'a node stopped');
        this.onDeadMembers(
          dead,
          members.map((m) => JSON.parse(m) as DeadMember),
          replaced.map((m) => JSON.parse(m) as ReplacedMember),
        );
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'node lease: redis not reachable');
    } finally {
      this.busy = false;
    }
  }

  /** Beats now (the connection to Redis is back: was it restarted empty?). */
  /** This node found its lease gone from Redis and has not written back what it holds yet. */
  get isLost(): boolean {
    return this.lost;
  }

  checkNow(): void {
    this.reapAfter = Date.now() + this.ttlMs;
    void this.tick();
  }

  /** Stops renewing; `gone`: the entry is removed at once (a clean stop), else it expires. */
  async stop(gone: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (gone)
      await this.r
        .multi()
        .zadd(`${this.prefix}nodes`, 0, this.node)
        .hdel(`${this.prefix}media`, this.node)
        .hdel(`${this.prefix}nstat`, this.node)
        .exec()
        .catch(() => {});
  }
}
