import { describe, expect, it } from 'vitest';
import { medianAndMad, medianOf } from './median.ts';

/** The textbook definition, by sorting a copy. */
function sortedMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

describe('medianOf (quickselect)', () => {
  it('equals the median by sorting, for odd and even lengths, ties and runs, and leaves its input alone', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + (trial % 70);
      const xs = Array.from({ length: n }, () => (trial % 3 === 0 ? Math.round(rand() * 4) : rand() * 100 - 50));
      if (trial % 5 === 0) xs.sort((a, b) => a - b); // already sorted
      if (trial % 7 === 0) xs.reverse();
      const copy = [...xs];
      expect(medianOf(xs)).toBe(sortedMedian(xs));
      expect(xs).toEqual(copy);
      const { median, mad } = medianAndMad(xs);
      expect(median).toBe(sortedMedian(xs));
      expect(mad).toBe(sortedMedian(xs.map((x) => Math.abs(x - median))));
    }
    expect(medianOf([])).toBeNaN();
    expect(medianOf(new Float64Array([3, 1, 2, 9]), 3)).toBe(2); // the first n values only
    expect(medianOf(Array.from({ length: 5000 }, (_, i) => 4999 - i))).toBe(2499.5); // beyond the scratch buffer
  });
});
