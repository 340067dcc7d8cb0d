/**
 * The burst detector at coarse sample intervals (#12.2): the suite's burst scenarios and quiet week
 * (bench/detect/burst.ts) with the flow and pressure readings resampled to one instantaneous sample
 * every 5 and every 15 minutes before the detectors see them. Resampling the simulator's 1-min
 * readings, rather than simulating at a coarser step, keeps the very same demand, events and
 * hydraulics as the 1-min figures, so the figures differ by the sampling alone; and the topology
 * still declares 60 s, so the detector must infer the interval from the readings (as with data a
 * utility imports). Deterministic.
 *
 * On the same runs it measures what the data itself holds, whatever a detector makes of it
 * (`measureStepEvidence`): how far each burst stands out of the quiet samples' noise on the flow
 * step alone, on a step held over more samples, on the DMA's pressure drop against the system's,
 * and on flow and pressure combined, and the recall each would give at the false-alarm target; and
 * runs small-bursts.yaml again with its bursts 1.5 and 2 times as large at 15-min data, to check the
 * size that measurement says 15-min data needs. Then some 190 bursts of the suite's small size
 * injected at random minutes into quiet-week.yaml's inlet meters, at 1-, 5- and 15-min data
 * (injected-bursts.ts): the same recall on ten times as many bursts. About 12 minutes in all.
 *
 *   npm run bench -- detect:cadence
 */
import { TimeOfWeekBaseline } from '../../analytics/baseline/time-of-week.ts';
import { madSigma, medianOf } from '../../analytics/baseline/median.ts';
import { LocalTime } from '../../analytics/baseline/local-time.ts';
import { DMA_INFLOW_MEASUREMENT } from '../../analytics/dma-inflow.ts';
import type { Point } from '../../core/model/reading.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bursts, measureBurstsAt, SUITE_START, type ObservedRun } from './burst.ts';
import { SUITE } from '../../test/support/sim-drive.ts';
import { measureInjectedBursts } from './injected-bursts.ts';

export const CADENCE_INTERVALS_MIN = [5, 15];

export async function measureBurstsAtCoarseIntervals(log: (line: string) => void): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  for (const intervalMin of CADENCE_INTERVALS_MIN) {
    const observed: ObservedRun[] = [];
    Object.assign(figures, await measureBurstsAt(intervalMin, log, (o) => observed.push(o)));
    measureStepEvidence(observed, intervalMin, log);
  }
  for (const factor of LARGER_BURSTS) await measureLargerSmallBursts(factor, 15, log);
  for (const intervalMin of [1, ...CADENCE_INTERVALS_MIN]) {
    const r = await measureInjectedBursts(intervalMin, INJECTED_FRACTION);
    const suffix = `_${intervalMin}min`;
    figures[`detect.burst_recall_injected${suffix}`] = r.recall;
    figures[`detect.burst_false_alarms_per_dma_4w_injected${suffix}`] = r.falseAlarmsPerDma4w;
    log(JSON.stringify({ intervalMin, scenario: `quiet-week.yaml, ${r.bursts} bursts of ${INJECTED_FRACTION * 100} % of mean inflow injected at the inlet meters`, ...r, recall: round(r.recall, 3), falseAlarmsPerDma4w: round(r.falseAlarmsPerDma4w, 2) }));
  }
  return figures;
}

/** The injected bursts' size, a share of the DMA's mean net inflow: the suite's small bursts'. */
const INJECTED_FRACTION = 0.065;

/** small-bursts.yaml's bursts this many times as large (≈ 10 % and 13 % of mean inflow), at 15-min data. */
const LARGER_BURSTS = [1.5, 2];

/**
 * The detector on small-bursts.yaml with every burst `factor` times its size (the same times,
 * places, demand and seed), at `intervalMin`: checks the size measureStepEvidence says 15-min data
 * needs for 95 % (7–13 % of mean inflow), with the detector as it is.
 */
