/**
 * TURN REST credentials (draft-uberti-behave-turn-rest, what coturn's `use-auth-secret` checks):
 * `username = "<expiry Unix s>:<user>"`, `credential = base64(HMAC-SHA1(shared secret, username))`. The
 * TURN server needs no user database and no call to us: it recomputes the HMAC and refuses an expired
 * username.
 *
 * The expiry is rounded up to a 10-minute step, so one user's sessions within a step share one username:
 * coturn counts `user-quota` per username, and a fresh expiry per session would make every session a new
 * "user". The user part names the app and a hash of the idName (no separator, no personal data in logs).
 *
 * @example
 *   const { username, credential } = turnCredential('s3cret-s3cret-s3', turnUser(1739272706, 'alice'), 86400);
 */
import { createHash, createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import type { TurnTransport } from '../config';

/** Expiries are rounded up to this step, s. */
export const EXPIRY_STEP_S = 600;

/** The user part of a TURN username: `<appid>-<16 hex of sha256(appid, idName)>`. */
export function turnUser(appid: number, idName: string): string {
  return `${appid}-${createHash('sha256').update(`${appid}\n${idName}`).digest('hex').slice(0, 16)}`;
}

export interface TurnCredential {
  username: string;
  credential: string;
  /** Unix seconds. */
  expiry: number;
}

/** Credentials valid for at least `ttlS` seconds from `nowMs`. */
export function turnCredential(
  secret: string,
  user: string,
  ttlS: number,
  nowMs = Date.now(),
): TurnCredential {
  const expiry = Math.ceil((Math.floor(nowMs / 1000) + ttlS) / EXPIRY_STEP_S) * EXPIRY_STEP_S;
  const username = `${expiry}:${user}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiry };
}

/**
 * The TURN URLs of one server, in the order given (RFC 7065): UDP and TCP on `port`, TLS on `tlsPort`
 * (`turns:`; Chromium speaks TLS over TCP only, so `?transport=tcp`).
 */
export function turnUrls(
  host: string,
  ports: { port: number; tlsPort: number },
  transports: readonly TurnTransport[],
): string[] {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return transports.map((t) =>
    t === 'tls' ? `turns:${h}:${ports.tlsPort}?transport=tcp` : `turn:${h}:${ports.port}?transport=${t}`,
  );
}

/** The host name part of a Host header ("example.com:8080", "[::1]:80"), or '' if it has none. */
export function hostOf(hostHeader: string): string {
  const m = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(hostHeader) ?? /^([\w.-]+)(?::\d+)?$/.exec(hostHeader);
  return m ? m[1]! : '';
}
