/**
 * Pressure-model residuals (LILA's approach, BattLeDIM 2020, with the evidence taken over all
 * loggers): each pressure logger is predicted from every other logger, the plant's outlet pressures
 * and the tank levels by a ridge regression learned on quiet days, with an hour-of-day correction.
 * A leak lowers the pressure near it more than the rest of the network, so a lasting negative
 * residual (a mean over hours, in multiples of that mean's own noise) raises `leak_candidate:<dma>`,
 * with the DMA's loggers ranked by residual (the first is the nearest to the leak) and their map
 * coordinates. A network event (valve operation, pump trip) moves loggers of several DMAs at once
 * against the model: those slots are left out. See README.md.
 *
 * Memory per sensor is fixed: the learning days' slot means until the models are fitted, then the
 * columns' means and covariances (to fit again without a missing sensor) and a ring of persistHours
 * of residuals per logger.
 */
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import type { Point } from '../../../core/model/reading.ts';
import type { z } from 'zod';
import type { Condition, Detector, DetectorContext, DetectorMemory, OpenAlarm } from '../../types.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';
import { TimeZone } from '../../../core/time/zoned.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import { WarmedConditions } from '../warmed-conditions.ts';
import { readRawHistory } from '../../baseline/history.ts';
import { pressureModelOptionsSchema, type PressureModelSettings } from './options.ts';
import { moments, ridgeFit, type Moments } from './ridge.ts';

export type PressureModelOptions = z.input<typeof pressureModelOptionsSchema> & {
  /** The burst detector: a burst already explains a DMA's pressure loss (one event, one alarm). */
  bursts?: { activeBurst(dma: string): string | undefined };
  /** The alarms open now (a live restart): the warm-up learns from before an open leak candidate. */
  openAlarms?: () => readonly OpenAlarm[];
  /** Live: where the first day the models were learned from is kept, so that a restart learns from the same days. */
  memory?: DetectorMemory;
};

/** The memory key of the learning days' first slot (ms since the epoch). */
export const LEARNED_FROM_KEY = 'pressure-model.learnedFrom';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const KPA_PER_MPA = 1000;
/**
 * The oldest open leak candidate a restart learns from before (days before the restart): the
 * warm-up replays the pressures from then on (a day at a time). An older one is left as it is.
 */
const TAKE_UP_MAX_DAYS = 28;

/** A column of the model: a logger (predicted and predictor) or a support sensor (predictor only). */
interface Column { id: string; measurement: 'pressure' | 'level'; scale: number; dma: string; site: string; x?: number; y?: number }

/**
 * One logger's prediction: intercept + Σ weight × column, over `columns`; the fit's residual
 * standard deviation, and the measured noise of a corrected slot and of a persistHours mean.
 */
interface Prediction {
  intercept: number; columns: Int32Array; weights: Float64Array; fitSigma: number; sigmaSlot: number; sigmaMean: number;
  /** Its residual's mean per local hour of day over the learning days, subtracted from each residual. */
  hourly: Float64Array;
}

interface Learned {
  moments: Moments;
  full: (Prediction | undefined)[];
  /**
   * Every column's mean per local hour of day (index hour × columns + column), over the rows the
   * moments took: a linear model's mean residual per hour follows from them, for any set of regressors.
   */
  columnHourly: Float64Array;
  /** The range the support columns (plant pressures, tank levels) were learned in, widened by a tenth. */
  low: Float64Array;
  high: Float64Array;
  /** Predictions without some sensors (key: their column indices), fitted when they go missing. */
  reduced: Map<string, (Prediction | undefined)[]>;
}

export interface RankedSensor { sensor: string; residualKpa: number; z: number; x?: number; y?: number }

