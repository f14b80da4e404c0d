/**
 * The server's side of the cloud proxy: a unix socket in the proxy's directory where nginx hands over
 * what it carries (HTTP and the WebSocket upgrades of /ws and /media). Its connections are injected into
 * the one HTTP server (`'connection'` events), so every route, limit and timeout is the same; what came
 * through here is marked, and only such upgrades are asked for a proxy token (and get TURN through the
 * proxy). Only nginx (the directory's owner) and root can reach the socket, so the mark cannot be forged
 * from the network, whatever headers a client sends.
 */
import type { IncomingMessage, Server } from 'node:http';
import { createServer, type Server as NetServer } from 'node:net';
import { rmSync } from 'node:fs';
import type { ResolvedConfig } from '../config';
import { appSignOf } from '../config';
import { verifyProxyToken, type ProxyVerdict } from '../auth/proxyToken';

/** The query parameter the shim puts its proxy token in (setCloudProxyConfig). */
export const PROXY_TOKEN_PARAM = 'zg_proxy_token';

const viaProxy = new WeakSet<object>();

/** The socket came through the cloud proxy. */
export const cameThroughProxy = (socket: object): boolean => viaProxy.has(socket);

/** Listens on `path` and feeds every connection to `http`; resolves once listening. */
export function openProxyFeed(http: Server, path: string): Promise<NetServer> {
  rmSync(path, { force: true });
  const feed = createServer((socket) => {
    viaProxy.add(socket);
    http.emit('connection', socket);
  });
  return new Promise((resolve, reject) => {
    feed.once('error', reject);
    feed.listen(path, () => resolve(feed));
  });
}

/** The proxy token of an upgrade that came through the proxy, checked; undefined for any other. */
export function proxyVerdictOf(req: IncomingMessage, config: ResolvedConfig): ProxyVerdict | undefined {
  if (!cameThroughProxy(req.socket)) return undefined;
  const q = String(req.url ?? '').split('?')[1] ?? '';
  return verifyProxyToken({
    token: new URLSearchParams(q).get(PROXY_TOKEN_PARAM),
    appSignOf: (appid) => appSignOf(config, appid),
    maxLifetimeS: config.auth.maxTokenLifetimeS,
  });
}

/**
 * The TURN URL handed to a media session that came through the proxy: TURN over TLS on the proxy's port,
 * named as `proxy.publicHost` says, else as the page reached the proxy (its Host header, port included).
 */
export function proxyTurnUrl(p: ResolvedConfig['proxy'], publicPort: number, hostHeader: string): string {
  const port = p.publicPort || publicPort || 443;
  const host = p.publicHost
    ? `${p.publicHost.includes(':') ? `[${p.publicHost}]` : p.publicHost}:${port}`
    : /:\d+$/.test(hostHeader) && !/^\[[^\]]*\]$/.test(hostHeader)
      ? hostHeader
      : `${hostHeader}:443`;
  return `turns:${host}?transport=tcp`;
}
