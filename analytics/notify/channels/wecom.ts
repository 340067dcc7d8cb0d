/**
 * WeCom group robot (企业微信群机器人). Documented at developer.work.weixin.qq.com/document/path/91770
 * ("群机器人配置说明"): POST JSON to `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY` with
 * `{"msgtype":"markdown","markdown":{"content":"..."}}` (content at most 4096 bytes, UTF-8); the answer
 * is `{"errcode":0,"errmsg":"ok"}`. The robot key is the only credential (no signature).
 */
import type { WecomChannelConfig } from '../../../core/config/notify.ts';
import { type Channel, type DeliveryResult, type NotifyMessage, type Recipient } from './channel.ts';
import { isFailure, postOnce } from './http.ts';
import { robotResult } from './robot-answer.ts';
import { truncateUtf8 } from './text.ts';

/** -1 system busy, 45009 API call frequency limit (20 messages a minute per robot). */
const WECOM_BUSY_CODES = [-1, 45009];
const WECOM_MARKDOWN_MAX_BYTES = 4096;


export class WecomChannel implements Channel {
  readonly name: string;
  constructor(private readonly config: WecomChannelConfig, private readonly key: string) {
    this.name = config.name;
  }

  async send(message: NotifyMessage, recipient: Recipient): Promise<DeliveryResult> {
    const content = truncateUtf8(`${message.text}\n\n> ${recipient.name}`, WECOM_MARKDOWN_MAX_BYTES);
    const url = new URL(this.config.url);
    url.searchParams.set('key', this.key);
    const body = JSON.stringify({ msgtype: 'markdown', markdown: { content } });
    const answer = await postOnce(url.href, body, { 'content-type': 'application/json' }, this.config.timeoutMs);
    return isFailure(answer) ? answer : robotResult(answer, WECOM_BUSY_CODES);
  }
}
