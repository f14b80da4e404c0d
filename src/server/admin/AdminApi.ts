/**
 * The admin HTTP API (`POST /admin/api/<route>`, docs/admin.md): signed per app, replay-proof, bounded.
 *
 * In order, each step cheaper than the next and none trusting what the previous did not check:
 *  1. the caller's address within its rate (admin.addressRequestsPerSecond), before anything is read;
 *  2. POST to a known route, with a JSON content type;
 *  3. the body, read up to admin.maxBodyBytes (Content-Length over it: refused unread);
 *  4. the signature headers well-formed, the app known with an adminSecret, the timestamp within
 *     admin.maxSkewS, the HMAC matching (constant-time), then the app within its own rate;
 *  5. the nonce never seen (remembered per app for as long as the timestamp could pass step 4);
 *  6. the body parsed (depth-checked first) and validated by its route's schema (protocol/adminApi.ts);
 *  7. the route's handler, over the AdminView.
 * Every answer is JSON: `{code: 0, data}` or `{code, error, message}` with the status of ADMIN_ERRORS.
 * Nothing escapes: an unexpected failure is logged and answered `internal`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ADMIN_API_PREFIX,
  ADMIN_DEFAULT_PAGE,
  ADMIN_ERRORS,
  ADMIN_HEADERS,
  ADMIN_ROUTES,
  type AdminErrorName,
  type AdminRequest,
  type AdminResponse,
  type AdminRoute,
} from '../../protocol/adminApi';
import { checkBody } from '../../protocol/schema';
import type { AppConfig, ResolvedConfig } from '../config';
import { MAX_FRAME_DEPTH, withinDepth } from '../gateway/FrameSocket';
import { TokenBucket } from '../gateway/TokenBucket';
import type { AdminView } from './AdminView';
import { mintForApp } from './mintForApp';
import type { Samples } from './Samples';
import { NonceCache, NONCE_PATTERN, signatureMatches } from './signature';

/** A refusal a handler (or a step) answers with. */
export class AdminFailure extends Error {
  constructor(
    readonly kind: AdminErrorName,
    message?: string,
  ) {
    super(message ?? ADMIN_ERRORS[kind].message);
  }
}

type Handlers = {
  [R in AdminRoute]: (app: AppConfig, body: AdminRequest<R>) => Promise<AdminResponse<R>>;
};

