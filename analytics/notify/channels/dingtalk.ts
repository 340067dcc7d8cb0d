/**
 * DingTalk custom robot (钉钉自定义机器人). Documented at open.dingtalk.com/document/robots/customize-robot-security-settings
 * (加签): `stringToSign = timestamp + "\n" + secret`, HMAC-SHA256 keyed with the secret, Base64, then
 * URL-encoded, sent as `&timestamp=<ms>&sign=<...>` beside `access_token`; the server refuses a
 * timestamp more than an hour off. Message format (open.dingtalk.com/document/robots/custom-robot-access):
 * `{"msgtype":"markdown","markdown":{"title","text"},"at":{"atMobiles":[...]}}`; the mention only
 * works when the text also contains `@<mobile>`. Answer `{"errcode":0,"errmsg":"ok"}`.
 */
import { createHmac } from 'node:crypto';
import type { DingtalkChannelConfig } from '../../../core/config/notify.ts';
import { type Channel, type DeliveryResult, type NotifyMessage, type Recipient } from './channel.ts';
import { isFailure, postOnce } from './http.ts';
import { robotResult } from './robot-answer.ts';

/** 130101: sending too fast (20 a minute per robot). */
const DINGTALK_BUSY_CODES = [-1, 130101];


/** The `sign` parameter before URL encoding (URLSearchParams does that). */
export function dingtalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export class DingtalkChannel implements Channel {
  readonly name: string;
  constructor(private readonly config: DingtalkChannelConfig, private readonly accessToken: string, private readonly secret: string,
    private readonly now: () => number = Date.now) {
    this.name = config.name;
  }

  async send(message: NotifyMessage, recipient: Recipient): Promise<DeliveryResult> {
    const timestamp = this.now();
    const url = new URL(this.config.url);
    url.searchParams.set('access_token', this.accessToken);
    url.searchParams.set('timestamp', String(timestamp));
    url.searchParams.set('sign', dingtalkSign(timestamp, this.secret));
    const mobile = recipient.phone?.replace(/^\+86/, '');
    const text = mobile ? `${message.text}\n\n@${mobile}` : message.text;
    const body = JSON.stringify({ msgtype: 'markdown', markdown: { title: message.title, text }, at: { atMobiles: mobile ? [mobile] : [], isAtAll: false } });
    const answer = await postOnce(url.href, body, { 'content-type': 'application/json' }, this.config.timeoutMs);
    return isFailure(answer) ? answer : robotResult(answer, DINGTALK_BUSY_CODES);
  }
}
