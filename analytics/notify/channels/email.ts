/**
 * E-mail over SMTP with nodemailer (the long-maintained standard SMTP client for Node: STARTTLS,
 * auth, pooling, correct MIME and UTF-8 headers, which a hand-written SMTP client would get wrong).
 * An accepted message is `sent` (the SMTP server took it; the mailbox is further on). A 4xx reply or
 * a lost connection is worth another attempt; a 5xx (no such mailbox, refused) is not.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailChannelConfig } from '../../../core/config/notify.ts';
import { type Channel, type DeliveryResult, type NotifyMessage, type Recipient } from './channel.ts';


export class EmailChannel implements Channel {
  readonly name: string;
  private readonly transport: Transporter;

  constructor(private readonly config: EmailChannelConfig, password?: string) {
    this.name = config.name;
    this.transport = nodemailer.createTransport({
      host: config.host, port: config.port, secure: config.secure,
      auth: config.user ? { user: config.user, pass: password ?? '' } : undefined,
      connectionTimeout: config.timeoutMs, greetingTimeout: config.timeoutMs, socketTimeout: config.timeoutMs,
    });
  }

  async send(message: NotifyMessage, recipient: Recipient): Promise<DeliveryResult> {
    if (!recipient.email) return { ok: false, retryable: false, answer: `recipient ${recipient.id} has no e-mail address` };
    const text = message.ackUrl ? `${message.text}\n\n${message.ackUrl}` : message.text;
    try {
      const info = await this.transport.sendMail({
        from: this.config.from, to: { name: recipient.name, address: recipient.email }, subject: message.title, text,
        headers: { 'X-Aquawatch-Delivery': message.id },
      });
      return { ok: true, state: 'sent', retryable: false, answer: info.response ?? 'accepted' };
    } catch (e) {
      const err = e as Error & { responseCode?: number; response?: string };
      const retryable = err.responseCode === undefined || (err.responseCode >= 400 && err.responseCode < 500);
      return { ok: false, retryable, status: err.responseCode, answer: err.response ?? err.message };
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
