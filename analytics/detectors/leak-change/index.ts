/**
 * Lasting changes of a DMA's net demand that are leaks too small or too slow for the burst and
 * night-flow detectors: `leak_trend:<dma>` (a leak growing over days or weeks, with its estimated
 * start and flow now, closed by its repair; `leak_trend:<dma>:<n>` for one on top of n − 1 known)
 * and `abrupt_leak:<dma>:<start>` (a step that is still there the next night, with its start and
 * size). See README.md for the method.
 */
import type { Point } from '../../../core/model/reading.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import { readRawHistory, replayByTimestamp } from '../../baseline/history.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';
import { DAY_MS, LocalTime, MINUTE_MS } from '../../baseline/local-time.ts';
import { medianOf } from '../../baseline/median.ts';
import { DmaInflow, type NetInflow } from '../../dma-inflow.ts';
import type { BurstView, Condition, Detector, DetectorContext, OpenAlarm } from '../../types.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import { WarmedConditions } from '../warmed-conditions.ts';
import { AbruptSteps, STEP_BASE_DAYS, type StepJudgement } from './abrupt.ts';
import type { LeakDecision, LeakDecisionLookup } from './decisions.ts';
import { HourlyMeans, type ClosedHour } from './hours.ts';
import { InletHours, SplitShifts, type SplitShift } from './split.ts';
import { QuarterHours, type OffHourExcess } from './quarters.ts';
import { DAY_KINDS, DayKinds, kindOffsets } from './day-kinds.ts';
import { leakChangeOptionsSchema, type LeakChangeOptions, type LeakChangeSettings } from './options.ts';
import { SlowLeakTrend, type DayFigure, type ResumedLeak, type TrendJudgement } from './trend.ts';

export type { LeakChangeOptions };

const HOUR_MS = 3_600_000;
const QUARTER_HOUR_MS = 900_000;
/**
 * How much later than live a replay from a colder state may raise the same leak: a slow leak's
 * raise waits for a week's level, an abrupt one for the next night (reconcile).
 */
const EPISODE_TOLERANCE_MS = 8 * DAY_MS;
/** One local day's hourly means, m³/h, less the flow of abrupt leaks already raised (NaN: not covered). */
interface DayHours {
  day: number;
  /** Its day kind (day-kinds.ts). */
  kind: number;
  hours: Float64Array;
  hourStarts: Float64Array;
  nightDone: boolean;
  /** Start and end of the night window, and end of the day (the next local midnight), ms. */
  nightStartTs: number;
  nightEndTs: number;
  dayEndTs: number;
  /** Per inlet, its hourly share of the inflow (a DMA with two or more inlets; NaN: not known). */
  shares: Float64Array[];
}

/** A DMA with two or more inlets: where its water comes from (split.ts). */
interface InletSplit {
  hours: InletHours;
  shifts: SplitShifts;
  /** Per inlet, per day kind and hour, how far that kind's share runs from all days'. */
  offsets: Float64Array[][];
}

class DmaLeaks {
  readonly hours: HourlyMeans;
  readonly trend: SlowLeakTrend;
  readonly steps: AbruptSteps;
  /** Closed days, oldest first (historyDays of them). */
  private readonly days: DayHours[] = [];
  private today?: DayHours;
  /** Per day kind (day-kinds.ts) and hour, how far that kind's hour runs from all days' (m³/h). */
  private readonly dayOffset = Array.from({ length: DAY_KINDS }, () => new Float64Array(24));
  /** Per day kind and hour: the offset is the kind's own (seen at least twice), not its class's. */
  private readonly kindKnown = Array.from({ length: DAY_KINDS }, () => new Array<boolean>(24).fill(false));
  readonly split?: InletSplit;
  /** The report by day judged at every quarter hour (data at 15 min or finer). */
  private readonly quarters: QuarterHours;
  /** festiveAt's last UTC quarter hour and its answer. */
  private festiveQuarter = NaN;
  private festiveNow = false;
  /** Abrupt leaks (by key) whose conditions went under a burst's alarm, with that burst's condition id. */
  private readonly underBurst = new Map<number, string>();

