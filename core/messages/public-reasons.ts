/**
 * What the public page may say about a planned outage (review F18): a template chosen from this
 * list, in both languages, so what the public reads is chosen, never typed; the free-text `reason`
 * stays internal. `planned_works` is the neutral one, and what entries from before the list show.
 * Pure data shared with the browser: the server's public page and the dashboard's form both read it.
 */
import type { TextLanguage } from './alarm-texts.ts';

export const PUBLIC_REASONS = [
  'planned_works', 'maintenance', 'pipe_repair', 'pipe_renewal', 'connection_works', 'valve_works', 'meter_works',
  'pumping_station_works', 'reservoir_cleaning', 'power_works',
] as const;
export type PublicReason = (typeof PUBLIC_REASONS)[number];

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