export class PressureModelDetector implements Detector {
  readonly name = 'pressure-model';
  private readonly o: PressureModelSettings;
  private readonly bursts: PressureModelOptions['bursts'];
  private readonly openAlarms: PressureModelOptions['openAlarms'];
  private readonly columns: Column[];
  /** Loggers are the first `loggers` columns. */
  private readonly loggers: number;
  private readonly dmas: string[];
  private readonly index = new Map<string, number>();
  private readonly slotMs: number;
  private readonly persistSlots: number;
  private readonly learnSlots: number;
  private readonly zone: TimeZone;
  private offsetHour = Number.NaN;
  private offset = 0;
  private slotStart = Number.NaN;
  private readonly sum: Float64Array;
  private readonly count: Uint16Array;
  /** Slot means while learning, one row per slot (the last learnDays). */
  private learning: Float64Array[] = [];
  private model: Learned | undefined;
  /** persistSlots residuals per logger (row-major by slot), kPa; NaN where unknown or left out. */
  private readonly ring: Float64Array;
  private ringPos = 0;
  private ringFill = 0;
  private readonly active = new Map<string, { since: number }>();
  private silent = false;
  /** What warmUp found and did not emit (reconcile). */
  private readonly warmed = new WarmedConditions();
  private readonly memory?: DetectorMemory;

  constructor(private readonly ctx: DetectorContext, options: PressureModelOptions = {}) {
    const { bursts, openAlarms, memory, ...config } = options;
    this.bursts = bursts;
    this.openAlarms = openAlarms;
    this.memory = memory;
    this.o = parseDetectorOptions('pressure-model', pressureModelOptionsSchema, config);
    const sensors = ctx.topology.networkSensors();
    const loggers = sensors.filter((s) => s.kind === 'pressure' && s.dma && (s.place === 'network' || s.place === 'network-end'));
    // what drives every pressure: the plant's outlet pressures and the tanks' levels
    const supports = sensors.filter((s) => (s.kind === 'pressure' && s.place === 'plant-outlet') || (s.kind === 'level' && s.place === 'tank'));
    this.columns = [...loggers, ...supports].map((s) => ({
      id: s.id, measurement: s.kind === 'level' ? 'level' : 'pressure', scale: s.kind === 'level' ? 1 : KPA_PER_MPA,
      dma: s.dma, site: s.site, x: s.x, y: s.y,
    }));
    this.loggers = loggers.length;
    this.dmas = [...new Set(loggers.map((l) => l.dma))];
    this.columns.forEach((c, i) => this.index.set(c.id, i));
    this.slotMs = this.o.slotMin * MIN;
    this.persistSlots = Math.max(1, Math.round((this.o.persistHours * 60) / this.o.slotMin));
    this.learnSlots = Math.max(1, Math.round((this.o.learnDays * DAY) / this.slotMs));
    this.zone = new TimeZone(ctx.timezone);
    this.sum = new Float64Array(this.columns.length);
    this.count = new Uint16Array(this.columns.length);
    this.ring = new Float64Array(this.loggers * this.persistSlots);
  }

  /** Whether the models are learned (false during the first learnDays). */
  get learned(): boolean { return this.model !== undefined; }

  onReadings(batch: readonly Point[]): Condition[] {
    const out: Condition[] = [];
    for (const r of batch) {
      if (r.measurement !== 'pressure' && r.measurement !== 'level') continue; // most readings: no map lookup
      const i = this.index.get(r.sensor);
      if (i === undefined || r.quality === 'bad' || !Number.isFinite(r.value) || this.ctx.health.isFaulty(r.sensor)) continue;
      const slot = Math.floor(r.ts / this.slotMs) * this.slotMs;
      if (Number.isNaN(this.slotStart)) this.slotStart = slot;
      if (slot < this.slotStart) continue; // late: its slot is closed
      if (slot > this.slotStart) this.closeSlot(slot, out);
      this.sum[i] += r.value * this.columns[i].scale;
      this.count[i]++;
    }
    return this.silent ? this.warmed.keep(out) : out;
  }

  onTime(eventTime: number): Condition[] {
    const out: Condition[] = [];
    if (!Number.isNaN(this.slotStart) && eventTime >= this.slotStart + this.slotMs) {
      this.closeSlot(Math.floor(eventTime / this.slotMs) * this.slotMs, out);
    }
    return this.silent ? this.warmed.keep(out) : out;
  }