  constructor(
    readonly dma: string, readonly site: string, private readonly o: LeakChangeSettings, private readonly local: LocalTime,
    private readonly out: () => Condition[], inlets: readonly string[] = [], private readonly kinds = new DayKinds(),
    private readonly bursts?: BurstView,
  ) {
    this.hours = new HourlyMeans(local, o.hourCoverage, (h) => this.onHour(h));
    this.trend = new SlowLeakTrend(o);
    this.steps = new AbruptSteps(o);
    this.quarters = new QuarterHours(o, local, (ts) => this.steps.activeFlowAt(ts), kinds);
    if (inlets.length >= 2) {
      this.split = {
        hours: new InletHours(inlets, local), shifts: new SplitShifts(inlets.length, Math.max(1, Math.round(o.dayStepHours)), o.splitNoiseFloor),
        offsets: inlets.map(() => Array.from({ length: DAY_KINDS }, () => new Float64Array(24))),
      };
    }
  }

  /** A net inflow value standing for `minutes`: the clock hours' and the quarter hours'. */
  add(ts: number, value: number, minutes: number): void {
    if (!this.festiveAt(ts)) this.onOffHour(this.quarters.add(ts, value, minutes));
    this.hours.add(ts, value, minutes);
  }

  /**
   * The instant is in a festive eve's span (calendar `eves`: the eve and the night after it): its
   * hours are taken as missing, neither judged nor learnt. On BWDF's Italian towns the afternoons of
   * Christmas Eve and New Year's Eve and the festive nights after them raised 21 of the 103 false
   * `abrupt_leak`: use like no other day's, confirmed by a night like no other night.
   */
  private festiveAt(ts: number): boolean {
    if (!this.kinds.hasEves) return false;
    // the span begins and ends on a local whole hour, which is a UTC quarter hour in every zone:
    // worked out once per quarter hour, not per reading
    const quarter = Math.floor(ts / QUARTER_HOUR_MS);
    if (quarter !== this.festiveQuarter) {
      const p = this.local.position(ts);
      this.festiveQuarter = quarter;
      this.festiveNow = this.kinds.festive(p.day, p.msOfDay, this.o.nightToHour * HOUR_MS);
    }
    return this.festiveNow;
  }

  /** The watermark reached `ts`: close the hour, and the night or the day, that ended by then. */
  advance(ts: number): void {
    this.onOffHour(this.quarters.advance(ts));
    this.hours.advance(ts);
    const t = this.today;
    if (!t) return;
    if (!t.nightDone && ts >= t.nightEndTs) this.closeNight(t);
    if (ts >= t.dayEndTs) this.closeDay(t);
  }

  private onOffHour(off: OffHourExcess | undefined): void {
    if (!off || this.festiveAt(off.endTs - 1)) return;
    const j = this.steps.onOffHour(off.endTs, off.excess);
    if (j) this.onStep(j, off.endTs);
  }

  private onHour(h: ClosedHour): void {
    if (this.today && this.today.day !== h.day) this.closeDay(this.today);
    if (!this.today) {
      this.today = {
        day: h.day, kind: this.kinds.of(h.day), hours: new Float64Array(24).fill(NaN), hourStarts: new Float64Array(24).fill(NaN), nightDone: false,
        nightStartTs: this.local.instantOf(h.day, this.o.nightFromHour * HOUR_MS), nightEndTs: this.local.instantOf(h.day, this.o.nightToHour * HOUR_MS), dayEndTs: this.local.instantOf(h.day + 1, 0),
        shares: (this.split?.hours.inlets ?? []).map(() => new Float64Array(24).fill(NaN)),
      };
    }
    const t = this.today;
    if (this.festiveAt(h.startTs)) {
      // a gap in the data, as far as the references, the steps and the daily figures go
      if (h.hour === this.o.nightToHour - 1) this.closeNight(t);
      if (h.hour === 23) this.closeDay(t);
      return;
    }
    const value = h.mean - this.steps.activeFlowAt(h.startTs);
    t.hours[h.hour] = value;
    t.hourStarts[h.hour] = h.startTs;
    const reference = this.referenceOf(t.kind, h.hour);
    const split = this.splitShiftOf(t, h);
    const j = this.steps.onHour(h.startTs, h.hour, value - reference, this.sigmaFloor(reference), this.kindKnown[t.kind][h.hour], split);
    if (j) this.onStep(j, h.endTs);
    if (h.hour === this.o.nightToHour - 1) this.closeNight(t);
    if (h.hour === 23) this.closeDay(t);
  }

