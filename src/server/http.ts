/**
 * Plain HTTP: the demo page at /, the browser build (and nothing else of dist/), /healthz, and the
 * dev-mode token service (GET /token?app_id=&id_name=, the shape of the old demo token service).
 *
 * This is the server's edge, so it is written for hostile input: every request gets exactly one status
 * line and nothing a client sends can throw out of the handler (request targets are parsed here by
 * hand, because `new URL()` and `decodeURIComponent` throw on `//`, `http://[::1` or `%`); an
 * unexpected error is logged with context and answered 500 once. Every response, the parser's own
 * refusals and the WebSocket upgrade refusals included, carries `X-Content-Type-Options: nosniff`.
 */
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerOptions,
  ServerResponse,
} from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { BlockList } from 'node:net';
import type { Duplex } from 'node:stream';
import { resolve, sep } from 'node:path';
// Node's timers even where a test environment replaces the globals (jsdom's have no unref).
import { setTimeout } from 'node:timers';
import { addressAllowed, addressList } from './addresses';
import { devTokenAnswer } from './auth/devToken';
import type { ResolvedConfig } from './config';
import type { StaticFiles } from './StaticFiles';
import { ADMIN_API_PREFIX } from '../protocol/adminApi';
import type { AdminApi } from './admin/AdminApi';
import type { Metrics } from './metrics/Metrics';
import { TurnBudget } from './TurnBudget';

const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.mjs': 'application/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.mts': 'text/plain; charset=utf-8',
};

/** Longest request target served (path and query); browsers and CDNs stop far below this. */
export const MAX_TARGET_LENGTH = 2048;

/** The global script under both names, with maps: /ZegoClient.js, /dist/jZego-rtc.js.map, ... */
const GLOBAL_SCRIPT = /^\/(?:dist\/)?((?:ZegoClient|jZego-rtc)\.js(?:\.map)?)$/;
/** The browser ESM build: dist/esm/<name>.(m)js, its maps and its type declarations. Nothing else. */
const ESM_FILE = /^\/dist\/(esm\/(?:[\w-][\w.-]*\/)*[\w-][\w.-]*\.(?:m?js|m?js\.map|d\.m?ts))$/;

