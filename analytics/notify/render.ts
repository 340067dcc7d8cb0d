/**
 * The texts of notification messages in the recipient's language (zh-CN or en): the alarm's own
 * text (the detector's message code, core/messages/alarm-texts.ts) and what this adds (kind, type,
 * area, priority, time, link). SMS carries only template parameters (see channels/sms.ts): type, area, priority,
 * time, link, count. Work orders to a crew's phones: `renderWorkOrderMessage`.
 */
import { alarmMessage, alarmTypeName, type AlarmText } from '../../core/messages/alarm-texts.ts';
import type { Language, NotifyMessage } from './channels/channel.ts';
import { localTime } from './routing/local-time.ts';
import type { OutgoingKind, RoutableAlarm } from './routing/router.ts';

export type MessageKind = OutgoingKind | 'channel_down';

const PRIORITY_NAMES: Record<string, Record<Language, string>> = {
  low: { 'zh-CN': '低', en: 'low' }, medium: { 'zh-CN': '中', en: 'medium' }, high: { 'zh-CN': '高', en: 'high' }, critical: { 'zh-CN': '紧急', en: 'critical' },
};
const KIND_WORDS: Record<MessageKind, Record<Language, string>> = {
  alarm: { 'zh-CN': '告警', en: 'Alarm' },
  escalation: { 'zh-CN': '告警升级(无人确认)', en: 'Escalated (not acknowledged)' },
  repeat: { 'zh-CN': '告警提醒(仍未确认)', en: 'Reminder (still not acknowledged)' },
  summary: { 'zh-CN': '告警汇总', en: 'Alarm summary' },
  channel_down: { 'zh-CN': '通知通道故障', en: 'Notification channel down' },
};

export interface RenderInput {
  id: string;
  kind: MessageKind;
  language: Language;
  timeZone: string;
  at: number;
  alarm?: RoutableAlarm & { message?: string; text?: AlarmText };
  /** Summary: how many alarms. */
  count?: number;
  /** channel_down: which channel, and its last answer. */
  channel?: string;
  detail?: string;
  ackUrl?: string;
}

export function renderMessage(i: RenderInput): NotifyMessage {
  const zh = i.language === 'zh-CN';
  const kind = KIND_WORDS[i.kind][i.language];
  const time = localTime(i.at, i.timeZone).dateTime.replace('T', ' ');
  const type = i.alarm ? alarmTypeName(i.alarm.type, i.language) : '';
  const area = i.alarm?.area ?? '';
  const priority = i.alarm ? PRIORITY_NAMES[i.alarm.priority][i.language] : '';
  let title: string;
  const lines: string[] = [];
  if (i.kind === 'channel_down') {
    title = `${kind}: ${i.channel}`;
    lines.push(`**${title}**`, zh ? `时间: ${time}` : `Time: ${time}`, zh ? `最后回复: ${i.detail ?? ''}` : `Last answer: ${i.detail ?? ''}`);
  } else if (i.kind === 'summary') {
    title = zh ? `${kind}: ${i.count} 条新告警` : `${kind}: ${i.count} new alarms`;
    lines.push(`**${title}**`, zh ? `时间: ${time},请在调度台查看` : `Time: ${time}; see the dashboard`);
  } else {
    title = `${kind}: ${type}${area ? ` ${area}` : ''}`;
    lines.push(`**${title}**`, zh ? `优先级: ${priority}` : `Priority: ${priority}`, zh ? `时间: ${time}` : `Time: ${time}`);
    const detail = i.alarm ? alarmMessage(i.alarm, i.language) : '';
    if (detail) lines.push(`> ${detail}`);
  }
  if (i.ackUrl) lines.push(zh ? `[确认告警](${i.ackUrl})` : `[Acknowledge](${i.ackUrl})`);
  const params: Record<string, string> = { type, area, priority, time: time.slice(11), link: i.ackUrl ?? '', count: String(i.count ?? 1), channel: i.channel ?? '' };
  return { id: i.id, alarmId: i.alarm?.id, title, text: lines.join('\n\n'), sms: { template: i.kind, params }, ackUrl: i.ackUrl };
}

/** A work order as its crew's message needs it. */
export interface WorkOrderNotice {
  id: string;
  alarmId: string;
  dma: string;
  locationHint?: string;
  burstFlowM3h?: number;
  crew: string;
}

const WORK_ORDER_WORDS: Record<Language, { title: string; area: string; location: string; flow: string; crew: string; link: string; unknown: string }> = {
  'zh-CN': { title: '抢修工单', area: '区域', location: '位置提示', flow: '估计漏水量', crew: '班组', link: '打开工单', unknown: '待查' },
  en: { title: 'Work order', area: 'Area', location: 'Location hint', flow: 'Estimated burst flow', crew: 'Crew', link: 'Open the work order', unknown: 'to be found' },
};

/** A work order for a crew member's phone, with the link to its phone page. SMS: template `work_order`, parameters area, location, link. */
export function renderWorkOrderMessage(i: { id: string; workOrder: WorkOrderNotice; language: Language; link: string }): NotifyMessage {
  const w = WORK_ORDER_WORDS[i.language];
  const wo = i.workOrder;
  const title = `${w.title} ${wo.id}: ${wo.dma}`;
  const location = wo.locationHint ?? w.unknown;
  const lines = [`**${title}**`, `${w.area}: ${wo.dma}`, `${w.location}: ${location}`];
  if (wo.burstFlowM3h !== undefined) lines.push(`${w.flow}: ${wo.burstFlowM3h.toFixed(1)} m³/h`);
  lines.push(`${w.crew}: ${wo.crew}`, `[${w.link}](${i.link})`);
  return { id: i.id, alarmId: wo.alarmId, title, text: lines.join('\n\n'), sms: { template: 'work_order', params: { area: wo.dma, location, link: i.link } } };
}
