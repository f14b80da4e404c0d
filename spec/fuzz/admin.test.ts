/**
 * The operator's HTTP surface under attack (the built server as a child process): the admin API with
 * hostile bodies (deep, huge, wrong types, prototype keys) under valid and broken signatures, replays
 * fired at once, lying and huge headers, bodies that never finish; /metrics and /admin with hostile
 * requests. Every answer is a clear one (the API's JSON error with its documented status, or the HTTP
 * parser's status line), nothing hangs past the configured timeouts, the process lives, and the
 * bystander (another app, beating every 200 ms) notices nothing.
 */
import fc from 'fast-check';
import { request } from 'node:http';
import { connect } from 'node:net';
import { ADMIN_ERRORS, ADMIN_ROUTE_NAMES, ADMIN_ROUTES } from '../../src/protocol/adminApi';
import { signAdminRequest } from '../../src/server/admin/signature';
import { newNonce } from '../helpers/adminClient';
import { Target, checked } from './lib/harness';
import { field, hostile, light, object, params, show, toJson, type J } from './lib/hostile';
import { STATUS_LINE, buildRequest, rawRequest } from './lib/rawHttp';
import { APPID, fuzzConfig } from './lib/server';

jest.setTimeout(180_000);

const ADMIN_APP = 4242;
const SECRET = 'fuzz-admin-secret-0123456789';
const REQUEST_TIMEOUT_MS = 1500;
const t = new Target({
  ...fuzzConfig({ http: { requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: 1000 } }),
  apps: [
    { appid: APPID, appSign: 'ab'.repeat(32) },
    { appid: ADMIN_APP, appSign: 'cd'.repeat(32), adminSecret: SECRET },
  ],
  // The rates are tested elsewhere (integration); here every request must reach the deeper steps.
  admin: {
    appRequestsPerSecond: 100_000,
    appBurst: 100_000,
    addressRequestsPerSecond: 100_000,
    addressBurst: 100_000,
  },
});

beforeAll(() => t.start());
afterAll(() => t.stop());

const STATUSES = new Set<number>([200, ...Object.values(ADMIN_ERRORS).map((e) => e.status)]);
const CODES = new Map<number, number>(Object.values(ADMIN_ERRORS).map((e) => [e.code, e.status]));

interface Answer {
  status: number;
  text: string;
  ms: number;
}

