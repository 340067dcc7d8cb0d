/**
 * CJJ 92-2016's corrected leakage rate against a worked example. The standard's text (5.2.2, 5.2.3)
 * gives the formulas but no worked figures we could find, so the example is built by hand from them:
 *
 *   a utility supplies Q_s = 10 000 × 10⁴ m³ in a year; its registered users use Q_a = 8 600 × 10⁴ m³
 *   R_WL = (10 000 − 8 600) ÷ 10 000                     = 14 %      (basic: "ungraded" if graded)
 *   r = 0.6 (60 % of the supply is residential, metered per household)
 *   R_1 = 0.08 × 0.6 × 100 %                              = 4.8 %
 *   L = 800 km of DN75+ mains: A = 800 ÷ 10 000            = 0.08 km per 10⁴ m³
 *   R_2 = 0.99 × (0.08 − 0.0693) × 100 %                  = 1.0593 %
 *   annual mean outlet pressure 0.40 MPa (> 0.35, ≤ 0.55)  → R_3 = 0.5 %
 *   maximum frozen-soil depth 0.5 m (≤ 1.4 m)              → R_4 = 0
 *   R_n = 4.8 + 1.0593 + 0.5 + 0                          = 6.3593 %
 *   R_BL = 14 − 6.3593                                    = 7.6407 %  → grade 1, within the national aim of 9 %
 */
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { correctedLeakage, outletPressure, outletPressureCorrectionPct, pipeLengthCorrectionPct } from './leakage-correction.ts';

const DAY = 86_400_000;
const YEAR_MS = 365 * DAY;
const INPUT_M3 = 10_000 * 10_000;
const example = { residentialMeteredShare: 0.6, dn75PipeLengthKm: 800, maxFrozenSoilDepthM: 0.5 };
const configuredPressure = { mpa: 0.4, source: 'leakage.annualMeanOutletPressureMpa' };

describe('CJJ 92-2016 corrected leakage rate', () => {
  it('reproduces the worked example: 14 % basic, 6.3593 % of corrections, 7.6407 % corrected, grade 1', () => {
    const r = correctedLeakage({ basicRatePct: 14, systemInputM3: INPUT_M3, periodMs: YEAR_MS }, example, configuredPressure);
    expect(r.corrections.map((c) => c.key)).toEqual(['R1', 'R2', 'R3', 'R4']);
    const [r1, r2, r3, r4] = r.corrections.map((c) => c.pct!);
    expect(r1).toBeCloseTo(4.8, 9);
    expect(r2).toBeCloseTo(1.0593, 9);
    expect(r3).toBe(0.5);
    expect(r4).toBe(0);
    expect(r.totalCorrectionPct).toBeCloseTo(6.3593, 9);
    expect(r.correctedRatePct).toBeCloseTo(7.6407, 9);
    expect(r).toMatchObject({ grade: 1, meetsNationalAim: true, missing: [], annualisedInputM3: INPUT_M3 });
    expect(r.corrections[2].source).toBe('leakage.annualMeanOutletPressureMpa');
  });

  it('annualises a quarter\'s supply for the pipe length per supply only: the same year in quarters gives the same rate', () => {
    const quarterMs = YEAR_MS / 4;
    const r = correctedLeakage({ basicRatePct: 14, systemInputM3: INPUT_M3 / 4, periodMs: quarterMs }, example, configuredPressure);
    expect(r.annualisedInputM3).toBeCloseTo(INPUT_M3, 3);
    expect(r.correctedRatePct).toBeCloseTo(7.6407, 9);
  });

  it('limits the pipe-length correction to ±3 % and bands the outlet pressure as the standard does', () => {
    expect(pipeLengthCorrectionPct(0, INPUT_M3)).toBe(-3); // 0.99 × (0 − 0.0693) = −6.9 % → −3 %
    expect(pipeLengthCorrectionPct(5000, INPUT_M3)).toBe(3); // A = 0.5 → +42 % → +3 %
    expect(pipeLengthCorrectionPct(693, INPUT_M3)).toBeCloseTo(0, 12); // A at the reference
    expect([0.35, 0.3501, 0.55, 0.56, 0.75, 0.76].map(outletPressureCorrectionPct)).toEqual([0, 0.5, 0.5, 1, 1, 2]);
    const frozen = (d: number) => correctedLeakage({ basicRatePct: 14, systemInputM3: INPUT_M3, periodMs: YEAR_MS }, { ...example, maxFrozenSoilDepthM: d }, configuredPressure).corrections[3].pct;
    expect([1.4, 1.41].map(frozen)).toEqual([0, 1]);
  });

  it('names every missing input instead of taking it as 0, and gives no corrected rate or grade', () => {
    const r = correctedLeakage({ basicRatePct: 14, systemInputM3: INPUT_M3, periodMs: YEAR_MS }, { residentialMeteredShare: 0.6 },
      { missing: 'leakage.annualMeanOutletPressureMpa (or leakage.outletPressureSensors)' });
    expect(r.corrections[0].pct).toBeCloseTo(4.8, 9);
    expect(r).toMatchObject({ totalCorrectionPct: null, correctedRatePct: null, grade: null, meetsNationalAim: null, basicRatePct: 14 });
    expect(r.missing).toEqual(['leakage.dn75PipeLengthKm', 'leakage.annualMeanOutletPressureMpa (or leakage.outletPressureSensors)', 'leakage.maxFrozenSoilDepthM']);
    const noInput = correctedLeakage({ basicRatePct: null, systemInputM3: null, periodMs: YEAR_MS }, example, configuredPressure);
    expect(noInput.corrections[1]).toMatchObject({ pct: null, missing: 'system input volume (the water balance gives none)' });
    expect(noInput.correctedRatePct).toBeNull();
  });

  it('measures the annual mean outlet pressure from the plant outlet sensors, weighting days by their samples', async () => {
    const store = new SqliteStore(':memory:');
    await store.init();
    const end = Date.parse('2026-10-01T00:00:00Z');
    const pts = [];
    // day 1: 10 samples at 0.6 MPa; day 2: 30 samples at 0.3 MPa → (6 + 9) ÷ 40 = 0.375 MPa
    for (let i = 0; i < 10; i++) pts.push({ measurement: 'pressure', sensor: 'P-out', ts: end - 3 * DAY + i * 60_000, value: 0.6, quality: 'good' as const, site: 'plant', dma: '' });
    for (let i = 0; i < 30; i++) pts.push({ measurement: 'pressure', sensor: 'P-out', ts: end - 2 * DAY + i * 60_000, value: 0.3, quality: 'good' as const, site: 'plant', dma: '' });
    await store.write(pts);
    const measured = await outletPressure(store, { outletPressureSensors: ['P-out'] }, end);
    expect(measured).toEqual({ mpa: expect.closeTo(0.375, 9), source: 'mean of P-out over 2 of the last 365 days' });
    expect(await outletPressure(store, { outletPressureSensors: ['P-none'] }, end)).toEqual({ missing: "leakage.outletPressureSensors: no pressure stored for P-none in the 365 days before the period's end" });
    expect(await outletPressure(store, { annualMeanOutletPressureMpa: 0.45, outletPressureSensors: ['P-out'] }, end)).toEqual({ mpa: 0.45, source: 'leakage.annualMeanOutletPressureMpa' });
    await store.close();
  });
});
