/**
 * The REST client (dashboard/contract; the routes at /docs). Every state-changing request carries the
 * session's CSRF token in `x-csrf-token`; a 401 anywhere sends the app back to the sign-in page.
 */
import type { ErrorBody, ErrorCode } from '../../contract/index.ts';
import { tCode } from './i18n.ts';

/** A refused request: the contract's error code, the message naming the field, the field's path, and the rule broken (if named). */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: ErrorCode | 'unreachable', message: string, readonly field?: string, readonly rule?: string) { super(message); }
}

const BASE = '/api/v1';
let csrfToken = '';
let onUnauthorized: () => void = () => {};

export function setCsrfToken(token: string): void { csrfToken = token; }
export function setUnauthorizedHandler(fn: () => void): void { onUnauthorized = fn; }
/** The session ended (seen elsewhere than in a REST answer, e.g. the live connection). */
export function sessionEnded(): void { onUnauthorized(); }

type Query = Record<string, string | number | boolean | undefined | null>;

export function apiUrl(path: string, query?: Query): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const q = qs.toString();
  return `${BASE}${path}${q ? `?${q}` : ''}`;
}

async function request<T>(method: string, path: string, opts: { query?: Query; body?: unknown; quiet401?: boolean; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfToken;
  const res = await fetch(apiUrl(path, opts.query), {
    method, headers, credentials: 'same-origin', signal: opts.signal,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  if (res.status === 401 && !opts.quiet401) onUnauthorized();
  const text = await res.text();
  let data: unknown = undefined;
  try { data = text ? JSON.parse(text) : undefined; } catch { data = text; }
  if (!res.ok) {
    // no error body: a proxy or the network answered, not the API
    const e = (data && typeof data === 'object' ? (data as Partial<ErrorBody>).error : undefined);
    if (!e) throw new ApiError(res.status, 'unreachable', res.statusText || `HTTP ${res.status}`);
    // a limit the server names by its rule (too many reports at once) is said in the user's language
    throw new ApiError(res.status, e.code, e.code === 'rate_limited' && e.rule ? tCode('limitRule', e.rule) : e.message, e.field, e.rule);
  }
  return data as T;
}

export const api = {
  /** `signal`: closes the request when the answer is no longer wanted, which also stops the server's work on it (a report). */
  get: <T>(path: string, query?: Query, opts: { quiet401?: boolean; signal?: AbortSignal } = {}) => request<T>('GET', path, { query, ...opts }),
  post: <T>(path: string, body: unknown = {}, opts: { quiet401?: boolean } = {}) => request<T>('POST', path, { body, ...opts }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  del: <T>(path: string) => request<T>('DELETE', path),
};
