/**
 * The one interface every notification channel implements (webhook, WeCom and DingTalk robots,
 * SMS providers, e-mail), and the message a channel carries. A channel makes ONE attempt per
 * `send`: retries, backoff and the delivery record live in ../delivery, so a channel never sleeps.
 */
import { secretRefName } from '../../../core/config/notify.ts';

export type Language = 'zh-CN' | 'en';

/** Who a message goes to. A channel uses the address it needs (phone for SMS, e-mail for SMTP). */
export interface Recipient {
  id: string;
  name: string;
  /** E.164, e.g. +8613800000000. */
  phone?: string;
  email?: string;
  language: Language;
}

/** One message, already rendered in the recipient's language. */
export interface NotifyMessage {
  /** Unique per message and recipient; the same on every retry, so a receiver can drop duplicates. */
  id: string;
  alarmId?: string;
  /** One line (e-mail subject, DingTalk title). */
  title: string;
  /** Markdown body (robots, webhook, e-mail text). */
  text: string;
  /** For SMS, which in China is only a registered template plus parameters. */
  sms: { template: string; params: Record<string, string> };
  ackUrl?: string;
}

/** What a channel's single attempt came to, with the channel's own answer (recorded verbatim). */
export interface DeliveryResult {
  ok: boolean;
  /** `delivered` when the far end is the reader's app (robot, webhook); `sent` when a carrier still has to deliver (SMS, SMTP). */
  state?: 'sent' | 'delivered';
  /** A failure that another attempt may fix (timeout, 5xx, rate limit). */
  retryable: boolean;
  /** The far end asked to wait this long (Retry-After). */
  retryAfterMs?: number;
  status?: number;
  /** The channel's answer: response body or SMTP reply, or the error. */
  answer: string;
}

export interface Channel {
  readonly name: string;
  send(message: NotifyMessage, recipient: Recipient): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

/** A secret of the config (an `${ENV_NAME}` reference, core/config/notify.ts), resolved when the channel is built. */
export function resolveSecret(ref: string, env: Record<string, string | undefined>): string {
  const name = secretRefName(ref);
  if (!name) throw new Error(`not an \${ENV} reference: ${ref}`);
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
  return value;
}
