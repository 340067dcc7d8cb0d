/**
 * Number texts are read in linear time (review finding F7: the old pattern took about 1 s for 30,000
 * digits followed by a letter, and the square of that for longer runs). The bound below is very
 * generous for the new code (microseconds) and far below the old code's minutes, so the test does
 * not depend on the machine being idle.
 */
import { describe, it, expect } from 'vitest';
import { isDecimalText, parseDecimalText, MAX_NUMBER_TEXT } from './decimal-text.ts';
import { csvBodyToItems } from '../pda/items.ts';
import { timestampReader } from '../csv/timestamps.ts';

const hostile = '1'.repeat(200_000) + 'x';

function elapsedMs(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

describe('decimal text', () => {
  it('reads plain decimal numbers, with either decimal mark', () => {
    expect(parseDecimalText('12.5')).toBe(12.5);
    expect(parseDecimalText('-.5e3')).toBe(-500);
    expect(parseDecimalText('12,5', ',')).toBe(12.5);
    expect(parseDecimalText('12.5', ',')).toBeNaN();
    expect(parseDecimalText('0x10')).toBeNaN();
    expect(parseDecimalText('1e')).toBeNaN();
    expect(isDecimalText('42')).toBe(true);
    expect(isDecimalText('4 2')).toBe(false);
    expect(isDecimalText('1'.repeat(MAX_NUMBER_TEXT + 1))).toBe(false);
  });

  it('refuses a hostile digit run at once', () => {
    expect(elapsedMs(() => expect(parseDecimalText(hostile)).toBeNaN())).toBeLessThan(1000);
    expect(elapsedMs(() => expect(parseDecimalText(hostile.slice(0, MAX_NUMBER_TEXT - 1) + 'x')).toBeNaN())).toBeLessThan(1000);
  });

  it('a PDA CSV upload with a hostile reading cell is answered at once', () => {
    const body = `meter,reading,time\nM-1,${'1'.repeat(30_000)}x,2026-06-01T08:00:00Z\nM-2,12.5,2026-06-01T08:00:00Z\n`;
    let items: Record<string, unknown>[] = [];
    expect(elapsedMs(() => { items = csvBodyToItems(body); })).toBeLessThan(1000);
    expect(items[1]).toMatchObject({ meter: 'M-2', reading: 12.5 });
    expect(typeof items[0].reading).toBe('string'); // kept as text: the item check names the field
  });

  it('a CSV import epoch column with a hostile cell is answered at once', () => {
    const read = timestampReader('epoch-ms');
    expect(elapsedMs(() => expect(read(hostile).ok).toBe(false))).toBeLessThan(1000);
  });
});
