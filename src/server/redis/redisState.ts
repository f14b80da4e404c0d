/**
 * Many nodes: the room state, the bus, the shared caps and the node lease over one Redis (`redis` in the
 * config; redis/redisConfig.ts). Two connections per node: commands, and the subscriber the bus needs.
 * Commands are bounded (`redis.commandTimeoutMs`) and never queued while Redis is away: a step fails at
 * once with StoreUnavailable (1002) instead of waiting for a Redis that may not come back.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config';
import type { CapCounters } from '../caps/CapCounters';
import type { RoomState } from '../room/RoomService';
import { storeLimitsFrom } from '../room/RoomService';
import { NodeLease } from './NodeLease';
import { RedisBus } from './RedisBus';
import { RedisCapCounters } from './RedisCapCounters';
import { RedisNodeCalls } from './RedisNodeCalls';
import { RedisProcess } from './RedisProcess';
import { RedisRoomStore } from './RedisRoomStore';

export interface RedisState {
  state: RoomState;
  counters: CapCounters;
  lease: NodeLease;
  /** Requests to other nodes (a publisher's media session, its RTP for a mix elsewhere). */
  calls: RedisNodeCalls;
  node: string;
  /** The command connection (the webhook queue shares it: bounded, nothing queued while Redis is away). */
  redis: Redis;
  /** The spawned redis-server (redis.spawn), if any. */
  process: RedisProcess | null;
  /** The server listens on `port`: its media URL is advertised to the other nodes. */
  listening(port: number): Promise<void>;
  /**
   * Dispatch of a viewer: the media URL of the node that holds the stream's publisher, when that is
   * another node (undefined: this node, or not known).
   */
  mediaNodeUrl(appid: number, streamId: string): Promise<string | undefined>;
  /** The node that holds the stream's publisher (its owner's room node, this one included), if listed. */
  nodeOf(appid: number, streamId: string): Promise<string | undefined>;
  /** The command connection is back after a loss (set by index.ts). */
  onReconnect: () => void;
  /** Health details. */
  health(): Record<string, unknown>;
  /** Stops the lease (its entry removed: others reap what is left at once), closes the connections. */
  close(): Promise<void>;
}

function connection(
  url: string,
  timeoutMs: number,
  log: Logger,
  role: string,
  back: () => void = () => {},
): Redis {
  const r = new Redis(url, {
    lazyConnect: true,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(1000, timeoutMs),
    // Reconnect soon after Redis comes back (restarted): 50 ms doubling to 1 s.
    retryStrategy: (n) => Math.min(1000, 50 * 2 ** Math.min(n, 5)),
  });
  let down = false;
  r.on('error', (e: Error) => {
    if (!down) log.warn({ err: e.message, role }, 'redis connection error');
    down = true;
  });
  r.on('ready', () => {
    if (!down) return;
    log.info({ role }, 'redis connection back');
    down = false;
    back();
  });
  return r;
}

/**
 * The media URL this node advertises to the others (dispatch sends a viewer to the publisher's node):
 * `media.publicUrl`, else its own address (right on one machine; behind a load balancer, give each node its
 * own `media.publicUrl`). '' without a media plane.
 */
function ownMediaUrl(config: ResolvedConfig, port: number): string {
  if (!config.janus.enabled) return '';
  if (config.media.publicUrl) return config.media.publicUrl;
  const h = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  return `ws://${h.includes(':') ? `[${h}]` : h}:${port}/media`;
}

export async function startRedisState(config: ResolvedConfig, log: Logger): Promise<RedisState> {
  const rc = config.redis;
  const node = rc.node || `${hostname().slice(0, 24)}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const proc = rc.spawn ? new RedisProcess(rc, log) : null;
  await proc?.start();
  const url = proc ? proc.url : rc.url;
  const cmd = connection(url, rc.commandTimeoutMs, log, 'commands', () => shared.onReconnect());
  const sub = connection(url, rc.commandTimeoutMs, log, 'bus');
  try {
    await Promise.all([cmd.connect(), sub.connect()]);
  } catch (e) {
    cmd.disconnect();
    sub.disconnect();
    await proc?.stop();
    throw new Error(`redis at ${url.replace(/\/\/[^@]*@/, '//')} not reachable: ${(e as Error).message}`);
  }
  const store = new RedisRoomStore(cmd, node, rc.prefix, storeLimitsFrom(config));
  const bus = new RedisBus(sub, rc.prefix, (why) => log.warn({ node }, why));
  const counters = new RedisCapCounters(cmd, node, rc.prefix, (e) =>
    log.warn({ err: e.message }, 'cap not given back to redis'),
  );
  const lease = new NodeLease(cmd, node, rc.prefix, rc.nodeTtlMs, log);
  const calls = new RedisNodeCalls(cmd, sub, node, rc.prefix, undefined, (why) => log.warn({ node }, why));
  await calls.start();
  await lease.start();
  let advertised = false;
  log.info({ node, redis: proc ? `spawned :${proc.port}` : 'external' }, 'many nodes: room state in redis');
  const shared: RedisState = {
    onReconnect: () => {},
    listening: async (port) => {
      if (advertised) return;
      advertised = true;
      await lease
        .setMediaUrl(ownMediaUrl(config, port))
        .catch((e: Error) => log.warn({ err: e.message }, 'media url not advertised'));
    },
    mediaNodeUrl: async (appid, streamId) => {
      const there = await shared.nodeOf(appid, streamId);
      if (!there || there === node) return undefined;
      return lease.mediaUrlOf(there);
    },
    nodeOf: async (appid, streamId) => {
      const where = await store.whereIs(appid, streamId);
      const owner = where && (await store.member(appid, where.roomId, where.owner));
      return owner?.node;
    },
    calls,
    state: { store, bus },
    counters,
    lease,
    node,
    redis: cmd,
    process: proc,
    health: () => ({
      node,
      redis: cmd.status === 'ready' ? 'up' : 'down',
      ...(proc ? { redisPid: proc.pid ?? null, redisStarts: proc.starts, redisPort: proc.port } : {}),
    }),
    close: async () => {
      await lease.stop(true);
      calls.close();
      cmd.disconnect();
      sub.disconnect();
      await proc?.stop();
    },
  };
  return shared;
}
