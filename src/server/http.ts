/**
 * Plain HTTP: the demo page at /, the built dist files, /healthz, and the dev-mode token service
 * (GET /token?app_id=&id_name=, the shape of the old demo token service).
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, normalize, sep } from 'node:path';
import { devTokenAnswer } from './auth/devToken';
import type { ResolvedConfig } from './config';

const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

export interface HttpDeps {
  config: ResolvedConfig;
  distDir: string;
  demoDir: string;
  startedAt: number;
  stats(): { rooms: number; users: number } & Record<string, unknown>;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function serveFile(res: ServerResponse, root: string, rel: string): Promise<void> {
  const path = normalize(join(root, rel));
  if (!path.startsWith(root + sep)) return send(res, 404, 'text/plain', 'not found');
  try {
    const data = await readFile(path);
    const ext = path.slice(path.lastIndexOf('.'));
    send(res, 200, TYPES[ext] ?? 'application/octet-stream', data);
  } catch {
    send(res, 404, 'text/plain', `not found: ${rel}${rel.endsWith('.js') ? ' (run "npm run build")' : ''}`);
  }
}

export function httpHandler(d: HttpDeps) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, 'text/plain', 'method not allowed');
    if (p === '/healthz') {
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
    if (p === '/' || p === '/index.html') return void serveFile(res, d.demoDir, 'index.html');
    if (p.startsWith('/dist/'))
      return void serveFile(res, d.distDir, decodeURIComponent(p.slice('/dist/'.length)));
    if (/^\/(ZegoClient|jZego-rtc)\.js(\.map)?$/.test(p)) return void serveFile(res, d.distDir, p.slice(1));
    send(res, 404, 'text/plain', 'not found');
  };
}
