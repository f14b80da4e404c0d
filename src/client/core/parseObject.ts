/** A JSON object from a peer's payload string, or null: malformed payloads are ignored, as 1.12. */
export function parseObject<T>(text: unknown): T | null {
  try {
    const v = JSON.parse(String(text)) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as T) : null;
  } catch {
    return null;
  }
}