  /**
   * The same hour of the last profileDays days (median), each moved to this day's kind by the kinds'
   * offsets at that hour: recent days, so neither a seasonal drift nor a growing leak looks like a
   * step, and a Sunday afternoon is compared with the days just before it as Sundays differ.
   */
  private referenceOf(kind: number, hour: number): number {
    return this.profileReference((d) => d.hours, this.dayOffset, kind, hour);
  }

  private profileReference(series: (d: DayHours) => Float64Array, offsets: Float64Array[], kind: number, hour: number): number {
    const values: number[] = [];
    for (let i = this.days.length - 1; i >= 0 && values.length < this.o.profileDays; i--) {
      const v = series(this.days[i])[hour];
      if (Number.isFinite(v)) values.push(v - offsets[this.days[i].kind][hour]);
    }
    return values.length >= 2 ? medianOf(values) + offsets[kind][hour] : NaN;
  }

  /**
   * The hour's inlet shares against the same hour of recent days (kind by kind, as the net demand),
   * and how far they moved over the last dayStepHours hours; undefined for a DMA with one inlet.
   */
  private splitShiftOf(t: DayHours, h: ClosedHour): SplitShift | undefined {
    const s = this.split;
    if (!s) return undefined;
    const shares = s.hours.sharesOf(h.startTs);
    const residuals = shares.map((share, i) => {
      t.shares[i][h.hour] = share;
      return share - this.profileReference((d) => d.shares[i], s.offsets[i], t.kind, h.hour);
    });
    return s.shifts.onHour(residuals);
  }

  /**
   * Per day kind and hour: its median over the history minus all days' median (the same weeks: leaks
   * cancel out). Saturday and Sunday are not one kind: L-Town's Sunday afternoons ran about 10 m³/h
   * below its Saturdays', so against one weekend kind every Sunday hour's residual was −5 to −10 and
   * a 5 m³/h leak on a Sunday afternoon (p280, p710) left it below zero. (Seven weekday kinds, tried,
   * cost power where weekdays do not differ: medians of 8 values each.) A kind seen fewer than twice
   * takes its class's (working day or weekend day), or 0, and its hours are not reported by day.
   */
  private updateDayOffsets(): void {
    this.updateKindOffsets((d) => d.hours, this.dayOffset, this.kindKnown);
    this.split?.offsets.forEach((offsets, i) => this.updateKindOffsets((d) => d.shares[i], offsets));
  }

  /**
   * Per day kind and hour of one hourly series: the kind's median minus all days' (a kind seen fewer
   * than twice: its class's, or 0), and whether the kind's own is known.
   */
  private updateKindOffsets(series: (d: DayHours) => Float64Array, offsets: Float64Array[], known?: boolean[][]): void {
    for (let hour = 0; hour < 24; hour++) {
      const kinds = kindOffsets(this.days.map((d) => ({ kind: d.kind, value: series(d)[hour] })));
      for (let k = 0; k < DAY_KINDS; k++) {
        offsets[k][hour] = kinds.offsets[k];
        if (known) known[k][hour] = kinds.known[k];
      }
    }
  }

  private sigmaFloor(levelM3h: number): number {
    return this.o.sigmaFloorShare * (Number.isFinite(levelM3h) ? Math.abs(levelM3h) : 0);
  }

  private closeNight(t: DayHours): void {
    t.nightDone = true;
    let flow = 0;
    let reference = 0;
    for (let h = this.o.nightFromHour; h < this.o.nightToHour; h++) {
      flow += t.hours[h];
      reference += this.referenceOf(t.kind, h);
    }
    const n = this.o.nightToHour - this.o.nightFromHour;
    const endTs = t.nightEndTs;
    const j = this.steps.onNight(t.nightStartTs, endTs, (flow - reference) / n, this.sigmaFloor(reference / n));
    if (j) this.onStep(j, endTs);
  }

  private closeDay(t: DayHours): void {
    if (!t.nightDone) this.closeNight(t);
    this.today = undefined;
    this.quarters.closeDay(t.day);
    this.days.push(t);
    if (this.days.length > this.o.historyDays) this.days.shift();
    this.updateDayOffsets();
    const f = this.figureOf(t);
    if (!f) return;
    const j = this.trend.addDay(f, this.steps.active.length > 0);
    if (j) this.onTrend(j, t.dayEndTs);
    if (j?.kind === 'raise') this.steps.dropPendingFrom(this.local.instantOf(j.startDay, 0));
    const confirmed = this.steps.judgePending((startTs) => this.nightsAfter(startTs), t.dayEndTs);
    if (confirmed) this.onStep(confirmed, t.dayEndTs);
  }