  /**
   * After warmUp on a live restart (see Detector.reconcile). A leak candidate the warm-up holds
   * without an alarm appeared while analytics was down: raised now. An open one the warm-up saw end
   * is cleared. One it neither holds nor saw end (its replay may not raise it again: once a loss is
   * large, the loggers predicted from the leaking one stand above the model, and nothing is raised
   * while they do) is taken up as raised, when warmUp learnt from before it: the first slots whose
   * loss is back within k/2 clear it, as live. An older one (beyond TAKE_UP_MAX_DAYS), judged by a
   * model learnt over the leak, is left as it is.
   */
  reconcile(open: readonly OpenAlarm[], at: number): Condition[] {
    const out = this.warmed.raisesWithoutAlarm(open, at);
    for (const a of open) {
      if (a.type !== 'leak_candidate' || this.warmed.holds(a.conditionId)) continue;
      const ended = this.warmed.endedEpisodeOf(a, this.o.persistHours * HOUR);
      if (ended) out.push(WarmedConditions.clearAt(ended, at));
      else if (a.dma !== undefined && this.dmas.includes(a.dma) && !this.active.has(a.dma) && at - sinceOf(a) <= TAKE_UP_MAX_DAYS * DAY) {
        this.active.set(a.dma, { since: sinceOf(a) });
      }
    }
    this.warmed.clear();
    return out;
  }

