/**
 * The `notify:` section of the site configuration: people, channels, routing (rules, rotas,
 * escalation) and delivery. It is here, with the platform's other keys, so that the config file,
 * its JSON Schema and the README example are checked by the same schema; the engine that uses it is
 * analytics/notify. Secrets are only `${ENV_NAME}` references: config loading leaves them as they
 * are (load.ts), and the notifier resolves them from the environment when it is built, so no key
 * is ever held in the loaded configuration.
 */
import { z } from 'zod';
import { ALARM_PRIORITIES, type AlarmPriority } from '../state/alarm-store.ts';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

function isTimeZone(tz: string): boolean {
  try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); return true; } catch { return false; }
}

const SECRET_REF = /^\$\{([A-Z_][A-Z0-9_]*)\}$/;
/** A secret: only ever an `${ENV_NAME}` reference, so no key is written in a file. */
export const secretRefSchema = z.string().regex(SECRET_REF, 'a secret must be an ${ENV_NAME} reference');
/** The environment variable a secret reference names, or undefined for anything else. */
export const secretRefName = (ref: string): string | undefined => SECRET_REF.exec(ref)?.[1];

export const channelNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lowercase letters, digits, _ . -');
const timeoutSchema = z.number().int().min(1).default(10_000);
const httpUrl = z.url({ protocol: /^https?$/ });
const priority = z.enum(ALARM_PRIORITIES as [AlarmPriority, ...AlarmPriority[]]);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');
const localDateTime = z.string().regex(/^\d{4}-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d$/, 'YYYY-MM-DDTHH:MM (site time)');

export const WECOM_DEFAULT_URL = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send';
export const DINGTALK_DEFAULT_URL = 'https://oapi.dingtalk.com/robot/send';
export const ALIYUN_SMS_DEFAULT_ENDPOINT = 'https://dysmsapi.aliyuncs.com/';
export const TENCENT_SMS_DEFAULT_ENDPOINT = 'https://sms.tencentcloudapi.com/';

export const webhookChannelSchema = z.object({
  type: z.literal('webhook'),
  name: channelNameSchema,
  url: httpUrl,
  secret: secretRefSchema.optional(),
  timeoutMs: timeoutSchema,
}).strict();

export const wecomChannelSchema = z.object({
  type: z.literal('wecom'),
  name: channelNameSchema,
  url: httpUrl.default(WECOM_DEFAULT_URL),
  key: secretRefSchema,
  timeoutMs: timeoutSchema,
}).strict();

export const dingtalkChannelSchema = z.object({
  type: z.literal('dingtalk'),
  name: channelNameSchema,
  url: httpUrl.default(DINGTALK_DEFAULT_URL),
  accessToken: secretRefSchema,
  /** The robot's 加签 secret (SEC...). */
  secret: secretRefSchema,
  timeoutMs: timeoutSchema,
}).strict();

/** SMS in China: a message kind maps to a registered template and the order of its parameters. */
export const smsTemplatesSchema = z.record(z.string(), z.object({
  /** The provider's template id (Alibaba: SMS_123456789; Tencent: 1234567). */
  id: z.string().min(1),
  /** Our parameter names in the template's order (Tencent's TemplateParamSet is positional; Alibaba's TemplateParam is keyed by these). */
  params: z.array(z.string()).default([]),
}));

export const aliyunSmsChannelSchema = z.object({
  type: z.literal('sms-aliyun'),
  name: channelNameSchema,
  endpoint: httpUrl.default(ALIYUN_SMS_DEFAULT_ENDPOINT),
  regionId: z.string().default('cn-hangzhou'),
  accessKeyId: secretRefSchema,
  accessKeySecret: secretRefSchema,
  /** The registered signature (签名), e.g. 某市水务. */
  signName: z.string().min(1),
  templates: smsTemplatesSchema,
  timeoutMs: timeoutSchema,
}).strict();