  /**
   * The nights after a step at `startTs` against the week before it, in the slow-leak figures: the
   * days whose night window began after the step, and the days that ended before it.
   */
  private nightsAfter(startTs: number) {
    const { day } = this.local.position(startTs);
    const firstAfter = startTs <= this.local.instantOf(day, this.o.nightFromHour * HOUR_MS) ? day : day + 1;
    const lastBefore = day - 1;
    return this.trend.stepExcess(firstAfter, lastBefore, STEP_BASE_DAYS);
  }

  private figureOf(t: DayHours): DayFigure | undefined {
    let night = 0;
    for (let h = this.o.nightFromHour; h < this.o.nightToHour; h++) night += t.hours[h];
    let sum = 0;
    let n = 0;
    for (const v of t.hours) if (Number.isFinite(v)) { sum += v; n++; }
    if (!Number.isFinite(night) || n < this.o.minDayHours) return undefined;
    return { day: t.day, nightM3h: night / (this.o.nightToHour - this.o.nightFromHour), dayM3h: sum / n };
  }

  /** Take `delta` m³/h off every stored hour from `fromTs` on (an abrupt leak raised) or put it back (repaired). */
  private correct(fromTs: number, delta: number): void {
    this.correctHours(delta, (hourStart) => hourStart >= fromTs);
  }

  /** Take `delta` m³/h off the stored hours whose start `which` selects, and the slow-leak figures of their days. */
  private correctHours(delta: number, which: (hourStart: number) => boolean): void {
    this.quarters.correct(delta, which);
    for (const d of [...this.days, ...(this.today ? [this.today] : [])]) {
      let changed = false;
      for (let h = 0; h < 24; h++) {
        if (which(d.hourStarts[h]) && Number.isFinite(d.hours[h])) {
          d.hours[h] -= delta;
          changed = true;
        }
      }
      const f = changed && d !== this.today ? this.figureOf(d) : undefined;
      if (f) this.trend.replaceDay(f);
    }
  }

  /**
   * A dispatcher's acceptance of this DMA's leak alarm as a change of use, in force from `ts`: the
   * references move to the level now and the alarm clears with `accepted: true`. A decision about a
   * leak this detector does not hold (cleared already, or never raised in this run) changes nothing.
   */
  accept(d: LeakDecision, ts: number): void {
    const evidence = { accepted: true, decisionId: d.id, acceptedBy: d.decidedBy, reason: d.reason };
    if (d.type === 'leak_trend') {
      const serial = trendSerialOf(this.dma, d.conditionId);
      if (serial === undefined) return;
      const j = this.trend.accept(serial);
      if (!j) return;
      this.onTrend(j, ts, evidence);
      // the steps its rise made since it began are that use too
      this.steps.dropPendingFrom(this.local.instantOf(j.startDay, 0));
      return;
    }
    const prefix = `abrupt_leak:${this.dma}:`;
    if (!d.conditionId.startsWith(prefix)) return;
    const found = this.steps.accept(Number(d.conditionId.slice(prefix.length)));
    if (!found) return;
    this.quarters.reset();
    const { leak, confirmed } = found;
    this.underBurst.delete(leak.key);
    // every stored hour to the new use: a confirmed leak's flow was taken off from its start, a
    // report's hours since its start hold it already and the hours before get it
    this.correctHours(-leak.sizeM3h, confirmed ? () => true : (hourStart) => hourStart < leak.startTs);
    this.trend.noteAbrupt(leak.key);
    this.trend.shiftReference(leak.sizeM3h);
    this.out().push({
      id: `abrupt_leak:${this.dma}:${leak.key}`, type: 'abrupt_leak', ts, site: this.site || undefined, dma: this.dma, priority: 'medium', state: 'clear',
      evidence: { estimatedStartTs: leak.startTs, estimatedStart: new Date(leak.startTs).toISOString(), sizeM3h: round(leak.sizeM3h), confirmed, ...evidence },
      text: alarmText('abrupt_leak.accepted', { dma: this.dma, size: leak.sizeM3h.toFixed(1) }),
    });
  }

