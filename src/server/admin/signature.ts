/**
 * Admin request signatures (docs/admin.md): HMAC-SHA256 with the app's `adminSecret` over one canonical
 * text that names the method, the request target, the app, a timestamp, a nonce and the body's SHA-256:
 *
 *   ZEGO-ADMIN-HMAC-SHA256\n<METHOD>\n<target>\n<appid>\n<timestamp>\n<nonce>\n<hex sha256(body)>
 *
 * sent as hex in `X-Zego-Signature` beside `X-Zego-Appid`, `X-Zego-Timestamp` (Unix seconds) and
 * `X-Zego-Nonce`. A request is replay-proof: its timestamp must be within `admin.maxSkewS` of ours, and
 * its nonce is remembered (per app) for as long as that timestamp could still be accepted.
 *
 * The body is hashed rather than put in the text so that the text stays small and the same recipe works
 * from a shell (`openssl dgst`): docs/admin.md shows it.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The first line of the signed text: names the scheme, so a signature of anything else never matches. */
export const SIGNATURE_SCHEME = 'ZEGO-ADMIN-HMAC-SHA256';
/** A nonce: 16 to 64 of A-Z a-z 0-9 _ - (a UUID or 16+ random bytes in hex or base64url). */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export interface SignedParts {
  method: string;
  /** The request target as sent: path and query. */
  target: string;
  appid: number;
  /** Unix seconds. */
  timestamp: number;
  nonce: string;
  body: Buffer | string;
}

/** The text that is signed. */
export function canonicalText(p: SignedParts): string {
  const bodyHash = createHash('sha256').update(p.body).digest('hex');
  return [SIGNATURE_SCHEME, p.method, p.target, String(p.appid), String(p.timestamp), p.nonce, bodyHash].join(
    '\n',
  );
}

/** The signature (lower-case hex) of a request; what a business server computes (docs/admin.md). */
export function signAdminRequest(secret: string, p: SignedParts): string {
  return createHmac('sha256', secret).update(canonicalText(p)).digest('hex');
}

/** Whether `given` (hex from the header) is the signature of `p`, compared in constant time. */
export function signatureMatches(secret: string, p: SignedParts, given: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(given)) return false;
  const want = Buffer.from(signAdminRequest(secret, p), 'hex');
  return timingSafeEqual(want, Buffer.from(given.toLowerCase(), 'hex'));
}

/**
 * The nonces each app used recently, to refuse a replay. A nonce is kept for twice the allowed skew after
 * it was seen (its timestamp can be accepted until skew after our clock passes it, and it was at most skew
 * ahead), so the map stays in expiry order and is pruned from its head. At most `perApp` are kept: past
 * that, a request is refused as busy rather than forgetting a nonce that could still be replayed (the
 * per-app rate bound keeps a legitimate app far below it: docs/admin.md).
 */
export class NonceCache {
  private readonly byApp = new Map<number, Map<string, number>>();

  constructor(
    private readonly skewMs: number,
    private readonly perApp: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** 'fresh' (now remembered), 'replayed', or 'full'. */
  use(appid: number, nonce: string): 'fresh' | 'replayed' | 'full' {
    const now = this.now();
    let m = this.byApp.get(appid);
    if (!m) this.byApp.set(appid, (m = new Map()));
    for (const [k, expires] of m) {
      if (expires > now) break;
      m.delete(k);
    }
    if (m.has(nonce)) return 'replayed';
    if (m.size >= this.perApp) return 'full';
    m.set(nonce, now + 2 * this.skewMs);
    return 'fresh';
  }

  /** Nonces remembered in all. */
  get size(): number {
    let n = 0;
    for (const m of this.byApp.values()) n += m.size;
    return n;
  }
}
