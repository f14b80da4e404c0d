/**
 * A business server's side of the operator's tools, for tests: signed admin API calls (docs/admin.md) over
 * real HTTP, and a webhook receiver (a real HTTP server) that records what it was sent and answers as told.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signAdminRequest } from '../../src/server/admin/signature';

export interface AdminAnswer {
  status: number;
  body: { code: number; data?: Record<string, unknown>; error?: string; message?: string };
  headers: IncomingHttpHeaders;
  ms: number;
}

export interface AdminCall {
  appid: number;
  secret: string;
  /** Overrides, to build bad requests. */
  timestamp?: number;
  nonce?: string;
  signature?: string;
  headers?: Record<string, string>;
  method?: string;
  /** The exact body bytes (else JSON of `body`). */
  raw?: string;
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** The headers of a signed admin request. */
export function signedHeaders(c: AdminCall, target: string, body: string): Record<string, string> {
  const timestamp = c.timestamp ?? Math.floor(Date.now() / 1000);
  const nonce = c.nonce ?? newNonce();
  const signature =
    c.signature ??
    signAdminRequest(c.secret, {
      method: c.method ?? 'POST',
      target,
      appid: c.appid,
      timestamp,
      nonce,
      body,
    });
  return {
    'content-type': 'application/json',
    'x-zego-appid': String(c.appid),
    'x-zego-timestamp': String(timestamp),
    'x-zego-nonce': nonce,
    'x-zego-signature': signature,
    ...c.headers,
  };
}

/** POST /admin/api/<route>, signed; resolves with whatever the server answered. */
export function adminCall(baseUrl: string, route: string, body: unknown, c: AdminCall): Promise<AdminAnswer> {
  const target = `/admin/api/${route}`;
  const text = c.raw ?? JSON.stringify(body);
  const headers = signedHeaders(c, target, text);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}${target}`,
      { method: c.method ?? 'POST', headers, agent: false },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(data) as AdminAnswer['body'],
              headers: res.headers,
              ms: performance.now() - t0,
            });
          } catch {
            reject(new Error(`${route}: not JSON (${res.statusCode}): ${data.slice(0, 200)}`));
          }
        });
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error(`${route}: no answer in 5 s`)));
    req.on('error', reject);
    // A GET carries no body (Node's parser refuses one after `Connection: close` before any handler runs).
    req.end(c.method === 'GET' ? undefined : text);
  });
}

/** Any request; the status, headers and text of the answer. */
export function httpAnswer(
  url: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${url}: no answer in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A business server receiving webhooks. `answer(n, r)` decides each answer: a status, 'slow:<ms>' (answer
 * 200 after ms) or 'never' (hold the request open). Default 200.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  answer: (n: number, r: Received) => number | 'never' | `slow:${number}` = () => 200;
  private server!: Server;
  private readonly held = new Set<() => void>();
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        const r: Received = { headers: req.headers, body, at: Date.now() };
        this.received.push(r);
        const a = this.answer(this.received.length, r);
        if (a === 'never') {
          this.held.add(() => res.destroy());
          return;
        }
        if (typeof a === 'string') {
          const t = setTimeout(() => res.writeHead(200).end('ok'), Number(a.slice(5)));
          this.held.add(() => clearTimeout(t));
          return;
        }
        res.writeHead(a).end(a < 300 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  /** Events received, parsed, in order (retries included). */
  events(): { id: string; type: string; appid: number; data: Record<string, unknown> }[] {
    return this.received.map((r) => JSON.parse(r.body) as ReturnType<WebhookReceiver['events']>[number]);
  }

  async stop(): Promise<void> {
    for (const h of this.held) h();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