  /**
   * After a restart's warm-up: this DMA's leaks whose alarms are open but which the replayed
   * history did not raise again (raised before it). An abrupt leak's flow is taken off the stored
   * hours again (the warm-up learnt them with it) and the slow-leak reference moves down with them;
   * slow leaks are taken up with their flows under the level the replayed nights show (trend.ts, `resume`).
   */
  resumeOpenAlarms(alarms: readonly OpenAlarm[]): void {
    const prefix = `abrupt_leak:${this.dma}:`;
    for (const a of alarms) {
      if (a.type !== 'abrupt_leak' || !a.conditionId.startsWith(prefix)) continue;
      const key = Number(a.conditionId.slice(prefix.length));
      const startTs = Number(a.evidence?.estimatedStartTs);
      const sizeM3h = Number(a.evidence?.sizeM3h);
      if (!Number.isFinite(key) || !Number.isFinite(startTs) || !(sizeM3h > 0) || a.evidence?.confirmed === false) continue;
      if (this.steps.active.some((l) => l.key === key)) continue;
      this.steps.active.push({ key, startTs, sizeM3h, raisedTs: a.raisedAt });
      this.correct(startTs, sizeM3h);
      this.trend.shiftReference(-sizeM3h);
    }
    const slow: ResumedLeak[] = [];
    for (const a of alarms) {
      const serial = a.type === 'leak_trend' ? trendSerialOf(this.dma, a.conditionId) : undefined;
      const e = a.evidence ?? {};
      if (serial === undefined || !Number.isFinite(Number(e.estimatedStartTs))) continue;
      slow.push({
        serial, startDay: this.local.position(Number(e.estimatedStartTs)).day, leakM3h: Number(e.leakM3h),
        knownLeaksM3h: Number(e.knownLeaksM3h ?? 0), settled: e.settled === true,
      });
    }
    if (slow.length) this.trend.resume(slow);
  }

  /**
   * The burst raised in this DMA that a step starting at `startTs` is: its onset within an hour of
   * the step's start (the hourly means' resolution). A burst that lasts the hours a step needs to be
   * reported by day is one too, and one event is one alarm: the step goes under the burst's alarm.
   */
  private burstOf(startTs: number): string | undefined {
    const burst = this.bursts?.activeBurstOnset(this.dma);
    return burst && Math.abs(burst.onsetTs - startTs) <= HOUR_MS ? burst.id : undefined;
  }

  private onStep(j: StepJudgement, ts: number): void {
    const id = `abrupt_leak:${this.dma}:${j.leak.key}`;
    const base = { id, type: 'abrupt_leak', ts, site: this.site || undefined, dma: this.dma, priority: 'medium' as const };
    const evidence = { estimatedStartTs: j.leak.startTs, estimatedStart: new Date(j.leak.startTs).toISOString(), sizeM3h: round(j.leak.sizeM3h) };
    const start = this.local.stamp(j.leak.startTs);
    const size = j.leak.sizeM3h.toFixed(1);
    const burst = this.burstOf(j.leak.startTs);
    switch (j.kind) {
      case 'report':
        if (burst) this.underBurst.set(j.leak.key, burst);
        this.out().push({
          ...base, state: 'raise',
          evidence: { ...evidence, confirmed: false, excessSigma: round(j.excessSigma), excessM3h: round(j.excessM3h), ...this.splitEvidence(j.split), ...(burst ? { parent: burst } : {}) },
          text: this.reportText(j.split, { dma: this.dma, size, start }),
        });
        return;
      case 'retract':
        this.underBurst.delete(j.leak.key);
        this.out().push({
          ...base, state: 'clear', evidence: { ...evidence, retracted: true, ...(j.nightResidualM3h === undefined ? {} : { nightResidualM3h: round(j.nightResidualM3h) }) },
          text: alarmText('abrupt_leak.retracted', { dma: this.dma, size }),
        });
        return;
      case 'raise': {
        this.correct(j.leak.startTs, j.leak.sizeM3h);
        this.trend.noteAbrupt(j.leak.key, j.leak.sizeM3h);
        this.trend.restartCusum();
        const confirmed = { ...evidence, confirmed: true, nightRiseM3h: round(j.nightRiseM3h), nightSigmaM3h: round(j.nightSigmaM3h), ...(j.nights === undefined ? {} : { confirmedOverNights: j.nights }) };
        const reportedUnder = j.reported ? this.underBurst.get(j.leak.key) : undefined;
        if (reportedUnder && !burst) {
          // reported under a burst whose alarm has cleared since, and still there at night: a leak of
          // its own, so out from under the burst (a clear of the secondary, then an alarm's raise)
          this.underBurst.delete(j.leak.key);
          const text = alarmText('abrupt_leak.outlived_burst', { dma: this.dma, size, start });
          this.out().push({ ...base, state: 'clear', evidence: { ...confirmed, parent: reportedUnder }, text });
          this.out().push({ ...base, state: 'raise', evidence: { ...confirmed, afterBurst: reportedUnder }, text });
          return;
        }
        // a step the night confirms while its burst is still raised stays under it
        const parent = reportedUnder ?? (j.reported ? undefined : burst);
        if (parent) this.underBurst.set(j.leak.key, parent);
        this.out().push({
          ...base, state: j.reported ? 'update' : 'raise',
          evidence: { ...confirmed, ...(parent ? { parent } : {}) },
          text: j.nights === undefined ? alarmText('abrupt_leak.raise', { dma: this.dma, size, start })
            : alarmText('abrupt_leak.raise_nights', { dma: this.dma, size, start, nights: String(j.nights) }),
        });
        return;
      }
      case 'repair':
        this.underBurst.delete(j.leak.key);
        this.correct(j.repairTs, -j.leak.sizeM3h);
        this.trend.noteAbrupt(j.leak.key);
        this.out().push({
          ...base, state: 'clear', evidence: { ...evidence, repairTs: j.repairTs, nightDropM3h: round(j.nightDropM3h), ...(j.nights === undefined ? {} : { confirmedOverNights: j.nights }) },
          text: alarmText('abrupt_leak.clear', { dma: this.dma, size }),
        });
    }
  }