/** A well-formed HTTP request with whatever headers and body; null when the server closed without answer. */
function post(
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  method = 'POST',
): Promise<Answer | null> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: t.srv.port, path, method, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text = (text + d).slice(0, 10_000)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: Date.now() - t0 }));
        res.on('error', () => resolve(null));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${path}: no answer within 5 s`));
    }, 5000);
    req.on('close', () => clearTimeout(timer));
    // The server may answer and close before reading a body it refuses (413, 401 ...): EPIPE / ECONNRESET.
    req.on('error', () => resolve(null));
    req.end(body);
  });
}

/** The answer of the admin API: JSON, a known code with its own status. */
function apiAnswerProblem(a: Answer): string | null {
  if (!STATUSES.has(a.status)) return `undocumented status ${a.status}: ${a.text.slice(0, 200)}`;
  let b: { code?: unknown; error?: unknown; message?: unknown };
  try {
    b = JSON.parse(a.text) as typeof b;
  } catch {
    return `status ${a.status} with a body that is not JSON: ${a.text.slice(0, 200)}`;
  }
  if (a.status === 200) return b.code === 0 ? null : `200 with code ${String(b.code)}`;
  if (typeof b.code !== 'number' || CODES.get(b.code) !== a.status)
    return `status ${a.status} with code ${String(b.code)}: ${a.text.slice(0, 200)}`;
  if (b.code === 50001) return `an internal error: ${a.text.slice(0, 300)}`;
  return typeof b.message === 'string' && b.message ? null : 'an error without a message';
}

// Bodies: the route's own fields with hostile values (and none of them, and not an object at all).
const ROOMS = fc.constantFrom<J>('fuzz-room', 'r1', '', 'x'.repeat(300), '__proto__');
const routeBody = (route: string): fc.Arbitrary<J> => {
  const shape = (
    ADMIN_ROUTES[route as keyof typeof ADMIN_ROUTES].request.info as { shape: Record<string, unknown> }
  ).shape;
  const fields: Record<string, ReturnType<typeof field>> = {};
  for (const k of Object.keys(shape))
    fields[k] = field(k === 'roomId' ? ROOMS : (light as fc.Arbitrary<J>), 4);
  return fc.oneof(
    { weight: 5, arbitrary: object(fields) as fc.Arbitrary<J> },
    { weight: 2, arbitrary: hostile },
  );
};
const route = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ADMIN_ROUTE_NAMES) },
  fc.constantFrom('', 'x', '../healthz', '%2e%2e', 'overview/', 'constructor', '__proto__', 'a'.repeat(2000)),
);

/** How the signature headers are broken (or not). */
const SIGNING = [
  'valid',
  'valid',
  'valid',
  'bad-signature',
  'stale',
  'unknown-app',
  'no-headers',
  'nonce-junk',
  'huge-headers',
] as const;
type Signing = (typeof SIGNING)[number];

function headersFor(s: Signing, path: string, body: Buffer): Record<string, string> {
  const ts = s === 'stale' ? Math.floor(Date.now() / 1000) - 10_000 : Math.floor(Date.now() / 1000);
  const nonce = s === 'nonce-junk' ? '../\u00ff' : newNonce();
  const appid = s === 'unknown-app' ? 99 : ADMIN_APP;
  const sig = signAdminRequest(SECRET, {
    method: 'POST',
    target: path,
    appid,
    timestamp: ts,
    nonce: nonce.replace(/[^\x20-\x7e]/g, ''),
    body,
  });
  const h: Record<string, string> = {
    'content-type': 'application/json',
    'x-zego-appid': String(appid),
    'x-zego-timestamp': String(ts),
    'x-zego-nonce': nonce.replace(/[^\x20-\x7e]/g, ''),
    'x-zego-signature': s === 'bad-signature' ? sig.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) : sig,
  };
  if (s === 'no-headers') return { 'content-type': 'application/json' };
  if (s === 'huge-headers') h['x-zego-signature'] = 'f'.repeat(6000);
  return h;
}

/** One hostile request, printed short when fast-check reports it. */
class Case {
  constructor(
    readonly route: string,
    readonly body: J,
    readonly signing: Signing,
  ) {}
  [fc.toStringMethod](): string {
    return `${this.signing} POST /admin/api/${this.route.slice(0, 40)} body ${show(this.body).slice(0, 120)}`;
  }
}

test('hostile admin bodies under valid and broken signatures: a documented JSON answer, never a crash', () =>
  checked(t, async () => {
    const prop = fc.asyncProperty(
      fc
        .tuple(
          route.chain((r) =>
            fc.tuple(fc.constant(r), ADMIN_ROUTE_NAMES.includes(r as never) ? routeBody(r) : hostile),
          ),
          fc.constantFrom(...SIGNING),
        )
        .map(([[r, b], s]) => new Case(r, b, s)),
      async ({ route: r, body: bodyJ, signing }: Case) => {
        await t.ensureAlive();
        const path = `/admin/api/${r}`;
        const body = Buffer.from(toJson(bodyJ, {}), 'utf8');
        const a = await post(path, headersFor(signing, path, body), body);
        const death = await t.deathAfterFrame(0);
        if (death) throw new Error(death);
        if (a === null) {
          // A close without an answer is fair only for a body the server refused unread (over the size bound).
          if (body.length <= 64 * 1024) throw new Error(`closed without an answer (${body.length} bytes)`);
          return;
        }
        if (signing === 'huge-headers' && a.status === 431) return;
        // A target the HTTP edge refuses before any route (dot segments, bad escapes): its own 4xx text.
        if (!/^[\w-]*$/.test(r)) {
          if (a.status < 400 || a.status > 499)
            throw new Error(`odd target answered ${a.status}: ${a.text.slice(0, 200)}`);
          return;
        }
        const p = apiAnswerProblem(a);
        if (p) throw new Error(p);
        if (signing !== 'valid' && a.status < 400) throw new Error(`let through: ${a.text.slice(0, 200)}`);
      },
    );
    await fc.assert(prop, params(250, 'admin bodies'));
  }));

test('a request replayed 50 times at once: exactly one is served, the others refused as replays', () =>
  checked(t, async () => {
    for (let round = 0; round < 5; round++) {
      const path = '/admin/api/list-rooms';
      const body = Buffer.from('{}');
      const headers = headersFor('valid', path, body);
      const answers = await Promise.all(Array.from({ length: 50 }, () => post(path, headers, body)));
      const statuses = answers.map((a) => a?.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 401)).toHaveLength(49);
      for (const a of answers)
        if (a && a.status === 401) expect(JSON.parse(a.text).error).toBe('replayed_request');
    }
  }));

test('lying sizes, bodies that never finish, huge and many headers: an answer or a close within the timeouts', () =>
  checked(t, async () => {
    const sign = (body: string) => headersFor('valid', '/admin/api/overview', Buffer.from(body));
    const h = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${k}: ${v}`);
    const cases: { name: string; head: string[]; body: string; hold?: boolean }[] = [
      {
        name: 'content-length over the bound',
        head: [...h(sign('{}')), 'Content-Length: 99999999'],
        body: '{}',
      },
      {
        name: 'content-length larger than the body, never finished',
        head: [...h(sign('{}')), 'Content-Length: 1000'],
        body: '{}',
        hold: true,
      },
      {
        name: 'chunked, never finished',
        head: [...h(sign('{}')), 'Transfer-Encoding: chunked'],
        body: '2\r\n{}\r\n',
        hold: true,
      },
      {
        name: 'chunked over the bound',
        head: [...h(sign('{}')), 'Transfer-Encoding: chunked'],
        body: `11170\r\n${'a'.repeat(70_000)}\r\n0\r\n\r\n`,
      },
      {
        name: 'header over maxHeaderBytes',
        head: [...h(sign('{}')), `X-Pad: ${'p'.repeat(40_000)}`, 'Content-Length: 2'],
        body: '{}',
      },
      {
        name: '500 headers',
        head: [...h(sign('{}')), ...Array.from({ length: 500 }, (_, i) => `X-H${i}: v`), 'Content-Length: 2'],
        body: '{}',
      },
      {
        name: 'two signatures',
        head: [...h(sign('{}')), `x-zego-signature: ${'0'.repeat(64)}`, 'Content-Length: 2'],
        body: '{}',
      },
      {
        name: 'two content-lengths',
        head: [...h(sign('{}')), 'Content-Length: 2', 'Content-Length: 3'],
        body: '{}',
      },
      { name: 'content-length negative', head: [...h(sign('{}')), 'Content-Length: -5'], body: '{}' },
    ];
    for (const c of cases) {
      const head = [`POST /admin/api/overview HTTP/1.1`, 'Host: 127.0.0.1', ...c.head].join('\r\n');
      const bytes = Buffer.concat([Buffer.from(`${head}\r\n\r\n`), Buffer.from(c.body)]);
      const t0 = Date.now();
      const o = c.hold
        ? await heldOpen(t.srv.port, bytes, REQUEST_TIMEOUT_MS + 3000)
        : await rawRequest(t.srv.port, bytes, 5000);
      const ms = Date.now() - t0;
      if (o.kind === 'timeout') throw new Error(`${c.name}: neither an answer nor a close in ${ms} ms`);
      if (o.kind === 'status' && !STATUS_LINE.test(o.line))
        throw new Error(`${c.name}: not a status line: ${o.line}`);
      const death = await t.deathAfterFrame(0);
      if (death) throw new Error(`${c.name}: ${death}`);
    }
  }));

