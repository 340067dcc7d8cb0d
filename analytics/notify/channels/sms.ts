/**
 * What both SMS providers share: in China an SMS goes out only as a pre-registered template
 * (id assigned by the provider) plus parameters, so the config maps each of our message templates
 * (`alarm`, `escalation`, `summary`, ...) to the provider's template id and the order of its parameters.
 */
import type { SmsTemplates } from '../../../core/config/notify.ts';
import type { DeliveryResult, NotifyMessage, Recipient } from './channel.ts';

export interface SmsTemplateCall { id: string; params: [string, string][] }

/** The provider template for a message, or why there is none (a config error, not retryable). */
export function smsTemplateFor(templates: SmsTemplates, message: NotifyMessage): SmsTemplateCall | string {
  const t = templates[message.sms.template];
  if (!t) return `no SMS template configured for "${message.sms.template}"`;
  const missing = t.params.filter((p) => message.sms.params[p] === undefined);
  if (missing.length) return `SMS template "${message.sms.template}" needs ${missing.join(', ')}`;
  return { id: t.id, params: t.params.map((p) => [p, message.sms.params[p]]) };
}

/** The phone number and provider template for a send, or the failure (a config or roster error, not retryable). */
export function smsPreflight(templates: SmsTemplates, message: NotifyMessage, recipient: Recipient): { phone: string; template: SmsTemplateCall } | DeliveryResult {
  if (!recipient.phone) return { ok: false, retryable: false, answer: `recipient ${recipient.id} has no phone number` };
  const template = smsTemplateFor(templates, message);
  if (typeof template === 'string') return { ok: false, retryable: false, answer: template };
  return { phone: recipient.phone, template };
}
