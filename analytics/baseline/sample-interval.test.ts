import { describe, expect, it } from 'vitest';
import { SampleInterval } from './sample-interval.ts';

const MIN = 60_000;

describe('SampleInterval', () => {
  it('keeps the declared interval until four gaps are seen, then reads the readings', () => {
    const i = new SampleInterval(MIN);
    for (let k = 0; k < 4; k++) i.observe(k * 5 * MIN);
    expect(i.ms).toBe(MIN);
    expect(i.inferred).toBe(false);
    expect(i.lastGapMs).toBe(5 * MIN);
    i.observe(4 * 5 * MIN);
    expect(i.ms).toBe(5 * MIN);
    expect(i.inferred).toBe(true);
    expect(i.minutes()).toBe(5);
    expect(i.minutes(3)).toBe(3);
  });

  it('is not moved by a few dropped samples, and follows a lasting change of interval', () => {
    const i = new SampleInterval(MIN);
    let ts = 0;
    const step = (gap: number) => i.observe((ts += gap));
    for (let k = 0; k < 9; k++) step(5 * MIN);
    step(10 * MIN);
    step(20 * MIN);
    step(5 * MIN);
    expect(i.ms).toBe(5 * MIN);
    for (let k = 0; k < 5; k++) step(15 * MIN);
    expect(i.ms).toBe(15 * MIN);
    step(7 * MIN);
    expect(i.lastGapMs).toBe(7 * MIN);
    expect(new SampleInterval(MIN).lastGapMs).toBeNaN();
  });

  it('ignores repeated and earlier timestamps', () => {
    const i = new SampleInterval(MIN);
    for (const ts of [0, 0, 5, 5, 3, 10, 15, 20, 25].map((m) => m * MIN)) i.observe(ts);
    expect(i.ms).toBe(5 * MIN);
  });
});