test('/metrics and /admin: hostile methods, queries and headers get a status line; the server lives', () =>
  checked(t, async () => {
    const prop = fc.asyncProperty(
      fc.constantFrom(
        '/metrics',
        '/admin',
        '/admin/',
        '/admin.js',
        '/admin/api',
        '/admin/api/',
        '/metrics?x=%',
        '/admin?every=-1',
      ),
      fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE'),
      fc.array(
        fc.constantFrom(
          'Authorization: Bearer ' + 'x'.repeat(5000),
          'Authorization: Bearer',
          'Authorization: Basic Zm9vOmJhcg==',
          'X-Forwarded-For: 1.2.3.4',
          'Content-Length: 10',
          'Accept-Encoding: gzip, br',
          'If-None-Match: ' + '"x",'.repeat(1000),
          'Range: bytes=0-1',
        ),
        { maxLength: 3 },
      ),
      async (path, method, headers) => {
        await t.ensureAlive();
        const o = await rawRequest(
          t.srv.port,
          buildRequest(method, path, 'HTTP/1.1', ['Host: 127.0.0.1', 'Connection: close', ...headers]),
          5000,
        );
        if (o.kind === 'timeout') {
          // A declared body that never came: the request timeout ends it.
          if (!headers.includes('Content-Length: 10'))
            throw new Error(`no answer: ${method} ${path} ${headers.join(' | ')}`);
        } else if (o.kind === 'status' && !STATUS_LINE.test(o.line))
          throw new Error(`not a status line: ${o.line}`);
        const death = await t.deathAfterFrame(0);
        if (death) throw new Error(death);
      },
    );
    await fc.assert(prop, params(120, 'metrics admin http'));
    // And the metrics still say what the bystander does.
    const m = await post('/metrics', {}, Buffer.alloc(0), 'GET');
    expect(m?.status).toBe(200);
    expect(m?.text).toMatch(/zego_users\{node="[^"]+"\} 1/);
  }));

/** Writes a request and keeps the socket open: resolves with the first status line or the close. */
function heldOpen(
  port: number,
  bytes: Buffer,
  ms: number,
): Promise<{ kind: 'status'; line: string } | { kind: 'close' } | { kind: 'timeout' }> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let got = '';
    const done = (o: { kind: 'status'; line: string } | { kind: 'close' } | { kind: 'timeout' }) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done({ kind: 'timeout' }), ms);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const eol = got.indexOf('\r\n');
      if (eol >= 0) done({ kind: 'status', line: got.slice(0, eol) });
    });
    sock.on('error', () => done({ kind: 'close' }));
    sock.on('close', () => done({ kind: 'close' }));
  });
}
