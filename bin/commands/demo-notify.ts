/**
 * The demo's `notify:` section: alarms go to a WeCom group robot that is the demo's own phone inbox
 * (dashboard/server/demo-phone.ts, served by the demo at /demo-phone), so a visitor sees the Chinese
 * message and can tap its acknowledgement link. The demo maintenance user is on call all week, the
 * demo dispatcher is the duty manager, and an alarm nobody acknowledges escalates after
 * DEMO_ESCALATE_AFTER_MIN. A work order assigned to the crew DEMO_CREW goes to the maintenance
 * user's phone too. Customer notices of outages go by the real Alibaba SMS channel to the inbox's
 * SendSms endpoint, for a few customers per area given a made-up number (`withDemoPhones`).
 *
 * It is added to the running demo's configuration only, not to the demo-config.yaml written for
 * analyze/alarms/report: its secrets are generated per run and those commands send nothing.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { notifyConfigSchema } from '../../core/config/notify.ts';
import type { MeterConfig } from '../../core/config/schema.ts';
import { DEMO_PHONE_PATH, DEMO_PHONE_SMS_PATH, DEMO_PHONE_WECOM_PATH } from '../../dashboard/server/demo-phone.ts';
import { DEMO_USERS } from '../../dashboard/server/index.ts';

/** Short, so a visitor sees an escalation reach the duty manager while looking. */
export const DEMO_ESCALATE_AFTER_MIN = 0.5;
export const DEMO_ACK_SECRET_ENV = 'AQUAWATCH_DEMO_ACK_SECRET';
export const DEMO_WECOM_KEY_ENV = 'AQUAWATCH_DEMO_WECOM_KEY';
export const DEMO_SMS_KEY_ID_ENV = 'AQUAWATCH_DEMO_SMS_KEY_ID';
export const DEMO_SMS_KEY_SECRET_ENV = 'AQUAWATCH_DEMO_SMS_KEY_SECRET';
/** Customers per area given a (made-up) mobile number, whose outage notices the inbox shows. */
export const DEMO_PHONES_PER_AREA = 2;
/** The demo users who get messages: the person ids are their user names. */
export const DEMO_ON_CALL = 'maintenance';
export const DEMO_DUTY_MANAGER = 'dispatcher';
/** The crew a dispatcher assigns a work order to (the maintenance view's crew field) to send it to the maintenance user's phone. */
export const DEMO_CREW = '抢修一队';

const displayName = (username: string) => DEMO_USERS.find((u) => u.username === username)!.displayName;

/**
 * The section for a demo whose dashboard is at `httpBase`, in the site's time zone. The ack secret and robot key are
 * generated into the process environment (where the notifier reads secrets) unless already set.
 */
export function demoNotifyConfig(httpBase: string, timeZone: string, env: Record<string, string | undefined> = process.env): z.input<typeof notifyConfigSchema> {
  env[DEMO_ACK_SECRET_ENV] ||= randomBytes(32).toString('base64url');
  env[DEMO_WECOM_KEY_ENV] ||= randomBytes(16).toString('hex');
  env[DEMO_SMS_KEY_ID_ENV] ||= `LTAI${randomBytes(8).toString('hex')}`;
  env[DEMO_SMS_KEY_SECRET_ENV] ||= randomBytes(16).toString('hex');
  return {
    publicUrl: httpBase,
    ackSecret: `\${${DEMO_ACK_SECRET_ENV}}`,
    // the backfilled week's alarms are history; the scenario's own, raised in the backfill's last
    // 20 minutes (and on a slow machine processed some minutes later), are sent
    maxAlarmAgeMin: 60,
    people: {
      [DEMO_ON_CALL]: { name: displayName(DEMO_ON_CALL), language: 'zh-CN' },
      [DEMO_DUTY_MANAGER]: { name: displayName(DEMO_DUTY_MANAGER), language: 'zh-CN' },
    },
    channels: [
      { type: 'wecom', name: 'demo-phone', url: `${httpBase}${DEMO_PHONE_PATH}${DEMO_PHONE_WECOM_PATH}`, key: `\${${DEMO_WECOM_KEY_ENV}}` },
      // customer notices: the real Alibaba SMS channel, to the inbox's SendSms endpoint (its template texts: DEMO_SMS_TEMPLATES)
      {
        type: 'sms-aliyun', name: 'demo-sms', endpoint: `${httpBase}${DEMO_PHONE_PATH}${DEMO_PHONE_SMS_PATH}`,
        accessKeyId: `\${${DEMO_SMS_KEY_ID_ENV}}`, accessKeySecret: `\${${DEMO_SMS_KEY_SECRET_ENV}}`, signName: '演示水务',
        templates: {
          outage_planned: { id: 'SMS_900000001', params: ['cause', 'area', 'start', 'end'] },
          outage_planned_en: { id: 'SMS_900000002', params: ['area', 'start', 'end', 'cause'] },
          outage_sudden: { id: 'SMS_900000003', params: ['cause', 'area', 'start', 'restore'] },
        },
      },
    ],
    routing: {
      timeZone,
      rotas: {
        crew: {
          weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '00:00', people: [DEMO_ON_CALL] }],
          dutyManager: DEMO_DUTY_MANAGER,
        },
      },
      // medium and up: the crew's phone is not for sensor spikes or the planned outage they announced themselves
      rules: [{ name: 'medium and up', match: { minPriority: 'medium' }, rota: 'crew', channels: ['demo-phone'], escalateAfterMin: DEMO_ESCALATE_AFTER_MIN }],
      flood: { maxAlarms: 20, windowMin: 10 },
    },
    crews: { [DEMO_CREW]: { members: [DEMO_ON_CALL], channels: ['demo-phone'] } },
    customerNotices: { channel: 'demo-sms' },
  };
}

/** The demo's meters with a made-up mobile number on the first DEMO_PHONES_PER_AREA active ones of each area. */
export function withDemoPhones(meters: MeterConfig[]): MeterConfig[] {
  const given = new Map<string, number>();
  return meters.map((m) => {
    const n = m.dma && m.active ? (given.get(m.dma) ?? 0) : DEMO_PHONES_PER_AREA;
    if (n >= DEMO_PHONES_PER_AREA || m.phone) return m;
    given.set(m.dma!, n + 1);
    return { ...m, phone: `+86139${String(given.size * 100 + n + 1).padStart(8, '0')}` };
  });
}