export interface AdminApiDeps {
  config: ResolvedConfig;
  view: AdminView;
  samples: Samples;
  log: { error(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
  /** Each answer's route and code (metrics). */
  onAnswer?: (route: string, code: number) => void;
}

/** Addresses whose rate is tracked at once; the oldest is forgotten beyond (it starts afresh). */
const MAX_ADDRESSES = 10_000;
const SERVER_SENDER = { idName: '@server', nickName: 'server' };

function page<T>(all: readonly T[], b: { offset?: number; limit?: number }): T[] {
  const from = b.offset ?? 0;
  return all.slice(from, from + (b.limit ?? ADMIN_DEFAULT_PAGE));
}

export class AdminApi {
  private readonly nonces: NonceCache;
  private readonly addressBuckets = new Map<string, TokenBucket>();
  private readonly appBuckets = new Map<number, TokenBucket>();
  private readonly apps = new Map<number, AppConfig>();
  private readonly handlers: Handlers;

  constructor(private readonly d: AdminApiDeps) {
    const a = d.config.admin;
    this.nonces = new NonceCache(a.maxSkewS * 1000, a.noncesPerApp);
    for (const app of d.config.apps) if (app.adminSecret) this.apps.set(app.appid, app);
    const v = d.view;
    const need = <T>(x: T | null, name: AdminErrorName, what: string): T => {
      if (x === null) throw new AdminFailure(name, what);
      return x;
    };
    this.handlers = {
      overview: async (app) => {
        const [counts, nodes, tasks] = await Promise.all([
          v.counts(app.appid),
          v.nodes(app.appid),
          v.tasks(app.appid),
        ]);
        return { ...counts, nodes, tasks, samples: d.samples.of(app.appid) };
      },
      'list-rooms': async (app, b) => {
        const all = await v.rooms(app.appid);
        return { total: all.length, rooms: page(all, b) };
      },
      'list-users': async (app, b) => {
        const all = need(
          await v.users(app.appid, b.roomId),
          'room_not_found',
          `no room ${JSON.stringify(b.roomId)}`,
        );
        return { total: all.length, users: page(all, b) };
      },
      'list-streams': async (app, b) => {
        const all = need(
          await v.streams(app.appid, b.roomId),
          'room_not_found',
          `no room ${JSON.stringify(b.roomId)}`,
        );
        return { total: all.length, streams: page(all, b) };
      },
      'kick-user': async (app, b) => {
        if (!(await v.kick(app.appid, b.roomId, b.idName, b.reason ?? 2)))
          throw new AdminFailure(
            'user_not_found',
            `no user ${JSON.stringify(b.idName)} in room ${JSON.stringify(b.roomId)}`,
          );
        this.audit(app, 'kick-user', { room: b.roomId, user: b.idName });
        return { roomId: b.roomId, idName: b.idName };
      },
      'close-room': async (app, b) => {
        const r = need(
          await v.closeRoom(app.appid, b.roomId, b.reason ?? 2),
          'room_not_found',
          `no room ${JSON.stringify(b.roomId)}`,
        );
        this.audit(app, 'close-room', { room: b.roomId, ...r });
        return { roomId: b.roomId, ...r };
      },
      'end-stream': async (app, b) => {
        const roomId = need(
          await v.endStream(app.appid, b.streamId),
          'stream_not_found',
          `no stream ${JSON.stringify(b.streamId)}`,
        );
        this.audit(app, 'end-stream', { room: roomId, stream: b.streamId });
        return { roomId, streamId: b.streamId };
      },
      'send-room-message': async (app, b) => {
        const from = {
          idName: b.fromIdName ?? SERVER_SENDER.idName,
          nickName: b.fromNickName ?? SERVER_SENDER.nickName,
        };
        const m = { content: b.content, category: b.category ?? 1, type: b.type ?? 1, from };
        return need(
          await v.sendRoomMessage(app.appid, b.roomId, m),
          'room_not_found',
          `no room ${JSON.stringify(b.roomId)}`,
        );
      },
      'send-custom-command': async (app, b) => {
        const from = {
          idName: b.fromIdName ?? SERVER_SENDER.idName,
          nickName: b.fromNickName ?? SERVER_SENDER.nickName,
        };
        return need(
          await v.sendCustomCommand(app.appid, b.roomId, { content: b.content, to: b.to, from }),
          'room_not_found',
          `no room ${JSON.stringify(b.roomId)}`,
        );
      },
      'mint-token': async (app, b) => {
        const r = mintForApp(app, d.config.auth.maxTokenLifetimeS, b);
        if ('refused' in r) throw new AdminFailure('cannot_mint', r.refused);
        return r;
      },
    };
  }

  /** Operator actions go to the log with who did them (the app) and on what. */
  private audit(app: AppConfig, action: string, what: Record<string, unknown>): void {
    this.d.log.info({ appid: app.appid, admin: action, ...what }, 'admin action');
  }

  /** Answers one request under ADMIN_API_PREFIX (the caller checked the prefix). Never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const route = pathname.slice(ADMIN_API_PREFIX.length);
    try {
      const data = await this.answer(req, route);
      this.send(res, route, 200, { code: 0, data });
    } catch (e) {
      const f = e instanceof AdminFailure ? e : null;
      if (!f)
        this.d.log.error(
          { err: (e as Error)?.stack ?? String(e), route: route.slice(0, 64) },
          'admin request failed',
        );
      const name = f?.kind ?? 'internal';
      const { code, status } = ADMIN_ERRORS[name];
      const headers: Record<string, string> = name === 'method_not_allowed' ? { allow: 'POST' } : {};
      if (name === 'rate_limited') headers['retry-after'] = '1';
      this.send(
        res,
        route,
        status,
        { code, error: name, message: f ? f.message : ADMIN_ERRORS.internal.message },
        headers,
      );
      // A body we did not read (refused before it, or over the bound): the connection cannot be reused.
      if (!req.complete) res.once('finish', () => req.socket.destroy());
    }
  }

  private send(
    res: ServerResponse,
    route: string,
    status: number,
    body: object,
    extra: Record<string, string> = {},
  ): void {
    this.d.onAnswer?.(route, (body as { code: number }).code);
    if (res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(text),
      ...extra,
    });
    res.end(text);
  }

  private async answer(req: IncomingMessage, route: string): Promise<unknown> {
    const a = this.d.config.admin;
    if (
      !this.bucket(
        this.addressBuckets,
        req.socket.remoteAddress ?? '',
        a.addressRequestsPerSecond,
        a.addressBurst,
        MAX_ADDRESSES,
      )
    )
      throw new AdminFailure('rate_limited', 'too many requests from this address');
    if (req.method !== 'POST') throw new AdminFailure('method_not_allowed');
    if (!Object.prototype.hasOwnProperty.call(ADMIN_ROUTES, route))
      throw new AdminFailure('no_route', `no route ${JSON.stringify(route.slice(0, 64))}`);
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/json\s*(;|$)/i.test(type)) throw new AdminFailure('unsupported_type');
    const body = await readBody(req, a.maxBodyBytes);
    const app = this.authenticate(req, body);
    const text = body.toString('utf8');
    if (!withinDepth(text, MAX_FRAME_DEPTH))
      throw new AdminFailure('invalid_json', 'the body nests too deep');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AdminFailure('invalid_json');
    }
    const r = route as AdminRoute;
    const bad = checkBody(ADMIN_ROUTES[r].request, parsed);
    if (bad) throw new AdminFailure('invalid_body', bad.message);
    const handler = this.handlers[r] as (app: AppConfig, b: unknown) => Promise<unknown>;
    return handler(app, parsed);
  }

  /** Steps 4 and 5: the app whose secret signed this request, or a refusal. */
  private authenticate(req: IncomingMessage, body: Buffer): AppConfig {
    const h = (n: string) => {
      const v = req.headers[n];
      return typeof v === 'string' ? v : undefined;
    };
    const appidText = h(ADMIN_HEADERS.appid);
    const tsText = h(ADMIN_HEADERS.timestamp);
    const nonce = h(ADMIN_HEADERS.nonce);
    const signature = h(ADMIN_HEADERS.signature);
    if (!appidText || !/^\d{1,10}$/.test(appidText))
      throw new AdminFailure('missing_auth', `${ADMIN_HEADERS.appid} must be the appid`);
    if (!tsText || !/^\d{1,12}$/.test(tsText))
      throw new AdminFailure('missing_auth', `${ADMIN_HEADERS.timestamp} must be Unix seconds`);
    if (!nonce || !NONCE_PATTERN.test(nonce))
      throw new AdminFailure('missing_auth', `${ADMIN_HEADERS.nonce} must be 16 to 64 of A-Z a-z 0-9 _ -`);
    if (!signature || !/^[0-9a-fA-F]{64}$/.test(signature))
      throw new AdminFailure('missing_auth', `${ADMIN_HEADERS.signature} must be 64 hex characters`);
    const app = this.apps.get(Number(appidText));
    if (!app) throw new AdminFailure('unknown_app', `no app ${appidText} with an adminSecret`);
    const timestamp = Number(tsText);
    const skew = this.d.config.admin.maxSkewS;
    if (Math.abs(Date.now() / 1000 - timestamp) > skew)
      throw new AdminFailure(
        'stale_request',
        `the timestamp is more than ${skew} s from the server's clock (${Math.floor(Date.now() / 1000)})`,
      );
    const parts = { method: 'POST', target: req.url ?? '', appid: app.appid, timestamp, nonce, body };
    if (!signatureMatches(app.adminSecret!, parts, signature)) throw new AdminFailure('bad_signature');
    const a = this.d.config.admin;
    if (!this.bucket(this.appBuckets, app.appid, a.appRequestsPerSecond, a.appBurst, Infinity))
      throw new AdminFailure('rate_limited', 'too many requests from this app');
    const seen = this.nonces.use(app.appid, nonce);
    if (seen === 'replayed') throw new AdminFailure('replayed_request');
    if (seen === 'full') throw new AdminFailure('busy');
    return app;
  }

  private bucket<K>(m: Map<K, TokenBucket>, key: K, rate: number, burst: number, max: number): boolean {
    let b = m.get(key);
    if (!b) {
      if (m.size >= max) m.delete(m.keys().next().value as K);
      m.set(key, (b = new TokenBucket(rate, burst)));
    }
    return b.take();
  }
}

/** The request body, at most `max` bytes (a larger one is refused as soon as it is known). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max)
    return Promise.reject(new AdminFailure('body_too_large', `the body is over ${max} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (e?: AdminFailure) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (e) {
        req.pause();
        reject(e);
      } else resolve(Buffer.concat(chunks));
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) return done(new AdminFailure('body_too_large', `the body is over ${max} bytes`));
      chunks.push(c);
    };
    const onEnd = () => done();
    const onError = () => done(new AdminFailure('invalid_json', 'the body was cut'));
    // Closed before its end (a timeout, the client gone): nothing more will come.
    const onClose = () => done(new AdminFailure('invalid_json', 'the body was cut'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
