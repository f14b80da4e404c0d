/**
 * The cloud proxy (`ZegoClient.setCloudProxyConfig`, from the Express SDK: seed 000) as a Platform around
 * the real one, so the core needs no change: with it, every connection of the client goes to the proxies
 * only, over TLS on their one port.
 * - Sockets (room `/ws`, media `/media`, whatever URL the page or the server gave): `wss://<proxy>` with
 *   the same path and query, plus the token (`zg_proxy_token`, checked by the proxy). The proxies are
 *   tried in order, starting from the last one that worked (as the Express SDK's `activeServer`); the
 *   next is tried when one fails before it opens, or after PROXY_CONNECT_MS without opening (a proxy
 *   whose packets are dropped never fails by itself).
 * - ICE: relay only, through TURN over TLS on the proxy that carries the signalling, with the
 *   credentials the server handed out (`turns:<proxy>?transport=tcp`). A server that gave no TURN gives
 *   no way through the proxy: the connection then fails as any relay-only one without a relay.
 * The shim makes no HTTP request of its own to the server (dispatch and logs travel on the room socket);
 * effect files (preloadEffect) are the page's own resources and are fetched as the page named them.
 */
import type { Platform, SocketLike } from './Platform';

/** What setCloudProxyConfig keeps: the proxies as `host[:port]`, in order, and the token. */
export interface CloudProxy {
  hosts: string[];
  token: string;
  /** The proxy that opened last (every client of one setCloudProxyConfig starts with it). */
  active?: number;
}

/** A proxy that has not opened within this goes to the next one, ms. */
export const PROXY_CONNECT_MS = 3000;

/** `wss://<host>` + the path and query of `url` + the token. */
export function proxyUrl(url: string, host: string, token: string): string {
  const rest = /^\w+:\/\/[^/?#]*([^#]*)/.exec(url)?.[1] || '/';
  return `wss://${host}${rest[0] === '/' ? '' : '/'}${rest}${rest.includes('?') ? '&' : '?'}zg_proxy_token=${encodeURIComponent(token)}`;
}

/** The ICE configuration through `host`: its TURN over TLS only, with the server's credentials. */
export function relayVia(c: RTCConfiguration, host: string): RTCConfiguration {
  const turn = (c.iceServers || []).find((s) => [s.urls].flat().some((u) => /^turns?:/i.test(u)));
  return {
    ...c,
    iceTransportPolicy: 'relay',
    iceServers: turn ? [{ ...turn, urls: `turns:${host}?transport=tcp` }] : [],
  };
}

/** The platform `base` with every connection through the proxies of `proxy`. */
export function viaCloudProxy(base: Platform, proxy: CloudProxy): Platform {
  const { hosts, token } = proxy;
  const socket = (url: string): SocketLike => {
    let ws: SocketLike | null = null;
    let closed = false;
    const me: SocketLike = {
      get readyState() {
        return ws ? ws.readyState : 3;
      },
      onopen: null,
      onclose: null,
      onerror: null,
      onmessage: null,
      send: (d) => ws?.send(d),
      close: (code, reason) => {
        closed = true;
        ws?.close(code, reason);
      },
    };
    const attempt = (i: number, left: number) => {
      const s = base.createWebSocket(proxyUrl(url, hosts[i]!, token));
      ws = s;
      let open = false;
      const next = () => {
        base.clearTimeout(timer);
        s.onopen = s.onclose = s.onerror = s.onmessage = null;
        s.close();
        if (!closed) attempt((i + 1) % hosts.length, left - 1);
      };
      // Only while another proxy is left: the last one's outcome is the socket's.
      const timer = left > 1 ? base.setTimeout(next, PROXY_CONNECT_MS) : undefined;
      s.onopen = (e) => {
        open = true;
        base.clearTimeout(timer);
        proxy.active = i;
        me.onopen?.(e);
      };
      s.onclose = (e) => {
        if (!open && left > 1 && !closed) return next();
        base.clearTimeout(timer);
        me.onclose?.(e);
      };
      s.onerror = (e) => (open || left < 2) && me.onerror?.(e);
      s.onmessage = (e) => me.onmessage?.(e);
    };
    attempt(proxy.active || 0, hosts.length);
    return me;
  };
  return new Proxy(base, {
    get(target, key) {
      if (key === 'createWebSocket') return socket;
      const value = Reflect.get(target, key) as unknown;
      if (key !== 'media' || !value) return value;
      const media = value as NonNullable<Platform['media']>;
      return {
        ...media,
        createPeerConnection: (c: RTCConfiguration) =>
          media.createPeerConnection(relayVia(c, hosts[proxy.active || 0]!)),
      };
    },
  });
}
