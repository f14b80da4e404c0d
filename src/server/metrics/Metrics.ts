/**
 * Prometheus metrics (`GET /metrics`) with prom-client, the field's own client (exposition format, label
 * escaping, histograms and Node's process metrics are its job, not ours). One registry per server, every
 * series labelled with `node` (metrics.node, else the host name).
 *
 * Counts that the planes already keep (rooms, users, sessions, Janus handles, queues) are read when
 * Prometheus scrapes (gauges with `collect`); what happens per request (messages, refusals, logins,
 * webhook outcomes, admin calls) is counted as it happens through the small hooks below, each O(1).
 * Label values are bounded: commands and routes are the known ones (others count as `other`), codes come
 * from the error tables, appids from the config.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ROOM_CMDS } from '../../protocol/roomSchema';
import type { RoomTraffic } from '../gateway/Connection';
import type { DropReason, WebhookAppStats, WebhookObserver } from '../webhooks/WebhookSender';

/**
 * What the gauges read at scrape time. A part that is off on this server (no media plane, no live
 * production, no bridge) is absent, and so are its series: an absent series is not a false 0.
 */
export interface MetricSources {
  rooms(): { rooms: number; users: number; streams: number; sockets: number };
  media?(): { sockets: number; sessions: number; publishers: number };
  janus?(): { up: boolean; handles: number; rooms: number; starts: number };
  live?(): { mixTasks: number; relays: number };
  bridgeViewers?(): number;
  webhooks(): Record<number, WebhookAppStats>;
}

