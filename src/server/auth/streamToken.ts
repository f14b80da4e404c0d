/**
 * Stream authentication for publish and play (`streamParams` = `zg_expired=…&zg_nonce=…&zg_token=…`).
 * The original algorithm was never public; ours (docs/protocol.md, "Stream authentication"):
 *
 *   zg_token = hex(HMAC-SHA256(key = the app's 32-byte AppSign, `${appid}:${streamId}:${zg_expired}:${zg_nonce}`))
 *
 * with `zg_expired` in Unix seconds. The same token authorises publishing and playing the stream; a
 * business server mints it next to the login token. Enforced when the app's config has `streamAuth: true`.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { parseAppSign } from './loginToken';

function sign(appid: number, appSign: string, streamId: string, expired: number, nonce: string): string {
  return createHmac('sha256', Buffer.from(parseAppSign(appSign), 'hex'))
    .update(`${appid}:${streamId}:${expired}:${nonce}`, 'utf8')
    .digest('hex');
}

/** Mints streamParams for a stream (business servers, tests, the dev-mode /token endpoint). */
export function mintStreamParams(o: {
  appid: number;
  appSign: string;
  streamId: string;
  ttlS?: number;
  now?: number;
}): string {
  const expired = Math.floor((o.now ?? Date.now()) / 1000) + (o.ttlS ?? 3600);
  const nonce = randomUUID().replace(/-/g, '');
  return `zg_expired=${expired}&zg_nonce=${nonce}&zg_token=${sign(o.appid, o.appSign, o.streamId, expired, nonce)}`;
}

/** null when streamParams authorise the stream, else the reason. */
export function checkStreamParams(o: {
  appid: number;
  appSign: string;
  streamId: string;
  params: string;
  now?: number;
}): string | null {
  const q = new URLSearchParams(o.params.replace(/^\?/, ''));
  const expired = Number(q.get('zg_expired'));
  const nonce = q.get('zg_nonce') ?? '';
  const token = (q.get('zg_token') ?? '').toLowerCase();
  if (!Number.isInteger(expired) || !nonce || !/^[0-9a-f]{64}$/.test(token))
    return 'streamParams must carry zg_expired, zg_nonce and zg_token';
  const want = Buffer.from(sign(o.appid, o.appSign, o.streamId, expired, nonce), 'utf8');
  if (!timingSafeEqual(want, Buffer.from(token, 'utf8'))) return 'zg_token does not match';
  if (expired < Math.floor((o.now ?? Date.now()) / 1000)) return 'streamParams expired';
  return null;
}
