/**
 * Fake Alibaba Cloud SMS endpoint (dysmsapi SendSms 2017-05-25, RPC style), checking the documented
 * request (help.aliyun.com/document_detail/101343.html, www.alibabacloud.com/help/en/sms/signature-method)
 * and verifying its Signature with its own implementation of the documented algorithm (byte-wise
 * RFC 3986 encoding, no shared code with the channel). Answers like the service: HTTP 200 `{"Code":"OK",...}`,
 * or HTTP 400 `{"Code":"SignatureDoesNotMatch"}` / `{"Code":"MissingParameter"}`.
 */
import crypto from 'node:crypto';
import { startFakeReceiver, type FakeReceiver } from './fake-http-receiver.ts';

/** RFC 3986 byte by byte: unreserved characters kept, every other byte as %XX (upper case). */
function rfc3986(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The documented signature, as the service computes it. */
export function aliyunReferenceSignature(method: string, params: [string, string][], accessKeySecret: string): string {
  const sorted = params.filter(([k]) => k !== 'Signature').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = sorted.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
  const stringToSign = [method, rfc3986('/'), rfc3986(canonical)].join('&');
  return crypto.createHmac('sha1', Buffer.from(accessKeySecret + '&')).update(Buffer.from(stringToSign)).digest('base64');
}

const REQUIRED = ['AccessKeyId', 'Action', 'Format', 'RegionId', 'SignatureMethod', 'SignatureNonce', 'SignatureVersion', 'Timestamp', 'Version',
  'PhoneNumbers', 'SignName', 'TemplateCode', 'Signature'];

export async function startFakeAliyunSms(accessKeyId: string, accessKeySecret: string, clock: () => number): Promise<FakeReceiver> {
  const nonces = new Set<string>();
  return startFakeReceiver((req) => {
    const problems: string[] = [];
    const form = new URLSearchParams(req.method === 'POST' ? req.body : req.url.search);
    const params = [...form.entries()];
    const get = (k: string) => form.get(k) ?? '';
    const error = (status: number, Code: string) => ({ problems, answer: { status, body: { Code, Message: problems.join('; '), RequestId: crypto.randomUUID() } } });
    if (req.method === 'POST' && !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) problems.push(`content-type ${req.headers['content-type']}`);
    const missing = REQUIRED.filter((k) => !form.has(k));
    if (missing.length) { problems.push(`missing ${missing.join(', ')}`); return error(400, 'MissingParameter'); }
    if (get('AccessKeyId') !== accessKeyId) { problems.push('unknown AccessKeyId'); return error(404, 'InvalidAccessKeyId.NotFound'); }
    if (aliyunReferenceSignature(req.method, params, accessKeySecret) !== get('Signature')) { problems.push('signature does not match'); return error(400, 'SignatureDoesNotMatch'); }
    if (nonces.has(get('SignatureNonce'))) { problems.push('nonce used before'); return error(400, 'SignatureNonceUsed'); }
    nonces.add(get('SignatureNonce'));
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(get('Timestamp')) || Math.abs(Date.parse(get('Timestamp')) - clock()) > 15 * 60_000) problems.push(`Timestamp ${get('Timestamp')}`);
    if (get('Action') !== 'SendSms' || get('Version') !== '2017-05-25') problems.push(`Action/Version ${get('Action')} ${get('Version')}`);
    if (get('SignatureMethod') !== 'HMAC-SHA1' || get('SignatureVersion') !== '1.0') problems.push('SignatureMethod/SignatureVersion');
    if (!/^\d{11}$/.test(get('PhoneNumbers'))) problems.push(`PhoneNumbers ${get('PhoneNumbers')}`);
    if (!/^SMS_\d+$/.test(get('TemplateCode'))) problems.push(`TemplateCode ${get('TemplateCode')}`);
    try {
      const p: unknown = JSON.parse(get('TemplateParam') || '{}');
      if (typeof p !== 'object' || p === null || Array.isArray(p)) problems.push('TemplateParam is not a JSON object');
    } catch { problems.push('TemplateParam is not JSON'); }
    if (problems.length) return error(400, 'isv.INVALID_PARAMETERS');
    return { problems, answer: { body: { Code: 'OK', Message: 'OK', BizId: `${Date.now()}^0`, RequestId: crypto.randomUUID() } } };
  });
}
