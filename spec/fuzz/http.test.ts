/**
 * HTTP: request lines no browser sends (random methods; targets with %, //, @, [, NUL, unicode, very
 * long, absolute-form; random headers) over raw `net`. Each gets an HTTP status line or a close (the
 * caps), never a crash; afterwards the process is alive, /healthz answers and the bystander noticed
 * nothing.
 */
import fc from 'fast-check';
import { Target, checked } from './lib/harness';
import { params } from './lib/hostile';
import { STATUS_LINE, buildRequest, rawRequest } from './lib/rawHttp';

jest.setTimeout(120_000);
const RUNS = 300;
const t = new Target();

beforeAll(() => t.start());
afterAll(() => t.stop());

// Mostly methods the parser knows, so that most requests reach the server's own handler.
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'OPTIONS') },
  fc.constantFrom(
    'GET',
    'HEAD',
    'POST',
    'PUT',
    'DELETE',
    'OPTIONS',
    'TRACE',
    'CONNECT',
    'PATCH',
    'PRI',
    'PROPFIND',
    'M-SEARCH',
    'get',
    'G ET',
    '',
    'GET\u0000',
  ),
  fc.stringMatching(/^[A-Z_-]{1,16}$/),
  fc.string({ maxLength: 10 }),
);

const pieces = fc.constantFrom(
  '%',
  '%2',
  '%zz',
  '%C0%AF',
  '%FF',
  '%00',
  '/',
  '//',
  '.',
  '..',
  '@',
  '[',
  ']',
  ':',
  '?',
  '#',
  'a',
  '\u0000',
  ' ',
  '\\',
);

const target = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '/',
      '//',
      '//@',
      'http://[::1',
      '/dist/%',
      '/dist/%E0%A4%A',
      '/%',
      '/%%',
      '/healthz',
      '/healthz?x=%',
      '/token?app_id=%&id_name=%',
      '/token?app_id=1&id_name=%ZZ',
      '/token?app_id=99999999999999999999&id_name=a',
      '/token?app_id=1&id_name=' + 'a'.repeat(5000),
      'http://127.0.0.1/x',
      'http://user@[::1]:80/',
      'https://a@b@c/',
      'http:',
      'http://',
      '*',
      '@',
      '[',
      '/[',
      '/dist/../../etc/passwd',
      '/dist/%2e%2e/%2e%2e/package.json',
      '/dist/..%2f..%2fpackage.json',
      '/dist/server/cli.js.map',
      '/dist/%00',
      '/dist/\u0000',
      '/dist/',
      '/dist',
      '/ws',
      '/media',
      '/ws?x=%',
      '/ZegoClient.js.map',
      '/index.html?x',
      'mailto:x',
      'file:///etc/passwd',
      '//127.0.0.1//',
      '/?#',
      '/#frag',
      '',
    ),
  },
  { weight: 2, arbitrary: fc.array(pieces, { maxLength: 12 }).map((a) => `/${a.join('')}`) },
  { weight: 1, arbitrary: fc.array(pieces, { maxLength: 12 }).map((a) => `/dist/${a.join('')}`) },
  { weight: 1, arbitrary: fc.constantFrom(1000, 8000, 20_000, 70_000).map((n) => `/${'a'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.fullUnicodeString({ maxLength: 20 }).map((s) => `/${s}`) },
  { weight: 1, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

const version = fc.oneof(
  { weight: 6, arbitrary: fc.constant('HTTP/1.1') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/9.9', 'http/1.1', 'HTTP/1.1 x', ''),
  },
);

const header = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom('Host: 127.0.0.1', 'Accept: */*', 'Connection: close', 'Range: bytes=0-'),
  },
  fc.constantFrom(
    'Host: 127.0.0.1',
    'Host:',
    'Host: [::1',
    'Host: a@b',
    'Host: ' + 'h'.repeat(300),
    'Connection: upgrade',
    'Connection: keep-alive',
    'Upgrade: websocket',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Key: x',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Version: 99',
    'Content-Length: -1',
    'Content-Length: 99999999999999999999',
    'Content-Length: 1, 2',
    'Transfer-Encoding: chunked',
    'Transfer-Encoding: chunked, identity',
    'Expect: 100-continue',
    'X-Forwarded-Proto: https',
    'X-Forwarded-For: 1.2.3.4',
    'Origin: null',
    'Origin: http://evil.example',
    'Cookie: ' + 'a'.repeat(20_000),
    ' Folded: header',
    'NoColon',
    ': empty-name',
  ),
  fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 })).map(([k, v]) => `${k}: ${v}`),
);

class Req {
  constructor(
    readonly method: string,
    readonly target: string,
    readonly version: string,
    readonly headers: string[],
  ) {}
  [fc.toStringMethod](): string {
    const clip = (s: string) => (s.length > 100 ? `${s.slice(0, 60)}…(${s.length} chars)` : s);
    return JSON.stringify([this.method, clip(this.target), this.version, this.headers.map(clip)]);
  }
}

test('every request line, however malformed, gets a status line or a close; the server lives', () =>
  checked(t, async () => {
    const prop = fc.asyncProperty(
      fc
        .tuple(method, target, version, fc.array(header, { maxLength: 6 }))
        .map(([m, tg, v, h]) => new Req(m, tg, v, h)),
      async (r: Req) => {
        await t.ensureAlive();
        const o = await rawRequest(t.srv.port, buildRequest(r.method, r.target, r.version, r.headers));
        if (process.env.FUZZ_STATS)
          seen.set(
            o.kind === 'status' ? o.line : o.kind,
            (seen.get(o.kind === 'status' ? o.line : o.kind) ?? 0) + 1,
          );
        if (o.kind === 'status') {
          if (!STATUS_LINE.test(o.line))
            throw new Error(`answer does not start with a status line: ${o.line}`);
          const death = await t.deathAfterFrame(0);
          if (death) throw new Error(death);
          return;
        }
        const death = await t.deathAfterFrame();
        if (death) throw new Error(death);
        if (o.kind === 'timeout')
          throw new Error(`no status line and no close within 2 s (got ${JSON.stringify(o.bytes)})`);
        if (o.bytes && !STATUS_LINE.test(o.bytes))
          throw new Error(`closed after bytes that are not a status line: ${JSON.stringify(o.bytes)}`);
      },
    );
    const seen = new Map<string, number>();
    try {
      await fc.assert(prop, params(RUNS, 'http request lines'));
    } finally {
      if (process.env.FUZZ_STATS) console.log([...seen].map(([k, n]) => `${k} ×${n}`).join(', '));
    }
  }));
