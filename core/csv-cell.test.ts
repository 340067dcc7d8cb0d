import { describe, it, expect } from 'vitest';
import { csvCell } from './csv-cell.ts';

describe('CSV cells (review finding F23: CSV injection)', () => {
  it('neutralises text a spreadsheet would run as a formula', () => {
    for (const t of ['=HYPERLINK("http://x","y")', '+cmd', '-2+3', '@SUM(A1)', '\tx', '\rx']) {
      expect(csvCell(t).replace(/^"/, '').startsWith("'")).toBe(true);
    }
    expect(csvCell('=1,2')).toBe(`"'=1,2"`);
  });
  it('leaves numbers and ordinary text alone', () => {
    expect(csvCell(-2.5)).toBe('-2.5');
    expect(csvCell('-2.5')).toBe('-2.5');
    expect(csvCell('Central DMA')).toBe('Central DMA');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(null)).toBe('');
  });
});
