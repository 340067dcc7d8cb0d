/**
 * The signed tokens of the links in messages: base64url(JSON body) "." base64url(HMAC-SHA256 of a
 * label and the body). The label keeps one kind of link from being used as another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenProblem = 'malformed' | 'bad-signature';

export function signToken(secret: string, label: string, body: Record<string, unknown>): string {
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${payload}.${signature(secret, label, payload)}`;
}

/** The token's body when its signature holds (its fields are the caller's to check). */
export function readToken(secret: string, label: string, token: string): { ok: true; body: Record<string, unknown> } | { ok: false; reason: TokenProblem } {
  const [payload, given, extra] = token.split('.');
  if (!payload || !given || extra !== undefined) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(signature(secret, label, payload));
  const got = Buffer.from(given);
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return { ok: false, reason: 'bad-signature' };
  try {
    const body: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return body && typeof body === 'object' && !Array.isArray(body) ? { ok: true, body: body as Record<string, unknown> } : { ok: false, reason: 'malformed' };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

function signature(secret: string, label: string, payload: string): string {
  return createHmac('sha256', secret).update(label + payload).digest('base64url');
}