  /**
   * A report the inlets' split made: how far it moved (σ), each inlet's change of share, and the inlet
   * whose share rose most, which the leak draws most from (nearer it, in a network fed from two sides).
   */
  private splitEvidence(split: SplitShift | undefined): Record<string, unknown> {
    const inlets = this.split?.hours.inlets;
    if (!split || !inlets) return {};
    const shifts: Record<string, number> = {};
    let nearest = 0;
    split.shifts.forEach((x, i) => {
      shifts[inlets[i]] = round(x, 4);
      if (x > split.shifts[nearest]) nearest = i;
    });
    return { splitSigma: round(split.sigmas), inletShareShifts: shifts, nearestInlet: inlets[nearest] };
  }

  /** A report's text: with the inlet the leak draws most from when the inlets' split made it. */
  private reportText(split: SplitShift | undefined, params: { dma: string; size: string; start: string }) {
    const e = this.splitEvidence(split);
    if (!split || typeof e.nearestInlet !== 'string') return alarmText('abrupt_leak.reported', params);
    const shift = (e.inletShareShifts as Record<string, number>)[e.nearestInlet];
    return alarmText('abrupt_leak.reported_split', { ...params, inlet: e.nearestInlet, sharePct: (100 * shift).toFixed(1) });
  }

  private onTrend(j: TrendJudgement, ts: number, acceptance?: Record<string, unknown>): void {
    const s = j.state;
    const startTs = this.local.instantOf(j.startDay, 0);
    const evidence = {
      estimatedStartTs: startTs, estimatedStartDate: this.local.stamp(startTs).slice(0, 10), leakM3h: round(j.leakM3h),
      adjustedNightFlowM3h: round(s.adjustedNightM3h), referenceM3h: round(s.referenceM3h), sigmaM3h: round(s.sigmaM3h),
      cusumM3hDays: round(s.cusum), swingWeight: round(s.swingWeight, 3), knownLeaksM3h: round(s.knownLeaksM3h),
    };
    const base = { id: trendConditionId(this.dma, j.serial), type: 'leak_trend', ts, site: this.site || undefined, dma: this.dma, priority: 'medium' as const };
    const params = { dma: this.dma, leak: j.leakM3h.toFixed(1), start: evidence.estimatedStartDate };
    if (j.kind === 'raise') {
      const text = s.knownLeaksM3h > 0 ? alarmText('leak_trend.raise_on_known', { ...params, known: s.knownLeaksM3h.toFixed(1) }) : alarmText('leak_trend.raise', params);
      this.out().push({ ...base, state: 'raise', evidence, text });
    }
    else if (j.kind === 'update' && j.settled) this.out().push({ ...base, state: 'update', evidence: { ...evidence, settled: true }, text: alarmText('leak_trend.settled', params) });
    else if (j.kind === 'update') this.out().push({ ...base, state: 'update', evidence, text: alarmText('leak_trend.persists', params) });
    else if (j.kind === 'accepted') {
      this.out().push({
        ...base, state: 'clear', evidence: { ...evidence, ...acceptance },
        text: alarmText('leak_trend.accepted', { dma: this.dma, reference: s.referenceM3h.toFixed(1) }),
      });
    } else {
      const repairedTs = this.local.instantOf(j.repairedDay, 0);
      this.out().push({
        ...base, state: 'clear', evidence: { ...evidence, repairedTs, repairedDate: this.local.stamp(repairedTs).slice(0, 10), nightDropM3h: round(j.dropM3h) },
        text: alarmText('leak_trend.clear', { dma: this.dma, reference: s.referenceM3h.toFixed(1) }),
      });
    }
  }
}

