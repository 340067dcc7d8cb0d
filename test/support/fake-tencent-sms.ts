/**
 * Fake Tencent Cloud SMS endpoint (SendSms, API 2021-01-11), checking the documented request
 * (cloud.tencent.com/document/api/382/55981) and verifying the TC3-HMAC-SHA256 Authorization
 * (cloud.tencent.com/document/api/382/52072) with its own implementation: it rebuilds the canonical
 * request from the headers the request itself names in SignedHeaders. Answers like the service,
 * always HTTP 200: `{"Response":{"SendStatusSet":[{"Code":"Ok"...}]}}` or `{"Response":{"Error":{...}}}`.
 */
import crypto from 'node:crypto';
import { parseJsonBody, startFakeReceiver, type FakeReceiver } from './fake-http-receiver.ts';

const hex = (data: string) => crypto.createHash('sha256').update(data, 'utf8').digest('hex');
const mac = (key: crypto.BinaryLike, data: string) => crypto.createHmac('sha256', key).update(data, 'utf8').digest();

export async function startFakeTencentSms(secretId: string, secretKey: string, clock: () => number): Promise<FakeReceiver> {
  return startFakeReceiver((req) => {
    const problems: string[] = [];
    const RequestId = crypto.randomUUID();
    const fail = (Code: string) => ({ problems, answer: { body: { Response: { Error: { Code, Message: problems.join('; ') }, RequestId } } } });
    const header = (name: string) => String(req.headers[name] ?? '');
    const auth = /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d\d-\d\d)\/([a-z]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(header('authorization'));
    if (!auth) { problems.push(`Authorization ${header('authorization')}`); return fail('AuthFailure.InvalidAuthorization'); }
    const [, id, date, service, signedHeaders, signature] = auth;
    if (id !== secretId) { problems.push('unknown SecretId'); return fail('AuthFailure.SecretIdNotFound'); }
    const names = signedHeaders.split(';');
    if (!names.includes('content-type') || !names.includes('host')) problems.push(`SignedHeaders ${signedHeaders}`);
    const canonicalHeaders = names.map((n) => `${n}:${header(n).trim().toLowerCase()}\n`).join('');
    const canonicalRequest = [req.method, req.url.pathname, req.url.search.replace(/^\?/, ''), canonicalHeaders, signedHeaders, hex(req.body)].join('\n');
    const timestamp = header('x-tc-timestamp');
    const stringToSign = ['TC3-HMAC-SHA256', timestamp, `${date}/${service}/tc3_request`, hex(canonicalRequest)].join('\n');
    const kDate = mac('TC3' + secretKey, date);
    const expected = crypto.createHmac('sha256', mac(mac(kDate, service), 'tc3_request')).update(stringToSign, 'utf8').digest('hex');
    if (expected !== signature) { problems.push('signature does not match'); return fail('AuthFailure.SignatureFailure'); }
    if (Math.abs(Number(timestamp) * 1000 - clock()) > 5 * 60_000) { problems.push('X-TC-Timestamp off'); return fail('AuthFailure.SignatureExpire'); }
    if (new Date(Number(timestamp) * 1000).toISOString().slice(0, 10) !== date) problems.push('credential date is not the UTC date of X-TC-Timestamp');
    if (service !== 'sms') problems.push(`service ${service}`);
    if (header('x-tc-action') !== 'SendSms' || header('x-tc-version') !== '2021-01-11' || !header('x-tc-region')) problems.push('X-TC-Action/Version/Region');
    if (!header('content-type').startsWith('application/json')) problems.push(`content-type ${header('content-type')}`);
    const body = parseJsonBody(req.body, problems) as Record<string, unknown> | undefined;
    const phones = body?.PhoneNumberSet;
    if (!Array.isArray(phones) || phones.length === 0 || !phones.every((p) => typeof p === 'string' && /^\+\d{8,15}$/.test(p))) problems.push(`PhoneNumberSet ${JSON.stringify(phones)}`);
    for (const k of ['SmsSdkAppId', 'SignName', 'TemplateId']) if (typeof body?.[k] !== 'string' || body[k] === '') problems.push(`${k} missing`);
    const params = body?.TemplateParamSet;
    if (params !== undefined && !(Array.isArray(params) && params.every((p) => typeof p === 'string'))) problems.push('TemplateParamSet is not an array of strings');
    if (problems.length) return fail('InvalidParameter');
    return { problems, answer: { body: { Response: { SendStatusSet: (phones as string[]).map((PhoneNumber) => ({
      SerialNo: crypto.randomUUID(), PhoneNumber, Fee: 1, SessionContext: body?.SessionContext ?? '', Code: 'Ok', Message: 'send success', IsoCode: 'CN',
    })), RequestId } } } };
  });
}
