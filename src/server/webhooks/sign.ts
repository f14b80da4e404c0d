/**
 * Webhook signatures, in the Standard Webhooks scheme (standardwebhooks.com) so that a business server can
 * verify them with an off-the-shelf library as well as by hand:
 *
 *   webhook-id:        the event id (the same on every retry: deduplicate by it)
 *   webhook-timestamp: Unix seconds of this attempt
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>
 *
 * The key is the app's webhookSecret (else its adminSecret) as UTF-8 bytes; the libraries take it as
 * base64 of those bytes (docs/deployment.md, "Webhooks").
 */
import { createHmac } from 'node:crypto';

export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** The signature header's value for one attempt. */
export function webhookSignature(secret: string, id: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${id}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of one attempt. */
export function webhookHeaders(
  secret: string,
  id: string,
  body: string,
  nowMs = Date.now(),
): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return {
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: String(ts),
    [WEBHOOK_HEADERS.signature]: webhookSignature(secret, id, ts, body),
  };
}
