/**
 * The `redis` config section (many nodes, docs/deployment.md "Many nodes"): without it (no `url`, no
 * `spawn`) the server is one node with its rooms in memory, and `npm start` needs no Redis. With it, every
 * server process that names the same Redis serves the same rooms.
 *
 * - `url`: a running Redis (`redis://host:port/db`, `rediss://`, or `unix:///path/redis.sock`).
 * - `spawn: true`: the server starts its own redis-server (tests, or one machine running several nodes
 *   that all name the first one's socket): loopback only, a unix socket and a port in a temp dir, under
 *   the one child supervisor. Not both.
 */
import type { ResolvedConfig } from '../config';
import { bool, ConfigError, int, section } from '../configCheck';

export interface RedisConfig {
  url: string;
  spawn: boolean;
  /** The redis-server executable (spawn). */
  binary: string;
  /** spawn: the loopback port it listens on, for the other nodes' `url` (0 = a free one). */
  port: number;
  /** A Redis command not answered within this fails the request (1002, StoreUnavailable), ms. */
  commandTimeoutMs: number;
  /** A node that has not renewed its lease for this long is dead: its members leave, its caps go, ms. */
  nodeTtlMs: number;
  /** This node's id ('' = a random one at start); two live processes must never share one. */
  node: string;
  /** Prefix of every key and channel (several deployments on one Redis). */
  prefix: string;
}

export const REDIS_DEFAULTS: RedisConfig = {
  url: '',
  spawn: false,
  binary: 'redis-server',
  port: 0,
  commandTimeoutMs: 2_000,
  nodeTtlMs: 6_000,
  node: '',
  prefix: 'zs:',
};

/** True when the config names a Redis (many nodes). */
export const redisOn = (c: ResolvedConfig): boolean => c.redis.url !== '' || c.redis.spawn;

export function resolveRedis(given: unknown): RedisConfig {
  const r = section('redis', given, REDIS_DEFAULTS);
  for (const k of ['url', 'binary', 'node', 'prefix'] as const)
    if (typeof r[k] !== 'string') throw new ConfigError(`redis.${k}`, 'must be a string');
  bool('redis.spawn', r.spawn);
  if (r.url && !/^(rediss?:\/\/|unix:\/\/\/)/.test(r.url))
    throw new ConfigError('redis.url', 'must be redis://, rediss:// or unix:/// (or empty)');
  if (r.url && r.spawn) throw new ConfigError('redis.spawn', 'and redis.url exclude each other');
  if (!r.binary) throw new ConfigError('redis.binary', 'must not be empty');
  if (!/^[\w.-]{0,64}$/.test(r.node))
    throw new ConfigError('redis.node', 'must be up to 64 letters, digits, ".", "_" or "-"');
  if (!/^[\w.:-]{1,32}$/.test(r.prefix))
    throw new ConfigError('redis.prefix', 'must be 1 to 32 letters, digits, ".", "_", ":" or "-"');
  int('redis.port', r.port, 0, 65535);
  int('redis.commandTimeoutMs', r.commandTimeoutMs, 50, 60_000);
  int('redis.nodeTtlMs', r.nodeTtlMs, 500, 600_000);
  return r;
}