const KNOWN_CMDS: ReadonlySet<string> = new Set(ROOM_CMDS);
const LOGIN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REDIS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class Metrics implements RoomTraffic, WebhookObserver {
  readonly registry = new Registry();
  private readonly messages: Counter<'cmd'>;
  private readonly refusals: Counter<'code'>;
  private readonly logins: Histogram<'result'>;
  private readonly redis: Histogram<'op'>;
  private readonly webhookDelivered: Counter<'appid'>;
  private readonly webhookFailed: Counter<'appid'>;
  private readonly webhookDropped: Counter<'appid' | 'reason'>;
  private readonly adminCalls: Counter<'route' | 'code'>;
  private readonly routes: ReadonlySet<string>;

  constructor(node: string, sources: MetricSources, adminRoutes: readonly string[] = []) {
    const r = this.registry;
    r.setDefaultLabels({ node });
    collectDefaultMetrics({ register: r });
    this.routes = new Set(adminRoutes);
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    gauge('zego_rooms', 'Rooms on this node', () => sources.rooms().rooms);
    gauge('zego_users', 'Users logged in to rooms on this node', () => sources.rooms().users);
    gauge('zego_streams', 'Streams listed in rooms on this node', () => sources.rooms().streams);
    gauge('zego_room_sockets', 'Open room sockets (/ws)', () => sources.rooms().sockets);
    const { media, janus, live, bridgeViewers } = sources;
    if (media) {
      gauge('zego_media_sockets', 'Open media sockets (/media)', () => media().sockets);
      gauge('zego_media_sessions', 'Media sessions (publishing and playing)', () => media().sessions);
      gauge('zego_media_publishers', 'Publishing media sessions', () => media().publishers);
    }
    if (janus) {
      gauge('zego_janus_up', 'The SFU is connected (1) or not (0)', () => (janus().up ? 1 : 0));
      gauge(
        'zego_janus_handles',
        'Open Janus handles (one per publisher and player leg)',
        () => janus().handles,
      );
      gauge('zego_janus_rooms', 'Janus VideoRoom rooms', () => janus().rooms);
      gauge('zego_janus_starts', 'Times the supervised Janus was started', () => janus().starts);
    }
    if (live) {
      gauge('zego_mix_tasks', 'Mix tasks running', () => live().mixTasks);
      gauge('zego_relays', 'CDN relays (stream x target)', () => live().relays);
    }
    if (bridgeViewers)
      gauge('zego_bridge_viewers', 'Players of the original SDK through the bridge', bridgeViewers);
    new Gauge({
      name: 'zego_webhook_queue',
      help: 'Webhook events of an app waiting, in flight or waiting to retry',
      labelNames: ['appid'],
      registers: [r],
      collect() {
        this.reset();
        for (const [appid, s] of Object.entries(sources.webhooks()))
          this.set({ appid }, s.queued + s.inFlight + s.retrying);
      },
    });
    this.messages = new Counter({
      name: 'zego_room_messages_total',
      help: 'Room protocol requests by command (unknown commands count as "other")',
      labelNames: ['cmd'],
      registers: [r],
    });
    this.refusals = new Counter({
      name: 'zego_room_refusals_total',
      help: 'Room protocol error answers by err_code (docs/errors.md)',
      labelNames: ['code'],
      registers: [r],
    });
    this.logins = new Histogram({
      name: 'zego_login_duration_seconds',
      help: 'Room logins, from the request to the answer (third-token calls included)',
      labelNames: ['result'],
      buckets: LOGIN_BUCKETS,
      registers: [r],
    });
    this.redis = new Histogram({
      name: 'zego_redis_latency_seconds',
      help: 'Redis round trips by operation (empty without Redis)',
      labelNames: ['op'],
      buckets: REDIS_BUCKETS,
      registers: [r],
    });
    this.webhookDelivered = new Counter({
      name: 'zego_webhooks_delivered_total',
      help: 'Webhook events an app acknowledged (2xx)',
      labelNames: ['appid'],
      registers: [r],
    });
    this.webhookFailed = new Counter({
      name: 'zego_webhook_failed_attempts_total',
      help: 'Webhook attempts that failed (no 2xx in time); each is retried until webhooks.maxAttempts',
      labelNames: ['appid'],
      registers: [r],
    });
    this.webhookDropped = new Counter({
      name: 'zego_webhooks_dropped_total',
      help: 'Webhook events given up: queue_full (the app queue was full), attempts, shutdown, redis_down (Redis unreachable and the local buffer full)',
      labelNames: ['appid', 'reason'],
      registers: [r],
    });
    this.adminCalls = new Counter({
      name: 'zego_admin_requests_total',
      help: 'Admin API requests by route and answer code (0 = ok)',
      labelNames: ['route', 'code'],
      registers: [r],
    });
  }

  // RoomTraffic (gateway/Connection.ts)

  request(cmd: string): void {
    this.messages.inc({ cmd: KNOWN_CMDS.has(cmd) ? cmd : 'other' });
  }

  refused(code: number): void {
    this.refusals.inc({ code: String(code) });
  }

  handled(cmd: string, code: number, seconds: number): void {
    if (cmd === 'login') this.logins.observe({ result: code === 0 ? 'ok' : 'error' }, seconds);
  }

  // WebhookObserver (webhooks/WebhookSender.ts)

  delivered(appid: number): void {
    this.webhookDelivered.inc({ appid: String(appid) });
  }

  failedAttempt(appid: number): void {
    this.webhookFailed.inc({ appid: String(appid) });
  }

  dropped(appid: number, reason: DropReason): void {
    this.webhookDropped.inc({ appid: String(appid), reason });
  }

  /** An admin API answer (route names outside the API count as "other"). */
  admin(route: string, code: number): void {
    this.adminCalls.inc({ route: this.routes.has(route) ? route : 'other', code: String(code) });
  }

  /**
   * The hook a Redis store and bus feed (many nodes): one round trip of `op` took `seconds`. Without
   * Redis nothing calls it and the histogram stays empty.
   */
  observeRedis(op: string, seconds: number): void {
    this.redis.observe({ op: op.slice(0, 32) }, seconds);
  }

  /** The exposition text and its content type. */
  async text(): Promise<{ type: string; body: string }> {
    return { type: this.registry.contentType, body: await this.registry.metrics() };
  }
}
