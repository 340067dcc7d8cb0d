/** WeCom and DingTalk robots both answer HTTP 200 with `{errcode, errmsg}`; errcode 0 is success. */
import type { DeliveryResult } from './channel.ts';
import { jsonAnswer, retryableStatus, type HttpAnswer } from './http.ts';

/** `busyCodes`: the vendor's errcodes meaning "too many messages / busy, try later". */
export function robotResult(answer: HttpAnswer, busyCodes: readonly number[]): DeliveryResult {
  if (answer.status !== 200) return { ok: false, retryable: retryableStatus(answer.status), retryAfterMs: answer.retryAfterMs, status: answer.status, answer: answer.body };
  const parsed = jsonAnswer<{ errcode?: number; errmsg?: string }>(answer.body);
  if (parsed?.errcode === 0) return { ok: true, state: 'delivered', retryable: false, status: 200, answer: answer.body };
  return { ok: false, retryable: parsed?.errcode !== undefined && busyCodes.includes(parsed.errcode), status: 200, answer: answer.body };
}
