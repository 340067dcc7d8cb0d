/** Every alarm text has zh-CN and en with the same parameters; terms and unknown codes render sensibly. */
import { describe, expect, it } from 'vitest';
import { ALARM_TEXTS, ALARM_TYPE_NAMES, TEXT_TERMS, alarmMessage, alarmText, renderAlarmText } from './alarm-texts.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('alarm texts', () => {
  it('every code has both languages, with the same placeholders', () => {
    for (const [code, texts] of Object.entries(ALARM_TEXTS)) {
      expect(texts.en, code).not.toBe('');
      expect(texts['zh-CN'], code).toMatch(/[\u4e00-\u9fff]/);
      expect(placeholders(texts['zh-CN']), code).toEqual(placeholders(texts.en));
    }
    for (const [term, texts] of Object.entries(TEXT_TERMS)) expect(texts['zh-CN'] && texts.en, term).toBeTruthy();
    for (const [type, names] of Object.entries(ALARM_TYPE_NAMES)) expect(names['zh-CN'] && names.en, type).toBeTruthy();
  });

  it('renders the parameters and translates @terms', () => {
    const burst = alarmText('burst.raise_located', { dma: 'central', flow: '42.0', share: 12, sensor: 'P-7', dropKpa: '35.0' });
    expect(renderAlarmText(burst, 'en')).toBe('Possible burst in DMA central: net inflow 42.0 m³/h above its baseline (12 % of mean inflow), largest pressure drop at P-7 (35.0 kPa)');
    expect(renderAlarmText(burst, 'zh-CN')).toBe('central 分区疑似爆管:净进水量高于基线 42.0 m³/h(平均进水量的 12 %),P-7 处压降最大(35.0 kPa)');
    const quality = alarmText('quality.beyond_limit', { param: '@quality.chlorine', direction: '@below', sensor: 'Q-1', value: 0.02, unit: 'mg/L', limit: 0.05 });
    expect(renderAlarmText(quality, 'en')).toBe('Free chlorine below the limit at Q-1: 0.02 mg/L (limit 0.05)');
    expect(renderAlarmText(quality, 'zh-CN')).toBe('Q-1 游离氯低于限值:0.02 mg/L(限值 0.05)');
  });

  it('a message without a code (a source\'s own condition) shows as it came; an unknown code still says something', () => {
    expect(alarmMessage({ message: 'outbox full' }, 'zh-CN')).toBe('outbox full');
    expect(renderAlarmText({ code: 'no.such', params: { a: 1 } }, 'en')).toBe('no.such {"a":1}');
  });
});
