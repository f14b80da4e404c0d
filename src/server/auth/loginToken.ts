/**
 * The legacy version-1 login token (../shared/reference/legacy-sdk.md section 3.1), as business servers
 * already mint it: standard Base64 of `{"ver":1,"hash":…,"nonce":…,"expired":…}` where
 * `hash = md5hex(appId + appSign32 + idName + nonce + expired)`, `appSign32` is the first 32 hex characters
 * of the app's 64-hex AppSign and `expired` is Unix seconds (milliseconds are tolerated, see below).
 *
 * v1 is kept for compatibility and is weak by construction: the hash input has no separators, so a
 * token for `carol1` with nonce N also verifies for `carol` with nonce `"1" + N`, and nonce digits can
 * be moved into `expired`. The lifetime bound stops the second; only a 04 token (./token04.ts) with
 * `allowV1Token: false` stops the first (docs/protocol.md, "Login tokens").
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { ServerCode } from '../../protocol/errors';

/**
 * Normalises an AppSign to 64 lower-case hex characters. Accepts the legacy C-style list of 32 bytes
 * (`"0x01,0x02,…"`, spaces allowed) or 64 hex characters. Throws with a clear message otherwise.
 */
export function parseAppSign(appSign: string): string {
  if (typeof appSign !== 'string') throw new Error('appSign must be a string');
  const compact =
    appSign.includes('0x') || appSign.includes(',')
      ? appSign
          .split(',')
          .map((b) => b.trim().replace(/^0x/i, ''))
          .map((b) => (b.length === 1 ? `0${b}` : b))
          .join('')
      : appSign.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(compact)) {
    throw new Error('appSign must be 32 bytes: a "0x01,0x02,…" list or 64 hex characters');
  }
  return compact.toLowerCase();
}

function md5hex(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

function tokenHash(appid: number, appSign64: string, idName: string, nonce: string, expired: number): string {
  return md5hex(`${appid}${appSign64.slice(0, 32)}${idName}${nonce}${expired}`);
}

export interface MintOptions {
  appid: number;
  appSign: string;
  idName: string;
  /** Lifetime in seconds (default 3600, as the JS business-server sample). */
  ttlS?: number;
  nonce?: string;
  /** Clock, ms (tests). */
  now?: number;
}

/** Mints a v1 login token (dev mode's /token, tests, benchmarks). */
export function mintLoginToken(o: MintOptions): string {
  const nonce = o.nonce ?? randomUUID().replace(/-/g, '');
  const expired = Math.floor((o.now ?? Date.now()) / 1000) + (o.ttlS ?? 3600);
  const hash = tokenHash(o.appid, parseAppSign(o.appSign), o.idName, nonce, expired);
  return Buffer.from(JSON.stringify({ ver: 1, hash, nonce, expired }), 'utf8').toString('base64');
}

/** The default of `auth.maxTokenLifetimeS` (7 days), for callers without a config. */
export const DEFAULT_MAX_TOKEN_LIFETIME_S = 7 * 24 * 3600;

/**
 * `expired` at or above this is read as milliseconds (one Java business-server sample adds to a
 * millisecond clock): 1e12 ms is September 2001, 1e12 s is 33 000 years away.
 */
const MS_THRESHOLD = 1e12;

export interface VerifyOptions {
  appid: number;
  appSign: string;
  idName: string;
  token: string;
  /** Clock, ms (tests). */
  now?: number;
  /** Longest lifetime a token may still claim (`expired - now`), s (`auth.maxTokenLifetimeS`). */
  maxLifetimeS?: number;
}

export interface TokenVerdict {
  code: number;
  /** Why, for the reply's err_message and the log; never echoes secrets. */
  message?: string;
}

/**
 * Verifies a v1 login token and says why it fails: `TokenError` (1008) or `TokenExpired` (1010).
 *
 * The hash covers `expired` exactly as written in the token; the expiry and lifetime checks use it in
 * seconds (values >= 1e12 are milliseconds, divided by 1000). The lifetime bound matters because the hash
 * input has no separators: trailing digits of the nonce can be moved to the front of `expired` without
 * changing the hash, which turns a token that expired minutes ago into one that "expires" centuries
 * from now. Bounding `expired - now` by `maxLifetimeS` refuses those.
 */
export function checkLoginToken(o: VerifyOptions): TokenVerdict {
  const bad = (message: string): TokenVerdict => ({ code: ServerCode.TokenError, message });
  if (typeof o.token !== 'string' || o.token.length === 0 || o.token.length > 4096)
    return bad('token must be a non-empty string of at most 4096 characters');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(o.token, 'base64').toString('utf8'));
  } catch {
    return bad('token is neither a 04 token nor base64 of a v1 token');
  }
  if (!parsed || typeof parsed !== 'object') return bad('v1 token is not a JSON object');
  const { ver, hash, nonce, expired } = parsed as Record<string, unknown>;
  if (ver !== 1 || typeof hash !== 'string' || typeof nonce !== 'string' || typeof expired !== 'number')
    return bad('v1 token needs ver 1, hash, nonce and expired');
  if (!Number.isSafeInteger(expired) || expired <= 0)
    return bad('v1 token expired must be a positive integer');
  const expected = tokenHash(o.appid, parseAppSign(o.appSign), o.idName, nonce, expired);
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(hash.toLowerCase(), 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return bad('v1 token hash does not match');
  const expiredS = expired >= MS_THRESHOLD ? Math.floor(expired / 1000) : expired;
  const nowS = Math.floor((o.now ?? Date.now()) / 1000);
  if (expiredS < nowS) return { code: ServerCode.TokenExpired, message: 'token expired' };
  const max = o.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S;
  if (expiredS - nowS > max) return bad(`token lifetime over the ${max} s the server allows`);
  return { code: ServerCode.OK };
}

/** Verifies a v1 login token: `ServerCode.OK`, `TokenError` (1008) or `TokenExpired` (1010). */
export function verifyLoginToken(o: VerifyOptions): number {
  return checkLoginToken(o).code;
}