export const tencentSmsChannelSchema = z.object({
  type: z.literal('sms-tencent'),
  name: channelNameSchema,
  endpoint: httpUrl.default(TENCENT_SMS_DEFAULT_ENDPOINT),
  region: z.string().default('ap-guangzhou'),
  secretId: secretRefSchema,
  secretKey: secretRefSchema,
  smsSdkAppId: z.string().min(1),
  signName: z.string().min(1),
  templates: smsTemplatesSchema,
  timeoutMs: timeoutSchema,
}).strict();

export const emailChannelSchema = z.object({
  type: z.literal('email'),
  name: channelNameSchema,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  user: z.string().optional(),
  password: secretRefSchema.optional(),
  from: z.string().min(3),
  timeoutMs: timeoutSchema,
}).strict();

export const channelConfigSchema = z.discriminatedUnion('type', [
  webhookChannelSchema, wecomChannelSchema, dingtalkChannelSchema, aliyunSmsChannelSchema, tencentSmsChannelSchema, emailChannelSchema,
]);

export const rotaSchema = z.object({
  /** In escalation order: the first on call is notified first. */
  weekly: z.array(z.object({
    days: z.array(z.enum(WEEKDAYS)).min(1),
    /** A shift with to ≤ from runs past midnight (into the next day). */
    from: hhmm,
    to: hhmm,
    people: z.array(z.string()).min(1),
  })).min(1),
  overrides: z.array(z.object({
    from: localDateTime,
    to: localDateTime,
    people: z.array(z.string()).min(1),
    /** e.g. "National Day", "swap Wang ↔ Li" */
    reason: z.string().optional(),
  }).refine((o) => o.from < o.to, 'from must be before to')).default([]),
  dutyManager: z.string(),
}).strict();

export const ruleSchema = z.object({
  name: z.string(),
  match: z.object({
    types: z.array(z.string()).optional(),
    minPriority: priority.default('low'),
    areas: z.array(z.string()).optional(),
  }).default({ minPriority: 'low' }),
  rota: z.string(),
  channels: z.array(z.string()).min(1),
  escalateAfterMin: z.number().positive(),
  repeatEveryMin: z.number().positive().optional(),
}).strict();

export const routingSchema = z.object({
  /** The site's time zone, for the rota and quiet hours. */
  timeZone: z.string().refine(isTimeZone, 'not an IANA time zone'),
  rotas: z.record(z.string(), rotaSchema),
  rules: z.array(ruleSchema).min(1),
  quietHours: z.object({ from: hhmm, to: hhmm, maxPriority: priority.default('low') }).strict().optional(),
  flood: z.object({ maxAlarms: z.number().int().min(1), windowMin: z.number().positive() }).strict().optional(),
}).strict();

export const personSchema = z.object({
  name: z.string().min(1),
  phone: z.string().regex(/^\+\d{8,15}$/, 'E.164, e.g. +8613800000000').optional(),
  email: z.email().optional(),
  language: z.enum(['zh-CN', 'en']).default('zh-CN'),
}).strict();

