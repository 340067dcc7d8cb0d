/**
 * Burst detector: a step rise of a DMA's net inflow above its time-of-week baseline (a jump within a
 * minute or two that holds), or a big gradual rise; the DMA's pressure drops locate it. See
 * README.md for the method.
 */
import type { Point } from '../../../core/model/reading.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import { readRawHistory, replayByTimestamp } from '../../baseline/history.ts';
import { TimeOfWeekBaseline, warmBaselineFromStore } from '../../baseline/time-of-week.ts';
import { SampleInterval } from '../../baseline/sample-interval.ts';
import { LocalTime } from '../../baseline/local-time.ts';
import { LEARN_DAYS as PREDICTION_LEARN_DAYS, WanderPrediction } from './prediction.ts';
import { burstOptionsSchema, type BurstOptions, type BurstSettings } from './options.ts';
import { madSigma, medianOf } from '../../baseline/median.ts';
import { DmaInflow, netInflowFromStore, type NetInflow } from '../../dma-inflow.ts';
import { storageStepNoiseGain } from '../../tank-volume.ts';
import type { ActiveBurst, BurstView, Condition, Detector, DetectorContext, OpenAlarm } from '../../types.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import { WarmedConditions } from '../warmed-conditions.ts';

export type { BurstOptions };

const MIN = 60_000;
/** Quiet minutes whose jumps give the step test's noise scale (memory per DMA is bounded by it). */
const JUMP_WINDOW_MIN = 720;
/**
 * Hours a restart replays at 10–15-min data: the prediction's week (prediction.ts) and the day its
 * model is first fitted on, so that its coefficients, its scales per hour and which samples taught
 * it come out as live's (the 12 h of the jump scale are within them).
 */
const COARSE_REPLAY_HOURS = (PREDICTION_LEARN_DAYS + 1) * 24;
/** Quiet minutes whose residuals give the CUSUM's noise scale. */
const QUIET_WINDOW_MIN = 240;
/** Fewest values a noise scale (MAD) rests on. */
const MIN_NOISE_VALUES = 20;
/**
 * Windows widen with the sample interval up to this one (minutes). Beyond it (hourly data) the step
 * windows hold no sample before the step and only the CUSUM judges, as a step cannot be told from
 * an hour's change of demand.
 */
const MAX_SCALED_INTERVAL_MIN = 15;
/**
 * From this sample interval (minutes) up to MAX_SCALED_INTERVAL_MIN the step is the innovation
 * against the demand's predicted wander (prediction.ts), not the level against the samples before:
 * between two samples that far apart demand moves by as much as a small burst, smoothly. Below it
 * the step test's windows of a few minutes see little of that wander (at 5 min both find every
 * burst of the suite: `npm run bench -- detect:cadence`).
 */
const PREDICT_FROM_INTERVAL_MIN = 10;

/** The DMA's pressure sensor with the largest drop since the onset, with every sensor's drop. */
interface Hint { sensor: string; drop: number; z: number; drops: Record<string, number>; systemDrop: number }

interface PressureTrack {
  sensor: string;
  interval: SampleInterval;
  /** Recent (ts, residual against its own baseline or raw) for the last hours. */
  ts: number[];
  resid: number[];
  /** Robust noise scale of the residual, MPa (from first differences). */
  sigma: number;
  lastValue: number;
  /** Level before the onset of the burst in progress (kept once it is raised: the ring moves on). */
  preLevel?: { onset: number; level: number; n: number };
}

/**
 * Level readings whose second differences give a level sensor's reading noise (the last few hundred:
 * a day at 5-min data, 5 h at 1-min; memory per sensor is a running mean).
 */
const LEVEL_NOISE_READINGS = 300;

/** A tank level sensor of a DMA's balance: its volume curve and the noise its readings show. */
interface TankLevel {
  sensor: string;
  volume: (levelM: number) => number;
  /** The last two usable readings (m) and their times, for the second differences. */
  last: number;
  lastTs: number;
  prev: number;
  prevTs: number;
  /** Smallest change between two readings seen (m): the sensor's resolution, NaN until it moves. */
  resolutionM: number;
  /** Running mean of the squared second differences of evenly spaced readings (m²), and how many it holds. */
  secondDiffMeanSq: number;
  secondDiffs: number;
}

interface DmaTrack {
  dma: string;
  site: string;
  /** Interval of the net inflow (its buckets, or the readings' own spacing when coarser). */
  interval: SampleInterval;
  /** EW mean of x / baseline − 1. */
  refRatio: number;
  refReady: boolean;
  lastTs: number;
  /** CUSUM on the standardised residual. */
  s: number;
  /** First sample of the current CUSUM run (S rose from zero): the change-point estimate. */
  firstUpTs: number;
  /** Recent residuals against the reference (m³/h), for the noise scale and size estimates. */
  rTs: number[];
  r: number[];
  /** Residuals of quiet times only (not during a candidate or a burst), for σ. */
  quiet: number[];
  sigma: number;
  sigmaAt: number;
  /** Jumps of the residual (step statistic) at quiet times, and their robust noise scale. */
  quietJumps: number[];
  jumpSigma: number;
  jumpSigmaAt: number;
  /** At 10–15-min data: the demand's wander predicted from its last samples (prediction.ts). */
  wander?: WanderPrediction;
  /** A jump seen and being confirmed (the residual must hold above its level before), and the test that saw it. */
  pending: { onset: number; pre: number; jump: number; test: StepTest } | undefined;
  /** The test that raised the burst in progress (its evidence `stepTest`). */
  raisedBy?: StepTest | 'cusum';
  meanInflow: number | undefined;
  meanAtDay: number;
  state: 'watch' | 'active';
  onset: number;
  peak: number;
  level: number;
  belowSince: number | undefined;
  /** A step down of the burst's size, as sure as a raise's step (a repair, a valve put back): when, the level before it, and the drop that must hold. */
  repair: { at: number; from: number; drop: number } | undefined;
  /** Step of the residual at the onset, m³/h. */
  jump: number;
  /** The window (ms) the net demand is taken over when the DMA has tanks (dma-inflow.ts), else 0. */
  storageWindowMs: number;
  /** The tanks' level sensors, for the level noise's share of the step test's noise. */
  tanks: TankLevel[];
  /** How much a level reading's noise (m³ of volume) moves the step statistic (m³/h), at this sample interval. */
  levelGain: { sampleMs: number; perHour: number } | undefined;
  /** Σ flows of the last bucket, and the sampling errors of the window after the flows' recent steps. */
  lastFlows: { ts: number; value: number } | undefined;
  switchErrors: { ts: number; m3h: number }[];
  /** What was last emitted, to decide on updates. */
  emitted?: { priority: string; confirmed: boolean; hint: string | undefined; flow: number; ts: number; location?: Hint };
  pressures: PressureTrack[];
}

