/**
 * The legacy version-1 login token (../shared/reference/legacy-sdk.md section 3.1), as business servers
 * already mint it: standard Base64 of `{"ver":1,"hash":…,"nonce":…,"expired":…}` where
 * `hash = md5hex(appId + appSign32 + idName + nonce + expired)`, `appSign32` is the first 32 hex characters
 * of the app's 64-hex AppSign and `expired` is Unix seconds.
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

export interface VerifyOptions {
  appid: number;
  appSign: string;
  idName: string;
  token: string;
  now?: number;
}

/** Verifies a v1 login token: `ServerCode.OK`, `TokenError` (1008) or `TokenExpired` (1010). */
export function verifyLoginToken(o: VerifyOptions): number {
  if (typeof o.token !== 'string' || o.token.length === 0 || o.token.length > 4096)
    return ServerCode.TokenError;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(o.token, 'base64').toString('utf8'));
  } catch {
    return ServerCode.TokenError;
  }
  if (!parsed || typeof parsed !== 'object') return ServerCode.TokenError;
  const { ver, hash, nonce, expired } = parsed as Record<string, unknown>;
  if (ver !== 1 || typeof hash !== 'string' || typeof nonce !== 'string' || typeof expired !== 'number') {
    return ServerCode.TokenError;
  }
  if (!Number.isInteger(expired)) return ServerCode.TokenError;
  const expected = tokenHash(o.appid, parseAppSign(o.appSign), o.idName, nonce, expired);
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(hash.toLowerCase(), 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return ServerCode.TokenError;
  if (expired < Math.floor((o.now ?? Date.now()) / 1000)) return ServerCode.TokenExpired;
  return ServerCode.OK;
}