export interface LeakChangeInputs {
  /** Dispatchers' acceptances of leak alarms as changes of use, read by event time (decisions.ts). */
  decisions?: LeakDecisionLookup;
  /**
   * The alarms open now (the alarm store's): after a restart's warm-up, the leaks whose alarms are
   * still active but which the replayed history did not raise again are taken up (resumeOpenAlarms).
   */
  openAlarms?: () => readonly OpenAlarm[];
  /** The burst detector: a step that began with a burst still raised goes under the burst's alarm. */
  bursts?: BurstView;
}

export class LeakChangeDetector implements Detector {
  readonly name = 'leak-change';
  private readonly inflow: DmaInflow;
  private readonly dmas = new Map<string, DmaLeaks>();
  private readonly net: NetInflow[] = [];
  private out: Condition[] = [];
  /** What warmUp found and did not emit (reconcile). */
  private readonly warmed = new WarmedConditions();
  private readonly decisions?: LeakDecisionLookup;
  private readonly openAlarms?: () => readonly OpenAlarm[];
  /** Decisions applied already (one may be recorded with a time the watermark has passed: it applies at the next step). */
  private readonly applied = new Set<number>();
  /** The inlet-share hours each inlet sensor feeds (DMAs with two or more inlets). */
  private readonly splitOf = new Map<string, InletHours[]>();
  private readonly health?: DetectorContext['health'];
  private readonly topology: DetectorContext['topology'];
  private readonly o: LeakChangeSettings;

  constructor(ctx: DetectorContext, options: LeakChangeOptions = {}, inputs: LeakChangeInputs = {}) {
    this.decisions = inputs.decisions;
    this.openAlarms = inputs.openAlarms;
    this.topology = ctx.topology;
    const o = parseDetectorOptions('leak-change', leakChangeOptionsSchema, options);
    this.o = o;
    if (!(o.nightToHour > o.nightFromHour)) throw new Error('leak-change.nightToHour: must be after nightFromHour');
    const local = new LocalTime(ctx.timezone);
    this.inflow = new DmaInflow(ctx.topology, ctx.health);
    const kinds = new DayKinds(ctx.calendar);
    for (const dma of this.inflow.dmas()) {
      const inlets = this.inflow.termsOf(dma).filter((t) => t.sign > 0).map((t) => t.sensor);
      const leaks = new DmaLeaks(dma, this.inflow.siteOf(dma), o, local, () => this.out, inlets, kinds, inputs.bursts);
      this.dmas.set(dma, leaks);
      if (leaks.split) for (const s of inlets) this.splitOf.set(s, [...(this.splitOf.get(s) ?? []), leaks.split.hours]);
    }
    this.health = ctx.health;
  }

  onReadings(batch: readonly Point[]): Condition[] {
    for (const r of batch) {
      if (!this.inflow.isBalanceSensor(r.sensor)) continue;
      // an inlet's own hour first: the net demand's hour may close on this reading
      const splits = this.splitOf.get(r.sensor);
      if (splits && r.quality !== 'bad' && !this.health?.isFaulty(r.sensor)) for (const s of splits) s.add(r.sensor, r.ts, r.value);
      this.net.length = 0;
      this.inflow.add(r, this.net);
      this.take(this.net);
    }
    return this.drain();
  }

