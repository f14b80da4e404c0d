/**
 * The operator's tools, wired to the planes: metrics (`/metrics`), webhooks to the apps' business servers,
 * and the admin API and page (`/admin`). Kept out of index.ts, which calls startOps once the planes exist
 * and closes what it returns on shutdown.
 */
import type { Logger } from 'pino';
import { ADMIN_ROUTE_NAMES } from '../protocol/adminApi';
import { AdminApi } from './admin/AdminApi';
import { LocalAdminView } from './admin/LocalAdminView';
import { Samples } from './admin/Samples';
import type { ResolvedConfig } from './config';
import type { MediaBackend } from './media/MediaBackend';
import type { BridgeService } from './media/bridge/BridgeService';
import type { MediaService } from './media/MediaService';
import { Metrics } from './metrics/Metrics';
import type { LiveService } from './mix/LiveService';
import { nodeName } from './opsConfig';
import { RoomServiceAdmin } from './room/RoomAdmin';
import type { RoomService } from './room/RoomService';
import type { NodeLease } from './redis/NodeLease';
import type { NodeCalls } from './NodeCalls';
import { Webhooks } from './webhooks/Webhooks';
import { WebhookSender, type WebhookTarget } from './webhooks/WebhookSender';
import type { WebhookQueue } from './webhooks/WebhookQueue';

export interface OpsPlanes {
  config: ResolvedConfig;
  log: Logger;
  startedAt: number;
  rooms: RoomService;
  backend: MediaBackend | null;
  media: MediaService | null;
  live: LiveService | null;
  bridge: BridgeService | null;
  /** Many nodes: this node's lease (the node list is shared beside it). */
  lease?: NodeLease;
  /** Many nodes: requests to the other nodes, and which node holds a stream's publisher. */
  cluster?: { calls: NodeCalls; nodeOf(appid: number, streamId: string): Promise<string | undefined> };
  /** Many nodes: the webhook queue shared through Redis, for the apps given (else one in memory). */
  webhookQueue?: (appids: number[]) => WebhookQueue;
}

export interface Ops {
  metrics: Metrics | null;
  admin: AdminApi | null;
  webhooks: WebhookSender;
  close(): void;
}

/** Many nodes: end-stream of a publisher held by another node, asked of that node (media.endPublisher). */
function endElsewhere(
  c: NonNullable<OpsPlanes['cluster']>,
  log: Logger,
): (appid: number, streamId: string) => Promise<string | null> {
  return async (appid, streamId) => {
    const there = await c.nodeOf(appid, streamId).catch(() => undefined);
    if (!there || there === c.calls.node) return null;
    try {
      const room = await c.calls.call(there, 'media.endPublisher', { appid, streamId });
      return typeof room === 'string' ? room : null;
    } catch (e) {
      log.warn({ err: (e as Error).message, node: there, stream: streamId }, 'end-stream: publisher node');
      return null;
    }
  };
}

export function startOps(p: OpsPlanes): Ops {
  const { config, log, rooms, backend, media, live, bridge } = p;
  const node = nodeName(config);
  const targets = new Map<number, WebhookTarget>();
  for (const a of config.apps)
    if (a.webhookUrl && a.webhookSecret) targets.set(a.appid, { url: a.webhookUrl, secret: a.webhookSecret });
  // The sender and the metrics know each other through one hook each: built in this order.
  let metrics: Metrics | null = null;
  const sender = new WebhookSender(
    targets,
    config.webhooks,
    log,
    {
      delivered: (appid) => metrics?.delivered(appid),
      failedAttempt: (appid) => metrics?.failedAttempt(appid),
      dropped: (appid, why) => metrics?.dropped(appid, why),
    },
    undefined,
    targets.size && p.webhookQueue ? p.webhookQueue([...targets.keys()]) : undefined,
  );
  if (config.metrics.enabled)
    metrics = new Metrics(
      node,
      {
        rooms: () => rooms.stats(),
        media: media
          ? () => media.stats() as { sockets: number; sessions: number; publishers: number }
          : undefined,
        janus: backend
          ? () => {
              const h = backend.health();
              return { up: backend.up, handles: h.legs, rooms: h.rooms, starts: Number(h.janusStarts ?? 0) };
            }
          : undefined,
        live: live
          ? () => {
              const s = live.stats();
              const len = (v: unknown) => (Array.isArray(v) ? v.length : 0);
              return { mixTasks: len(s.mixTasks), relays: len(s.relays) };
            }
          : undefined,
        bridgeViewers: bridge ? () => Number(bridge.health().bridgeLegs ?? 0) : undefined,
        webhooks: () => sender.stats(),
      },
      ADMIN_ROUTE_NAMES,
    );
  if (targets.size) {
    const hooks = new Webhooks(config.apps, sender, node);
    rooms.events = hooks;
    if (live)
      live.onMixTask = (change, t) => (change === 'started' ? hooks.mixStarted(t) : hooks.mixStopped(t));
  }
  let admin: AdminApi | null = null;
  let samples: Samples | null = null;
  const adminApps = config.apps.filter((a) => a.adminSecret).map((a) => a.appid);
  if (config.admin.enabled) {
    const janus = () => (backend ? (backend.up ? 'up' : 'down') : 'off') as 'up' | 'down' | 'off';
    const lease = p.lease;
    if (lease)
      lease.statsOf = () =>
        JSON.stringify({
          node: lease.node,
          startedAt: p.startedAt,
          janus: janus(),
          apps: rooms.heldCounts(),
        });
    const view = new LocalAdminView(new RoomServiceAdmin(rooms), {
      node,
      startedAt: p.startedAt,
      janus,
      cluster: lease ? () => lease.liveStats() : undefined,
      endPublisher: media ? (appid, id) => media.endPublisher(appid, id) : undefined,
      endPublisherElsewhere: p.cluster ? endElsewhere(p.cluster, log) : undefined,
      live: live ? () => live.stats() : undefined,
      bridgeViewers: bridge ? (appid) => bridge.viewersOf(appid) : undefined,
    });
    samples = new Samples(adminApps, (appid) => view.counts(appid), config.admin.sampleEveryMs, log);
    admin = new AdminApi({
      config,
      view,
      samples,
      log,
      onAnswer: (route, code) => metrics?.admin(route, code),
    });
  }
  return {
    metrics,
    admin,
    webhooks: sender,
    close: () => {
      samples?.dispose();
      sender.close();
    },
  };
}
