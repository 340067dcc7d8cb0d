/** Every channel type, and building one from its config (core/config/notify.ts) (secrets resolved from the environment). */
import type { ChannelConfig } from '../../../core/config/notify.ts';
import { resolveSecret, type Channel } from './channel.ts';
import { DingtalkChannel } from './dingtalk.ts';
import { EmailChannel } from './email.ts';
import { AliyunSmsChannel } from './sms-aliyun.ts';
import { TencentSmsChannel } from './sms-tencent.ts';
import { WebhookChannel } from './webhook.ts';
import { WecomChannel } from './wecom.ts';

export type ChannelType = ChannelConfig['type'];

/** Channel types that need an address on the recipient (the robots and the webhook post to a group or system). */
export const CHANNEL_ADDRESS: Record<ChannelType, 'phone' | 'email' | undefined> = {
  webhook: undefined, wecom: undefined, dingtalk: undefined, 'sms-aliyun': 'phone', 'sms-tencent': 'phone', email: 'email',
};

export function createChannel(config: ChannelConfig, env: Record<string, string | undefined>, now: () => number = Date.now): Channel {
  const secret = (ref: string) => resolveSecret(ref, env);
  switch (config.type) {
    case 'webhook': return new WebhookChannel(config, config.secret === undefined ? undefined : secret(config.secret));
    case 'wecom': return new WecomChannel(config, secret(config.key));
    case 'dingtalk': return new DingtalkChannel(config, secret(config.accessToken), secret(config.secret), now);
    case 'sms-aliyun': return new AliyunSmsChannel(config, secret(config.accessKeyId), secret(config.accessKeySecret), now);
    case 'sms-tencent': return new TencentSmsChannel(config, secret(config.secretId), secret(config.secretKey), now);
    case 'email': return new EmailChannel(config, config.password === undefined ? undefined : secret(config.password));
  }
}