async function measureLargerSmallBursts(factor: number, intervalMin: number, log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aquawatch-cadence-'));
  try {
    const text = readFileSync(join(SUITE, 'small-bursts.yaml'), 'utf8')
      .replace(/(\bflow: )([0-9.]+)/g, (_, key: string, flow: string) => `${key}${round(Number(flow) * factor, 2)}`)
    const file = join(dir, `small-bursts-x${factor}.yaml`);
    writeFileSync(file, text);
    const { s } = await bursts(file, intervalMin);
    log(JSON.stringify({
      intervalMin, scenario: `small-bursts.yaml, bursts × ${factor}`, recall: round(s.found.length / (s.found.length + s.missed.length), 2),
      missed: s.missed.map((m) => m.id), delaysMin: s.found.map((f) => f.delayMin), falseAlarms: s.falseAlarms.length,
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Samples this far from every burst of a run are quiet: they give the noise scales and the false-alarm rate. */
const QUIET_DISTANCE_MS = 3 * HOUR;
/** A burst counts as found up to this long after its end (the suite's recall definition, bench/detect/burst.ts). */
const GRACE_MS = 30 * MIN;
/** The false-alarm target: at most one per DMA per 4 weeks. */
const FALSE_ALARMS_PER_DMA_DAY = 1 / 28;

/** One DMA at one sample: the flow steps held over 1…4 samples and the pressure drop against the system. */
interface StepSample {
  run: ObservedRun;
  dma: string;
  ts: number;
  /** Net inflow ÷ baseline − 1: mean of the k samples from ts against the median of the 3 before (k = 1…4). */
  flowStep: number[];
  /** Median step of the other DMAs' pressure residuals − mean step of this DMA's, MPa (a drop is positive). */
  pressureDrop: number;
  /** Mean step of this DMA's pressure residuals, MPa. */
  ownPressureStep: number;
  /** Mean step of each other DMA's pressure residuals (DMAs in name order), MPa. */
  otherPressureSteps: number[];
  /** Net inflow ÷ baseline − 1 at ts and the AR_LAGS samples before it, read against ts's baseline (NaN where one is missing). */
  lagged: number[];
  /** The same, each sample read against its own slot's median (the baseline at the time of the readings it holds, no lag). */
  laggedAtSlot: number[];
}

/** Samples before ts the linear prediction of the residual reads (an AR(p) model of the demand's wander, p = 1…AR_LAGS). */
const AR_LAGS = 3;

/**
 * Series key → (ts → value − its time-of-week baseline), the baseline fed online as the detector's
 * (from earlier days only); `relative` divides by the baseline (the net inflow's ratio). With
 * `lagsMs` also, per series and ts, the ratios of the `lags` samples before it read against the
 * baseline ts is read against (a sample of the day before against today's kind of day, as the
 * detector's prediction reads it: the day types' baselines differ, and the ratio would jump at
 * midnight where demand did not). `readAt` 'interpolated' reads the baseline as the detector does
 * (slot medians interpolated between slot centres: at samples on the quarter hour each slot holds
 * one reading, from its start, so it lags ramps by half a slot); 'slot' reads the median of the
 * sample's own slot (the time its readings were taken: no lag, but no averaging of two slots either).
 */
function residuals(points: readonly Point[], timezone: string, historyDays: number | undefined, relative: boolean, lags = 0, lagsMs = 0, readAt: 'interpolated' | 'slot' = 'interpolated'): {
  residual: Map<string, Map<number, number>>;
  lagged: Map<string, Map<number, number[]>>;
} {
  const baseline = new TimeOfWeekBaseline({ timezone, historyDays });
  const residual = new Map<string, Map<number, number>>();
  const lagged = new Map<string, Map<number, number[]>>();
  const raw = new Map<string, Map<number, number>>();
  // the centre of ts's slot, where expected() returns the slot's own median
  const readTs = (ts: number) => {
    if (readAt === 'interpolated') return ts;
    const msOfDay = baseline.local.position(ts).msOfDay;
    return ts - (msOfDay % baseline.slotMs) + baseline.slotMs / 2;
  };
  for (const p of points) {
    baseline.advance(p.ts);
    baseline.add(p.sensor, p.ts, p.value);
    let values = raw.get(p.sensor);
    if (!values) raw.set(p.sensor, (values = new Map()));
    if (lags) values.set(p.ts, p.value);
    const e = baseline.expected(p.sensor, readTs(p.ts));
    if (!e || !e.sameType || (relative && !(e.median > 0))) continue;
    let series = residual.get(p.sensor);
    if (!series) residual.set(p.sensor, (series = new Map()));
    series.set(p.ts, relative ? p.value / e.median - 1 : p.value - e.median);
    if (!lags) continue;
    const day = baseline.local.position(p.ts).day;
    const read = Array.from({ length: lags }, (_, i) => {
      const ts = p.ts - (i + 1) * lagsMs;
      if (baseline.local.position(ts).day === day) return series.get(ts) ?? NaN;
      const like = baseline.expectedLike(p.sensor, readTs(ts), p.ts);
      const value = values.get(ts);
      return like && value !== undefined && like.median > 0 ? (relative ? value / like.median - 1 : value - like.median) : NaN;
    });
    let byTs = lagged.get(p.sensor);
    if (!byTs) lagged.set(p.sensor, (byTs = new Map()));
    byTs.set(p.ts, read);
  }
  return { residual, lagged };
}

/** Mean of the `after` samples from `ts` against the median of the 3 before (the detector's windows at a coarse interval); NaN when one is missing. */
function stepAt(series: Map<number, number> | undefined, ts: number, stepMs: number, after: number): number {
  if (!series) return NaN;
  const before: number[] = [];
  for (let i = 1; i <= 3; i++) before.push(series.get(ts - i * stepMs) ?? NaN);
  let sum = 0;
  for (let i = 0; i < after; i++) sum += series.get(ts + i * stepMs) ?? NaN;
  return sum / after - medianOf(before);
}

function stepSamples(o: ObservedRun, stepMs: number): StepSample[] {
  const inflow = o.run.derived.filter((p) => p.measurement === DMA_INFLOW_MEASUREMENT);
  const { residual: flows, lagged } = residuals(inflow, o.timezone, undefined, true, AR_LAGS, stepMs);
  const atSlot = residuals(inflow, o.timezone, undefined, true, AR_LAGS, stepMs, 'slot');
  const pressures = residuals(o.pressures, o.timezone, 14, false).residual;
  const dmaOf = new Map<string, string>();
  for (const p of o.pressures) dmaOf.set(p.sensor, p.dma ?? '');
  const dmaNames = [...new Set(dmaOf.values())].sort();
  const out: StepSample[] = [];
  for (const [dma, series] of flows) {
    for (const ts of series.keys()) {
      if (ts < SUITE_START) continue;
      const own: number[] = [];
      const others: number[] = [];
      const byOtherDma = new Map<string, number[]>();
      for (const [sensor, s] of pressures) {
        const step = stepAt(s, ts, stepMs, 1);
        const sensorDma = dmaOf.get(sensor) ?? '';
        if (!Number.isFinite(step)) continue;
        (sensorDma === dma ? own : others).push(step);
        if (sensorDma === dma) continue;
        let steps = byOtherDma.get(sensorDma);
        if (!steps) byOtherDma.set(sensorDma, (steps = []));
        steps.push(step);
      }
      const ownMean = meanOf(own);
      out.push({
        run: o, dma, ts, flowStep: [1, 2, 3, 4].map((k) => stepAt(series, ts, stepMs, k)),
        pressureDrop: own.length && others.length ? medianOf(others) - ownMean : NaN,
        ownPressureStep: ownMean,
        otherPressureSteps: dmaNames.filter((d) => d !== dma).map((d) => meanOf(byOtherDma.get(d) ?? [])),
        lagged: [series.get(ts) ?? NaN, ...(lagged.get(dma)?.get(ts) ?? new Array(AR_LAGS).fill(NaN))],
        laggedAtSlot: [atSlot.residual.get(dma)?.get(ts) ?? NaN, ...(atSlot.lagged.get(dma)?.get(ts) ?? new Array(AR_LAGS).fill(NaN))],
      });
    }
  }
  return out;
}

/** Mean of the values; NaN when there are none. */
function meanOf(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/** Robust correlation of two noise-scaled series: (MAD(x+y)² − MAD(x−y)²) / (MAD(x+y)² + MAD(x−y)²). */
function robustCorrelation(x: number[], y: number[]): number {
  const plus = madSigma(x.map((v, i) => v + y[i])) ** 2;
  const minus = madSigma(x.map((v, i) => v - y[i])) ** 2;
  return (plus - minus) / (plus + minus);
}

/**
 * How far each burst stands out, in noise scales learned per DMA from the quiet samples of all the
 * runs (pooled over the whole run, where the detector learns over the last 12 h), on:
 * - the flow step the detector tests (1 sample after against the median of 3 before);
 * - the same step held over 2, 3, 4 samples (persistence: a burst lasts; costs 15 min each at 15-min data);
 * - the DMA's pressure drop against the system's (the median step of the other DMAs' sensors);
 * - flow and pressure combined: (z_flow + z_pressure) / √(2 (1 + ρ)), ρ their correlation on quiet
 *   samples (demand rising in a DMA lowers its pressures too), so the sum is again one noise scale;
 * - flow and pressure each above the same threshold (the smaller of the two z's);
 * - the flow's innovation: the residual less its linear prediction from the last 1, 2 or 3 samples
 *   (AR(p), least squares on the quiet samples): the demand's wander is smooth, so its next value is
 *   partly known; and AR(2)'s innovation against a noise scale per local hour of day, with the
 *   baseline read as the detector reads it and read at each sample's own slot (no half-slot lag);
 * - the DMA's pressure drop against a linear model of its loggers' mean step from each other DMA's
 *   (least squares on the quiet samples: takes out the pump's steps and the plant's head, which move
 *   every DMA's pressures together but not equally), alone and combined with AR(2)'s hourly innovation
 *   as above.
 * For each: the lowest threshold that quiet samples pass at most once per DMA per 4 weeks (every
 * sample over it counted as an alarm), and the share of the runs' bursts that pass it at some
 * sample between their start and 30 min after their end (the suite's recall).
 */
export function measureStepEvidence(observed: readonly ObservedRun[], intervalMin: number, log: (line: string) => void): void {
  const stepMs = intervalMin * MIN;
  const samples = observed.flatMap((o) => stepSamples(o, stepMs));
  const bursts = observed.flatMap((o) => o.run.groundTruth.filter((t) => t.type === 'burst' && t.start >= SUITE_START).map((truth) => ({ run: o, truth })));
  const quiet = samples.filter((s) => bursts.every((b) => b.run !== s.run
    || s.ts < b.truth.start - QUIET_DISTANCE_MS || s.ts > (b.truth.end ?? Infinity) + QUIET_DISTANCE_MS));
  const dmas = [...new Set(samples.map((s) => s.dma))];

  // noise scales and the flow–pressure correlation per DMA, from the quiet samples
  const scale = new Map<string, { flow: number[]; pressure: number; rho: number }>();
  for (const dma of dmas) {
    const q = quiet.filter((s) => s.dma === dma && s.flowStep.every(Number.isFinite) && Number.isFinite(s.pressureDrop));
    const flow = [0, 1, 2, 3].map((k) => madSigma(q.map((s) => s.flowStep[k])));
    const pressure = madSigma(q.map((s) => s.pressureDrop));
    scale.set(dma, { flow, pressure, rho: robustCorrelation(q.map((s) => s.flowStep[0] / flow[0]), q.map((s) => s.pressureDrop / pressure)) });
  }
  // per DMA and order p: the least-squares AR(p) coefficients of the residual on the quiet samples, and the MAD scale of its innovation
  const ar = new Map<string, { coefficients: number[]; scale: number }[]>();
  for (const dma of dmas) {
    const q = quiet.filter((s) => s.dma === dma && s.lagged.every(Number.isFinite));
    ar.set(dma, [1, 2, 3].map((p) => {
      const coefficients = leastSquares(q.map((s) => s.lagged.slice(1, p + 1)), q.map((s) => s.lagged[0]));
      return { coefficients, scale: madSigma(q.map((s) => innovation(s.lagged, coefficients))) };
    }));
  }
  const zInnovation = (s: StepSample, p: number) => { const m = ar.get(s.dma)![p - 1]; return innovation(s.lagged, m.coefficients) / m.scale; };
  // the AR(2) innovation's scale per DMA and local hour of day: the prediction errs most where demand turns (the morning's rise)
  const clocks = new Map<string, LocalTime>();
  const hourOf = (s: StepSample) => {
    let clock = clocks.get(s.run.timezone);
    if (!clock) clocks.set(s.run.timezone, (clock = new LocalTime(s.run.timezone)));
    return Math.floor(clock.position(s.ts).msOfDay / (60 * MIN));
  };
  const zHourly = hourlyInnovationZ(quiet, dmas, hourOf, (s) => s.lagged);
  const zHourlyAtSlot = hourlyInnovationZ(quiet, dmas, hourOf, (s) => s.laggedAtSlot);
  // per DMA: its loggers' mean step as a linear function of each other DMA's (least squares on the quiet
  // samples), which takes out what moves every DMA's pressures together (the pump's starts and stops,
  // the plant's head); the drop against it in noise scales, and its correlation with the flow's innovation
  const pressureModel = new Map<string, { coefficients: number[]; scale: number; rho: number }>();
  const modelDrop = (s: StepSample, coefficients: readonly number[]) =>
    coefficients[0] + s.otherPressureSteps.reduce((sum, v, i) => sum + coefficients[i + 1] * v, 0) - s.ownPressureStep;
  for (const dma of dmas) {
    const q = quiet.filter((s) => s.dma === dma && Number.isFinite(s.ownPressureStep) && s.otherPressureSteps.every(Number.isFinite));
    const coefficients = leastSquares(q.map((s) => [1, ...s.otherPressureSteps]), q.map((s) => s.ownPressureStep));
    const drops = q.map((s) => modelDrop(s, coefficients));
    const dropScale = madSigma(drops);
    const paired = q.filter((s) => s.lagged.every(Number.isFinite));
    pressureModel.set(dma, {
      coefficients, scale: dropScale,
      rho: robustCorrelation(paired.map(zHourly), paired.map((s) => modelDrop(s, coefficients) / dropScale)),
    });
  }
  const zModelDrop = (s: StepSample) => { const m = pressureModel.get(s.dma)!; return modelDrop(s, m.coefficients) / m.scale; };
  const zFlow = (s: StepSample, k: number) => s.flowStep[k] / scale.get(s.dma)!.flow[k];
  const zPressure = (s: StepSample) => s.pressureDrop / scale.get(s.dma)!.pressure;
  const statistics: { name: string; heldSamples: number; z: (s: StepSample) => number }[] = [
    { name: 'flow step (the detector\'s)', heldSamples: 1, z: (s) => zFlow(s, 0) },
    ...[1, 2, 3].map((k) => ({ name: `flow step held ${k + 1} samples`, heldSamples: k + 1, z: (s: StepSample) => zFlow(s, k) })),
    { name: 'pressure drop against the system', heldSamples: 1, z: zPressure },
    { name: 'flow + pressure', heldSamples: 1, z: (s) => (zFlow(s, 0) + zPressure(s)) / Math.sqrt(2 * (1 + scale.get(s.dma)!.rho)) },
    { name: 'flow and pressure each', heldSamples: 1, z: (s) => Math.min(zFlow(s, 0), zPressure(s)) },
    ...[1, 2, 3].map((p) => ({ name: `flow innovation, AR(${p}) prediction from the last ${p} samples`, heldSamples: 1, z: (s: StepSample) => zInnovation(s, p) })),
    { name: 'flow innovation, AR(2), its noise scale per local hour', heldSamples: 1, z: zHourly },
    { name: 'the same, each sample read against its own slot\'s median (no half-slot lag)', heldSamples: 1, z: zHourlyAtSlot },
    { name: 'pressure drop against the other DMAs\' loggers (a linear model of each DMA\'s from theirs)', heldSamples: 1, z: zModelDrop },
    {
      name: 'flow innovation (AR(2), per local hour) + that pressure drop', heldSamples: 1,
      z: (s) => (zHourly(s) + zModelDrop(s)) / Math.sqrt(2 * (1 + pressureModel.get(s.dma)!.rho)),
    },
  ];

  const quietDmaDays = (quiet.length * stepMs) / DAY;
  log(JSON.stringify({
    intervalMin, evidence: 'noise scales on quiet samples', quietDmaDays: round(quietDmaDays, 1),
    flowStepScalePercentOfFlow: Object.fromEntries(dmas.map((d) => [d, round(100 * scale.get(d)!.flow[0], 2)])),
    pressureDropScaleKPa: Object.fromEntries(dmas.map((d) => [d, round(1000 * scale.get(d)!.pressure, 2)])),
    flowPressureCorrelation: Object.fromEntries(dmas.map((d) => [d, round(scale.get(d)!.rho, 2)])),
    arCoefficients: Object.fromEntries(dmas.map((d) => [d, ar.get(d)!.map((m) => m.coefficients.map((c) => round(c, 3)))])),
    arInnovationScalePercentOfFlow: Object.fromEntries(dmas.map((d) => [d, ar.get(d)!.map((m) => round(100 * m.scale, 2))])),
    modelPressureDropScaleKPa: Object.fromEntries(dmas.map((d) => [d, round(1000 * pressureModel.get(d)!.scale, 2)])),
    innovationModelDropCorrelation: Object.fromEntries(dmas.map((d) => [d, round(pressureModel.get(d)!.rho, 2)])),
  }));
  for (const stat of statistics) {
    const quietZ = quiet.map(stat.z).filter(Number.isFinite).sort((a, b) => b - a);
    // the lowest threshold passed at most once per DMA per 4 weeks: just above the (allowed + 1)-th largest quiet z
    const allowed = Math.floor(quietDmaDays * FALSE_ALARMS_PER_DMA_DAY);
    const threshold = quietZ.length > allowed ? quietZ[allowed] + 1e-9 : 0;
    const perBurst = bursts.map((b) => {
      const end = (b.truth.end ?? Infinity) + GRACE_MS;
      // the statistic at ts is known once its last held sample is in
      const zs = samples.filter((s) => s.run === b.run && s.dma === b.truth.dma && s.ts >= b.truth.start
        && s.ts + (stat.heldSamples - 1) * stepMs <= end).map(stat.z).filter(Number.isFinite);
      return { id: b.truth.id, first: zs[0] ?? NaN, best: zs.length ? Math.max(...zs) : NaN };
    });
    log(JSON.stringify({
      intervalMin, evidence: stat.name, thresholdFor1PerDma4w: round(threshold, 2),
      recall: round(perBurst.filter((b) => b.best >= threshold).length / bursts.length, 2),
      zAtFirstSample: Object.fromEntries(perBurst.map((b) => [b.id, round(b.first, 1)])),
    }));
  }
}

/**
 * AR(2)'s innovation of the residual in `lagsOf` (fitted per DMA on the quiet samples) in noise
 * scales per DMA and local hour of day (the prediction errs most where demand turns).
 */
function hourlyInnovationZ(quiet: readonly StepSample[], dmas: readonly string[], hourOf: (s: StepSample) => number, lagsOf: (s: StepSample) => number[]): (s: StepSample) => number {
  const coefficientsOf = new Map<string, number[]>();
  const hourScale = new Map<string, number>();
  for (const dma of dmas) {
    const q = quiet.filter((s) => s.dma === dma && lagsOf(s).every(Number.isFinite));
    const coefficients = leastSquares(q.map((s) => lagsOf(s).slice(1, 3)), q.map((s) => lagsOf(s)[0]));
    coefficientsOf.set(dma, coefficients);
    for (let h = 0; h < 24; h++) {
      hourScale.set(`${dma}:${h}`, madSigma(q.filter((s) => hourOf(s) === h).map((s) => innovation(lagsOf(s), coefficients))));
    }
  }
  return (s) => innovation(lagsOf(s), coefficientsOf.get(s.dma)!) / hourScale.get(`${s.dma}:${hourOf(s)}`)!;
}

/** The residual at a sample (lags[0]) less its linear prediction from the samples before it. */
function innovation(lags: readonly number[], coefficients: readonly number[]): number {
  let predicted = 0;
  coefficients.forEach((c, i) => { predicted += c * lags[i + 1]; });
  return lags[0] - predicted;
}

/** Least-squares b for X b ≈ y (normal equations, Gaussian elimination; a few columns). */
function leastSquares(x: readonly number[][], y: readonly number[]): number[] {
  const p = x[0]?.length ?? 0;
  const a = Array.from({ length: p }, () => new Array<number>(p + 1).fill(0));
  x.forEach((row, n) => {
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) a[i][j] += row[i] * row[j];
      a[i][p] += row[i] * y[n];
    }
  });
  for (let i = 0; i < p; i++) {
    for (let k = i + 1; k < p; k++) {
      const f = a[k][i] / a[i][i];
      for (let j = i; j <= p; j++) a[k][j] -= f * a[i][j];
    }
  }
  const b = new Array<number>(p).fill(0);
  for (let i = p - 1; i >= 0; i--) {
    let sum = a[i][p];
    for (let j = i + 1; j < p; j++) sum -= a[i][j] * b[j];
    b[i] = sum / a[i][i];
  }
  return b;
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
