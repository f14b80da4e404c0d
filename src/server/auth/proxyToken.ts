/**
 * Cloud-proxy tokens: what a page passes to `ZegoClient.setCloudProxyConfig(proxyList, token, true)` and
 * our proxy checks on every signalling socket it carries (docs/protocol.md, "Cloud proxy"). The vendor's
 * format was never public; this one is ours, minted by the business server with the app's AppSign:
 *
 *   token  = "zgp1." + appid + "." + expired + "." + nonce + "." + sig
 *   sig    = hex(HMAC-SHA256(key = the app's 32-byte AppSign,
 *                            "zgp1:" + ns(appid) + ns(expired) + ns(nonce)))
 *   ns(x)  = <UTF-8 byte length of x in decimal> ":" x ","      (a netstring, as stream tokens)
 *
 * `expired` is Unix seconds, `nonce` 8-64 characters of [0-9A-Za-z_-]: the whole token is URL-safe (the
 * shim sends it in the WebSocket URL). The "zgp1:" prefix keeps it apart from stream tokens signed with
 * the same key. It names no user: it lets a page's connections through the proxy for one app until it
 * expires; the room login token still says who the user is.
 *
 * @example
 *   const token = mintProxyToken({ appid: 1739272706, appSign, ttlS: 3600 });
 *   verifyProxyToken({ token, appSignOf: () => appSign }); // { appid: 1739272706, expired: ... }
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ServerCode } from '../../protocol/errors';
import { DEFAULT_MAX_TOKEN_LIFETIME_S, parseAppSign } from './loginToken';
import { expiryAndNonce, ns } from './minting';

const PREFIX = 'zgp1';
const TOKEN_RE = /^zgp1\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,14})\.([0-9A-Za-z_-]{8,64})\.([0-9a-f]{64})$/;

function sign(appSign: string, appid: number, expired: number, nonce: string): string {
  return createHmac('sha256', Buffer.from(parseAppSign(appSign), 'hex'))
    .update(`${PREFIX}:${ns(String(appid))}${ns(String(expired))}${ns(nonce)}`, 'utf8')
    .digest('hex');
}

/** Mints a proxy token for an app (business servers, tests, `zegoclient-server proxy-token`). */
export function mintProxyToken(o: {
  appid: number;
  appSign: string;
  ttlS?: number;
  /** Clock, ms (tests). */
  now?: number;
  /** Default: 32 random hex characters. */
  nonce?: string;
}): string {
  const { expired, nonce } = expiryAndNonce(o);
  return `${PREFIX}.${o.appid}.${expired}.${nonce}.${sign(o.appSign, o.appid, expired, nonce)}`;
}

/** A verified token: the app it lets through, until when (Unix s). */
export interface ProxyGrant {
  appid: number;
  expired: number;
}

/** Why a token is refused: ProxyTokenError or ProxyTokenExpired, with the reason. */
export interface ProxyRefusal {
  code: number;
  message: string;
}

export type ProxyVerdict = ProxyGrant | ProxyRefusal;

export const isRefusal = (v: ProxyVerdict): v is ProxyRefusal => 'code' in v;

const refuse = (message: string, code: number = ServerCode.ProxyTokenError): ProxyRefusal => ({
  code,
  message,
});

/**
 * Checks a token. `appSignOf` gives the AppSign of an appid (undefined: unknown app). A token that does not
 * verify, claims a lifetime over `maxLifetimeS`, or is absent is ProxyTokenError; one past its expiry
 * ProxyTokenExpired.
 */
export function verifyProxyToken(o: {
  token: unknown;
  appSignOf: (appid: number) => string | undefined;
  maxLifetimeS?: number;
  now?: number;
}): ProxyVerdict {
  if (typeof o.token !== 'string' || o.token === '')
    return refuse('no cloud-proxy token (setCloudProxyConfig)');
  const m = TOKEN_RE.exec(o.token);
  if (!m) return refuse('malformed cloud-proxy token');
  const appid = Number(m[1]);
  const expired = Number(m[2]);
  const appSign = appid <= 0xffffffff ? o.appSignOf(appid) : undefined;
  if (!appSign) return refuse(`cloud-proxy token for unknown appid ${appid}`);
  const want = Buffer.from(sign(appSign, appid, expired, m[3]!), 'utf8');
  if (!timingSafeEqual(want, Buffer.from(m[4]!, 'utf8'))) return refuse('cloud-proxy token does not verify');
  const nowS = Math.floor((o.now ?? Date.now()) / 1000);
  if (expired < nowS) return refuse('cloud-proxy token expired', ServerCode.ProxyTokenExpired);
  const max = o.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S;
  if (expired - nowS > max) return refuse(`cloud-proxy token lifetime over the ${max} s the server allows`);
  return { appid, expired };
}

/**
 * What a login through the proxy must pass: a verdict that is a grant, for the appid logging in (and
 * not expired since the socket opened). null = let it in.
 */
export function proxyRefusal(v: ProxyVerdict, appid: number, nowMs = Date.now()): ProxyRefusal | null {
  if (isRefusal(v)) return v;
  if (v.appid !== appid) return refuse(`cloud-proxy token is for appid ${v.appid}, not ${appid}`);
  if (v.expired < Math.floor(nowMs / 1000))
    return refuse('cloud-proxy token expired', ServerCode.ProxyTokenExpired);
  return null;
}