/** Which step test saw a jump: the level against the samples before (item 4), or the innovation against the predicted wander (item 13). */
type StepTest = 'level' | 'prediction';

interface StepWindows { sampleMs: number; afterMs: number; beforeMs: number; quietValues: number; jumpValues: number }

export class BurstDetector implements Detector, BurstView {
  readonly name = 'burst';
  private readonly inflow: DmaInflow;
  private readonly flowBaseline: TimeOfWeekBaseline;
  private readonly pressureBaseline: TimeOfWeekBaseline;
  private readonly dmas = new Map<string, DmaTrack>();
  private readonly pressureOf = new Map<string, PressureTrack>();
  private readonly tankLevelOf = new Map<string, TankLevel>();
  private readonly o: Omit<BurstSettings, 'baseline'>;
  private derived: Point[] = [];
  private silent = false;
  /** What warmUp found and did not emit (reconcile). */
  private readonly warmed = new WarmedConditions();
  private readonly net: NetInflow[] = [];
  /** The site's clock, for the prediction's noise scale per local hour. */
  private readonly local: LocalTime;

  constructor(private readonly ctx: DetectorContext, options: BurstOptions = {}) {
    this.local = new LocalTime(ctx.timezone);
    const { baseline, ...settings } = parseDetectorOptions('burst', burstOptionsSchema, options);
    this.o = settings;
    this.inflow = new DmaInflow(ctx.topology, ctx.health);
    const b = { timezone: ctx.timezone, calendar: ctx.calendar, ...baseline };
    this.flowBaseline = new TimeOfWeekBaseline(b);
    this.pressureBaseline = new TimeOfWeekBaseline({ ...b, historyDays: Math.min(b.historyDays ?? 14, 14) });
    for (const dma of this.inflow.dmas()) {
      const pressures: PressureTrack[] = [];
      for (const s of ctx.topology.sensorsOfDma(dma)) {
        if (s.kind !== 'pressure') continue;
        const p: PressureTrack = { sensor: s.id, interval: new SampleInterval(s.intervalS * 1000), ts: [], resid: [], sigma: NaN, lastValue: NaN };
        pressures.push(p);
        this.pressureOf.set(s.id, p);
      }
      const tanks = this.inflow.tanksOf(dma).map((k) => this.tankLevelOf.get(k.sensor) ?? newTankLevel(k.sensor, k.volume));
      for (const k of tanks) this.tankLevelOf.set(k.sensor, k);
      this.dmas.set(dma, {
        storageWindowMs: tanks.length ? this.inflow.storageWindowMsOf(dma) : 0, tanks, levelGain: undefined, lastFlows: undefined, switchErrors: [],
        dma, site: this.inflow.siteOf(dma), interval: new SampleInterval(this.inflow.bucketMsOf(dma)), refRatio: 0, refReady: false, lastTs: -Infinity, s: 0, firstUpTs: NaN,
        rTs: [], r: [], quiet: [], sigma: NaN, sigmaAt: -Infinity, quietJumps: [], jumpSigma: NaN, jumpSigmaAt: -Infinity, pending: undefined, meanInflow: undefined, meanAtDay: NaN,
        state: 'watch', onset: NaN, jump: NaN, peak: 0, level: 0, belowSince: undefined, repair: undefined, pressures,
      });
    }
  }

  /** The active burst's condition id in a DMA, if any: secondary conditions link to it. */
  activeBurst(dma: string): string | undefined {
    return this.activeBurstOnset(dma)?.id;
  }

  /** The active burst in a DMA with its estimated start (the jump's first minute): a lasting step that began then is this burst. */
  activeBurstOnset(dma: string): ActiveBurst | undefined {
    const d = this.dmas.get(dma);
    return d?.state === 'active' ? { id: `burst:${dma}`, onsetTs: d.onset } : undefined;
  }

  onReadings(batch: readonly Point[]): Condition[] {
    const out: Condition[] = [];
    for (const r of batch) {
      const p = this.pressureOf.get(r.sensor);
      if (p) this.onPressure(p, r);
      const level = this.tankLevelOf.get(r.sensor);
      if (level) observeLevel(level, r);
      if (this.inflow.isBalanceSensor(r.sensor)) {
        this.net.length = 0;
        this.inflow.add(r, this.net);
        for (const v of this.net) this.onNetInflow(v, out);
      }
    }
    return this.silent ? this.warmed.keep(out) : out;
  }

  onTime(eventTime: number): Condition[] {
    const out: Condition[] = [];
    this.net.length = 0;
    this.inflow.advance(eventTime, this.net);
    for (const v of this.net) this.onNetInflow(v, out);
    this.flowBaseline.advance(eventTime);
    this.pressureBaseline.advance(eventTime);
    return this.silent ? this.warmed.keep(out) : out;
  }

  /** The DMA's wander prediction at 10–15-min data (what it has learned), undefined at finer data: for diagnostics. */
  predictionOf(dma: string): ReturnType<WanderPrediction['learned']> | undefined {
    return this.dmas.get(dma)?.wander?.learned();
  }