export const notifyConfigSchema = z.object({
  /** Where the dashboard is reached from a phone; acknowledgement links are `<publicUrl>/ack/<token>`. */
  publicUrl: httpUrl,
  ackSecret: secretRefSchema,
  ackLinkTtlMin: z.number().positive().default(24 * 60),
  /**
   * An alarm raised longer ago than this (its event time against the wall clock) is history being
   * caught up (a backfill, a logger's stored readings): shown in the dashboard, not sent to phones.
   */
  maxAlarmAgeMin: z.number().positive().default(60),
  people: z.record(z.string(), personSchema),
  channels: z.array(channelConfigSchema).min(1),
  routing: routingSchema,
  /**
   * Maintenance crews by the name a dispatcher assigns a work order to: a work order assigned to a
   * crew goes to each member's phone on the crew's channels, with a link to its phone page.
   */
  crews: z.record(z.string().min(1), z.object({
    members: z.array(z.string()).min(1),
    channels: z.array(z.string()).min(1),
  }).strict()).default({}),
  /**
   * Customer notices of outages (停水通知) by SMS: the SMS channel and its template names for a planned
   * outage and for a sudden one under repair. A customer whose language is en gets `<template>_en`
   * when the channel has that template. Parameters: area, start, end, restore, cause, site.
   */
  customerNotices: z.object({
    channel: z.string(),
    plannedTemplate: z.string().default('outage_planned'),
    suddenTemplate: z.string().default('outage_sudden'),
  }).strict().optional(),
  delivery: z.object({
    maxAttempts: z.number().int().min(1).optional(),
    backoffMs: z.number().int().min(0).optional(),
    maxBackoffMs: z.number().int().min(0).optional(),
    channelDownAfter: z.number().int().min(1).optional(),
  }).strict().default({}),
}).strict().superRefine((c, ctx) => {
  const names = c.channels.map((ch) => ch.name);
  names.forEach((n, i) => { if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `channel name ${n} is used twice` }); });
  c.routing.rules.forEach((rule, i) => rule.channels.forEach((ch, j) => {
    if (!names.includes(ch)) ctx.addIssue({ code: 'custom', path: ['routing', 'rules', i, 'channels', j], message: `no channel named ${ch}` });
  }));
  if (c.customerNotices) {
    const { channel, plannedTemplate, suddenTemplate } = c.customerNotices;
    const sms = c.channels.find((ch) => ch.name === channel);
    if (!sms || (sms.type !== 'sms-aliyun' && sms.type !== 'sms-tencent')) {
      ctx.addIssue({ code: 'custom', path: ['customerNotices', 'channel'], message: `no SMS channel named ${channel}` });
    } else {
      for (const t of [plannedTemplate, suddenTemplate]) {
        if (!sms.templates[t]) ctx.addIssue({ code: 'custom', path: ['customerNotices'], message: `SMS channel ${channel} has no template ${t}` });
      }
    }
  }
  for (const [crewName, crew] of Object.entries(c.crews)) {
    for (const p of crew.members) if (!c.people[p]) ctx.addIssue({ code: 'custom', path: ['crews', crewName, 'members'], message: `no person ${p} in people` });
    for (const ch of crew.channels) if (!names.includes(ch)) ctx.addIssue({ code: 'custom', path: ['crews', crewName, 'channels'], message: `no channel named ${ch}` });
  }
  for (const [rotaName, rota] of Object.entries(c.routing.rotas)) {
    const people = [rota.dutyManager, ...rota.weekly.flatMap((s) => s.people), ...rota.overrides.flatMap((o) => o.people)];
    for (const p of new Set(people)) if (!c.people[p]) ctx.addIssue({ code: 'custom', path: ['routing', 'rotas', rotaName], message: `no person ${p} in people` });
  }
});

export type NotifyConfig = z.infer<typeof notifyConfigSchema>;
export type ChannelConfig = z.infer<typeof channelConfigSchema>;
export type WebhookChannelConfig = z.infer<typeof webhookChannelSchema>;
export type WecomChannelConfig = z.infer<typeof wecomChannelSchema>;
export type DingtalkChannelConfig = z.infer<typeof dingtalkChannelSchema>;
export type AliyunSmsChannelConfig = z.infer<typeof aliyunSmsChannelSchema>;
export type TencentSmsChannelConfig = z.infer<typeof tencentSmsChannelSchema>;
export type EmailChannelConfig = z.infer<typeof emailChannelSchema>;
export type SmsTemplates = z.infer<typeof smsTemplatesSchema>;
export type Rota = z.infer<typeof rotaSchema>;
export type RoutingConfig = z.infer<typeof routingSchema>;
export type Rule = z.infer<typeof ruleSchema>;
