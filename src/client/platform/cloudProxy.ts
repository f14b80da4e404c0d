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
 * Written small: the global script's 40 KiB budget.
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
  const rest = url.replace(/^\w+:\/\/[^/?#]*|#.*/g, '') || '/';
  return `wss://${host}${rest}${rest.includes('?') ? '&' : '?'}zg_proxy_token=${encodeURIComponent(token)}`;
}

/** The ICE configuration through `host`: its TURN over TLS only, with the server's credentials. */
export function relayVia(c: RTCConfiguration, host: string): RTCConfiguration {
  // Our server gives a proxied session one ICE server, its TURN over TLS with the credentials.
  const turn = c.iceServers && c.iceServers[0];
  return {
    ...c,
    iceTransportPolicy: 'relay',
    iceServers: turn ? [{ ...turn, urls: `turns:${host}?transport=tcp` }] : [],
  };
}

/** The platform `base` (its media read now) with every connection through the proxies of `p`. */
export function viaCloudProxy(base: Platform, p: CloudProxy): Platform {
  const { hosts } = p;
  const media = base.media;
  const socket = (url: string): SocketLike => {
    let ws: SocketLike;
    let closed = false;
    // onerror is never forwarded: the core learns everything from onclose (and sets no onerror to use).
    const me: SocketLike = {
      get readyState() {
        return ws.readyState;
      },
      onopen: null,
      onclose: null,
      onerror: null,
      onmessage: null,
      send: (d) => ws.send(d),
      close: (code, reason) => {
        closed = true;
        ws.close(code, reason);
      },
    };
    const attempt = (i: number, left: number) => {
      const s = (ws = base.createWebSocket(proxyUrl(url, hosts[i]!, p.token)));
      let open = false;
      // Another proxy after a failure or a silence, while one is left: the last one's outcome is ours.
      const next = () => {
        base.clearTimeout(timer);
        s.onclose = s.onmessage = null;
        s.close();
        if (!closed) attempt((i + 1) % hosts.length, left - 1);
      };
      const timer = left > 1 && base.setTimeout(next, PROXY_CONNECT_MS);
      s.onopen = (e) => {
        open = true;
        base.clearTimeout(timer);
        p.active = i;
        if (me.onopen) me.onopen(e);
      };
      s.onclose = (e) => {
        if (!open && left > 1 && !closed) return next();
        base.clearTimeout(timer);
        if (me.onclose) me.onclose(e);
      };
      s.onmessage = (e) => me.onmessage && me.onmessage(e);
    };
    attempt(p.active || 0, hosts.length);
    return me;
  };
  return {
    ...base,
    createWebSocket: socket,
    media: media && {
      ...media,
      createPeerConnection: (c) => media.createPeerConnection(relayVia(c, hosts[p.active || 0]!)),
    },
  };
}