/** What the edge logs (a pino logger fits). */
export interface HttpLog {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface HttpDeps {
  config: ResolvedConfig;
  distDir: string;
  demoDir: string;
  /** The built files and the demo, from memory. */
  files: StaticFiles;
  startedAt: number;
  log: HttpLog;
  stats(): { rooms: number; users: number } & Record<string, unknown>;
  /** The admin API (POST /admin/api/*) and page (/admin); null or absent = off (404). */
  admin?: AdminApi | null;
  /** GET /metrics; null or absent = off (404). */
  metrics?: Metrics | null;
}

/**
 * The operator page's headers: its own scripts only, no framing (clickjacking), no referrer, nothing
 * cached. The page signs with WebCrypto, which browsers give only to secure contexts (HTTPS, or loopback).
 */
const ADMIN_PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** The operator page and its script: /admin (also /admin/) and /admin.js. */
const ADMIN_PAGE: Record<string, string> = {
  '/admin': 'admin.html',
  '/admin/': 'admin.html',
  '/admin.js': 'admin.js',
};

/**
 * Who may read /metrics: a peer that may read /healthz details (http.healthAllow, not through a proxy), or
 * a request with `Authorization: Bearer <metrics.token>` when a token is configured.
 */
export function metricsAllowed(
  list: BlockList,
  token: string,
  remoteAddress: string | undefined,
  headers: IncomingHttpHeaders,
): boolean {
  if (healthDetailsAllowed(list, remoteAddress, headers)) return true;
  const auth = headers.authorization;
  if (!token || typeof auth !== 'string' || !auth.startsWith('Bearer ')) return false;
  const given = Buffer.from(auth.slice(7));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** A request target in origin form, decoded; or why it is refused. */
export type Target =
  { pathname: string; searchParams: URLSearchParams } | { status: 400 | 414; reason: string };

/**
 * Parses a request target without throwing. Only origin form (`/path?query`) is served: absolute form
 * (`http://host/x`) and asterisk form are for proxies. The path is percent-decoded once; malformed
 * escapes, control characters (NUL included), backslashes and `.`/`..` segments (also encoded) are
 * refused rather than normalised, so no later step has to be careful with them.
 */
export function parseTarget(raw: string | undefined): Target {
  if (!raw) return { status: 400, reason: 'empty request target' };
  if (raw.length > MAX_TARGET_LENGTH) return { status: 414, reason: 'request target too long' };
  if (raw[0] !== '/') return { status: 400, reason: 'only origin-form request targets are served' };
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  let pathname: string;
  try {
    pathname = decodeURIComponent(rawPath);
  } catch {
    return { status: 400, reason: 'malformed percent-encoding' };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(pathname))
    return { status: 400, reason: 'control characters or backslashes in the path' };
  if (pathname.split('/').some((s) => s === '.' || s === '..'))
    return { status: 400, reason: 'dot segments in the path' };
  // URLSearchParams never throws: a malformed escape in the query stays as it is.
  return { pathname, searchParams: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/**
 * /healthz details (counts, pids) go only to a peer inside `http.healthAllow` that is not a proxy
 * forwarding someone else: a request carrying X-Forwarded-For, Forwarded or X-Real-IP came through a
 * proxy on an allowed address on behalf of a client we cannot vouch for.
 */
export function healthDetailsAllowed(
  list: BlockList,
  remoteAddress: string | undefined,
  headers: IncomingHttpHeaders,
): boolean {
  if (
    headers['x-forwarded-for'] !== undefined ||
    headers.forwarded !== undefined ||
    headers['x-real-ip'] !== undefined
  )
    return false;
  return addressAllowed(list, remoteAddress);
}

/**
 * CORS for the page-facing routes (the built files, /token). `origins` is `http.corsOrigins`: empty = no
 * CORS headers at all; `*` = any origin (answered `*`: no credentials are ever allowed); otherwise the
 * exact origins, echoed with `Vary: Origin`. Returns the headers for this request ({} = none).
 */
export function corsHeaders(origins: readonly string[], origin: string | undefined): Record<string, string> {
  if (origins.length === 0) return {};
  if (origins.includes('*')) return origin === undefined ? {} : { 'access-control-allow-origin': '*' };
  // The answer depends on Origin: caches must keep one copy per origin, allowed or not.
  const vary = { vary: 'Origin' };
  if (origin === undefined || !origins.some((o) => o.replace(/\/+$/, '') === origin)) return vary;
  return { ...vary, 'access-control-allow-origin': origin };
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  extra: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

const text = 'text/plain; charset=utf-8';

/**
 * A built file or the demo, from memory (StaticFiles): negotiated encoding, ETag, 304 on a reload. HEAD
 * gets the same headers without the body.
 */
async function serveFile(
  files: StaticFiles,
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  rel: string,
): Promise<void> {
  // The routes only hand over whitelisted names; this is the second lock on the same door.
  const path = resolve(root, rel);
  if (!path.startsWith(root + sep)) return send(res, 404, text, 'not found');
  const header = (n: string) => {
    const v = req.headers[n];
    return typeof v === 'string' ? v : undefined;
  };
  const a = await files.answer(path, header('accept-encoding'), header('if-none-match'));
  // A burst of page loads is answered a share per turn (TurnBudget), not all in the turn that read them.
  const wait = answerBudget.slot();
  if (wait) await wait;
  // Never echo the request: a fixed text (the built files are missing until "npm run build").
  if (a.status === 404) return send(res, 404, text, 'not found (is the client built? "npm run build")');
  if (res.headersSent) return;
  const dot = path.lastIndexOf('.');
  // CORS may have said Vary: Origin already: the answer varies with both.
  const vary = res.getHeader('vary');
  res.writeHead(a.status, {
    ...(a.status === 200 ? { 'content-type': TYPES[path.slice(dot)] ?? 'application/octet-stream' } : {}),
    ...a.headers,
    ...(vary ? { vary: `${String(vary)}, ${String(a.headers.vary)}` } : {}),
  });
  res.end(req.method === 'HEAD' || !a.body ? undefined : a.body);
}

/**
 * Built files answered per turn of the event loop (each answer is a writev of up to 120 KiB). Measured
 * with 1,000 page loads at once (bench/storms.js, BENCH_PIN=1, three runs each): the bystander's p99
 * 142-247 ms with 32 per turn, 133-632 ms without a budget; the loads were served no slower.
 */
const ANSWERS_PER_TURN = 32;

/** Built files answered per turn of the event loop. */
const answerBudget = new TurnBudget(ANSWERS_PER_TURN);

/** The responses in flight, per socket: a parser error on a kept-alive socket must not cut into one. */
const inFlight = new WeakMap<Duplex, ServerResponse>();

/**
 * Wraps a request listener so that nothing escapes it: a throw or a rejection is logged with the
 * method, path and remote address and answered 500 once; if headers were already sent, the response is
 * cut instead (a second status line would corrupt the stream). Also sets nosniff before anything runs.
 */
export function httpBoundary(
  log: HttpLog,
  handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    inFlight.set(req.socket, res);
    res.once('close', () => {
      if (inFlight.get(req.socket) === res) inFlight.delete(req.socket);
    });
    const fail = (e: unknown) => {
      log.error(
        {
          err: e instanceof Error ? e.stack : String(e),
          method: String(req.method).slice(0, 16),
          path: String(req.url).slice(0, 200),
          remote: req.socket.remoteAddress,
        },
        'http request failed',
      );
      try {
        if (!res.headersSent) {
          res.writeHead(500, {
            'content-type': text,
            'cache-control': 'no-store',
            'content-length': 14,
            'x-content-type-options': 'nosniff',
          });
          res.end('internal error');
        } else if (!res.writableEnded) res.destroy();
      } catch {
        res.destroy();
      }
    };
    try {
      res.setHeader('x-content-type-options', 'nosniff');
      const p = handle(req, res);
      if (p) p.catch(fail);
    } catch (e) {
      fail(e);
    }
  };
}

export function httpHandler(d: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const healthAllow = addressList('http.healthAllow', d.config.http.healthAllow);
  const cors = d.config.http.corsOrigins;
  return httpBoundary(d.log, async (req, res) => {
    const target = parseTarget(req.url);
    if ('status' in target) return send(res, target.status, text, target.reason);
    const url = target;
    const p = url.pathname;
    // The admin API answers every method itself (JSON errors, 405 included).
    if (p.startsWith(ADMIN_API_PREFIX)) {
      if (!d.admin) return send(res, 404, text, 'not found');
      return d.admin.handle(req, res, p);
    }
    const file = GLOBAL_SCRIPT.exec(p)?.[1] ?? ESM_FILE.exec(p)?.[1];
    // The page-facing routes: what a page on another origin may read (issue 8: token and built files).
    const pageFacing = file !== undefined || p === '/token';
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    if (pageFacing) for (const [k, v] of Object.entries(corsHeaders(cors, origin))) res.setHeader(k, v);
    if (req.method === 'OPTIONS' && pageFacing) {
      // A preflight: only GET and HEAD, no extra request headers, no credentials.
      if (origin !== undefined && !res.hasHeader('access-control-allow-origin'))
        return send(res, 403, text, 'origin not allowed');
      return send(res, 204, text, '', {
        allow: 'GET, HEAD, OPTIONS',
        ...(origin !== undefined
          ? { 'access-control-allow-methods': 'GET, HEAD', 'access-control-max-age': '600' }
          : {}),
      });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, text, 'method not allowed', {
        allow: pageFacing ? 'GET, HEAD, OPTIONS' : 'GET, HEAD',
      });
    if (p === '/healthz') {
      if (!healthDetailsAllowed(healthAllow, req.socket.remoteAddress, req.headers))
        return send(res, 200, text, 'ok');
      return send(
        res,
        200,
        'application/json',
        JSON.stringify({
          status: 'ok',
          ...d.stats(),
          uptimeS: Math.round((Date.now() - d.startedAt) / 1000),
        }),
      );
    }
    if (p === '/token') {
      const t = devTokenAnswer(d.config, url.searchParams);
      return send(res, t.status, 'text/plain', t.body);
    }
    if (p === '/metrics') {
      if (!d.metrics) return send(res, 404, text, 'not found');
      if (!metricsAllowed(healthAllow, d.config.metrics.token, req.socket.remoteAddress, req.headers))
        return send(
          res,
          403,
          text,
          'forbidden: /metrics is for http.healthAllow or the metrics.token bearer',
        );
      const m = await d.metrics.text();
      return send(res, 200, m.type, req.method === 'HEAD' ? '' : m.body);
    }
    const adminFile = ADMIN_PAGE[p];
    if (adminFile !== undefined) {
      if (!d.admin) return send(res, 404, text, 'not found');
      for (const [k, v] of Object.entries(ADMIN_PAGE_HEADERS)) res.setHeader(k, v);
      return serveFile(d.files, req, res, d.demoDir, adminFile);
    }
    if (p === '/' || p === '/index.html') return serveFile(d.files, req, res, d.demoDir, 'index.html');
    if (file !== undefined) return serveFile(d.files, req, res, d.distDir, file);
    send(res, 404, text, 'not found');
  });
}

/**
 * The http server's options from the config (timeouts and header size; keepAliveTimeout is set on the
 * server after). Throws on http settings Node or the allow-list would refuse.
 */
export function httpServerOptions(c: ResolvedConfig['http']): ServerOptions {
  return {
    headersTimeout: c.headersTimeoutMs,
    requestTimeout: c.requestTimeoutMs,
    maxHeaderSize: c.maxHeaderBytes,
    // Node checks both timeouts on this interval (default 30 s), so a 10 s headers timeout could let a
    // silent connection live 40 s. The check covers connections that never sent a byte (Node 20: the
    // timer starts at accept), and not upgraded ones (WebSockets leave the list).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(c.headersTimeoutMs / 4))),
  };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
};

/**
 * Writes a whole minimal response on a raw socket (parser errors, upgrade refusals) and closes it.
 * `body` and `headers` are our own fixed texts, never request data.
 */
export function refuseRaw(
  socket: Duplex,
  status: number,
  body = REASONS[status] ?? 'refused',
  headers: Record<string, string> = {},
): void {
  // A write on a reset socket errors asynchronously; without a listener that would end the process.
  socket.on('error', () => {});
  if (!socket.writable) return void socket.destroy();
  // end() flushes the answer first; a peer that does not read it is cut after a second anyway.
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      'Cache-Control: no-store\r\n' +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/**
 * A WebSocketServer's 'wsClientError' listener: the handshake refusals ws would write itself (as
 * text/html, without nosniff) answered by refuseRaw instead. ws passes only its message: "Invalid HTTP
 * method" is its 405, the version error needs the versions it accepts, the rest are 400.
 */
export function onWsClientError(err: Error, socket: Duplex): void {
  const m = err.message;
  if (m === 'Invalid HTTP method') return refuseRaw(socket, 405, m, { Allow: 'GET' });
  if (/Sec-WebSocket-Version/.test(m)) return refuseRaw(socket, 400, m, { 'Sec-WebSocket-Version': '13, 8' });
  refuseRaw(socket, 400, m);
}

/**
 * The server's 'clientError' listener (what Node's parser refuses: a malformed request line, headers
 * over maxHeaderSize, the headers/request timeout). Node's default answers without nosniff; this one
 * answers the same statuses with it, unless a response is already being written on the socket.
 */
export function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight.get(socket)?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
          ? 413
          : 400;
  refuseRaw(socket, status);
}

/** The decoded path of an upgrade request (for the WebSocket routing); null if the target is refused. */
export function upgradePath(req: IncomingMessage): string | null {
  const t = parseTarget(req.url);
  return 'status' in t ? null : t.pathname;
}