  drainDerived(): Point[] {
    const d = this.derived;
    this.derived = [];
    return d;
  }

  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    const slotMs = this.flowBaseline.slotMs;
    const coarse = await this.anyCoarseDma(history, until);
    // at 10–15-min data the state a restart must rebuild is a week old (the prediction): replaying
    // that week through the live path gives live's model, where learning it apart from the stored
    // net inflow gave other scales (a restart in quiet-week.yaml at 15-min samples judged a quiet
    // innovation of 3.8 noise scales against an hour's scale 18 % narrower, and raised a burst)
    const replayHours = coarse ? Math.max(this.o.replayHours, COARSE_REPLAY_HOURS) : this.o.replayHours;
    const replayFrom = Math.floor((until - replayHours * 3_600_000) / slotMs) * slotMs;
    const historyFrom = replayFrom - this.flowBaseline.historyDays * 86_400_000;
    for (const dma of this.dmas.keys()) {
      for (const v of await netInflowFromStore(history, this.inflow, dma, historyFrom, replayFrom, slotMs)) {
        this.flowBaseline.addSlotMean(dma, v.ts, v.value);
      }
    }
    const pressureSensors = [...this.pressureOf.keys()];
    await warmBaselineFromStore(this.pressureBaseline, history, 'pressure', pressureSensors, replayFrom - 14 * 86_400_000, replayFrom);
    const flows = this.inflow.dmas().flatMap((d) => this.inflow.balanceSensorsOf(d));
    const sensors = [...new Set([...flows, ...pressureSensors])];
    this.silent = true;
    try {
      // a day at a time: a week of a large town's readings need not be held at once
      for (let from = replayFrom; from < until; from += 86_400_000) {
        replayByTimestamp(await readRawHistory(history, this.ctx.topology, sensors, from, Math.min(until, from + 86_400_000)), (batch) => this.onReadings(batch));
      }
      this.onTime(until);
    } finally {
      this.silent = false;
      this.derived = [];
    }
  }

  /**
   * Whether some DMA's net inflow comes at 10–15 min: the coarsest spacing of its balance sensors'
   * raw readings over the two hours stored before `until`, read first so that a town at finer data
   * is not read for a week. A sensor silent in those hours (ingest down too) is read over the two
   * hours before its latest reading, if within the week. Raw readings, not the net inflow the
   * detector stores: history imported and never analysed has none, and a downtime stores none.
   */
  private async anyCoarseDma(history: TimeSeriesStore, until: number): Promise<boolean> {
    const sensors = [...new Set(this.inflow.dmas().flatMap((d) => this.inflow.balanceSensorsOf(d)))];
    if (!sensors.length) return false;
    const times = new Map<string, number[]>();
    const collect = (points: readonly Point[]) => {
      for (const p of points) {
        const list = times.get(p.sensor) ?? [];
        list.push(p.ts);
        times.set(p.sensor, list);
      }
    };
    collect(await readRawHistory(history, this.ctx.topology, sensors, until - 2 * 3_600_000, until));
    for (const sensor of sensors.filter((id) => (times.get(id)?.length ?? 0) < 4)) {
      const kind = this.ctx.topology.sensors.get(sensor)?.kind;
      const [last] = kind ? await history.latest(kind, [sensor]) : [];
      if (!last || last.ts >= until - 2 * 3_600_000 || last.ts < until - 7 * 86_400_000) continue;
      times.delete(sensor);
      collect(await readRawHistory(history, this.ctx.topology, [sensor], last.ts - 2 * 3_600_000, last.ts + 1));
    }
    const spacingMin = (sensor: string) => {
      const ts = times.get(sensor) ?? [];
      const gaps = ts.slice(1).map((x, i) => x - ts[i]);
      return gaps.length >= 3 ? medianOf(gaps) / MIN : NaN;
    };
    return this.inflow.dmas().some((dma) => {
      const gapMin = Math.max(...this.inflow.balanceSensorsOf(dma).map(spacingMin).filter(Number.isFinite));
      return gapMin >= PREDICT_FROM_INTERVAL_MIN && gapMin <= MAX_SCALED_INTERVAL_MIN;
    });
  }

  /**
   * After warmUp on a live restart (see Detector.reconcile). A burst the warm-up holds without an
   * alarm began while analytics was down: raised now. An open burst alarm the warm-up does not hold
   * is cleared only when the warm-up saw that burst end: a burst of the DMA begun by the alarm's
   * raise whose clear came after the alarm's estimated start. Otherwise it is left as it is: a burst
   * begun before the replayed hours shows no onset in them, and its level alone cannot tell
   * whether it still runs.
   */
  reconcile(open: readonly OpenAlarm[], at: number): Condition[] {
    const out = this.warmed.raisesWithoutAlarm(open, at);
    for (const a of open) {
      if (a.type !== 'burst' || this.warmed.holds(a.conditionId)) continue;
      const ended = this.warmed.endedOf(a.conditionId);
      const start = typeof a.evidence?.estimatedStart === 'number' ? a.evidence.estimatedStart : a.raisedAt;
      const endedStart = ended?.evidence?.estimatedStart;
      if (!ended || typeof endedStart !== 'number' || endedStart > a.raisedAt || ended.ts < start) {
        this.resume(a, start);
        continue;
      }
      out.push(WarmedConditions.clearAt(ended, at));
    }
    this.warmed.clear();
    return out;
  }

  /**
   * An open burst alarm whose start the replayed hours do not show: the DMA is judged again against
   * the reference the burst was raised against (its level before the jump, in the evidence), as it
   * would have been had analytics never stopped. The replay's own reference has learnt the burst as
   * today's level, so it could not see the repair. Alarms raised before 2026-12-05 carry no
   * reference and are left as they are.
   */
  private resume(a: OpenAlarm, start: number): void {
    const e = a.evidence ?? {};
    const t = a.dma === undefined ? undefined : this.dmas.get(a.dma);
    const reference = e.referenceRatio;
    const flow = e.burstFlowM3h;
    if (!t || t.state === 'active' || typeof reference !== 'number' || !Number.isFinite(reference) || typeof flow !== 'number') return;
    const num = (x: unknown, fallback: number) => (typeof x === 'number' && Number.isFinite(x) ? x : fallback);
    t.state = 'active';
    t.onset = start;
    t.refRatio = reference;
    t.refReady = true;
    t.jump = num(e.stepAtStartM3h, flow);
    t.peak = num(e.peakFlowM3h, flow);
    t.level = flow;
    t.belowSince = undefined;
    t.repair = undefined;
    t.raisedBy = e.stepTest === 'level' || e.stepTest === 'prediction' || e.stepTest === 'cusum' ? e.stepTest : undefined;
    t.pending = undefined;
    t.s = 0;
    // the replayed residuals were taken against the replay's reference: the level is followed afresh
    t.rTs.length = 0;
    t.r.length = 0;
    const sensor = typeof e.locationHint === 'string' ? e.locationHint : undefined;
    const location: Hint | undefined = sensor === undefined ? undefined : {
      sensor, drop: num(e.largestPressureDropMPa, NaN), z: NaN, systemDrop: NaN,
      drops: (e.pressureDropsMPa ?? {}) as Record<string, number>,
    };
    const mean = num(e.meanInflowM3h, t.meanInflow ?? NaN);
    t.emitted = { priority: priorityOf(flow / mean), confirmed: e.pressureConfirmed === true, hint: sensor, flow, ts: a.raisedAt, location };
  }

  // ---- pressure ----

  private onPressure(p: PressureTrack, r: Point): void {
    if (r.quality === 'bad' || !Number.isFinite(r.value) || this.ctx.health.isFaulty(r.sensor)) return;
    if (p.ts.length && r.ts <= p.ts[p.ts.length - 1]) return; // late or duplicate
    p.interval.observe(r.ts);
    this.pressureBaseline.add(r.sensor, r.ts, r.value);
    const e = this.pressureBaseline.expected(r.sensor, r.ts);
    const resid = e ? r.value - e.median : r.value;
    // a baseline appearing changes the residual's meaning: start the track afresh
    if (p.ts.length && (e === undefined) !== Number.isNaN(p.lastValue)) {
      p.ts.length = 0;
      p.resid.length = 0;
    }
    p.lastValue = e ? resid : NaN;
    p.ts.push(r.ts);
    p.resid.push(resid);
    // 3 h of residuals, and at least enough samples for the noise scale at a coarse interval
    const cadence = p.interval.minutes(MAX_SCALED_INTERVAL_MIN);
    const keepFrom = r.ts - Math.max(180, (MIN_NOISE_VALUES + 4) * cadence) * MIN;
    let drop = 0;
    while (drop < p.ts.length && p.ts[drop] < keepFrom) drop++;
    if (drop) {
      p.ts.splice(0, drop);
      p.resid.splice(0, drop);
    }
    // (recomputed every 30 min)
    if (p.resid.length >= MIN_NOISE_VALUES && (Number.isNaN(p.sigma) || p.ts.length % Math.max(1, Math.round(30 / cadence)) === 0)) {
      const n = Math.min(p.resid.length, 120);
      const diffs: number[] = [];
      for (let i = p.resid.length - n + 1; i < p.resid.length; i++) diffs.push(Math.abs(p.resid[i] - p.resid[i - 1]));
      // noise of one sample from the MAD of first differences (σ_diff = √2 σ)
      p.sigma = Math.max(1.4826 * medianOf(diffs) / Math.SQRT2, 1e-5);
    }
  }

  /** Drop of a sensor's residual from before the onset to the last minutes, MPa, and its z. */
  private pressureDrop(p: PressureTrack, onset: number, now: number, keep = true): { drop: number; z: number } | undefined {
    if (this.ctx.health.isFaulty(p.sensor) || Number.isNaN(p.sigma)) return undefined;
    const pre: number[] = [];
    const post: number[] = [];
    // the level 30 min before the onset against the last 10 min; at a coarse interval the windows
    // widen to the 5 and 2 samples the comparison needs
    const cadence = p.interval.minutes(MAX_SCALED_INTERVAL_MIN);
    const postFrom = Math.max(onset, now - Math.max(10, 2 * cadence) * MIN);
    const preFrom = onset - Math.max(30, 5 * cadence) * MIN;
    const kept = p.preLevel?.onset === onset ? p.preLevel : undefined;
    for (let i = 0; i < p.ts.length; i++) {
      const t = p.ts[i];
      if (!kept && t >= preFrom && t < onset) pre.push(p.resid[i]);
      else if (t >= postFrom && t <= now) post.push(p.resid[i]);
    }
    const preN = kept ? kept.n : pre.length;
    if (preN < 5 || post.length < 2) return undefined;
    const preLevel = kept ? kept.level : medianOf(pre);
    if (keep) p.preLevel = { onset, level: preLevel, n: preN };
    const drop = preLevel - medianOf(post);
    const se = p.sigma * Math.sqrt(1.57 / preN + 1.57 / post.length); // a median's variance is π/2 × the mean's
    return { drop, z: drop / se };
  }

  // ---- net inflow ----

  private onNetInflow(v: NetInflow, out: Condition[]): void {
    const t = this.dmas.get(v.dma);
    if (!t) return;
    if (this.o.emitInflow && !this.silent) this.derived.push(this.inflow.toPoint(v));
    t.interval.observe(v.ts);
    this.flowBaseline.add(v.dma, v.ts, v.value);
    const e = this.flowBaseline.expected(v.dma, v.ts);
    // no history for this time of day (and kind of day) yet: warming up
    if (!e || e.median <= 0 || !e.sameType) {
      t.refReady = false;
      return;
    }
    const dayNumber = Math.floor(v.ts / 86_400_000);
    if (t.meanAtDay !== dayNumber || t.meanInflow === undefined) {
      t.meanInflow = this.flowBaseline.typicalMean(v.dma, v.ts) ?? t.meanInflow;
      t.meanAtDay = dayNumber;
    }
    const mean = t.meanInflow ?? e.median;
    const gap = v.ts - t.lastTs;
    t.lastTs = v.ts;
    const ratio = v.value / e.median - 1;
    // at 10–15-min data, the sample where a balance meter moved after readings of one value: the
    // readings before were not measurements (a frozen meter), a gap as far as the level goes
    const coarse = t.interval.minutes() >= PREDICT_FROM_INTERVAL_MIN;
    const meterResumedAt = this.inflow.meterResumedAt(v.dma);
    const meterResumedNow = coarse && Math.abs(v.ts - meterResumedAt) < (t.interval.minutes() * MIN) / 2;
    if (!t.refReady || gap > 60 * MIN || meterResumedNow) {
      // first value, back after a long gap or after a frozen meter: take today's level as it is, and start the CUSUM afresh
      if (t.state !== 'active') {
        t.refRatio = ratio;
        t.s = 0;
        t.pending = undefined;
      }
      t.refReady = true;
    }
    const expected = e.median * (1 + t.refRatio);
    const w = this.windows(t);
    const r = v.value - expected;
    push(t.rTs, t.r, v.ts, r, v.ts - 3 * 3_600_000);

    // step statistic: the mean of the last `after` minutes against the `before` minutes before them
    const stepAt = v.ts - (w.afterMs - w.sampleMs);
    const preFrom = stepAt - w.beforeMs;
    // (the level before is a median: a one-minute glitch just before must not pass for a step)
    const preLevel = medianBetween(t.rTs, t.r, preFrom, stepAt);
    const jumpNow = meanBetween(t.rTs, t.r, stepAt, v.ts + 1) - preLevel;

    // noise scales of the residual and of its jumps from quiet times (MAD), with a floor
    if (t.state === 'watch' && !t.pending) {
      t.quiet.push(r);
      while (t.quiet.length > w.quietValues) t.quiet.shift();
      if (Number.isFinite(jumpNow)) {
        // relative to the expected flow: demand wanders, and meters err, in proportion to the flow
        t.quietJumps.push(jumpNow / e.median);
        while (t.quietJumps.length > w.jumpValues) t.quietJumps.shift();
      }
    }
    if (t.quiet.length >= MIN_NOISE_VALUES && (v.ts - t.sigmaAt >= 15 * MIN || Number.isNaN(t.sigma))) {
      t.sigma = madSigma(t.quiet);
      t.sigmaAt = v.ts;
    }
    // the jump scale rests on 12 h of quiet minutes: hourly updates are plenty
    if (t.quietJumps.length >= MIN_NOISE_VALUES && (v.ts - t.jumpSigmaAt >= 60 * MIN || t.quietJumps.length < 60)) {
      t.jumpSigma = madSigma(t.quietJumps);
      t.jumpSigmaAt = v.ts;
    }
    const floor = this.o.sigmaFloorFraction * mean;
    const sigma = Math.max(Number.isNaN(t.sigma) ? 0 : t.sigma, floor);
    const balance = this.balanceUncertainty(t, v, w);
    const minBurst = this.o.minBurstFraction * mean;
    // the step and its noise scale (m³/h): the innovation against the predicted wander at 10–15-min
    // data once the DMA's model is fitted, else the level against the samples before
    // (the local hour only where the prediction is used: this runs per DMA and minute at 1-min data)
    const hour = t.interval.minutes() >= PREDICT_FROM_INTERVAL_MIN ? this.localHour(v.ts) : 0;
    const prediction = this.predictedStep(t, v, w, ratio, hour);
    const predicted = prediction && Number.isFinite(prediction.innovation) && prediction.sigma > 0 ? prediction : undefined;
    const step = predicted ? predicted.innovation * e.median : jumpNow;
    const stepScale = predicted ? predicted.sigma * e.median : t.jumpSigma * e.median;
    const stepThreshold = Math.max(this.o.stepZ * Math.max(stepScale, floor, balance.levelJumpSigma), this.o.stepMinFraction * minBurst) + balance.switching;
    // at 10–15-min data, a step where a meter moved after readings of one value is that meter
    // catching up, not the water (sensor health flags a frozen meter only after 30 readings: 7.5 h
    // at 15 min): no step is judged, or taught to the prediction, while the samples the step
    // statistic reads back hold the frozen readings (the prediction's two lags, the level test's windows)
    const lookBackMs = predicted ? 2 * w.sampleMs : w.afterMs + w.beforeMs;
    const meterCaughtUp = coarse && v.ts >= meterResumedAt && v.ts - meterResumedAt < lookBackMs;
    const stepSeen = t.state === 'watch' && !t.pending && !meterCaughtUp && Number.isFinite(stepScale) && step >= stepThreshold;
    // a quiet sample teaches the prediction; a step being judged or a burst does not
    t.wander?.advance(v.ts, ratio, hour, t.state === 'watch' && !t.pending && !stepSeen && !meterCaughtUp, prediction?.innovation ?? NaN, v.value);
    // allowance: half the smallest burst we look for, in σ units (and at least one σ)
    const k = Math.max(1, 0.5 * minBurst / sigma);
    const z = r / sigma;

    if (t.state === 'watch') {
      // 1. the step test: a burst is a jump of the inflow within a minute or two, where demand
      //    wanders by a fraction of that per minute; the jump's own noise scale is learned per DMA
      // (predicted: the step is this sample's, and the level before it the prediction)
      if (stepSeen) t.pending = predicted ? { onset: v.ts, pre: r - step, jump: step, test: 'prediction' } : { onset: stepAt, pre: preLevel, jump: jumpNow, test: 'level' };
      const p = t.pending;
      // a big jump needs only to outlast a meter glitch; a small one must hold for a few minutes
      const confirmMin = p && p.jump >= this.o.flowOnlyMinFraction * mean ? 2 : this.o.stepConfirmMin;
      if (p && v.ts >= p.onset + (w.afterMs - w.sampleMs) + confirmMin * MIN) {
        t.pending = undefined;
        // it held (not a spike or a passing transient): the level before the jump is the new reference
        const held = meanSince(t.rTs, t.r, p.onset) - p.pre;
        if (held >= this.o.stepHoldFraction * minBurst && held >= this.o.stepHoldOfJump * p.jump) {
          t.refRatio += p.pre / e.median;
          for (let i = t.r.length - 1; i >= 0 && t.rTs[i] >= p.onset; i--) t.r[i] -= p.pre;
          t.raisedBy = p.test;
          this.raise(t, p.onset, p.jump, held, v.ts, mean, sigma, out);
          return;
        }
      }
      const before = t.s;
      t.s = Math.max(0, t.s + z - k);
      if (before === 0 && t.s > 0) t.firstUpTs = v.ts;
      if (t.pending) return; // judged by the step test first
      if (t.s === 0) {
        // follow today's level slowly while nothing is happening
        // (at most one sample's worth, and 10 min, after a gap)
        const a = 1 - Math.exp(-(Math.min(gap, Math.max(10 * MIN, w.sampleMs)) / MIN) / this.o.referenceTauMin);
        t.refRatio += a * (ratio - t.refRatio);
      }
      // (a net demand taken over a storage window shows a step only as a rise over that window)
      if (t.s > 0 && v.ts - t.firstUpTs >= this.o.candidateTimeoutMin * MIN + t.storageWindowMs) {
        // a slow rise, not a step: take it as today's level (demand wanders) and start again
        t.refRatio += meanSince(t.rTs, t.r, v.ts - 10 * MIN + 1) / e.median;
        t.s = 0;
        return;
      }
      // 2. a big rise on flow alone, even a gradual one (a burst behind a slow valve, a fill left open)
      if (t.s >= this.o.decisionFlowOnly * k) {
        const onset = t.firstUpTs;
        const size = meanSince(t.rTs, t.r, onset);
        if (size >= this.o.flowOnlyMinFraction * mean) {
          const jump = meanBetween(t.rTs, t.r, onset, onset + w.afterMs) - meanBetween(t.rTs, t.r, onset - w.beforeMs, onset);
          t.raisedBy = 'cusum';
          this.raise(t, onset, jump, size, v.ts, mean, sigma, out);
        }
      }
      return;
    }

    // active: follow the residual level (mean of the last 10 minutes) and clear when it returns
    t.level = meanSince(t.rTs, t.r, Math.max(t.onset, v.ts - 10 * MIN + 1));
    t.peak = Math.max(t.peak, t.level);
    // (where no pressure sensor can say, e.g. a gap, or a restart that lost the level before the
    // onset, the location last seen stands)
    const hint = this.locate(t, t.onset, v.ts) ?? t.emitted?.location;
    const confirmed = hint !== undefined && hint === t.emitted?.location ? t.emitted.confirmed : this.isConfirmed(hint);
    // a repair (or a valve put back) is a step down of about the burst's size
    const before = meanBetween(t.rTs, t.r, v.ts - (w.beforeMs + w.afterMs) + 1, v.ts - w.afterMs + 1);
    const after = meanBetween(t.rTs, t.r, v.ts - w.afterMs + 1, v.ts + 1);
    const stepDown = before - after;
    const repairSize = 0.7 * Math.max(t.jump, minBurst);
    if (stepDown >= repairSize && t.belowSince === undefined) t.belowSince = v.ts;
    // one that passes the step test that raises bursts, downwards (its statistic and threshold), as
    // large as the burst within that test's margin (at coarse data the margin is more than 30 % of a
    // small burst), and whose drop holds, ends the burst whatever the level: that is read against
    // the reference frozen at the onset, and a DMA's demand wanders over hours by as much as a small
    // burst, so after one the level may not come back under half the peak for a day (bursts of 6.5 %
    // injected at 1-min data: 6 of 185 alarms open 6 h to 33 h after the flow was back, until
    // 2026-12-06; `npm run bench -- detect:cadence`)
    // (a burst the CUSUM raised rose gradually: its jump says nothing of its size, and its repair is 70 % of it or of the smallest burst)
    const repairDrop = t.raisedBy === 'cusum' ? repairSize : Math.max(0, Math.min(repairSize, t.jump - stepThreshold));
    if (t.repair === undefined && !meterCaughtUp && -step >= Math.max(repairDrop, stepThreshold)) t.repair = { at: v.ts, from: before, drop: repairDrop };
    else if (t.repair !== undefined && !(after <= t.repair.from - t.repair.drop)) t.repair = undefined;
    const repaired = t.repair !== undefined && v.ts - t.repair.at >= this.o.clearDelayMin * MIN;
    if (repaired || t.level < this.o.clearFraction * t.peak || (t.belowSince !== undefined && t.level < 0.5 * t.peak)) {
      t.belowSince ??= v.ts;
      if (repaired || v.ts - t.belowSince >= this.o.clearDelayMin * MIN) {
        t.repair = undefined;
        // the location is the one seen during the burst, not after the repair
        out.push(this.condition(t, 'clear', v.ts, t.level, mean, sigma, t.emitted?.location, t.emitted?.confirmed ?? false));
        t.state = 'watch';
        t.s = 0;
        t.emitted = undefined;
        t.quiet.length = 0;
      }
      return;
    }
    t.belowSince = undefined;
    const prev = t.emitted!;
    const priority = priorityOf(t.level / mean);
    const changed = priority !== prev.priority || confirmed !== prev.confirmed || (hint?.sensor !== prev.hint && confirmed)
      || Math.abs(t.level - prev.flow) > 0.25 * prev.flow;
    if (changed && v.ts - prev.ts >= 5 * MIN) out.push(this.condition(t, 'update', v.ts, t.level, mean, sigma, hint, confirmed));
  }

  /**
   * At 10–15-min data, the ratio's innovation against its predicted wander and the innovation's
   * noise scale at this local hour (ratio units); undefined at finer or coarser data. The innovation
   * is NaN until the DMA's model is fitted (a day of quiet samples) or when the two samples before
   * are missing, the scale until a day of innovations is known.
   */
  private predictedStep(t: DmaTrack, v: NetInflow, w: StepWindows, ratio: number, hour: number): { innovation: number; sigma: number } | undefined {
    const sampleMin = t.interval.minutes();
    if (sampleMin < PREDICT_FROM_INTERVAL_MIN || sampleMin > MAX_SCALED_INTERVAL_MIN) {
      t.wander = undefined;
      return undefined;
    }
    if (t.wander?.intervalMs !== w.sampleMs) t.wander = new WanderPrediction(w.sampleMs);
    const day = this.local.position(v.ts).day;
    return t.wander.innovation(v.ts, ratio, hour, (lag) => {
      if (this.local.position(lag.ts).day === day) return lag.q;
      // a sample of the day before, read against the baseline of today's kind of day
      const e = this.flowBaseline.expectedLike(v.dma, lag.ts, v.ts);
      return e && e.median > 0 ? lag.value / e.median - 1 : NaN;
    });
  }

  private localHour(ts: number): number {
    return Math.floor(this.local.position(ts).msOfDay / 3_600_000);
  }

  /**
   * What the measurement chain alone makes of a DMA's net demand taken over a storage window W (a
   * DMA with tanks; zero without): noise that does not scale with the flow, so the jump scale
   * learned relative to the flow (mostly by day) would understate it at night.
   * - `levelJumpSigma`, from two errors of the level readings:
   *   - rounding: a level read to a resolution δ (smallest change its readings show) gives the volume
   *     to q = area × δ. A slowly moving level rounds in a staircase, so these errors are not
   *     independent from reading to reading; bounded as the windows' four end readings each off by
   *     up to ±q/2 (uniform, variance q²/12): q / W / √3 m³/h (L-Town's T1, 201 m² read to 1 cm,
   *     W 30 min: 2.3 m³/h).
   *   - the sensor's own noise beyond its rounding, σ_w (levelWhiteNoiseM, from the readings' second
   *     differences), independent from reading to reading: the step statistic is a fixed linear
   *     combination of the level readings (the storage slope's weights over the windows it
   *     compares), so it carries area × σ_w × that combination's norm (tank-volume.ts
   *     storageStepNoiseGain). The demo town's T1 (314 m², 3 mm) at 1-min data: 0.67 m³/h, where its
   *     1-mm rounding gives 0.36.
   *   Independent, so they add in quadrature.
   * - `switching`: the flows are samples, so a flow that steps by ΔQ (a pump or valve switching) at
   *   an unknown instant between two samples is counted in the window's flow mean for up to one
   *   interval Δt more or less than the volume change saw it: the net demand is off by up to
   *   ΔQ × Δt / W, for as long as the step is inside the window (a 44 m³/h pump at 5-min data: a
   *   7.3 m³/h box lasting 30 min). The largest such bound of the steps within the last W and the
   *   step test's after- and before-windows (the box's end is a jump too).
   */
  private balanceUncertainty(t: DmaTrack, v: NetInflow, w: StepWindows): { levelJumpSigma: number; switching: number } {
    if (t.storageWindowMs === 0) return { levelJumpSigma: 0, switching: 0 };
    if (t.levelGain?.sampleMs !== w.sampleMs) {
      const samples = (ms: number) => Math.max(1, Math.round(ms / w.sampleMs));
      t.levelGain = {
        sampleMs: w.sampleMs,
        perHour: storageStepNoiseGain(samples(t.storageWindowMs), samples(w.afterMs), samples(w.beforeMs), w.sampleMs / 3_600_000),
      };
    }
    let variance = 0;
    for (const k of t.tanks) {
      if (Number.isNaN(k.resolutionM) || Number.isNaN(k.last)) continue;
      const volumeOf = (levelM: number) => k.volume(k.last + levelM) - k.volume(k.last);
      variance += (volumeOf(k.resolutionM) / (t.storageWindowMs / 3_600_000)) ** 2 / 3 + (volumeOf(levelWhiteNoiseM(k)) * t.levelGain.perHour) ** 2;
    }
    const last = t.lastFlows;
    const sampleMs = t.interval.ms;
    if (last && v.ts > last.ts && v.ts - last.ts <= 2 * sampleMs) {
      t.switchErrors.push({ ts: v.ts, m3h: (Math.abs(v.flows - last.value) * sampleMs) / t.storageWindowMs });
    }
    t.lastFlows = { ts: v.ts, value: v.flows };
    // the error ends when the step leaves the window, itself a jump of the net demand: the step test
    // compares values it touched until they have left its after- and before-windows too
    while (t.switchErrors.length && t.switchErrors[0].ts <= v.ts - t.storageWindowMs - w.afterMs - w.beforeMs) t.switchErrors.shift();
    let switching = 0;
    for (const e of t.switchErrors) switching = Math.max(switching, e.m3h);
    return { levelJumpSigma: Math.sqrt(variance), switching };
  }

  /**
   * The step test's windows at the DMA's sample interval: `stepAfterMin` and `stepBeforeMin` as
   * configured at 1-min data; at a coarser interval at least one sample after the step and three
   * before it (a median of three rejects a one-sample glitch). The noise scales rest on 12 h of
   * jumps and 4 h of residuals, and on at least 20 values.
   */
  private windows(t: DmaTrack): StepWindows {
    const sampleMin = t.interval.minutes(MAX_SCALED_INTERVAL_MIN);
    return {
      sampleMs: sampleMin * MIN,
      afterMs: Math.max(this.o.stepAfterMin, sampleMin) * MIN,
      beforeMs: Math.max(this.o.stepBeforeMin, 3 * sampleMin) * MIN,
      quietValues: Math.max(MIN_NOISE_VALUES, Math.round(QUIET_WINDOW_MIN / sampleMin)),
      jumpValues: Math.max(MIN_NOISE_VALUES, Math.round(JUMP_WINDOW_MIN / sampleMin)),
    };
  }

  private raise(
    t: DmaTrack, onset: number, jump: number, size: number, now: number, mean: number, sigma: number, out: Condition[],
    hint = this.locate(t, onset, now), confirmed = this.isConfirmed(hint),
  ): void {
    t.jump = jump;
    t.state = 'active';
    t.onset = onset;
    t.peak = size;
    t.level = size;
    t.belowSince = undefined;
    t.repair = undefined;
    out.push(this.condition(t, 'raise', now, size, mean, sigma, hint, confirmed));
  }

  private isConfirmed(hint: Hint | undefined): boolean {
    return hint !== undefined && hint.z >= this.o.pressureDropZ && hint.drop - Math.max(0, hint.systemDrop) >= this.o.pressureDropMinMPa;
  }

  /**
   * The DMA's pressure sensor with the largest drop since the onset, and the median drop of the
   * other DMAs' sensors over the same minutes: demand rising everywhere lowers every pressure, a
   * burst lowers those around it more.
   */
  private locate(t: DmaTrack, onset: number, now: number): Hint | undefined {
    let best: { sensor: string; drop: number; z: number } | undefined;
    const drops: Record<string, number> = {};
    for (const p of t.pressures) {
      const d = this.pressureDrop(p, onset, now);
      if (!d) continue;
      drops[p.sensor] = round(d.drop, 5);
      if (!best || d.drop > best.drop) best = { sensor: p.sensor, ...d };
    }
    if (!best) return undefined;
    // (only worth the scan when the drop would confirm on its own)
    if (best.z < this.o.pressureDropZ || best.drop < this.o.pressureDropMinMPa) return { ...best, drops, systemDrop: 0 };
    const elsewhere: number[] = [];
    for (const p of this.pressureOf.values()) {
      if (t.pressures.includes(p)) continue;
      const d = this.pressureDrop(p, onset, now, false);
      if (d) elsewhere.push(d.drop);
    }
    return { ...best, drops, systemDrop: elsewhere.length ? medianOf(elsewhere) : 0 };
  }

  private condition(
    t: DmaTrack, state: Condition['state'], ts: number, flow: number, mean: number, sigma: number,
    hint: Hint | undefined, confirmed: boolean,
  ): Condition {
    const priority = state === 'clear' ? priorityOf(t.peak / mean) : priorityOf(flow / mean);
    if (state !== 'clear') t.emitted = { priority, confirmed, hint: hint?.sensor, flow, ts, location: hint };
    const raised = { dma: t.dma, flow: flow.toFixed(1), share: Math.round((100 * flow) / mean) };
    const text = state === 'clear' ? alarmText('burst.clear', { dma: t.dma })
      : !confirmed ? alarmText('burst.raise_unconfirmed', raised)
        : hint ? alarmText('burst.raise_located', { ...raised, sensor: hint.sensor, dropKpa: (hint.drop * 1000).toFixed(1) })
          : alarmText('burst.raise', raised);
    return {
      id: `burst:${t.dma}`, type: 'burst', state, ts, priority, site: t.site || undefined, dma: t.dma,
      sensor: confirmed ? hint?.sensor : undefined,
      text,
      evidence: {
        burstFlowM3h: round(flow, 2),
        peakFlowM3h: round(t.peak, 2),
        meanInflowM3h: round(mean, 2),
        shareOfMeanInflow: round(flow / mean, 3),
        estimatedStart: t.onset,
        // the DMA's level before the burst (share above its baseline): what a restart resumes from
        referenceRatio: round(t.refRatio, 5),
        stepAtStartM3h: round(t.jump, 2),
        // the test that raised it: the level against the samples before, the innovation against the predicted wander (10–15-min data), or the CUSUM
        stepTest: t.raisedBy,
        residualSigmaM3h: round(sigma, 3),
        cusum: round(t.s, 1),
        pressureConfirmed: confirmed,
        locationHint: hint?.sensor,
        largestPressureDropMPa: hint ? round(hint.drop, 5) : undefined,
        pressureDropsMPa: hint?.drops,
      },
    };
  }
}

