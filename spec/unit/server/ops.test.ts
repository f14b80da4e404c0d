/** @jest-environment node */
/**
 * The operator's tools in isolation: the admin signature and its nonce cache, docs/openapi.json against
 * the route table it is generated from (the test regenerates it and compares), the schema kit's rules as
 * JSON Schema, the webhook sender's bounds and backoff with a poster that answers as told, the events the
 * business servers hear, mint-token's rules, and the config of the three sections.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_ERRORS, ADMIN_ROUTES, ADMIN_ROUTE_NAMES } from '../../../src/protocol/adminApi';
import { toJsonSchema } from '../../../src/protocol/jsonSchema';
import { checkBody, described, s } from '../../../src/protocol/schema';
import { mintForApp } from '../../../src/server/admin/mintForApp';
import { buildOpenApi } from '../../../src/server/admin/openapi';
import {
  canonicalText,
  NonceCache,
  signAdminRequest,
  signatureMatches,
} from '../../../src/server/admin/signature';
import { resolveConfig } from '../../../src/server/config';
import { verifyToken04 } from '../../../src/server/auth/token04';
import { Webhooks } from '../../../src/server/webhooks/Webhooks';
import { WebhookSender, type Poster, type WebhookEvent } from '../../../src/server/webhooks/WebhookSender';
import { webhookHeaders, webhookSignature } from '../../../src/server/webhooks/sign';
import { WEBHOOKS_DEFAULTS } from '../../../src/server/opsConfig';

const ROOT = join(__dirname, '..', '..', '..');
const silent = { warn() {}, info() {}, debug() {} };

describe('admin signature', () => {
  const parts = {
    method: 'POST',
    target: '/admin/api/list-rooms',
    appid: 42,
    timestamp: 1_700_000_000,
    nonce: 'n0nce-0123456789ab',
    body: '{}',
  };

  test('the canonical text and a known signature (docs/admin.md shows the same recipe)', () => {
    expect(canonicalText(parts)).toBe(
      'ZEGO-ADMIN-HMAC-SHA256\nPOST\n/admin/api/list-rooms\n42\n1700000000\nn0nce-0123456789ab\n' +
        '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    );
    const sig = signAdminRequest('s3cret-s3cret-s3cret', parts);
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(signatureMatches('s3cret-s3cret-s3cret', parts, sig)).toBe(true);
    expect(signatureMatches('s3cret-s3cret-s3cret', parts, sig.toUpperCase())).toBe(true);
  });

  test.each([
    ['method', { method: 'GET' }],
    ['target', { target: '/admin/api/close-room' }],
    ['appid', { appid: 43 }],
    ['timestamp', { timestamp: 1_700_000_001 }],
    ['nonce', { nonce: 'n0nce-0123456789ac' }],
    ['body', { body: '{ }' }],
  ])('a change of the %s breaks it', (_what, change) => {
    const sig = signAdminRequest('s3cret-s3cret-s3cret', parts);
    expect(signatureMatches('s3cret-s3cret-s3cret', { ...parts, ...change }, sig)).toBe(false);
  });

  test('malformed signatures never match (and never throw)', () => {
    for (const bad of ['', 'zz', 'a'.repeat(63), 'g'.repeat(64), 'a'.repeat(128)])
      expect(signatureMatches('k'.repeat(16), parts, bad)).toBe(false);
  });

  test('nonces: a replay is refused until twice the skew has passed; a full cache is busy, not forgetful', () => {
    let now = 0;
    const c = new NonceCache(1000, 3, () => now);
    expect(c.use(1, 'a')).toBe('fresh');
    expect(c.use(1, 'a')).toBe('replayed');
    expect(c.use(2, 'a')).toBe('fresh');
    now = 1999;
    expect(c.use(1, 'a')).toBe('replayed');
    expect(c.use(1, 'b')).toBe('fresh');
    expect(c.use(1, 'c')).toBe('fresh');
    expect(c.use(1, 'd')).toBe('full');
    now = 2000; // 'a' expires: it is forgotten, which makes room for one
    expect(c.use(1, 'a')).toBe('fresh');
    expect(c.use(1, 'd')).toBe('full');
    expect(c.size).toBe(4); // b, c, a of app 1; a of app 2 (pruned on its app's next use)
  });
});

describe('OpenAPI', () => {
  test('docs/openapi.json is what the route table generates (regenerate: npm run openapi)', () => {
    const committed = readFileSync(join(ROOT, 'docs', 'openapi.json'), 'utf8');
    expect(committed).toBe(`${JSON.stringify(buildOpenApi(), null, 2)}\n`);
  });

  test('every route and every error is in it; request schemas are the validators’ rules', () => {
    const doc = buildOpenApi() as { paths: Record<string, { post: Record<string, unknown> }> };
    expect(Object.keys(doc.paths)).toEqual(ADMIN_ROUTE_NAMES.map((r) => `/admin/api/${r}`));
    const text = JSON.stringify(doc);
    for (const [name, e] of Object.entries(ADMIN_ERRORS)) expect(text).toContain(`${e.code} ${name}`);
    const kick = doc.paths['/admin/api/kick-user']!.post as {
      requestBody: { content: { 'application/json': { schema: unknown } } };
    };
    expect(kick.requestBody.content['application/json'].schema).toEqual(
      toJsonSchema(ADMIN_ROUTES['kick-user'].request),
    );
  });

  test('JSON Schema of each kind of rule, with descriptions', () => {
    expect(toJsonSchema(described(s.str(8, { nonEmpty: true }), 'x'))).toEqual({
      description: 'x',
      type: 'string',
      maxLength: 8,
      minLength: 1,
      'x-max-utf8-bytes': 8,
    });
    expect(toJsonSchema(s.int(1, 5))).toEqual({ type: 'integer', minimum: 1, maximum: 5 });
    expect(toJsonSchema(s.bool())).toEqual({ type: 'boolean' });
    expect(toJsonSchema(s.oneOf(['a', 'b'] as const))).toEqual({ enum: ['a', 'b'] });
    expect(toJsonSchema(s.object({ a: s.int(0, 1), b: s.int(0, 1).opt() }))).toEqual({
      type: 'object',
      properties: {
        a: { type: 'integer', minimum: 0, maximum: 1 },
        b: { type: 'integer', minimum: 0, maximum: 1 },
      },
      required: ['a'],
    });
    expect(toJsonSchema(s.array(s.bool(), 3))).toEqual({
      type: 'array',
      items: { type: 'boolean' },
      maxItems: 3,
    });
    expect(checkBody(s.object({ b: s.bool() }), { b: 1 })?.message).toMatch(/b must be true or false/);
  });
});

describe('webhook sender', () => {
  const ev = (n: number): WebhookEvent => ({
    id: `evt_${n}`,
    type: 'room.created',
    appid: 1,
    node: 'n',
    time: 0,
    data: { n },
  });
  const targets = new Map([[1, { url: 'http://127.0.0.1:1/hook', secret: 'k'.repeat(16) }]]);

  test('in flight within concurrency, queued within queueSize, the rest dropped; close drops what waits', async () => {
    const pending: (() => void)[] = [];
    const post: Poster = () => new Promise((r) => pending.push(() => r({ status: 200, text: '' })));
    const dropped: string[] = [];
    const w = new WebhookSender(
      targets,
      { ...WEBHOOKS_DEFAULTS, queueSize: 5, concurrency: 2 },
      silent,
      { delivered() {}, failedAttempt() {}, dropped: (_a, why) => dropped.push(why) },
      post,
    );
    const accepted = [1, 2, 3, 4, 5, 6, 7].map((n) => w.send(ev(n)));
    expect(accepted).toEqual([true, true, true, true, true, false, false]);
    expect(pending).toHaveLength(2);
    expect(w.stats()[1]).toMatchObject({ queued: 3, inFlight: 2, dropped: { queue_full: 2 } });
    pending.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(pending).toHaveLength(2); // the next one went out
    expect(w.stats()[1]).toMatchObject({ queued: 2, inFlight: 2, delivered: 1 });
    expect(w.send(ev(8))).toBe(true);
    w.close();
    expect(w.stats()[1]!.dropped.shutdown).toBe(3);
    expect(w.send(ev(9))).toBe(false);
    expect(dropped).toEqual(['queue_full', 'queue_full', 'shutdown', 'shutdown', 'shutdown']);
  });

  test('an app without a webhook gets nothing queued', () => {
    const w = new WebhookSender(targets, WEBHOOKS_DEFAULTS, silent, null, () =>
      Promise.reject(new Error('no')),
    );
    expect(w.send({ ...ev(1), appid: 2 })).toBe(false);
    expect(w.has(1)).toBe(true);
    w.close();
  });

  test('backoff doubles from retryBaseMs to retryMaxMs, jittered between half and all', () => {
    const w = new WebhookSender(
      targets,
      { ...WEBHOOKS_DEFAULTS, retryBaseMs: 100, retryMaxMs: 1000 },
      silent,
    );
    for (let i = 0; i < 50; i++) {
      const b1 = w.backoff(1);
      expect(b1).toBeGreaterThanOrEqual(50);
      expect(b1).toBeLessThanOrEqual(100);
      const b3 = w.backoff(3);
      expect(b3).toBeGreaterThanOrEqual(200);
      expect(b3).toBeLessThanOrEqual(400);
      const b40 = w.backoff(40);
      expect(b40).toBeGreaterThanOrEqual(500);
      expect(b40).toBeLessThanOrEqual(1000);
    }
    w.close();
  });

  test('every attempt is signed afresh over the same bytes; Standard Webhooks v1 signature', () => {
    const h = webhookHeaders('whsec-plain-secret', 'evt_1', '{"a":1}', 1_700_000_000_500);
    expect(h).toEqual({
      'webhook-id': 'evt_1',
      'webhook-timestamp': '1700000000',
      'webhook-signature': webhookSignature('whsec-plain-secret', 'evt_1', 1_700_000_000, '{"a":1}'),
    });
    expect(h['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });
});

test('Webhooks: mix tasks as events (a URL output as mixUrl), filtered by the app’s webhookEvents', () => {
  const sent: WebhookEvent[] = [];
  const sender = { send: (e: WebhookEvent) => (sent.push(e), true) } as unknown as WebhookSender;
  const apps = [
    { appid: 1, appSign: '', webhookUrl: 'http://x', webhookEvents: ['mix.started', 'mix.stopped'] },
    { appid: 2, appSign: '', webhookUrl: 'http://y', webhookEvents: ['room.created'] },
  ] as never;
  const w = new Webhooks(apps, sender, 'node-1');
  w.mixStarted({ appid: 1, roomId: 'r', output: 'mix-1', owner: 'alice', inputs: ['a', 'b'] });
  w.mixStopped({ appid: 1, roomId: 'r', output: 'url:rtmp://cdn/live/x', owner: 'alice', inputs: ['a'] });
  w.mixStarted({ appid: 2, roomId: 'r', output: 'mix-2', owner: 'bob', inputs: [] });
  w.roomCreated(1, 'r');
  expect(sent.map((e) => [e.appid, e.type, e.data])).toEqual([
    [1, 'mix.started', { roomId: 'r', streamId: 'mix-1', owner: 'alice', inputs: ['a', 'b'] }],
    [1, 'mix.stopped', { roomId: 'r', mixUrl: 'rtmp://cdn/live/x', owner: 'alice', inputs: ['a'] }],
  ]);
  expect(sent[0]!.id).toMatch(/^evt_[0-9a-f-]{36}$/);
  expect(sent[0]!.node).toBe('node-1');
});

test('mint-token: 04 with the room and publish rights it names, within the lifetime', () => {
  const app = { appid: 9, appSign: 'ab'.repeat(32), serverSecret: '0123456789abcdef0123456789abcdef' };
  const now = 1_700_000_000_000;
  const r = mintForApp(app, 86_400, { idName: 'u', roomId: 'r1', publish: false, ttlS: 60 }, now);
  if ('refused' in r) throw new Error(r.refused);
  expect(r.expiresAt).toBe(1_700_000_060);
  const v = verifyToken04({
    token: r.token,
    appid: 9,
    idName: 'u',
    serverSecret: app.serverSecret,
    roomId: 'r1',
    now,
  });
  expect(v.code).toBe(0);
  expect(mintForApp(app, 60, { idName: 'u', ttlS: 61 }, now)).toEqual({
    refused: 'ttlS is over auth.maxTokenLifetimeS (60)',
  });
  expect(mintForApp({ ...app, allowV1Token: false }, 600, { idName: 'u', format: 'v1' }, now)).toHaveProperty(
    'refused',
  );
});

describe('config', () => {
  const app = { appid: 1, appSign: 'ab'.repeat(32) };
  test('defaults, and each section checked with the field named', () => {
    const c = resolveConfig({ apps: [app] });
    expect(c.admin).toMatchObject({ enabled: true, maxSkewS: 300, maxBodyBytes: 65536 });
    expect(c.webhooks).toEqual(WEBHOOKS_DEFAULTS);
    expect(c.metrics).toEqual({ enabled: true, node: '', token: '' });
    expect(() => resolveConfig({ apps: [app], admin: { maxSkewS: 1 } } as never)).toThrow(/admin\.maxSkewS/);
    expect(() => resolveConfig({ apps: [app], admin: { nope: 1 } } as never)).toThrow(/admin\.nope/);
    expect(() => resolveConfig({ apps: [app], webhooks: { queueSize: 0 } } as never)).toThrow(
      /webhooks\.queueSize/,
    );
    expect(() =>
      resolveConfig({ apps: [app], webhooks: { retryBaseMs: 100, retryMaxMs: 50 } } as never),
    ).toThrow(/webhooks\.retryMaxMs/);
    expect(() => resolveConfig({ apps: [app], metrics: { node: 'a\nb' } } as never)).toThrow(/metrics\.node/);
    expect(() => resolveConfig({ apps: [app], metrics: { token: 'short' } } as never)).toThrow(
      /metrics\.token/,
    );
  });

  test('per app: adminSecret, webhookUrl (needs a secret), webhookSecret defaults to adminSecret, webhookEvents', () => {
    expect(() => resolveConfig({ apps: [{ ...app, adminSecret: 'short' }] })).toThrow(
      /apps\[0\]\.adminSecret/,
    );
    expect(() => resolveConfig({ apps: [{ ...app, webhookUrl: 'http://h/x' }] })).toThrow(
      /apps\[0\]\.webhookUrl/,
    );
    expect(() =>
      resolveConfig({ apps: [{ ...app, webhookUrl: 'ftp://h/x', adminSecret: 'a'.repeat(16) }] }),
    ).toThrow(/webhookUrl/);
    const c = resolveConfig({ apps: [{ ...app, webhookUrl: 'http://h/x', adminSecret: 'a'.repeat(16) }] });
    expect(c.apps[0]).toMatchObject({
      webhookSecret: 'a'.repeat(16),
      webhookEvents: expect.arrayContaining(['mix.stopped']),
    });
    expect(() =>
      resolveConfig({
        apps: [
          { ...app, webhookUrl: 'http://h/x', adminSecret: 'a'.repeat(16), webhookEvents: ['room.exploded'] },
        ],
      } as never),
    ).toThrow(/webhookEvents/);
  });
});
