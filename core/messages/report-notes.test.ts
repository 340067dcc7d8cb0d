import { describe, expect, it } from 'vitest';
import { localizeReportNote, REPORT_NOTES, reportNote } from './report-notes.ts';

describe('report notes', () => {
  it('are written in English and given back in either language with their parameters', () => {
    const note = reportNote('leakage_inputs_missing', { missing: 'leakage.dn75PipeLengthKm; leakage.maxFrozenSoilDepthM' });
    expect(note).toBe('corrected leakage rate (CJJ 92-2016) not given: missing leakage.dn75PipeLengthKm; leakage.maxFrozenSoilDepthM');
    expect(localizeReportNote(note, 'zh-CN')).toBe('未给出修正漏损率（CJJ 92-2016）：缺少 leakage.dn75PipeLengthKm; leakage.maxFrozenSoilDepthM');
    expect(localizeReportNote(note, 'en')).toBe(note);
    expect(localizeReportNote(reportNote('meters_without_dma', { n: 3 }), 'zh-CN')).toBe('3 个水表不属于任何分区，未计入水量平衡');
    // a note from elsewhere stays as it came
    expect(localizeReportNote('something else', 'zh-CN')).toBe('something else');
  });

  it('have both languages with the same placeholders for every note', () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [code, texts] of Object.entries(REPORT_NOTES)) {
      expect(names(texts['zh-CN']), code).toEqual(names(texts.en));
      expect(texts['zh-CN'].trim(), code).not.toBe('');
    }
  });
});
