/**
 * Alibaba Cloud SMS (阿里云短信服务, dysmsapi SendSms, API version 2017-05-25), RPC style. Documented at
 * help.aliyun.com/document_detail/101343.html ("HTTP协议及签名") and
 * www.alibabacloud.com/help/en/sms/signature-method: the parameters (common + operation, without
 * Signature) sorted by name, each name and value percent-encoded (RFC 3986: space %20, `*` %2A, `~`
 * kept), joined `k=v&...`; StringToSign = METHOD + "&" + enc("/") + "&" + enc(query);
 * Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)). Answer JSON
 * `{"Code":"OK","Message":"OK","BizId":"...","RequestId":"..."}`; any other Code is a failure.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { AliyunSmsChannelConfig } from '../../../core/config/notify.ts';
import { type Channel, type DeliveryResult, type NotifyMessage, type Recipient } from './channel.ts';
import { isFailure, jsonAnswer, postOnce, retryableStatus } from './http.ts';
import { smsPreflight } from './sms.ts';

/** Codes that a later attempt may get past (flow control, service busy). */
const ALIYUN_RETRYABLE_CODES = ['Throttling.User', 'Throttling', 'ServiceUnavailable', 'isv.BUSINESS_LIMIT_CONTROL'];


/** RFC 3986 percent-encoding as the RPC signature wants it. */
export function aliyunPercentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function aliyunSignature(method: 'GET' | 'POST', params: Record<string, string>, accessKeySecret: string): string {
  const query = Object.keys(params).sort().map((k) => `${aliyunPercentEncode(k)}=${aliyunPercentEncode(params[k])}`).join('&');
  const stringToSign = `${method}&${aliyunPercentEncode('/')}&${aliyunPercentEncode(query)}`;
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign).digest('base64');
}

/** Alibaba takes mainland numbers without +86, others with the 00 prefix. */
export function aliyunPhoneNumber(e164: string): string {
  return e164.startsWith('+86') ? e164.slice(3) : e164.replace(/^\+/, '00');
}

export class AliyunSmsChannel implements Channel {
  readonly name: string;
  constructor(private readonly config: AliyunSmsChannelConfig, private readonly accessKeyId: string, private readonly accessKeySecret: string,
    private readonly now: () => number = Date.now) {
    this.name = config.name;
  }

  async send(message: NotifyMessage, recipient: Recipient): Promise<DeliveryResult> {
    const ready = smsPreflight(this.config.templates, message, recipient);
    if ('ok' in ready) return ready;
    const { phone, template } = ready;
    const params: Record<string, string> = {
      AccessKeyId: this.accessKeyId, Action: 'SendSms', Format: 'JSON', RegionId: this.config.regionId,
      SignatureMethod: 'HMAC-SHA1', SignatureNonce: randomUUID(), SignatureVersion: '1.0',
      Timestamp: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), Version: '2017-05-25',
      PhoneNumbers: aliyunPhoneNumber(phone), SignName: this.config.signName, TemplateCode: template.id,
      TemplateParam: JSON.stringify(Object.fromEntries(template.params)), OutId: message.id,
    };
    params.Signature = aliyunSignature('POST', params, this.accessKeySecret);
    const body = Object.entries(params).map(([k, v]) => `${aliyunPercentEncode(k)}=${aliyunPercentEncode(v)}`).join('&');
    const answer = await postOnce(this.config.endpoint, body, { 'content-type': 'application/x-www-form-urlencoded' }, this.config.timeoutMs);
    if (isFailure(answer)) return answer;
    const code = jsonAnswer<{ Code?: string }>(answer.body)?.Code;
    if (answer.status === 200 && code === 'OK') return { ok: true, state: 'sent', retryable: false, status: 200, answer: answer.body };
    const retryable = retryableStatus(answer.status) || (code !== undefined && ALIYUN_RETRYABLE_CODES.includes(code));
    return { ok: false, retryable, retryAfterMs: answer.retryAfterMs, status: answer.status, answer: answer.body };
  }
}
