/**
 * What the tokens we mint with an app's secret share (stream params v2, proxy tokens): the HMAC input's
 * length-prefixed fields, and the expiry and nonce of a new token.
 */
import { randomBytes } from 'node:crypto';

/** A nonce: 8-64 characters of [0-9A-Za-z_-] (URL-safe, no separator of ours). */
export const NONCE_RE = /^[0-9A-Za-z_-]{8,64}$/;

/** One field of an HMAC input, length-prefixed ("5:hello,"): no two field lists give the same bytes. */
export const ns = (s: string): string => `${Buffer.byteLength(s, 'utf8')}:${s},`;

/** The expiry (Unix seconds, `ttlS` from `now`, default an hour) and the nonce (default 32 random hex) of a new token. */
export function expiryAndNonce(o: { ttlS?: number; now?: number; nonce?: string }): {
  expired: number;
  nonce: string;
} {
  const expired = Math.floor((o.now ?? Date.now()) / 1000) + (o.ttlS ?? 3600);
  const nonce = o.nonce ?? randomBytes(16).toString('hex');
  if (!NONCE_RE.test(nonce)) throw new Error('nonce must be 8-64 characters of [0-9A-Za-z_-]');
  return { expired, nonce };
}
