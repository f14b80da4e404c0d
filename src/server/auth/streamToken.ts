/**
 * Stream authentication for publish and play, enforced when the app's config has `streamAuth: true`.
 * The original algorithm was never public; this one is ours (docs/protocol.md, "Stream authentication"):
 *
 *   streamParams = zg_ver=2&zg_expired=<unix s>&zg_nonce=<8-64 of [0-9A-Za-z_-]>&zg_token=<64 hex>
 *   zg_token     = hex(HMAC-SHA256(key = the app's 32-byte AppSign,
 *                                  "zgs2:" + ns(appid) + ns(streamId) + ns(zg_expired) + ns(zg_nonce)))
 *   ns(x)        = <UTF-8 byte length of x in decimal> ":" x ","      (a netstring)
 *
 * Version 2 because our first form hashed `appid:stream:expired:nonce`, which is ambiguous: a token
 * minted for stream `cam:<T>` also verified for stream `cam` with zg_expired=<T> and the rest moved into
 * the nonce. Netstrings give every field its exact length, and the nonce charset has no separators
 * anyway. The unversioned form (ours, never the vendor's) is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DEFAULT_MAX_TOKEN_LIFETIME_S, parseAppSign } from './loginToken';
import { expiryAndNonce, NONCE_RE, ns } from './minting';

export const STREAM_TOKEN_VERSION = 2;
const EXPIRED_RE = /^[1-9][0-9]{0,14}$/;
const MAX_PARAMS_CHARS = 2048;

/** The exact bytes (UTF-8) the HMAC covers; exported for the docs' worked example and the tests. */
export function streamTokenMessage(appid: number, streamId: string, expired: number, nonce: string): string {
  return `zgs2:${ns(String(appid))}${ns(streamId)}${ns(String(expired))}${ns(nonce)}`;
}

function sign(appid: number, appSign: string, streamId: string, expired: number, nonce: string): string {
  return createHmac('sha256', Buffer.from(parseAppSign(appSign), 'hex'))
    .update(streamTokenMessage(appid, streamId, expired, nonce), 'utf8')
    .digest('hex');
}

/** Mints streamParams for a stream (business servers, tests, `zegoclient-server stream-params`). */
export function mintStreamParams(o: {
  appid: number;
  appSign: string;
  streamId: string;
  ttlS?: number;
  now?: number;
  /** Default: 32 random hex characters. */
  nonce?: string;
}): string {
  const { expired, nonce } = expiryAndNonce(o);
  return `zg_ver=${STREAM_TOKEN_VERSION}&zg_expired=${expired}&zg_nonce=${nonce}&zg_token=${sign(o.appid, o.appSign, o.streamId, expired, nonce)}`;
}

/** null when streamParams authorise the stream, else the reason. */
export function checkStreamParams(o: {
  appid: number;
  appSign: string;
  streamId: string;
  params: string;
  now?: number;
  /** Longest lifetime streamParams may still claim (`zg_expired - now`), s (`auth.maxTokenLifetimeS`). */
  maxLifetimeS?: number;
}): string | null {
  if (typeof o.params !== 'string' || o.params.length > MAX_PARAMS_CHARS)
    return `streamParams must be a string of at most ${MAX_PARAMS_CHARS} characters`;
  const q = new URLSearchParams(o.params.replace(/^\?/, ''));
  const one = (k: string): string | null | false => {
    const all = q.getAll(k);
    return all.length > 1 ? false : (all[0] ?? null);
  };
  const ver = one('zg_ver');
  const expiredText = one('zg_expired');
  const nonce = one('zg_nonce');
  const token = one('zg_token');
  if (ver === false || expiredText === false || nonce === false || token === false)
    return 'streamParams must carry each zg_ parameter once';
  if (expiredText === null || nonce === null || token === null)
    return 'streamParams must carry zg_ver, zg_expired, zg_nonce and zg_token';
  if (ver === null)
    return `streamParams must carry zg_ver=${STREAM_TOKEN_VERSION} (the unversioned form is no longer accepted)`;
  if (ver !== String(STREAM_TOKEN_VERSION)) return `streamParams zg_ver must be ${STREAM_TOKEN_VERSION}`;
  if (!EXPIRED_RE.test(expiredText)) return 'zg_expired must be Unix seconds';
  if (!NONCE_RE.test(nonce)) return 'zg_nonce must be 8-64 characters of [0-9A-Za-z_-]';
  if (!/^[0-9a-fA-F]{64}$/.test(token)) return 'zg_token must be 64 hex characters';
  const expired = Number(expiredText);
  const want = Buffer.from(sign(o.appid, o.appSign, o.streamId, expired, nonce), 'utf8');
  if (!timingSafeEqual(want, Buffer.from(token.toLowerCase(), 'utf8'))) return 'zg_token does not match';
  const nowS = Math.floor((o.now ?? Date.now()) / 1000);
  if (expired < nowS) return 'streamParams expired';
  const max = o.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S;
  if (expired - nowS > max) return `streamParams lifetime over the ${max} s the server allows`;
  return null;
}