  /**
   * A restart replays the stored readings of every DMA's balance over the last learnDays +
   * historyDays days through this detector, silently, a day at a time (memory: one day's readings):
   * the hourly references, the noise, the slow-leak reference and the leaks raised in that span are
   * where they were, so the alarms raised before the restart are updated and cleared as before. A
   * leak raised before the span whose alarm is still active is taken up from that alarm
   * (DmaLeaks.resumeOpenAlarms).
   */
  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    const sensors = [...new Set(this.inflow.dmas().flatMap((dma) => this.inflow.balanceSensorsOf(dma)))];
    const from = until - (this.o.learnDays + this.o.historyDays) * DAY_MS;
    for (let t = from; t < until; t += DAY_MS) {
      const to = Math.min(t + DAY_MS, until);
      replayByTimestamp(await readRawHistory(history, this.topology, sensors, t, to), (batch) => this.warmed.keep(this.onReadings(batch)));
      this.warmed.keep(this.onTime(to));
    }
    // only alarms raised before the restart: an output database may hold a later period's; not those
    // the replayed days saw repaired (reconcile clears them)
    const open = (this.openAlarms?.() ?? []).filter((a) => a.raisedAt < until && (a.type === 'leak_trend' || a.type === 'abrupt_leak')
      && !this.warmed.endedEpisodeOf(a, EPISODE_TOLERANCE_MS));
    for (const [dma, leaks] of this.dmas) leaks.resumeOpenAlarms(open.filter((a) => a.dma === dma));
    this.drain();
  }

  /**
   * After warmUp on a live restart (see Detector.reconcile). A leak the replayed days raised after
   * the alarm manager's last stored transition, and hold without an alarm, began while it was down:
   * raised now. One raised before that was seen live: not raised (a slow leak's serial may differ
   * between the replay and live). An open alarm whose leak the replayed days saw repaired is
   * cleared.
   */
  reconcile(open: readonly OpenAlarm[], at: number, analysedUntil: number): Condition[] {
    const out = this.warmed.raisesWithoutAlarm(open, at, { raisedAfter: analysedUntil });
    for (const a of open) {
      if ((a.type !== 'leak_trend' && a.type !== 'abrupt_leak') || this.warmed.holds(a.conditionId)) continue;
      const ended = this.warmed.endedEpisodeOf(a, EPISODE_TOLERANCE_MS);
      if (ended) out.push(WarmedConditions.clearAt(ended, at));
    }
    this.warmed.clear();
    return out;
  }

  onTime(eventTime: number): Condition[] {
    this.net.length = 0;
    this.inflow.advance(eventTime, this.net);
    this.take(this.net);
    for (const d of this.dmas.values()) d.advance(eventTime);
    if (this.decisions) this.applyDecisions(this.decisions, eventTime);
    return this.drain();
  }

  /** The decisions in force by event time `ts` not applied yet, oldest first. */
  private applyDecisions(decisions: LeakDecisionLookup, ts: number): void {
    for (const d of decisions.decisionsUpTo(ts)) {
      if (this.applied.has(d.id)) continue;
      this.applied.add(d.id);
      this.dmas.get(d.dma)?.accept(d, ts);
    }
  }

  private take(values: readonly NetInflow[]): void {
    for (const v of values) this.dmas.get(v.dma)?.add(v.ts, v.value, this.inflow.minutesOf(v));
  }

  private drain(): Condition[] {
    const c = this.out;
    this.out = [];
    return c;
  }
}

/**
 * A DMA's slow leaks: `leak_trend:<dma>` for the first, `leak_trend:<dma>:<n>` for one raised while
 * n − 1 others are known (trend.ts: a leak that stopped growing, with a further rise above it).
 */
function trendConditionId(dma: string, serial: number): string {
  return serial === 1 ? `leak_trend:${dma}` : `leak_trend:${dma}:${serial}`;
}

function trendSerialOf(dma: string, conditionId: string): number | undefined {
  if (conditionId === `leak_trend:${dma}`) return 1;
  const prefix = `leak_trend:${dma}:`;
  if (!conditionId.startsWith(prefix)) return undefined;
  const n = Number(conditionId.slice(prefix.length));
  return Number.isInteger(n) && n >= 2 ? n : undefined;
}


function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