export function priorityOf(share: number): 'low' | 'medium' | 'high' | 'critical' {
  if (share >= 0.3) return 'critical';
  if (share >= 0.15) return 'high';
  if (share >= 0.05) return 'medium';
  return 'low';
}


function newTankLevel(sensor: string, volume: (levelM: number) => number): TankLevel {
  return { sensor, volume, last: NaN, lastTs: NaN, prev: NaN, prevTs: NaN, resolutionM: NaN, secondDiffMeanSq: 0, secondDiffs: 0 };
}

/**
 * A level reading: its resolution (the smallest change so far; changes under 1 µm are float noise)
 * and its second difference. A smooth level moves almost linearly between three readings, so the
 * second difference is their error: var = 6 σ² for independent reading errors of σ. A pump
 * starting or stopping bends the level once, so values beyond 5 × the RMS so far are clipped to it.
 */
function observeLevel(k: TankLevel, r: Point): void {
  if (r.quality === 'bad' || !Number.isFinite(r.value) || !(r.ts > k.lastTs || Number.isNaN(k.lastTs))) return;
  const change = Math.abs(r.value - k.last);
  if (change >= 1e-6 && !(change >= k.resolutionM)) k.resolutionM = change;
  if (Number.isFinite(k.prev) && r.ts - k.lastTs === k.lastTs - k.prevTs) {
    let sq = (r.value - 2 * k.last + k.prev) ** 2;
    if (k.secondDiffs >= MIN_NOISE_VALUES) sq = Math.min(sq, 25 * k.secondDiffMeanSq);
    k.secondDiffs = Math.min(k.secondDiffs + 1, LEVEL_NOISE_READINGS);
    k.secondDiffMeanSq += (sq - k.secondDiffMeanSq) / k.secondDiffs;
  }
  k.prev = k.last;
  k.prevTs = k.lastTs;
  k.last = r.value;
  k.lastTs = r.ts;
}