  /**
   * Learn from stored history: the learnDays, then persistHours of residuals, before `until`. With a
   * leak candidate still open (a live restart: `openAlarms`), before it instead: the learnDays before its loss
   * began (persistHours before it was raised), then every slot since, as live did, so the model is
   * the one that saw the leak and will see its repair. A model learnt on days that hold the leak
   * would take it for normal, and its repair for pressures above normal (a change of operation),
   * and the alarm would never clear. Candidates opened more than TAKE_UP_MAX_DAYS ago are not
   * learnt around.
   */
  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    let anchor = until;
    for (const a of this.openAlarms?.() ?? []) {
      if (a.type !== 'leak_candidate') continue;
      const since = sinceOf(a);
      if (since < anchor && until - since <= TAKE_UP_MAX_DAYS * DAY) anchor = since;
    }
    const judgeFrom = Math.floor((anchor - this.o.persistHours * HOUR) / this.slotMs) * this.slotMs;
    this.silent = true;
    try {
      // live never learns again, so a restart learns from the days live learnt from, where the store
      // still holds them: learnt on the last days instead, the models took a leak growing for days
      // before the restart, not yet raised, for normal, and never raised it (incipient-leak.yaml
      // at 15-min data, `npm run bench -- detect:restarts-15min`)
      const learnedFrom = Number(this.memory?.getMeta(LEARNED_FROM_KEY));
      const learnedTo = learnedFrom + this.o.learnDays * DAY;
      if (Number.isFinite(learnedFrom) && learnedTo <= judgeFrom) {
        await this.replayStored(history, learnedFrom, learnedTo);
        this.onTime(learnedTo); // (closes the last learning slot)
        if (this.model) {
          // then judged over as many days as the fallback below learns from: a loss begun in them is
          // seen from its start, as live saw it (a large one holds the loggers predicted from it
          // above the model, and is raised only while it is small)
          await this.replayStored(history, Math.max(learnedTo, judgeFrom - this.o.learnDays * DAY), until);
          this.onTime(until);
          return;
        }
        // (the store no longer holds them: learnt as below)
        this.learning = [];
        this.slotStart = Number.NaN;
      }
      await this.replayStored(history, judgeFrom - this.o.learnDays * DAY, until);
      this.onTime(until);
    } finally {
      this.silent = false;
    }
  }

  /** The stored pressures and tank levels of [from, to) through onReadings, a day at a time (the take-up of an old candidate may replay weeks of 1-min pressures). */
  private async replayStored(history: TimeSeriesStore, from: number, to: number): Promise<void> {
    const sensors = this.columns.map((c) => c.id);
    for (let t = from; t < to; t += DAY) this.onReadings(await readRawHistory(history, this.ctx.topology, sensors, t, Math.min(t + DAY, to)));
  }

  private closeSlot(next: number, out: Condition[]): void {
    const n = this.columns.length;
    const row = new Float64Array(n);
    for (let i = 0; i < n; i++) row[i] = this.count[i] ? this.sum[i] / this.count[i] : Number.NaN;
    const start = this.slotStart;
    this.sum.fill(0);
    this.count.fill(0);
    this.slotStart = next;
    if (!this.model) this.learn(row, start);
    else this.detect(row, start, start + this.slotMs, out);
    // slots without any reading (a gap in the data) keep their place in time, as unknown
    const skipped = Math.min(Math.round((next - start) / this.slotMs) - 1, Math.max(this.learnSlots, this.persistSlots));
    for (let k = 1; k <= skipped; k++) {
      const slot = start + k * this.slotMs;
      if (!this.model) this.learn(new Float64Array(n).fill(Number.NaN), slot);
      else {
        this.ring.fill(Number.NaN, this.ringPos * this.loggers, (this.ringPos + 1) * this.loggers);
        this.ringPos = (this.ringPos + 1) % this.persistSlots;
        this.ringFill = Math.min(this.persistSlots, this.ringFill + 1);
      }
    }
  }

  private learn(row: Float64Array, start: number): void {
    this.learning.push(row);
    if (this.learning.length > this.learnSlots) this.learning.shift();
    if (this.learning.length === this.learnSlots) this.fit(start - (this.learnSlots - 1) * this.slotMs);
  }

  /** Local hour of day at `ts` (the hour-of-day correction follows the demand, which keeps local time). */
  private hourOf(ts: number): number {
    const utcHour = Math.floor(ts / HOUR);
    if (utcHour !== this.offsetHour) {
      this.offsetHour = utcHour;
      this.offset = this.zone.offsetAt(utcHour * HOUR);
    }
    return Math.floor((((ts + this.offset) % DAY) + DAY) % DAY / HOUR);
  }

  /**
   * Every logger's ridge regression on all the other columns, over the learning rows, and its
   * residuals' mean per local hour (the demand shapes of DMAs differ, which a linear map of the
   * others cannot follow). The noise of a corrected slot and of a persistHours mean is measured out
   * of sample, each learning day predicted by the model and hourly means of the other days: in
   * sample it would look smaller than it is (with two days, the hourly means alone halve it).
   * Waits (sliding the learning days on) while fewer than half the rows have every sensor.
   */
  private fit(firstSlot: number): void {
    const rows = this.learning;
    const m = moments(rows, this.columns.length);
    if (m.n < rows.length / 2) return;
    const all = this.columns.map((_, j) => j);
    const hours = rows.map((_, t) => this.hourOf(firstSlot + t * this.slotMs));
    const columnHourly = hourlyColumnMeans(rows, hours, this.columns.length);
    const full = all.slice(0, this.loggers).map((i) => this.prediction(m, i, all, columnHourly));
    const slotsPerDay = Math.round(DAY / this.slotMs);
    const days = Math.ceil(rows.length / slotsPerDay);
    const outOfSample = full.map(() => new Array<number>(rows.length).fill(Number.NaN));
    for (let d = 0; d < days; d++) {
      const other = (t: number) => Math.floor(t / slotsPerDay) !== d;
      const md = moments(rows, this.columns.length, other);
      if (md.n < slotsPerDay / 2) continue;
      for (let i = 0; i < this.loggers; i++) {
        const p = full[i] && this.prediction(md, i, all, undefined);
        if (!p) continue;
        const residuals = rows.map((r) => residual(p, r, i));
        const correction = hourlyMeans(residuals, hours, other);
        for (let t = d * slotsPerDay; t < Math.min(rows.length, (d + 1) * slotsPerDay); t++) outOfSample[i][t] = residuals[t] - correction[hours[t]];
      }
    }
    full.forEach((p, i) => {
      if (!p) return;
      p.sigmaSlot = std(outOfSample[i]);
      p.sigmaMean = std(movingMeans(outOfSample[i], this.persistSlots));
    });
    const low = new Float64Array(this.columns.length).fill(-Infinity);
    const high = new Float64Array(this.columns.length).fill(Infinity);
    for (let j = this.loggers; j < this.columns.length; j++) {
      const seen = rows.map((r) => r[j]).filter(Number.isFinite);
      const lo = Math.min(...seen);
      const hi = Math.max(...seen);
      low[j] = lo - (hi - lo) / 10;
      high[j] = hi + (hi - lo) / 10;
    }
    this.model = { moments: m, full, columnHourly, low, high, reduced: new Map() };
    this.learning = [];
    this.memory?.setMeta(LEARNED_FROM_KEY, String(firstSlot));
  }

  /** Logger `target` from the columns `use`; with the columns' hourly means, its hourly correction. */
  private prediction(m: Moments, target: number, use: readonly number[], columnHourly: Float64Array | undefined): Prediction | undefined {
    const f = ridgeFit(m, target, use, this.o.ridge);
    if (!f) return undefined;
    const columns = Int32Array.from(use.filter((j) => j !== target && f.coef[j] !== 0));
    const fitSigma = Math.sqrt(f.residualVar);
    const p: Prediction = {
      intercept: f.intercept, columns, weights: Float64Array.from(columns, (j) => f.coef[j]), fitSigma, sigmaSlot: fitSigma, sigmaMean: Number.NaN,
      hourly: new Float64Array(24),
    };
    if (columnHourly) {
      const c = this.columns.length;
      for (let h = 0; h < 24; h++) p.hourly[h] = residual(p, columnHourly.subarray(h * c, (h + 1) * c), target);
    }
    return p;
  }

  /**
   * The predictions for a slot: the full ones, or ones fitted again without the sensors missing in
   * it. A DMA with a leak candidate raised: its loggers are lowered by the leak and no longer carry
   * the network's state, so the other DMAs' loggers are predicted without them (a model reading
   * them spreads the leak's loss to loggers elsewhere); its own are predicted as before.
   */
  private predictions(row: Float64Array): (Prediction | undefined)[] {
    const own = this.predictionsWithout(row, []);
    if (!this.active.size) return own;
    const leaking: number[] = [];
    for (let i = 0; i < this.loggers; i++) if (this.active.has(this.columns[i].dma)) leaking.push(i);
    const others = this.predictionsWithout(row, leaking);
    return own.map((p, i) => (this.active.has(this.columns[i].dma) ? p : others[i]));
  }

  /** Predictions for `row` without the columns missing in it and those of `left` (as regressors). */
  private predictionsWithout(row: Float64Array, left: readonly number[]): (Prediction | undefined)[] {
    const model = this.model!;
    const missing: number[] = [];
    for (let j = 0; j < row.length; j++) if (!Number.isFinite(row[j]) || left.includes(j)) missing.push(j);
    if (!missing.length) return model.full;
    const key = missing.join(',');
    let set = model.reduced.get(key);
    if (!set) {
      const present = this.columns.map((_, j) => j).filter((j) => !missing.includes(j));
      set = model.full.map((full, i) => {
        if (!full || missing.includes(i)) return undefined;
        const p = this.prediction(model.moments, i, present, model.columnHourly);
        if (!p) return undefined;
        // the noise grows as much as the fit without them is worse
        const ratio = full.fitSigma > 0 ? p.fitSigma / full.fitSigma : 1;
        return { ...p, sigmaSlot: full.sigmaSlot * ratio, sigmaMean: full.sigmaMean * ratio };
      });
      if (model.reduced.size >= 16) model.reduced.clear(); // bounded: sensors rarely go missing in many combinations
      model.reduced.set(key, set);
    }
    return set;
  }

  private detect(row: Float64Array, start: number, end: number, out: Condition[]): void {
    const model = this.model!;
    const n = this.loggers;
    const predictions = this.predictions(row);
    const hour = this.hourOf(start);
    const base = this.ringPos * n;
    const offDmas = new Set<string>();
    let off = 0;
    let rise = false;
    for (let i = 0; i < n; i++) {
      const p = predictions[i];
      const r = p ? residual(p, row, i) - p.hourly[hour] : Number.NaN;
      // a leak's evidence is slow (about one slot noise a slot); one slot this far off is an event
      // of its own, and may weigh in the means no more than this
      const cap = p ? this.o.networkEventSigma * p.sigmaSlot : 0;
      this.ring[base + i] = Math.max(-cap, Math.min(cap, r));
      // (not a logger of a DMA with a candidate raised: off the model either way, that is its leak,
      // which lowers some of its loggers and so the predictions of the others)
      if (Math.abs(r) > cap && !this.active.has(this.columns[i].dma)) { off++; offDmas.add(this.columns[i].dma); rise ||= r > 0; }
    }
    // many loggers of several DMAs off at once, one far above the model (a leak lowers pressures),
    // or the plant or a tank outside what was learned: a network event, not a leak (which lowers its own area most, and the others only
    // through their weights on its loggers); a burst explains the loss it causes while it is active
    // (and its slots would hold a raise up for persistHours after)
    const networkEvent = rise || (offDmas.size >= 2 && off >= n * this.o.networkEventShare) || this.outsideLearned(row);
    if (networkEvent || this.dmas.some((dma) => this.bursts?.activeBurst(dma))) this.ring.fill(Number.NaN, base, base + n);
    this.ringPos = (this.ringPos + 1) % this.persistSlots;
    this.ringFill = Math.min(this.persistSlots, this.ringFill + 1);
    if (this.ringFill < this.persistSlots) return;
    const byDma = new Map<string, RankedSensor[]>();
    let highest = -Infinity;
    for (let i = 0; i < n; i++) {
      const p = predictions[i] ?? model.full[i];
      if (!p || !(p.sigmaMean > 0)) continue;
      let s = 0; let c = 0;
      for (let k = 0; k < this.persistSlots; k++) {
        const v = this.ring[k * n + i];
        if (Number.isFinite(v)) { s += v; c++; }
      }
      if (c < this.persistSlots / 2) continue;
      const col = this.columns[i];
      const mean = s / c;
      // sigmaMean is the noise of a mean over the whole window; slots left out (a burst, a network
      // event) leave a shorter mean, noisier by √(window / slots kept) when the window is long
      // against the residual's correlation time. Judged against the whole window's noise, a Central
      // burst's four blanked hours let South's loggers raise a candidate at 15-min data.
      const sigma = p.sigmaMean * Math.sqrt(this.persistSlots / c);
      const ranked: RankedSensor = { sensor: col.id, residualKpa: round(mean, 3), z: round(mean / sigma, 1), ...(col.x !== undefined ? { x: col.x, y: col.y } : {}) };
      if (!this.active.has(col.dma)) highest = Math.max(highest, ranked.z);
      let list = byDma.get(col.dma);
      if (!list) byDma.set(col.dma, list = []);
      list.push(ranked);
    }
    // a leak lowers pressures: a logger as far above the model as the threshold means the relations
    // learned do not hold now (a changed valve or pump setting), and no logger's loss can be read;
    // but not one in a DMA with a candidate raised: its leak lowers the loggers it is predicted from
    const relationsHold = highest <= this.o.k;
    for (const [dma, sensors] of byDma) {
      sensors.sort((p, q) => p.z - q.z);
      const top = sensors[0];
      const raised = this.active.get(dma);
      if (!raised && relationsHold && top.z < -this.o.k && top.residualKpa < -this.o.minResidualKpa) {
        this.active.set(dma, { since: end });
        out.push(this.condition(dma, 'raise', end, sensors, end));
      } else if (raised && top.z > -this.o.k / 2) {
        this.active.delete(dma);
        out.push(this.condition(dma, 'clear', end, sensors, raised.since));
      }
    }
  }

  /**
   * A plant pressure or tank level outside the range it was learned in (a pump tripped and the tank
   * drains, the plant's set point moved): the model would extrapolate, so the slot is left out.
   */
  private outsideLearned(row: Float64Array): boolean {
    const { low, high } = this.model!;
    for (let j = this.loggers; j < row.length; j++) if (row[j] < low[j] || row[j] > high[j]) return true;
    return false;
  }

  private condition(dma: string, state: 'raise' | 'clear', ts: number, ranked: RankedSensor[], since: number): Condition {
    const top = ranked[0];
    const site = this.columns[this.index.get(top.sensor)!].site;
    return {
      id: `leak_candidate:${dma}`, type: 'leak_candidate', state, ts, priority: 'medium', site: site || undefined, dma, sensor: top.sensor,
      text: state === 'raise'
        ? alarmText('leak_candidate.raise', { dma, sensor: top.sensor, residualKpa: (-top.residualKpa).toFixed(2), hours: this.o.persistHours })
        : alarmText('leak_candidate.clear', { dma }),
      evidence: { since, nearestSensor: top.sensor, ranked: ranked.slice(0, this.o.rankTop), persistHours: this.o.persistHours, k: this.o.k },
    };
  }
}

