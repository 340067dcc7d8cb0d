/**
 * Tencent Cloud SMS (腾讯云短信 SendSms, API 2021-01-11), signed with TC3-HMAC-SHA256. Documented at
 * cloud.tencent.com/document/api/382/55981 (SendSms) and cloud.tencent.com/document/api/382/52072
 * (签名方法 v3): CanonicalRequest = "POST\n/\n\n" + canonical headers (content-type, host; lowercase,
 * each ending "\n") + "\n" + "content-type;host" + "\n" + hex(SHA256(payload)); StringToSign =
 * "TC3-HMAC-SHA256\n" + timestamp + "\n" + "<UTC date>/sms/tc3_request\n" + hex(SHA256(CanonicalRequest));
 * key chain HMAC("TC3"+SecretKey, date) → service → "tc3_request"; Signature = hex(HMAC(key, StringToSign)).
 * Headers X-TC-Action: SendSms, X-TC-Version: 2021-01-11, X-TC-Timestamp, X-TC-Region. Answer
 * `{"Response":{"SendStatusSet":[{"Code":"Ok",...}],"RequestId"}}` or `{"Response":{"Error":{"Code","Message"}}}`.
 */
import { createHash, createHmac } from 'node:crypto';
import type { TencentSmsChannelConfig } from '../../../core/config/notify.ts';
import { type Channel, type DeliveryResult, type NotifyMessage, type Recipient } from './channel.ts';
import { isFailure, jsonAnswer, postOnce, retryableStatus } from './http.ts';
import { smsPreflight } from './sms.ts';

const TENCENT_RETRYABLE_ERRORS = ['InternalError', 'RequestLimitExceeded', 'LimitExceeded.PhoneNumberThirtySecondLimit', 'ResourceUnavailable'];
const CONTENT_TYPE = 'application/json; charset=utf-8';


const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();

/** The Authorization header value for one request. */
export function tencentAuthorization(o: { secretId: string; secretKey: string; host: string; payload: string; timestampS: number; service: string }): string {
  const date = new Date(o.timestampS * 1000).toISOString().slice(0, 10);
  const canonicalRequest = `POST\n/\n\ncontent-type:${CONTENT_TYPE}\nhost:${o.host}\n\ncontent-type;host\n${sha256Hex(o.payload)}`;
  const scope = `${date}/${o.service}/tc3_request`;
  const stringToSign = `TC3-HMAC-SHA256\n${o.timestampS}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const signingKey = hmac(hmac(hmac(`TC3${o.secretKey}`, date), o.service), 'tc3_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return `TC3-HMAC-SHA256 Credential=${o.secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`;
}

interface TencentAnswer { Response?: { Error?: { Code: string }; SendStatusSet?: { Code: string }[] } }

export class TencentSmsChannel implements Channel {
  readonly name: string;
  constructor(private readonly config: TencentSmsChannelConfig, private readonly secretId: string, private readonly secretKey: string,
    private readonly now: () => number = Date.now) {
    this.name = config.name;
  }

  async send(message: NotifyMessage, recipient: Recipient): Promise<DeliveryResult> {
    const ready = smsPreflight(this.config.templates, message, recipient);
    if ('ok' in ready) return ready;
    const { phone, template } = ready;
    const payload = JSON.stringify({
      PhoneNumberSet: [phone], SmsSdkAppId: this.config.smsSdkAppId, SignName: this.config.signName,
      TemplateId: template.id, TemplateParamSet: template.params.map(([, v]) => v), SessionContext: message.id,
    });
    const timestampS = Math.floor(this.now() / 1000);
    const host = new URL(this.config.endpoint).host;
    const headers = {
      authorization: tencentAuthorization({ secretId: this.secretId, secretKey: this.secretKey, host, payload, timestampS, service: 'sms' }),
      'content-type': CONTENT_TYPE, 'x-tc-action': 'SendSms', 'x-tc-version': '2021-01-11',
      'x-tc-timestamp': String(timestampS), 'x-tc-region': this.config.region,
    };
    const answer = await postOnce(this.config.endpoint, payload, headers, this.config.timeoutMs);
    if (isFailure(answer)) return answer;
    const response = jsonAnswer<TencentAnswer>(answer.body)?.Response;
    const sendCode = response?.SendStatusSet?.[0]?.Code;
    if (answer.status === 200 && !response?.Error && sendCode === 'Ok') return { ok: true, state: 'sent', retryable: false, status: 200, answer: answer.body };
    const errorCode = response?.Error?.Code ?? sendCode ?? '';
    const retryable = retryableStatus(answer.status) || TENCENT_RETRYABLE_ERRORS.some((c) => errorCode.startsWith(c));
    return { ok: false, retryable, retryAfterMs: answer.retryAfterMs, status: answer.status, answer: answer.body };
  }
}
