/**
 * The configuration of the operator's tools: the admin API and page (`admin`), webhooks to the apps'
 * business servers (`webhooks`) and Prometheus metrics (`metrics`). Kept apart from config.ts, which only
 * calls resolveOpsConfig and checks the per-app fields (`adminSecret`, `webhookUrl`, ...); every field is
 * documented in README.md, docs/admin.md and docs/deployment.md.
 */
import { hostname } from 'node:os';
import { bool, ConfigError, int, section } from './configCheck';

export interface AdminConfig {
  /** false: no admin API and no /admin page (404). */
  enabled: boolean;
  /** How far a request's timestamp may be from our clock, s. */
  maxSkewS: number;
  /** A request body over this is refused (413) unread. */
  maxBodyBytes: number;
  /** Signed requests one app may make per second (and in a burst). */
  appRequestsPerSecond: number;
  appBurst: number;
  /** Requests one address may make per second, signed or not (checked before anything else). */
  addressRequestsPerSecond: number;
  addressBurst: number;
  /** Nonces remembered per app; past it requests are refused as busy (503) rather than replayable. */
  noncesPerApp: number;
  /** How often the page's users/streams samples are taken, ms (an hour of them is kept). */
  sampleEveryMs: number;
}

export interface WebhooksConfig {
  /** Events waiting per app (queued, in flight or waiting to retry); beyond, new events are dropped. */
  queueSize: number;
  /** Deliveries in flight to one app's business server at once. */
  concurrency: number;
  /** One delivery attempt's deadline, ms. */
  timeoutMs: number;
  /** Attempts per event before it is dropped. */
  maxAttempts: number;
  /** The first retry waits this long, doubling each time up to retryMaxMs (with jitter), ms. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface MetricsConfig {
  /** false: no /metrics (404). */
  enabled: boolean;
  /** The `node` label of every series ('' = the host name). */
  node: string;
  /** A bearer token that also opens /metrics (besides http.healthAllow); '' = none. */
  token: string;
}

export interface OpsConfig {
  admin: AdminConfig;
  webhooks: WebhooksConfig;
  metrics: MetricsConfig;
}

export const ADMIN_DEFAULTS: AdminConfig = {
  enabled: true,
  maxSkewS: 300,
  maxBodyBytes: 64 * 1024,
  appRequestsPerSecond: 20,
  appBurst: 40,
  addressRequestsPerSecond: 20,
  addressBurst: 40,
  noncesPerApp: 50_000,
  sampleEveryMs: 10_000,
};

export const WEBHOOKS_DEFAULTS: WebhooksConfig = {
  queueSize: 10_000,
  concurrency: 4,
  timeoutMs: 5_000,
  maxAttempts: 8,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
};

export const METRICS_DEFAULTS: MetricsConfig = { enabled: true, node: '', token: '' };

/** The event types a webhook can carry (apps[].webhookEvents picks some; default all). */
export const WEBHOOK_EVENT_TYPES = [
  'room.created',
  'room.closed',
  'user.logged_in',
  'user.logged_out',
  'stream.started',
  'stream.stopped',
  'mix.started',
  'mix.stopped',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Validates the three sections over their defaults. Throws a ConfigError naming the bad field. */
export function resolveOpsConfig(options: {
  admin?: unknown;
  webhooks?: unknown;
  metrics?: unknown;
}): OpsConfig {
  const admin = section('admin', options.admin, ADMIN_DEFAULTS);
  bool('admin.enabled', admin.enabled);
  int('admin.maxSkewS', admin.maxSkewS, 5, 3600);
  int('admin.maxBodyBytes', admin.maxBodyBytes, 1024, 16 * 1024 * 1024);
  int('admin.appRequestsPerSecond', admin.appRequestsPerSecond, 1, 100_000);
  int('admin.appBurst', admin.appBurst, 1, 100_000);
  int('admin.addressRequestsPerSecond', admin.addressRequestsPerSecond, 1, 100_000);
  int('admin.addressBurst', admin.addressBurst, 1, 100_000);
  int('admin.noncesPerApp', admin.noncesPerApp, 100, 10_000_000);
  int('admin.sampleEveryMs', admin.sampleEveryMs, 100, 600_000);
  const webhooks = section('webhooks', options.webhooks, WEBHOOKS_DEFAULTS);
  int('webhooks.queueSize', webhooks.queueSize, 1, 10_000_000);
  int('webhooks.concurrency', webhooks.concurrency, 1, 1000);
  int('webhooks.timeoutMs', webhooks.timeoutMs, 10, 120_000);
  int('webhooks.maxAttempts', webhooks.maxAttempts, 1, 100);
  int('webhooks.retryBaseMs', webhooks.retryBaseMs, 1, 3_600_000);
  int('webhooks.retryMaxMs', webhooks.retryMaxMs, webhooks.retryBaseMs, 24 * 3_600_000);
  const metrics = section('metrics', options.metrics, METRICS_DEFAULTS);
  bool('metrics.enabled', metrics.enabled);
  if (typeof metrics.node !== 'string' || metrics.node.length > 128 || !/^[\x20-\x7e]*$/.test(metrics.node))
    throw new ConfigError('metrics.node', 'must be a string of at most 128 printable ASCII characters');
  if (
    typeof metrics.token !== 'string' ||
    (metrics.token !== '' && !/^[\x21-\x7e]{16,256}$/.test(metrics.token))
  )
    throw new ConfigError('metrics.token', 'must be empty or 16 to 256 printable ASCII characters');
  return { admin, webhooks, metrics };
}

/** The node's name: `metrics.node`, else the host name (the `node` label, the page's node list). */
export function nodeName(c: { metrics: MetricsConfig }): string {
  return c.metrics.node || hostname();
}

/** An app's secret for admin requests: at least 16 printable ASCII characters ('' = no admin access). */
export function adminSecretOf(field: string, v: unknown): string {
  if (v === undefined || v === '') return '';
  if (typeof v !== 'string' || !/^[\x21-\x7e]{16,256}$/.test(v))
    throw new ConfigError(field, 'must be 16 to 256 printable ASCII characters (32 random ones recommended)');
  return v;
}

/** An app's webhook event filter (default every type). */
export function webhookEventsOf(field: string, v: unknown): WebhookEventType[] {
  if (v === undefined) return [...WEBHOOK_EVENT_TYPES];
  if (!Array.isArray(v) || !v.every((e) => (WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(e)))
    throw new ConfigError(field, `must be a list of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  return [...new Set(v as WebhookEventType[])];
}
