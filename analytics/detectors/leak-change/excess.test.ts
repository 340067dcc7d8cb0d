import { describe, it, expect } from 'vitest';
import { DayExcessMeter } from './excess.ts';
import { Rng } from '../../../simulators/hydraulics/random.ts';

/**
 * Hourly residuals (m³/h) of a DMA whose day hours (09:00–20:00) move together, a warm day raising
 * them all by the same amount (4 m³/h × a normal deviate, the hours' own scatter 1 m³/h), while its
 * night hours scatter independently by 2 m³/h: the noise of a 3-hour mean of standardised hours is
 * then about 1 by day and 1/√3 at night.
 */
function residual(rng: Rng, dayShift: number, hour: number): number {
  return hour >= 9 && hour <= 20 ? 4 * dayShift + rng.normal() : 2 * rng.normal();
}

/** A meter that has seen four weeks of such hours, and the generator to go on with. */
function learnt(): { meter: DayExcessMeter; rng: Rng } {
  const rng = new Rng(11, 'excess');
  const meter = new DayExcessMeter(3, 24);
  for (let day = 0; day < 28; day++) {
    const shift = rng.normal();
    for (let hour = 0; hour < 24; hour++) meter.add(hour, residual(rng, shift, hour), 0.01);
  }
  return { meter, rng };
}

describe('the report by day\'s excess (DayExcessMeter)', () => {
  it('judges a 3-hour window against the windows at the same time of day: a step in the quiet night is not measured with the day\'s noise', () => {
    // from 22:00 the night hours run 5 m³/h higher (2.5 of their σ): three such hours stand at
    // 2.5 / (1/√3) ≈ 4.3 σ against the night's windows; against one noise for every window of the
    // day (half of them moving together, their noise near 1) they stand lower
    const { meter, rng } = learnt();
    const excess: number[] = [];
    for (let hour = 0; hour < 27; hour++) {
      const r = residual(rng, 0, hour % 24) + (hour >= 22 ? 5 : 0);
      excess.push(meter.add(hour % 24, r, 0.01)?.rawSigmas ?? NaN);
    }
    // the window 23:00–02:00, three hours of the step (with this seed 4.8 σ; 3.7 with one noise for all)
    expect(excess[25]).toBeGreaterThan(4.2);
  });

  it('and a step by day against the day\'s windows, which move together: 5 m³/h on three day hours stays within their noise', () => {
    const { meter, rng } = learnt();
    let atNoon = NaN;
    for (let hour = 0; hour <= 12; hour++) atNoon = meter.add(hour, residual(rng, 0, hour) + (hour >= 10 ? 5 : 0), 0.01)?.rawSigmas ?? NaN;
    expect(atNoon).toBeGreaterThan(0.5);
    expect(atNoon).toBeLessThan(2.5);
  });
});
