/**
 * Many nodes for tests: N real server processes (the built CLI) sharing one real Redis. The first node
 * spawns redis-server itself (`redis.spawn`, under its child supervisor, on a port chosen here); the others
 * name it by URL. Every wait is bounded.
 */
import { freePort, fuzzConfig, startFuzzServer, type FuzzServer } from '../fuzz/lib/server';
import { APPID, SIGN } from './rawRoom';

export interface Cluster {
  nodes: FuzzServer[];
  redisPort: number;
  /** /healthz `nodes` of a node: its id, redis up/down, the spawned redis pid (node 0). */
  nodeHealth(i: number): Promise<{ node: string; redis: string; redisPid?: number }>;
  stop(): Promise<void>;
}

/** Short leases and grace so that a dead node's users leave within a few seconds. */
export const NODE_TTL_MS = 1500;
export const GRACE_MS = 1500;

export async function startCluster(n: number, extra: Record<string, Record<string, unknown>> = {}) {
  const redisPort = await freePort();
  const nodes: FuzzServer[] = [];
  const config = (redis: Record<string, unknown>) => ({
    ...fuzzConfig({
      room: { graceMs: GRACE_MS, ...(extra.room ?? {}) },
      redis: { nodeTtlMs: NODE_TTL_MS, ...(extra.redis ?? {}), ...redis },
      limits: extra.limits ?? {},
      // No origin: its nginx would take more free ports (a race with the suites running beside).
      origin: { enabled: false },
      ...(extra.webhooks ? { webhooks: extra.webhooks } : {}),
    }),
    // `extra.app`: more of the app's settings (its webhook receiver).
    apps: [{ appid: APPID, appSign: SIGN, ...(extra.app ?? {}) }],
  });
  // A free port can be taken between its choice and the listen by a suite running beside: tried again.
  const start = async (c: Record<string, unknown>): Promise<FuzzServer> => {
    for (let tries = 1; ; tries++) {
      try {
        return await startFuzzServer(c);
      } catch (e) {
        if (tries >= 3 || !/EADDRINUSE/.test((e as Error).message)) throw e;
      }
    }
  };
  try {
    nodes.push(await start(config({ spawn: true, port: redisPort })));
    for (let i = 1; i < n; i++) nodes.push(await start(config({ url: `redis://127.0.0.1:${redisPort}` })));
  } catch (e) {
    await Promise.all(nodes.map((s) => s.stop()));
    throw e;
  }
  const cluster: Cluster = {
    nodes,
    redisPort,
    nodeHealth: async (i) => (await nodes[i]!.health()).nodes as Awaited<ReturnType<Cluster['nodeHealth']>>,
    // The spawning node last: the others' redis connections must not outlive their redis.
    stop: async () => {
      await Promise.all(nodes.slice(1).map((s) => s.stop()));
      await nodes[0]!.stop();
    },
  };
  return cluster;
}

export const wsOf = (s: FuzzServer) => s.ws('/ws');