/** When an open leak candidate was raised (its evidence's `since`, else the alarm's raise). */
function sinceOf(a: OpenAlarm): number {
  return typeof a.evidence?.since === 'number' ? a.evidence.since : a.raisedAt;
}

/** Measured minus predicted for logger `i` in a row (NaN when a value it needs is missing). */
function residual(p: Prediction, row: Float64Array, i: number): number {
  let y = p.intercept;
  for (let u = 0; u < p.columns.length; u++) y += p.weights[u] * row[p.columns[u]];
  return row[i] - y;
}

/** Every column's mean per local hour of day over the rows where every column is known. */
function hourlyColumnMeans(rows: readonly Float64Array[], hours: readonly number[], columns: number): Float64Array {
  const sums = new Float64Array(24 * columns);
  const counts = new Float64Array(24);
  rows.forEach((r, t) => {
    if (!r.every(Number.isFinite)) return;
    counts[hours[t]]++;
    for (let j = 0; j < columns; j++) sums[hours[t] * columns + j] += r[j];
  });
  // an hour never seen complete gets the overall means, so its correction is the overall mean residual (0)
  const overall = new Float64Array(columns);
  let n = 0;
  for (let h = 0; h < 24; h++) { n += counts[h]; for (let j = 0; j < columns; j++) overall[j] += sums[h * columns + j]; }
  for (let h = 0; h < 24; h++) {
    for (let j = 0; j < columns; j++) sums[h * columns + j] = counts[h] ? sums[h * columns + j] / counts[h] : overall[j] / Math.max(1, n);
  }
  return sums;
}

