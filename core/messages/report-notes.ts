/**
 * The notes a KPI report carries (what a figure lacks and why), in both languages. The report keeps
 * its notes as English text (the CLI, the CSV and the printed report show them so); the producers
 * write them only through `reportNote`, so the web app can give each note back in its reader's
 * language with `localizeReportNote` (note-catalog.ts).
 */
import type { TextLanguage, TextParams } from './alarm-texts.ts';
import { noteCatalog } from './note-catalog.ts';

export const REPORT_NOTES = {
  no_incident_register: { en: 'no incident register: outage figures are empty', 'zh-CN': '无停水事件登记：停水指标为空' },
  no_customers: { en: 'no customers served in the topology: SAIDI and SAIFI are not defined', 'zh-CN': '拓扑中没有供水用户：无法计算户均停水时间与停水频率' },
  leakage_inputs_missing: {
    en: 'corrected leakage rate (CJJ 92-2016) not given: missing {missing}',
    'zh-CN': '未给出修正漏损率（CJJ 92-2016）：缺少 {missing}',
  },
  no_pressure_sensors: { en: 'no network pressure sensors: no pressure compliance', 'zh-CN': '管网无压力传感器：无压力合格率' },
  no_night_flow: { en: 'no night-flow series stored for the period', 'zh-CN': '该时段没有存储夜间流量数据' },
  meters_without_dma: { en: '{n} meter(s) belong to no DMA and are in no balance', 'zh-CN': '{n} 个水表不属于任何分区，未计入水量平衡' },
  /** The quarterly disclosure's figures (dashboard/server/disclosure-figures.ts). */
  no_complaint_ledger: { en: 'no complaint ledger in this server: complaint counts are not given', 'zh-CN': '本服务器没有投诉台账：不提供投诉数量' },
  quarter_not_ended: { en: 'the quarter has not ended: figures so far', 'zh-CN': '本季度尚未结束：为截至目前的数据' },
} satisfies Record<string, Record<TextLanguage, string>>;

export type ReportNoteCode = keyof typeof REPORT_NOTES;

const catalog = noteCatalog(REPORT_NOTES);

/** A report note, as the report stores it (English). */
export const reportNote: (code: ReportNoteCode, params?: TextParams) => string = catalog.write;

/** A report's note in `language` (a note from elsewhere, not written by reportNote, as it came). */
export const localizeReportNote: (note: string, language: TextLanguage) => string = catalog.localize;
