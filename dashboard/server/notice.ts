/**
 * Customer notice texts (Chinese) for a planned outage, for SMS and for the utility's website,
 * from the outage itself: the areas' names, the times in the site's time zone, the cause and reason.
 * An SMS segment holds 70 Chinese characters; a longer text goes out as several segments, which
 * `smsSegments` counts (the website text has no such limit).
 */
import type { PlannedOutage } from '../../analytics/outages/register.ts';

export const CAUSE_ZH: Record<string, string> = {
  maintenance: '管网维护', retrofit: '管网改造', repair: '管道维修', burst: '爆管抢修', pump_trip: '泵站停机',
  power_failure: '停电', raw_water_shortage: '原水不足', water_quality: '水质处理', third_party_damage: '第三方施工破坏',
  other: '其他原因', unknown: '其他原因', low_pressure: '水压不足',
};

export const SMS_SEGMENT_CHARS = 70;

/** `12月3日 08:00` in the site's time zone. */
export function zhTime(ts: number, timezone: string): string {
  const parts = new Intl.DateTimeFormat('zh-CN', {
    timeZone: timezone, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(ts);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('month')}月${get('day')}日 ${get('hour')}:${get('minute')}`;
}

function zhDate(ts: number, timezone: string): string {
  const parts = new Intl.DateTimeFormat('zh-CN', { timeZone: timezone, year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(ts);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}年${get('month')}月${get('day')}日`;
}

function zhClock(ts: number, timezone: string): string {
  return new Intl.DateTimeFormat('zh-CN', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ts);
}

/** Segments an SMS of this text takes (70 characters each, 67 each once it is split). */
export function smsSegments(text: string): number {
  const n = [...text].length;
  return n <= SMS_SEGMENT_CHARS ? 1 : Math.ceil(n / 67);
}

export interface Notice { sms: string; web: string; smsSegments: number }

export function outageNotice(o: PlannedOutage, opts: { siteName: string; timezone: string; areaName: (dma: string) => string }): Notice {
  const areas = o.dmas.map(opts.areaName).join('、');
  const cause = CAUSE_ZH[o.cause] ?? o.cause;
  const why = o.reason.trim() ? `${cause}（${o.reason.trim()}）` : cause;
  const start = zhTime(o.start, opts.timezone);
  const end = zhTime(o.end, opts.timezone);
  const hours = Math.round(((o.end - o.start) / 3_600_000) * 10) / 10;
  // the SMS keeps to one segment where it can: the end's date only when it differs from the start's
  const endShort = zhDate(o.end, opts.timezone) === zhDate(o.start, opts.timezone) ? zhClock(o.end, opts.timezone) : end;
  const sms = `【${opts.siteName}】因${cause}，${areas}将于${start.replace(' ', '')}至${endShort.replace(' ', '')}停水，请提前储水。`;
  const web = [
    `停水通知`,
    `尊敬的用户：`,
    `因${why}，我公司定于${start}至${end}对${areas}停止供水，预计停水约${hours}小时。`,
    `请受影响的用户提前做好储水准备。恢复供水初期水质可能出现浑浊，请先放水片刻再使用。如遇施工提前完成，将提前恢复供水，不另行通知。`,
    `由此给您带来的不便，敬请谅解。`,
    `${opts.siteName}`,
    `${zhDate(o.notifiedAt, opts.timezone)}`,
  ].join('\n');
  return { sms, web, smsSegments: smsSegments(sms) };
}
