/**
 * A webhook channel: POSTs each alarm transition as JSON to a URL, retrying with exponential
 * backoff, and records every attempt and its outcome in the state store (notification_attempts).
 *
 * Retried: network errors, timeouts, 408, 429 and 5xx (a `Retry-After` in seconds is honoured, up
 * to the backoff ceiling). Not retried: other 4xx, which a retry cannot fix (wrong URL, refused
 * token). The receiver gets `X-Aquawatch-Delivery: <alarm id>/<seq>` to drop duplicates (a retry after
 * a lost response), and `X-Aquawatch-Signature: sha256=<hex HMAC of the body>` when a secret is set.
 */
import { createHmac } from 'node:crypto';
import type { AlarmTransition } from '../alarms/manager.ts';
import type { AlarmStore, DeliveryOutcome } from '../../core/state/alarm-store.ts';
import { transitionText, type NotificationChannel } from './channel.ts';

export interface WebhookChannelOptions {
  /** Channel name, recorded with each attempt. Default `webhook`. */
  name?: string;
  url: string;
  /** Attempts in all, the first included. Default 5. */
  maxAttempts?: number;
  /** Wait before the 2nd attempt; doubles each time. Default 1000 ms. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** HMAC-SHA256 key for X-Aquawatch-Signature. */
  secret?: string;
  /** Where attempts are recorded. */
  store?: AlarmStore;
  now?: () => number;
}

export class WebhookDeliveryError extends Error {
  constructor(message: string, readonly attempts: number, readonly status?: number) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

/** The JSON body: the transition and a one-line text for chat-style receivers. */
export function webhookBody(t: AlarmTransition): string {
  return JSON.stringify({ v: 1, text: transitionText(t), ...t });
}

export class WebhookChannel implements NotificationChannel {
  readonly name: string;
  private readonly o: Required<Pick<WebhookChannelOptions, 'maxAttempts' | 'backoffMs' | 'maxBackoffMs' | 'timeoutMs'>> & WebhookChannelOptions;
  private readonly closing = new AbortController();

  constructor(opts: WebhookChannelOptions) {
    let url: URL;
    try { url = new URL(opts.url); } catch { throw new Error(`webhook.url: not a URL: ${opts.url}`); }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`webhook.url: must be http:// or https:// (got ${url.protocol})`);
    const whole = (v: number | undefined, field: string, min: number) => {
      if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new Error(`webhook.${field}: must be a whole number ≥ ${min} (got ${v})`);
    };
    whole(opts.maxAttempts, 'maxAttempts', 1);
    whole(opts.backoffMs, 'backoffMs', 0);
    whole(opts.maxBackoffMs, 'maxBackoffMs', 0);
    whole(opts.timeoutMs, 'timeoutMs', 1);
    this.name = opts.name ?? 'webhook';
    this.o = { maxAttempts: 5, backoffMs: 1000, maxBackoffMs: 60_000, timeoutMs: 10_000, ...opts };
  }

  async send(t: AlarmTransition): Promise<void> {
    const body = webhookBody(t);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-aquawatch-delivery': `${t.alarmId}/${t.seq}`,
      ...this.o.headers,
    };
    if (this.o.secret) headers['x-aquawatch-signature'] = `sha256=${createHmac('sha256', this.o.secret).update(body).digest('hex')}`;
    const now = this.o.now ?? Date.now;
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      let status: number | undefined;
      let error: string | undefined;
      let retryable = true;
      let retryAfterMs: number | undefined;
      try {
        const res = await fetch(this.o.url, {
          method: 'POST', headers, body,
          signal: AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs), this.closing.signal]),
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined); // free the connection
        if (res.ok) {
          this.recordAttempt(t, attempt, 'delivered', now(), Date.now() - started, status);
          return;
        }
        error = `HTTP ${status}`;
        retryable = status >= 500 || status === 408 || status === 429;
        const retryAfter = res.headers.get('retry-after');
        if (retryAfter !== null && /^\d+$/.test(retryAfter.trim())) retryAfterMs = Number(retryAfter) * 1000;
      } catch (e) {
        error = (e as Error).name === 'TimeoutError' ? `timeout after ${this.o.timeoutMs} ms` : ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
      }
      const last = !retryable || attempt >= this.o.maxAttempts || this.closing.signal.aborted;
      this.recordAttempt(t, attempt, last ? 'failed' : 'retry', now(), Date.now() - started, status, error);
      if (last) throw new WebhookDeliveryError(`webhook ${this.name}: ${error} after ${attempt} attempt(s)`, attempt, status);
      const backoff = Math.min(this.o.maxBackoffMs, retryAfterMs ?? this.o.backoffMs * 2 ** (attempt - 1));
      await sleep(backoff, this.closing.signal);
    }
  }

  private recordAttempt(t: AlarmTransition, attempt: number, outcome: DeliveryOutcome, wallTs: number, durationMs: number, status?: number, error?: string): void {
    this.o.store?.recordDelivery({ channel: this.name, alarmId: t.alarmId, eventSeq: t.seq, attempt, wallTs, outcome, status, error, durationMs });
  }

  /** Stop: a send waiting to retry gives up (its last attempt is recorded as failed). */
  async close(): Promise<void> {
    this.closing.abort();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}
