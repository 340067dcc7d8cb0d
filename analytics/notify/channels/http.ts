/** One HTTP attempt for the HTTP channels, turned into a DeliveryResult by the channel. */
import type { DeliveryResult } from './channel.ts';

export interface HttpAnswer { status: number; body: string; retryAfterMs?: number }

/** POST once. Resolves with the answer, or with a retryable failure for a network error or timeout. */
export async function postOnce(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpAnswer | DeliveryResult> {
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text(), retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), Date.now()) };
  } catch (e) {
    const err = e as Error;
    const why = err.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (err.cause as Error | undefined)?.message ?? err.message;
    return { ok: false, retryable: true, answer: why };
  }
}

export function isFailure(a: HttpAnswer | DeliveryResult): a is DeliveryResult {
  return 'ok' in a;
}

/** A 5xx, 408 or 429 is worth another attempt; another 4xx (wrong URL, refused key) is not. */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Parse a JSON answer body; undefined when it is not JSON. */
export function jsonAnswer<T>(body: string): T | undefined {
  try { return JSON.parse(body) as T; } catch { return undefined; }
}
