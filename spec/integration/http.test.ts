/**
 * The HTTP edge against a real server (startServer, port 0, no Janus): hostile request targets each get a
 * 4xx status line and the process keeps answering; nosniff on every response; only the browser files are
 * served; /healthz details only to allowed, unproxied peers; CORS; connection caps; idle and slow
 * connections closed by the headers timeout; WebSocket upgrade refusals. Raw `net` sockets, because
 * fetch and http.request normalise the request line.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { resolveConfig, startServer, type RunningServer, type ServerOptions } from '../../src/server';
import { addressList } from '../../src/server/addresses';
import { StaticFiles } from '../../src/server/StaticFiles';
import {
  corsHeaders,
  httpBoundary,
  healthDetailsAllowed,
  httpHandler,
  parseTarget,
} from '../../src/server/http';

jest.setTimeout(30_000);

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything received, for failure messages. */
  raw: string;
  /** ms from connect to close. */
  closedAfterMs: number;
}

const servers: RunningServer[] = [];
async function serve(options: ServerOptions = {}): Promise<RunningServer> {
  const s = await startServer({ janus: { enabled: false }, port: 0, log: { level: 'silent' }, ...options });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Sends `request` (bytes as written) on a fresh socket and collects everything until the server closes. */
function raw(
  port: number,
  request: string | Buffer,
  opts: { localAddress?: string; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const sock = connect({ host: '127.0.0.1', port, localAddress: opts.localAddress });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close within ${opts.timeoutMs ?? 5000} ms; got ${Buffer.concat(chunks)}`));
    }, opts.timeoutMs ?? 5000);
    sock.on('connect', () => {
      if (request.length) sock.write(request);
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ ...parseResponse(text), raw: text, closedAfterMs: Date.now() - t0 });
    });
  });
}

function parseResponse(text: string): Pick<RawResponse, 'status' | 'headers' | 'body'> {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? '');
  return { status: m ? Number(m[1]) : 0, headers, body: end < 0 ? '' : text.slice(end + 4) };
}

/** A GET with Connection: close (so the server closes after answering). */
const get = (target: string, headers = '') =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`;

async function healthz(s: RunningServer, headers = '', localAddress?: string): Promise<RawResponse> {
  return raw(s.port, get('/healthz', headers), { localAddress });
}

const UPGRADE_HEADERS =
  'Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

describe('hostile request targets', () => {
  const cases: [string, string | Buffer, number | 'any4xx'][] = [
    ['GET //', get('//'), 404],
    ['GET //@', get('//@'), 404],
    ['absolute form http://[::1', get('http://[::1'), 400],
    ['absolute form http://127.0.0.1/healthz', get('http://127.0.0.1/healthz'), 400],
    ['asterisk form', 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
    ['GET /dist/%', get('/dist/%'), 400],
    ['GET /%zz', get('/%zz'), 400],
    ['truncated UTF-8 escape', get('/dist/%E0%A4%A'), 400],
    ['invalid UTF-8 escape', get('/dist/%C0%AF'), 400],
    ['encoded NUL', get('/dist/ZegoClient.js%00.map'), 400],
    ['raw NUL in the request line', Buffer.from(get('/dist/a\u0000b'), 'latin1'), 400],
    ['..', get('/dist/../package.json'), 400],
    ['encoded ..', get('/dist/%2e%2e/package.json'), 400],
    ['encoded slashes ..', get('/dist/esm/..%2f..%2fpackage.json'), 400],
    ['backslash', get('/dist/..%5c..%5cpackage.json'), 400],
    ['a 3,000-character target', get('/' + 'a'.repeat(3000)), 414],
    ['a 100,000-character target', get('/' + 'a'.repeat(100_000)), 431],
    ['a 20 KB header', get('/healthz', `X-Big: ${'b'.repeat(20_000)}\r\n`), 431],
    ['an unknown method', 'BREW / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'any4xx'],
    ['a TLS hello', Buffer.from('16030100a5010000a10303', 'hex'), 400],
    ['no target', 'GET  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
    ['DELETE /', 'DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 405],
    ['POST /token', 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 405],
  ];

  test.each(cases)('%s: a 4xx with nosniff, no echo, and the server still answers', async (_n, req, want) => {
    const s = await serve();
    const r = await raw(s.port, req);
    if (want === 'any4xx') expect(r.status).toBeGreaterThanOrEqual(400);
    else expect(r.status).toBe(want);
    expect(r.status).toBeLessThan(500);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.body).not.toMatch(/package\.json|aaaa|<|%/);
    const h = await healthz(s);
    expect(h.status).toBe(200);
    expect(JSON.parse(h.body)).toMatchObject({ status: 'ok' });
  });

  test('every hostile target on one server in a row, then the routes still work', async () => {
    const s = await serve();
    for (const [, req] of cases) expect((await raw(s.port, req)).status).toBeGreaterThanOrEqual(400);
    const token = await raw(s.port, get('/token?app_id=1&id_name=alice'));
    expect(token.status).toBe(200);
    expect(token.body.length).toBeGreaterThan(10);
    const demo = await raw(s.port, get('/'));
    expect(demo.status).toBe(200);
    expect(demo.headers['content-type']).toMatch(/^text\/html/);
    expect(demo.headers['x-content-type-options']).toBe('nosniff');
  });

  test('the target parser: decoded path and query, never a throw', () => {
    expect(parseTarget('/token?app_id=1&id_name=a%20b')).toMatchObject({ pathname: '/token' });
    const t = parseTarget('/token?app_id=1&id_name=a%20b');
    expect('searchParams' in t && t.searchParams.get('id_name')).toBe('a b');
    // A malformed escape in the query stays as it is (URLSearchParams does not throw).
    const q = parseTarget('/token?id_name=%');
    expect('searchParams' in q && q.searchParams.get('id_name')).toBe('%');
    expect(parseTarget('/dist/%41.js')).toMatchObject({ pathname: '/dist/A.js' });
    for (const bad of ['', '*', 'http://x/', '/%', '/a/../b', '/a/./b', '/%2e', '/a%00', '/a\\b'])
      expect(parseTarget(bad)).toMatchObject({ status: 400 });
    expect(parseTarget('/' + 'x'.repeat(5000))).toMatchObject({ status: 414 });
  });
});

describe('nosniff and the 404 page', () => {
  test('nosniff on 200, 204, 400, 403, 404, 405 and on the demo; the 404 is plain text without the path', async () => {
    const s = await serve({ http: { corsOrigins: ['https://pages.example'] } });
    const answers = await Promise.all([
      raw(s.port, get('/healthz')),
      raw(s.port, get('/token?app_id=1&id_name=a')),
      raw(s.port, get('/token')),
      raw(s.port, get('/<script>alert(1)</script>')),
      raw(s.port, 'PUT /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
      raw(
        s.port,
        'OPTIONS /token HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n' +
          'Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n',
      ),
      raw(
        s.port,
        'OPTIONS /token HTTP/1.1\r\nHost: x\r\nOrigin: https://pages.example\r\n' +
          'Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n',
      ),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 400, 404, 405, 403, 204]);
    for (const a of answers) expect(a.headers['x-content-type-options']).toBe('nosniff');
    const notFound = answers[3]!;
    expect(notFound.headers['content-type']).toMatch(/^text\/plain/);
    expect(notFound.body).not.toMatch(/script|alert/);
  });

  test('a handler that throws is answered 500 once, with nosniff, logged with context; after headers, the response is cut', async () => {
    const errors: object[] = [];
    const log = { error: (o: object) => errors.push(o), warn: () => {} };
    let mode: 'throw' | 'reject' | 'late' = 'throw';
    const srv: Server = createServer(
      httpBoundary(log, async (_req, res) => {
        if (mode === 'throw') throw new Error('boom');
        if (mode === 'late') {
          res.writeHead(200, { 'content-length': '100' });
          res.write('partial');
          throw new Error('late boom');
        }
        await Promise.resolve();
        throw new Error('async boom');
      }),
    );
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    try {
      const a = await raw(port, get('/x'));
      expect(a.status).toBe(500);
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      expect(a.body).toBe('internal error');
      // Exactly one status line.
      expect(a.raw.match(/HTTP\/1\.1/g)).toHaveLength(1);
      mode = 'reject';
      const b = await raw(port, get('/y'));
      expect(b.status).toBe(500);
      mode = 'late';
      // Keep-alive: only a cut (not an end) closes the socket before the announced 100 bytes.
      const c = await raw(port, 'GET /z HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 1500 });
      expect(c.status).toBe(200);
      expect(c.raw.match(/HTTP\/1\.1/g)).toHaveLength(1);
      expect(c.body).toBe('partial'); // cut: 7 of the 100 announced bytes
      expect(errors).toHaveLength(3);
      expect(errors[0]).toMatchObject({ method: 'GET', path: '/x', remote: '127.0.0.1' });
      expect(String((errors[0] as { err: string }).err)).toMatch(/boom/);
    } finally {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
  });
});

describe('only the browser files are served', () => {
  let dir: string;
  let srv: Server;
  let port: number;
  beforeAll(async () => {
    // A dist of our own, so the whitelist is tested whether or not the project was built.
    dir = mkdtempSync(join(tmpdir(), 'zego-http-test-'));
    const dist = join(dir, 'dist');
    for (const d of ['esm/chunks', 'server', 'demo']) mkdirSync(join(dist, d), { recursive: true });
    mkdirSync(join(dir, 'demo'));
    const files: Record<string, string> = {
      'ZegoClient.js': 'zc',
      'ZegoClient.js.map': '{"zc":1}',
      'jZego-rtc.js': 'jz',
      'jZego-rtc.js.map': '{"jz":1}',
      'esm/index.mjs': 'esm',
      'esm/index.mjs.map': '{"esm":1}',
      'esm/index.d.mts': 'types',
      'esm/index.js': 'esmjs',
      'esm/index.d.ts': 'dts',
      'esm/chunks/a-1.mjs': 'chunk',
      'esm/notes.txt': 'FORBIDDEN',
      'esm/.hidden.js': 'FORBIDDEN',
      'server/cli.js': 'FORBIDDEN server source',
      'server/cli.js.map': 'FORBIDDEN server map',
      'server/index.js': 'FORBIDDEN server',
      'demo/index.html': 'FORBIDDEN',
      'secret.json': 'FORBIDDEN',
    };
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dist, f), text);
    writeFileSync(join(dir, 'demo', 'index.html'), '<h1>demo</h1>');
    writeFileSync(join(dir, 'package.json'), '{"FORBIDDEN":1}');
    srv = createServer(
      httpHandler({
        config: resolveConfig({ log: { level: 'silent' } }),
        distDir: dist,
        demoDir: join(dir, 'demo'),
        files: new StaticFiles(),
        startedAt: Date.now(),
        log: { error: () => {}, warn: () => {} },
        stats: () => ({ rooms: 0, users: 0 }),
      }),
    );
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    port = (srv.address() as AddressInfo).port;
  });
  afterAll(async () => {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['/ZegoClient.js', 'zc', 'application/javascript'],
    ['/ZegoClient.js.map', '{"zc":1}', 'application/json'],
    ['/jZego-rtc.js', 'jz', 'application/javascript'],
    ['/jZego-rtc.js.map', '{"jz":1}', 'application/json'],
    ['/dist/ZegoClient.js', 'zc', 'application/javascript'],
    ['/dist/jZego-rtc.js.map', '{"jz":1}', 'application/json'],
    ['/dist/esm/index.mjs', 'esm', 'application/javascript'],
    ['/dist/esm/index.mjs.map', '{"esm":1}', 'application/json'],
    ['/dist/esm/index.d.mts', 'types', 'text/plain'],
    ['/dist/esm/index.js', 'esmjs', 'application/javascript'],
    ['/dist/esm/index.d.ts', 'dts', 'text/plain'],
    ['/dist/esm/chunks/a-1.mjs', 'chunk', 'application/javascript'],
    ['/', '<h1>demo</h1>', 'text/html'],
    ['/index.html', '<h1>demo</h1>', 'text/html'],
  ])('%s is served', async (path, body, type) => {
    const r = await raw(port, get(path));
    expect(r.status).toBe(200);
    expect(r.body).toBe(body);
    expect(r.headers['content-type']).toMatch(new RegExp(`^${type}`));
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  test.each([
    '/dist/server/cli.js.map',
    '/dist/server/cli.js',
    '/dist/server/index.js',
    '/dist/%73erver/cli.js.map',
    '/dist/esm/notes.txt',
    '/dist/esm/.hidden.js',
    '/dist/demo/index.html',
    '/dist/secret.json',
    '/dist/',
    '/dist',
    '/dist/esm/',
    '/package.json',
    '/ZegoClient.js.map.bak',
    '/esm/index.mjs',
    '/dist/esm//index.mjs',
  ])('%s is not served', async (path) => {
    const r = await raw(port, get(path));
    expect([400, 404]).toContain(r.status);
    expect(r.body).not.toMatch(/FORBIDDEN/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  test('a whitelisted name that is missing is a 404 without the path', async () => {
    const r = await raw(port, get('/dist/esm/missing.mjs'));
    expect(r.status).toBe(404);
    expect(r.body).not.toMatch(/missing/);
  });

  test('the real server never serves dist/server', async () => {
    const s = await serve();
    for (const p of ['/dist/server/cli.js.map', '/dist/server/cli.js', '/dist/server/index.js.map'])
      expect((await raw(s.port, get(p))).status).toBe(404);
  });
});

describe('/healthz details', () => {
  test('the decision: allowed address, IPv4 and IPv6 CIDRs, IPv4-mapped IPv6, no proxy headers', () => {
    const list = addressList('t', ['127.0.0.0/8', '::1', '10.1.0.0/16', '2001:db8::/32', '192.0.2.7']);
    const yes = (a: string | undefined, h = {}) => healthDetailsAllowed(list, a, h);
    expect(yes('127.0.0.1')).toBe(true);
    expect(yes('127.9.9.9')).toBe(true);
    expect(yes('::ffff:127.0.0.1')).toBe(true);
    expect(yes('::1')).toBe(true);
    expect(yes('10.1.200.3')).toBe(true);
    expect(yes('::ffff:10.1.0.1')).toBe(true);
    expect(yes('10.2.0.1')).toBe(false);
    expect(yes('2001:db8:1::5')).toBe(true);
    expect(yes('2001:db9::5')).toBe(false);
    expect(yes('192.0.2.7')).toBe(true);
    expect(yes('192.0.2.8')).toBe(false);
    expect(yes('::2')).toBe(false);
    expect(yes(undefined)).toBe(false);
    expect(yes('')).toBe(false);
    expect(yes('localhost')).toBe(false);
    expect(yes('fe80::1%eth0')).toBe(false);
    expect(yes('127.0.0.1', { 'x-forwarded-for': '127.0.0.1' })).toBe(false);
    expect(yes('127.0.0.1', { forwarded: 'for=127.0.0.1' })).toBe(false);
    expect(yes('127.0.0.1', { 'x-real-ip': '127.0.0.1' })).toBe(false);
    expect(yes('127.0.0.1', { 'x-forwarded-for': '' })).toBe(false);
    const none = addressList('t', []);
    expect(healthDetailsAllowed(none, '127.0.0.1', {})).toBe(false);
  });

  test('a bad allow-list entry fails the start, naming it', async () => {
    for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/', '10.0.0.0/8/8', '1.2.3/8'])
      await expect(serve({ http: { healthAllow: [bad] } })).rejects.toThrow(/http\.healthAllow/);
  });

  test('details from loopback; plain ok through a proxy header, from another address, or with an empty list', async () => {
    const s = await serve();
    const direct = await healthz(s);
    expect(direct.headers['content-type']).toBe('application/json');
    expect(JSON.parse(direct.body)).toMatchObject({ status: 'ok', rooms: 0, connections: { open: 1 } });
    for (const h of [
      'X-Forwarded-For: 203.0.113.9\r\n',
      'Forwarded: for=127.0.0.1\r\n',
      'X-Real-IP: 1.2.3.4\r\n',
    ]) {
      const r = await healthz(s, h);
      expect(r.status).toBe(200);
      expect(r.body).toBe('ok');
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    // Another source address on loopback (Linux routes all of 127.0.0.0/8 to lo).
    const narrow = await serve({ http: { healthAllow: ['127.0.0.1/32'] } });
    expect((await healthz(narrow, '', '127.0.0.1')).body).toMatch(/^\{/);
    expect((await healthz(narrow, '', '127.0.0.5')).body).toBe('ok');
    const closed = await serve({ http: { healthAllow: [] } });
    expect((await healthz(closed)).body).toBe('ok');
  });

  test('no CORS on /healthz', async () => {
    const s = await serve({ http: { corsOrigins: ['*'] } });
    const r = await healthz(s, 'Origin: https://pages.example\r\n');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await raw(
      s.port,
      'OPTIONS /healthz HTTP/1.1\r\nHost: x\r\nOrigin: https://pages.example\r\n' +
        'Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n',
    );
    expect(pre.status).toBe(405);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS on /token and the built files', () => {
  const origin = 'https://pages.example';
  const preflight = (path: string, o: string, method = 'GET') =>
    `OPTIONS ${path} HTTP/1.1\r\nHost: x\r\nOrigin: ${o}\r\nAccess-Control-Request-Method: ${method}\r\n` +
    'Connection: close\r\n\r\n';

  test('dev mode defaults to any origin: *, preflight 204 with GET/HEAD and no credentials', async () => {
    const s = await serve();
    expect(s.config.http.corsOrigins).toEqual(['*']);
    const r = await raw(s.port, get('/token?app_id=1&id_name=a', `Origin: ${origin}\r\n`));
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['access-control-allow-credentials']).toBeUndefined();
    const files = await raw(s.port, get('/ZegoClient.js', `Origin: ${origin}\r\n`));
    expect(files.headers['access-control-allow-origin']).toBe('*');
    const p = await raw(s.port, preflight('/token', origin));
    expect(p.status).toBe(204);
    expect(p.headers['access-control-allow-origin']).toBe('*');
    expect(p.headers['access-control-allow-methods']).toBe('GET, HEAD');
    expect(p.headers['access-control-allow-credentials']).toBeUndefined();
    expect(p.headers['x-content-type-options']).toBe('nosniff');
    // The demo page is not page-facing for other origins.
    const demo = await raw(s.port, get('/', `Origin: ${origin}\r\n`));
    expect(demo.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('a listed origin is echoed with Vary: Origin; another one gets nothing; preflight refused', async () => {
    const s = await serve({ http: { corsOrigins: [origin, 'http://127.0.0.1:9999'] } });
    const ok = await raw(s.port, get('/token?app_id=1&id_name=a', `Origin: ${origin}\r\n`));
    expect(ok.headers['access-control-allow-origin']).toBe(origin);
    expect(ok.headers.vary).toBe('Origin');
    const esm = await raw(s.port, get('/dist/esm/index.mjs', 'Origin: http://127.0.0.1:9999\r\n'));
    expect(esm.headers['access-control-allow-origin']).toBe('http://127.0.0.1:9999');
    const other = await raw(s.port, get('/token?app_id=1&id_name=a', 'Origin: https://evil.example\r\n'));
    expect(other.status).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(other.headers.vary).toBe('Origin');
    const p = await raw(s.port, preflight('/jZego-rtc.js', origin));
    expect(p.status).toBe(204);
    expect(p.headers['access-control-allow-origin']).toBe(origin);
    const bad = await raw(s.port, preflight('/token', 'https://evil.example'));
    expect(bad.status).toBe(403);
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('production (apps configured) defaults to no CORS headers at all', async () => {
    const s = await serve({
      apps: [{ appid: 7, appSign: 'cd'.repeat(32) }],
    });
    expect(s.config.http.corsOrigins).toEqual([]);
    const r = await raw(s.port, get('/ZegoClient.js', `Origin: ${origin}\r\n`));
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    // Only what the encoding negotiation needs: the answer does not vary with the origin.
    expect(r.headers.vary).toBe('Accept-Encoding');
    const p = await raw(s.port, preflight('/ZegoClient.js', origin));
    expect(p.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('the header function', () => {
    expect(corsHeaders([], origin)).toEqual({});
    expect(corsHeaders(['*'], origin)).toEqual({ 'access-control-allow-origin': '*' });
    expect(corsHeaders(['*'], undefined)).toEqual({});
    expect(corsHeaders([origin + '/'], origin)).toEqual({
      vary: 'Origin',
      'access-control-allow-origin': origin,
    });
    expect(corsHeaders([origin], 'null')).toEqual({ vary: 'Origin' });
    expect(corsHeaders([origin], origin + '.evil.example')).toEqual({ vary: 'Origin' });
  });
});

/** Opens a socket and resolves once connected; `closed` resolves when the server closes it. */
function openSocket(port: number, localAddress: string) {
  const t0 = Date.now();
  const sock = connect({ host: '127.0.0.1', port, localAddress });
  sock.on('error', () => {});
  let got = 0;
  sock.on('data', (d) => (got += d.length));
  const closed = new Promise<number>((r) => sock.once('close', () => r(Date.now() - t0)));
  const connected = new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, connected, closed, received: () => got };
}

async function stillOpen(sock: Socket, port: number): Promise<boolean> {
  // A keep-alive request on the socket: an answer means the server kept it.
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), 2000);
    sock.once('data', (d) => {
      clearTimeout(t);
      resolve(d.toString().startsWith('HTTP/1.1 200'));
    });
    sock.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  });
}

describe('connection caps', () => {
  test('per address: the extra connection is closed at once, other addresses are not affected, a freed slot is reused', async () => {
    const s = await serve({ limits: { maxConnectionsPerIp: 3 } });
    const mine = Array.from({ length: 3 }, () => openSocket(s.port, '127.0.0.7'));
    await Promise.all(mine.map((m) => m.connected));
    const extra = openSocket(s.port, '127.0.0.7');
    const closedAfter = await Promise.race([
      extra.closed,
      new Promise<number>((r) => setTimeout(() => r(-1), 1000)),
    ]);
    expect(closedAfter).toBeGreaterThanOrEqual(0);
    expect(closedAfter).toBeLessThan(500);
    expect(extra.received()).toBe(0);
    for (const m of mine) expect(await stillOpen(m.sock, s.port)).toBe(true);
    // Another address has its own quota.
    const other = openSocket(s.port, '127.0.0.8');
    await other.connected;
    expect(await stillOpen(other.sock, s.port)).toBe(true);
    // Close one of the three: a new one from the same address is accepted.
    mine[0]!.sock.destroy();
    await mine[0]!.closed;
    await new Promise((r) => setTimeout(r, 50));
    const again = openSocket(s.port, '127.0.0.7');
    await again.connected;
    expect(await stillOpen(again.sock, s.port)).toBe(true);
    const h = JSON.parse((await healthz(s)).body) as { connections: Record<string, number> };
    expect(h.connections).toMatchObject({ refusedPerIp: 1, refusedTotal: 0 });
    // 2 + 1 + 1 kept sockets, and this request's own.
    expect(h.connections.open).toBe(5);
    for (const m of [...mine, other, again]) m.sock.destroy();
  });

  test('in total: beyond maxConnections the new socket is closed at once; WebSockets count too', async () => {
    const s = await serve({ limits: { maxConnections: 3 } });
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const a = openSocket(s.port, '127.0.0.9');
    const b = openSocket(s.port, '127.0.0.10');
    await Promise.all([a.connected, b.connected]);
    const c = openSocket(s.port, '127.0.0.11');
    const closedAfter = await Promise.race([
      c.closed,
      new Promise<number>((r) => setTimeout(() => r(-1), 1000)),
    ]);
    expect(closedAfter).toBeGreaterThanOrEqual(0);
    expect(closedAfter).toBeLessThan(500);
    expect(c.received()).toBe(0);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    await new Promise((r) => ws.once('close', r));
    await new Promise((r) => setTimeout(r, 50));
    const h = JSON.parse((await healthz(s)).body) as { connections: Record<string, number> };
    expect(h.connections).toMatchObject({ refusedTotal: 1, open: 3 });
    a.sock.destroy();
    b.sock.destroy();
  });
});

describe('built files from memory: negotiated encoding, ETag, 304, a rebuild noticed', () => {
  let dir: string;
  let srv: Server;
  let port: number;
  const script = `/* built */ ${'window.ZegoClient = function () { return 42; };\n'.repeat(400)}`;
  const get2 = (path: string, headers: string[] = [], method = 'GET') =>
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
  const bytes = (r: RawResponse) => Buffer.from(r.body, 'latin1');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zego-static-'));
    mkdirSync(join(dir, 'dist'));
    mkdirSync(join(dir, 'demo'));
    writeFileSync(join(dir, 'dist', 'ZegoClient.js'), script);
    writeFileSync(join(dir, 'demo', 'index.html'), '<h1>demo</h1>');
    srv = createServer(
      httpHandler({
        config: resolveConfig({ log: { level: 'silent' }, http: { corsOrigins: ['https://a.example'] } }),
        distDir: join(dir, 'dist'),
        demoDir: join(dir, 'demo'),
        files: new StaticFiles(),
        startedAt: Date.now(),
        log: { error: () => {}, warn: () => {} },
        stats: () => ({ rooms: 0, users: 0 }),
      }),
    );
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    port = (srv.address() as AddressInfo).port;
    // The compressed forms are made behind the first answer: wait (bounded) until both are served.
    const end = Date.now() + 10_000;
    for (;;) {
      const r = await raw(port, get2('/ZegoClient.js', ['Accept-Encoding: br']));
      if (r.headers['content-encoding'] === 'br') break;
      if (Date.now() > end) throw new Error('no brotli form within 10 s');
      await new Promise((res) => setTimeout(res, 50));
    }
  });
  afterAll(async () => {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('br, then gzip, then identity by Accept-Encoding (q-values honoured); Vary and no-cache on each', async () => {
    const br = await raw(port, get2('/ZegoClient.js', ['Accept-Encoding: gzip, deflate, br']));
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(bytes(br)).toString()).toBe(script);
    expect(Number(br.headers['content-length'])).toBe(bytes(br).length);
    expect(bytes(br).length).toBeLessThan(script.length / 10);
    const gz = await raw(port, get2('/ZegoClient.js', ['Accept-Encoding: gzip, br;q=0']));
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(bytes(gz)).toString()).toBe(script);
    const none = await raw(port, get2('/ZegoClient.js'));
    expect(none.headers['content-encoding']).toBeUndefined();
    expect(none.body).toBe(script);
    const refused = await raw(port, get2('/ZegoClient.js', ['Accept-Encoding: br;q=0, gzip;q=0']));
    expect(refused.body).toBe(script);
    const star = await raw(port, get2('/ZegoClient.js', ['Accept-Encoding: *']));
    expect(star.headers['content-encoding']).toBe('br');
    for (const r of [br, gz, none]) {
      expect(r.status).toBe(200);
      // A list of origins: every answer varies with the Origin too (see CORS).
      expect(r.headers.vary).toBe('Origin, Accept-Encoding');
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.headers['content-type']).toMatch(/^application\/javascript/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    // Each form has its own tag, all of the same content.
    expect(new Set([br, gz, none].map((r) => r.headers.etag)).size).toBe(3);
    // CORS per origin: the answer varies with both.
    const cors = await raw(
      port,
      get2('/ZegoClient.js', ['Origin: https://a.example', 'Accept-Encoding: gzip']),
    );
    expect(cors.headers.vary).toBe('Origin, Accept-Encoding');
    expect(cors.headers['access-control-allow-origin']).toBe('https://a.example');
  });

  test('a reload is a 304 without a body (whichever form the page holds); HEAD has the headers only', async () => {
    const first = await raw(port, get2('/ZegoClient.js', ['Accept-Encoding: gzip']));
    const again = await raw(
      port,
      get2('/ZegoClient.js', ['Accept-Encoding: gzip', `If-None-Match: ${first.headers.etag}`]),
    );
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers.vary).toBe('Origin, Accept-Encoding');
    // The page cached the gzip form and now accepts br: still the same file, still a 304.
    const other = await raw(
      port,
      get2('/ZegoClient.js', ['Accept-Encoding: br', `If-None-Match: W/${first.headers.etag}, "x"`]),
    );
    expect(other.status).toBe(304);
    const stale = await raw(port, get2('/ZegoClient.js', ['If-None-Match: "something-else"']));
    expect(stale.status).toBe(200);
    const head = await raw(port, get2('/ZegoClient.js', ['Accept-Encoding: br'], 'HEAD'));
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-encoding']).toBe('br');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
  });

  test('a rebuilt file is served within about a second, with a new ETag', async () => {
    const before = await raw(port, get2('/ZegoClient.js'));
    writeFileSync(join(dir, 'dist', 'ZegoClient.js'), '/* rebuilt */');
    const end = Date.now() + 5000;
    let now = before;
    while (now.body !== '/* rebuilt */' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      now = await raw(port, get2('/ZegoClient.js'));
    }
    expect(now.body).toBe('/* rebuilt */');
    expect(now.headers.etag).not.toBe(before.headers.etag);
    const cached = await raw(port, get2('/ZegoClient.js', [`If-None-Match: ${before.headers.etag}`]));
    expect(cached.status).toBe(200);
    writeFileSync(join(dir, 'dist', 'ZegoClient.js'), script);
  });
});

describe('connection caps count only what has not logged in', () => {
  test('per address: an idle kept-alive connection is closed to make room before a new one is refused', async () => {
    const s = await serve({ limits: { maxConnectionsPerIp: 2 } });
    const a = openSocket(s.port, '127.0.0.12');
    const b = openSocket(s.port, '127.0.0.12');
    await Promise.all([a.connected, b.connected]);
    // a answers a request and stays open, idle; b has sent nothing (a connection we know nothing of).
    expect(await stillOpen(a.sock, s.port)).toBe(true);
    const c = openSocket(s.port, '127.0.0.12');
    await c.connected;
    expect(await stillOpen(c.sock, s.port)).toBe(true);
    // The idle one made room; the one that never sent anything is not closed for it.
    expect(await Promise.race([a.closed, new Promise((r) => setTimeout(() => r('open'), 500))])).not.toBe(
      'open',
    );
    expect(b.sock.destroyed).toBe(false);
    // Now c is idle and b pending: the next takes c's place; with nothing idle, one more is refused.
    const d = openSocket(s.port, '127.0.0.12');
    await d.connected;
    const e = openSocket(s.port, '127.0.0.12');
    const refused = await Promise.race([e.closed, new Promise<number>((r) => setTimeout(() => r(-1), 1000))]);
    expect(refused).toBeGreaterThanOrEqual(0);
    const h = JSON.parse((await healthz(s)).body) as { connections: Record<string, number> };
    expect(h.connections).toMatchObject({ idleClosed: 2, refusedPerIp: 1 });
    for (const x of [a, b, c, d, e]) x.sock.destroy();
  });

  test('per address: logged-in WebSockets do not count against it; one that has not logged in does', async () => {
    const s = await serve({ limits: { maxConnectionsPerIp: 3 } });
    const url = `ws://127.0.0.1:${s.port}/ws`;
    const token = async (id: string) =>
      (await raw(s.port, get(`/token?app_id=1&id_name=${id}`), { localAddress: '127.0.0.20' })).body;
    const open: WebSocket[] = [];
    // Six users behind one address log in: twice the per-address cap.
    for (let i = 0; i < 6; i++) {
      const ws = new WebSocket(url, { localAddress: '127.0.0.13' });
      open.push(ws);
      await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
      ws.send(
        JSON.stringify({
          header: { Protocol: 'req', cmd: 'login', appid: 1, seq: 1, session_id: '', room_id: 'nat' },
          body: {
            id_name: `pupil${i}`,
            nick_name: `pupil${i}`,
            role: 2,
            token: await token(`pupil${i}`),
            version: '1.12.5',
            room_name: 'nat',
            room_create_flag: 1,
          },
        }),
      );
      const reply = await new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
      expect(JSON.parse(reply).body.err_code).toBe(0);
    }
    // Three that do not log in fill the address's cap; the fourth is refused.
    const pending = Array.from({ length: 3 }, () => openSocket(s.port, '127.0.0.13'));
    await Promise.all(pending.map((p) => p.connected));
    const over = openSocket(s.port, '127.0.0.13');
    const refused = await Promise.race([
      over.closed,
      new Promise<number>((r) => setTimeout(() => r(-1), 1000)),
    ]);
    expect(refused).toBeGreaterThanOrEqual(0);
    expect(open.every((w) => w.readyState === WebSocket.OPEN)).toBe(true);
    const h = JSON.parse((await healthz(s)).body) as { connections: Record<string, number> };
    expect(h.connections).toMatchObject({ refusedPerIp: 1 });
    for (const w of open) w.terminate();
    for (const p of [...pending, over]) p.sock.destroy();
  });
});

describe('timeouts', () => {
  const cfg = { http: { headersTimeoutMs: 500, requestTimeoutMs: 1000 } };

  test('a connection that never sends a byte is closed within the headers timeout (408, nosniff)', async () => {
    const s = await serve(cfg);
    const r = await raw(s.port, '', { timeoutMs: 3000 });
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(450);
    expect(r.closedAfterMs).toBeLessThan(1200);
    expect(r.status).toBe(408);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  test('a slow client trickling its headers is closed within the headers timeout', async () => {
    const s = await serve(cfg);
    const t0 = Date.now();
    const sock = connect({ host: '127.0.0.1', port: s.port });
    sock.on('error', () => {});
    const line = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100);
    let i = 0;
    const drip = setInterval(() => sock.writable && sock.write(line[i++ % line.length]!), 50);
    const closedAfter = await new Promise<number>((r) => sock.once('close', () => r(Date.now() - t0)));
    clearInterval(drip);
    expect(closedAfter).toBeLessThan(1200);
  });

  test('a WebSocket outlives the headers timeout many times over', async () => {
    const s = await serve(cfg);
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    await new Promise((r) => setTimeout(r, 2000));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  test('a headers timeout above the request timeout fails the start', async () => {
    await expect(serve({ http: { headersTimeoutMs: 2000, requestTimeoutMs: 1000 } })).rejects.toThrow(
      /headersTimeoutMs/,
    );
  });
});

describe('WebSocket upgrades', () => {
  test('an unknown path gets a 404 with nosniff and the socket is closed', async () => {
    const s = await serve();
    const r = await raw(s.port, `GET /nope HTTP/1.1\r\n${UPGRADE_HEADERS}`);
    expect(r.status).toBe(404);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  test.each([
    ['an absolute-form target', `GET http://[::1 HTTP/1.1\r\n${UPGRADE_HEADERS}`, 400],
    ['a malformed escape', `GET /ws%zz HTTP/1.1\r\n${UPGRADE_HEADERS}`, 400],
    ['a dot segment', `GET /x/../ws HTTP/1.1\r\n${UPGRADE_HEADERS}`, 400],
    [
      'no key',
      'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n',
      400,
    ],
    ['a bad version', `GET /media HTTP/1.1\r\n${UPGRADE_HEADERS.replace('Version: 13', 'Version: 99')}`, 400],
    ['POST', `POST /ws HTTP/1.1\r\nContent-Length: 0\r\n${UPGRADE_HEADERS}`, 405],
    [
      'another protocol',
      `GET /ws HTTP/1.1\r\n${UPGRADE_HEADERS.replace('Upgrade: websocket', 'Upgrade: h2c')}`,
      400,
    ],
  ])('%s: a 4xx with nosniff, and the server lives', async (_n, req, status) => {
    const s = await serve();
    const r = await raw(s.port, req);
    expect(r.status).toBe(status);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect((await healthz(s)).status).toBe(200);
  });

  test('a peer that resets right after its upgrade request does not take the process down', async () => {
    const s = await serve();
    for (let i = 0; i < 20; i++) {
      const sock = connect({ host: '127.0.0.1', port: s.port });
      sock.on('error', () => {});
      await new Promise((r) => sock.once('connect', r));
      sock.write(`GET /${i % 2 ? 'nope' : 'ws'} HTTP/1.1\r\n${UPGRADE_HEADERS}`);
      sock.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await healthz(s)).status).toBe(200);
  });
});