/**
 * A level sensor's noise beyond its rounding σ_w (m): the readings' error variance from their second
 * differences less the rounding's δ²/12 (a level read to 1 cm with no other noise: about 0; the
 * simulator's 3 mm read to 1 mm: 3 mm). 0 until 20 second differences are known.
 */
function levelWhiteNoiseM(k: TankLevel): number {
  if (k.secondDiffs < MIN_NOISE_VALUES) return 0;
  const rounding = Number.isNaN(k.resolutionM) ? 0 : k.resolutionM ** 2 / 12;
  return Math.sqrt(Math.max(0, k.secondDiffMeanSq / 6 - rounding));
}

function push(ts: number[], xs: number[], t: number, x: number, keepFrom: number): void {
  ts.push(t);
  xs.push(x);
  let drop = 0;
  while (drop < ts.length && ts[drop] < keepFrom) drop++;
  if (drop) {
    ts.splice(0, drop);
    xs.splice(0, drop);
  }
}

function meanSince(ts: number[], xs: number[], from: number): number {
  let sum = 0;
  let n = 0;
  for (let i = ts.length - 1; i >= 0 && ts[i] >= from; i--) {
    sum += xs[i];
    n++;
  }
  return n ? sum / n : 0;
}

function meanBetween(ts: number[], xs: number[], from: number, to: number): number {
  let sum = 0;
  let n = 0;
  for (let i = ts.length - 1; i >= 0 && ts[i] >= from; i--) {
    if (ts[i] < to) {
      sum += xs[i];
      n++;
    }
  }
  return n ? sum / n : NaN;
}

const scratch: number[] = [];
function medianBetween(ts: number[], xs: number[], from: number, to: number): number {
  scratch.length = 0;
  for (let i = ts.length - 1; i >= 0 && ts[i] >= from; i--) if (ts[i] < to) scratch.push(xs[i]);
  return scratch.length ? medianOf(scratch) : NaN;
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
