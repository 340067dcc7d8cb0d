/**
 * The notes the incident book writes into an incident's history (analytics/outages/incident-book.ts),
 * in both languages: stored in English, shown in the reader's language (note-catalog.ts).
 */
import type { TextLanguage, TextParams } from './alarm-texts.ts';
import { noteCatalog } from './note-catalog.ts';

export const INCIDENT_NOTES = {
  manual_outage: { en: 'entered by hand: outage in {dma}', 'zh-CN': '手工录入：{dma} 停水' },
  manual_low_pressure: { en: 'entered by hand: low pressure in {dma}', 'zh-CN': '手工录入：{dma} 供水不足' },
  continued_as: { en: 'continued as {id}', 'zh-CN': '后续部分为 {id}' },
  split_from: { en: 'split from {id} at {at}', 'zh-CN': '于 {at} 从 {id} 拆分' },
  low_pressure_opened: { en: 'network-end pressure below the service minimum', 'zh-CN': '管网末梢压力低于最低服务压力' },
  emergency_opened: { en: 'outage reached {hours} h: emergency supply record {id} opened', 'zh-CN': '停水已达 {hours} 小时：已建立应急供水记录 {id}' },
  emergency_updated: { en: 'emergency supply {id} updated', 'zh-CN': '应急供水记录 {id} 已更新' },
} satisfies Record<string, Record<TextLanguage, string>>;

export type IncidentNoteCode = keyof typeof INCIDENT_NOTES;

const catalog = noteCatalog(INCIDENT_NOTES);

/** A history note as the book stores it (English). */
export const incidentNote: (code: IncidentNoteCode, params?: TextParams) => string = catalog.write;

/** A history note in `language` (one written otherwise, as it came). */
export const localizeIncidentNote: (note: string, language: TextLanguage) => string = catalog.localize;