/** Mean residual per local hour of day over the slots `use(t)` takes (0 for an hour without any). */
function hourlyMeans(residuals: readonly number[], hours: readonly number[], use: (t: number) => boolean): Float64Array {
  const sums = new Float64Array(24);
  const counts = new Float64Array(24);
  residuals.forEach((x, t) => { if (use(t) && Number.isFinite(x)) { sums[hours[t]] += x; counts[hours[t]]++; } });
  return sums.map((s, h) => (counts[h] ? s / counts[h] : 0));
}

/** Means of every run of `w` consecutive values with at least half of them known. */
function movingMeans(xs: readonly number[], w: number): number[] {
  const out: number[] = [];
  let s = 0; let c = 0;
  for (let t = 0; t < xs.length; t++) {
    if (Number.isFinite(xs[t])) { s += xs[t]; c++; }
    const old = t - w;
    if (old >= 0 && Number.isFinite(xs[old])) { s -= xs[old]; c--; }
    if (t >= w - 1 && c >= w / 2) out.push(s / c);
  }
  return out;
}

function std(xs: readonly number[]): number {
  let s = 0; let c = 0;
  for (const x of xs) if (Number.isFinite(x)) { s += x; c++; }
  if (c < 2) return Number.NaN;
  const m = s / c;
  let v = 0;
  for (const x of xs) if (Number.isFinite(x)) v += (x - m) ** 2;
  return Math.sqrt(v / (c - 1));
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export type { PressureModelSettings };
