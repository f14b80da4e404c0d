import { postJson } from '../httpPost';
/**
 * loginWithAuthor: the page's third token is checked by the app's own business server. We POST
 * `{app_id, room_id, id_name, third_token}` to the app's `thirdTokenUrl`; a 2xx answer that is empty or JSON
 * with `code: 0` accepts, anything else (other status, other code, network error, timeout) rejects.
 */
export interface ThirdTokenRequest {
  url: string;
  timeoutMs: number;
  appid: number;
  roomId: string;
  idName: string;
  thirdToken: string;
}

/** Resolves to null when accepted, or a reason string when rejected. Never throws, never hangs. */
export async function checkThirdToken(r: ThirdTokenRequest): Promise<string | null> {
  try {
    const res = await postJson(
      r.url,
      { app_id: r.appid, room_id: r.roomId, id_name: r.idName, third_token: r.thirdToken },
      r.timeoutMs,
    );
    const text = res.text.slice(0, 4096).trim();
    if (res.status < 200 || res.status >= 300) return `thirdTokenUrl answered ${res.status}`;
    if (text === '') return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return 'thirdTokenUrl answer is not JSON';
    }
    const code = (parsed as { code?: unknown } | null)?.code;
    return code === 0 ? null : `thirdTokenUrl said code ${JSON.stringify(code)}`;
  } catch (e) {
    return `thirdTokenUrl failed: ${(e as Error).message}`;
  }
}
