/**
 * A dashboard harness (test/support/dashboard.ts) whose `notify:` section sends customer notices on
 * the real Alibaba SMS channel to a local receiver that checks the vendor's format
 * (fake-aliyun-sms.ts), and whose north area has customers with and without phone numbers.
 */
import { vi } from 'vitest';
import { startHarness, TOPOLOGY, type Harness } from './dashboard.ts';
import { startFakeAliyunSms } from './fake-aliyun-sms.ts';
import type { FakeReceiver } from './fake-http-receiver.ts';

export const NOTICE_METERS = [
  { id: 'M-1001', customer: 'ACC-778899', dma: 'north', address: '人民路 12 号', phone: '+8613800000001' },
  { id: 'M-1002', customer: 'ACC-778900', dma: 'north', address: '人民路 14 号', phone: '+8613800000002', language: 'en' },
  { id: 'M-1003', customer: 'ACC-778901', dma: 'north', address: '人民路 16 号' },
  { id: 'M-2002', customer: 'ACC-112233', dma: 'south', address: '南湖路 8 号', phone: '+8613900000009' },
];

/** Starts both; the caller closes them (harness first). Stubs the secrets' environment variables (vi.unstubAllEnvs after). */
export async function startNoticeHarness(opts: { webDist?: string } = {}): Promise<{ h: Harness; sms: FakeReceiver }> {
  vi.stubEnv('AW_NOTICE_ACK', 'a-notice-test-ack-secret-long-enough!');
  vi.stubEnv('AW_NOTICE_ALI_ID', 'LTAI-notice');
  vi.stubEnv('AW_NOTICE_ALI_SECRET', 'notice-secret');
  const sms = await startFakeAliyunSms('LTAI-notice', 'notice-secret', Date.now);
  try {
    const h = await startHarness({
      env: process.env, webDist: opts.webDist,
      config: {
        topology: { ...TOPOLOGY, meters: NOTICE_METERS },
        notify: {
          publicUrl: 'https://scada.example.cn', ackSecret: '${AW_NOTICE_ACK}', people: { wang: { name: '王工', phone: '+8613700000000' } },
          channels: [{
            type: 'sms-aliyun', name: 'sms', endpoint: `${sms.url}/`, accessKeyId: '${AW_NOTICE_ALI_ID}', accessKeySecret: '${AW_NOTICE_ALI_SECRET}', signName: '示例水务',
            templates: {
              alarm: { id: 'SMS_460770001', params: ['type', 'area', 'time', 'link'] },
              outage_planned: { id: 'SMS_460770010', params: ['area', 'start', 'end', 'cause'] },
              outage_planned_en: { id: 'SMS_460770011', params: ['area', 'start', 'end'] },
              outage_sudden: { id: 'SMS_460770020', params: ['area', 'start', 'restore'] },
            },
          }],
          routing: { timeZone: 'Asia/Shanghai', rotas: { m: { weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '00:00', people: ['wang'] }], dutyManager: 'wang' } },
            rules: [{ name: 'all', rota: 'm', channels: ['sms'], escalateAfterMin: 60 }] },
          customerNotices: { channel: 'sms' },
        },
      },
    });
    return { h, sms };
  } catch (e) {
    await sms.close();
    throw e;
  }
}
