/**
 * POST JSON to a business server (thirdTokenUrl, relayUrl, webhooks) with a hard timeout. node:http/https
 * rather than global fetch so the server behaves the same in every runtime it is embedded in (jest's jsdom
 * has no fetch).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PostResult {
  status: number;
  text: string;
}

const MAX_ANSWER_BYTES = 64 * 1024;

export function postJson(url: string, body: unknown, timeoutMs: number): Promise<PostResult> {
  return postText(url, JSON.stringify(body), timeoutMs);
}

/**
 * POSTs `text` as application/json with extra `headers` (webhook signatures: the signed bytes are the ones
 * sent). Rejects on a network error, the timeout, or `signal` (a shutdown); the answer is read up to 64 KiB.
 */
export function postText(
  url: string,
  text: string,
  timeoutMs: number,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = Buffer.from(text, 'utf8');
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': data.length },
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(data);
  });
}
