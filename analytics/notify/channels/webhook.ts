/**
 * Generic webhook: POSTs the message as JSON. With a secret, the body is signed:
 * `X-Aquawatch-Signature: sha256=<hex HMAC-SHA256 of the raw body>`; `X-Aquawatch-Delivery` carries
 * the message id, the same on every retry, so a receiver drops duplicates. A 429/503 with
 * Retry-After is passed on to the delivery queue, which waits that long before the next attempt.
 */
import { createHmac } from 'node:crypto';
import type { WebhookChannelConfig } from '../../../core/config/notify.ts';
import { type Channel, type DeliveryResult, type NotifyMessage, type Recipient } from './channel.ts';
import { isFailure, postOnce, retryableStatus } from './http.ts';


export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class WebhookChannel implements Channel {
  readonly name: string;
  constructor(private readonly config: WebhookChannelConfig, private readonly secret?: string) {
    this.name = config.name;
  }

  async send(message: NotifyMessage, recipient: Recipient): Promise<DeliveryResult> {
    const body = JSON.stringify({
      v: 2, id: message.id, alarmId: message.alarmId, title: message.title, text: message.text, ackUrl: message.ackUrl,
      recipient: { id: recipient.id, name: recipient.name, language: recipient.language },
    });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-aquawatch-delivery': message.id };
    if (this.secret) headers['x-aquawatch-signature'] = webhookSignature(this.secret, body);
    const answer = await postOnce(this.config.url, body, headers, this.config.timeoutMs);
    if (isFailure(answer)) return answer;
    const ok = answer.status >= 200 && answer.status < 300;
    return { ok, state: ok ? 'delivered' : undefined, retryable: !ok && retryableStatus(answer.status), retryAfterMs: answer.retryAfterMs, status: answer.status, answer: answer.body };
  }
}
