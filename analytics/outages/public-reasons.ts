/**
 * The public page's texts for a planned outage's reason (review F18): one template per code of
 * PUBLIC_REASONS, in both languages, so what the public reads is chosen from a list, never typed.
 * Pure data: the server's public page and the dashboard's form both read it.
 */
import type { TextLanguage } from '../../core/messages/alarm-texts.ts';
import type { PublicReason } from './types.ts';

export const PUBLIC_REASON_TEXTS: Record<PublicReason, Record<TextLanguage, string>> = {
  planned_works: { 'zh-CN': '计划施工', en: 'Planned works' },
  maintenance: { 'zh-CN': '管网维护', en: 'Network maintenance' },
  pipe_repair: { 'zh-CN': '管道维修', en: 'Pipe repair' },
  pipe_renewal: { 'zh-CN': '管网改造', en: 'Pipe renewal' },
  connection_works: { 'zh-CN': '新建管道接驳', en: 'Connection of a new main' },
  valve_works: { 'zh-CN': '阀门检修', en: 'Valve works' },
  meter_works: { 'zh-CN': '水表更换', en: 'Meter replacement' },
  pumping_station_works: { 'zh-CN': '泵站检修', en: 'Pumping station works' },
  reservoir_cleaning: { 'zh-CN': '水池清洗', en: 'Reservoir cleaning' },
  power_works: { 'zh-CN': '供电线路检修', en: 'Power supply works' },
};
