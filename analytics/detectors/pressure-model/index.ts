/**
 * Pressure-model residuals (LILA's approach, BattLeDIM 2020): each pressure logger is predicted from
 * a reference logger by a linear regression learned on quiet data; a leak lowers the pressure near
 * it more than at the reference, so a lasting negative residual (an hours-long mean, in multiples
 * of that mean's own noise) raises `leak_candidate:<dma>`, with the DMA's loggers ranked by residual
 * (the first is the nearest to the leak) and their map coordinates. See README.md.
 *
 * Memory per logger is fixed: the learning days' slot means (learnDays × slots per day) until the
 * model is fitted, then a ring of persistHours of residuals.
 */
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import type { Point } from '../../../core/model/reading.ts';
import type { z } from 'zod';
import type { Condition, Detector, DetectorContext } from '../../types.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import { pressureModelOptionsSchema, type PressureModelSettings } from './options.ts';

export type PressureModelOptions = z.input<typeof pressureModelOptionsSchema>;

const MIN = 60_000;
const DAY = 86_400_000;

interface Logger { id: string; dma: string; site: string; x?: number; y?: number }

/** Per logger: its reference, the fit p = a + b × p_ref, and the noise of the residual's persistHours mean. */
interface Model { ref: Int32Array; a: Float64Array; b: Float64Array; sigma: Float64Array }

export interface RankedSensor { sensor: string; residualMPa: number; z: number; x?: number; y?: number }

export class PressureModelDetector implements Detector {
  readonly name = 'pressure-model';
  private readonly o: PressureModelSettings;
  private readonly loggers: Logger[];
  private readonly index = new Map<string, number>();
  private readonly slotMs: number;
  private readonly persistSlots: number;
  private slotStart = Number.NaN;
  private readonly sum: Float64Array;
  private readonly count: Uint16Array;
  /** Slot means while learning, one row per slot. */
  private learning: Float64Array[] = [];
  private model: Model | undefined;
  /** persistSlots residuals per logger (row-major by slot), and how many slots are in it. */
  private readonly ring: Float64Array;
  private ringPos = 0;
  private ringFill = 0;
  private readonly active = new Map<string, { since: number; sensor: string }>();
  private silent = false;

  constructor(private readonly ctx: DetectorContext, options: PressureModelOptions = {}) {
    this.o = parseDetectorOptions('pressure-model', pressureModelOptionsSchema, options);
    this.loggers = ctx.topology.networkSensors()
      .filter((s) => s.kind === 'pressure' && s.dma && (s.place === 'network' || s.place === 'network-end'))
      .map((s) => ({ id: s.id, dma: s.dma, site: s.site, x: s.x, y: s.y }));
    this.loggers.forEach((l, i) => this.index.set(l.id, i));
    this.slotMs = this.o.slotMin * MIN;
    this.persistSlots = Math.max(1, Math.round((this.o.persistHours * 60) / this.o.slotMin));
    this.sum = new Float64Array(this.loggers.length);
    this.count = new Uint16Array(this.loggers.length);
    this.ring = new Float64Array(this.loggers.length * this.persistSlots);
  }

  /** Whether the regressions are learned (false during the first learnDays). */
  get learned(): boolean { return this.model !== undefined; }

  onReadings(batch: readonly Point[]): Condition[] {
    const out: Condition[] = [];
    for (const r of batch) {
      const i = this.index.get(r.sensor);
      if (i === undefined || r.quality === 'bad' || !Number.isFinite(r.value) || this.ctx.health.isFaulty(r.sensor)) continue;
      const slot = Math.floor(r.ts / this.slotMs) * this.slotMs;
      if (Number.isNaN(this.slotStart)) this.slotStart = slot;
      if (slot < this.slotStart) continue; // late: its slot is closed
      if (slot > this.slotStart) this.closeSlot(slot, out);
      this.sum[i] += r.value;
      this.count[i]++;
    }
    return this.silent ? [] : out;
  }

  onTime(eventTime: number): Condition[] {
    const out: Condition[] = [];
    if (!Number.isNaN(this.slotStart) && eventTime >= this.slotStart + this.slotMs) {
      this.closeSlot(Math.floor(eventTime / this.slotMs) * this.slotMs, out);
    }
    return this.silent ? [] : out;
  }

  /** Learn from stored history: the learnDays before `until` (a restart learns again from them). */
  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    const from = Math.floor((until - this.o.learnDays * DAY) / this.slotMs) * this.slotMs;
    const found = await history.query({ measurement: 'pressure', sensors: this.loggers.map((l) => l.id), from, to: until });
    const points: Point[] = [];
    for (const [sensor, values] of found) {
      for (const v of values) points.push({ measurement: 'pressure', sensor, ts: v.ts, value: v.value, quality: v.quality ?? 'good', site: '', dma: '' });
    }
    points.sort((p, q) => p.ts - q.ts);
    this.silent = true;
    try {
      this.onReadings(points);
      this.onTime(until);
    } finally {
      this.silent = false;
    }
  }

  private closeSlot(next: number, out: Condition[]): void {
    const n = this.loggers.length;
    const row = new Float64Array(n);
    for (let i = 0; i < n; i++) row[i] = this.count[i] ? this.sum[i] / this.count[i] : Number.NaN;
    const end = this.slotStart + this.slotMs;
    this.sum.fill(0);
    this.count.fill(0);
    this.slotStart = next;
    if (!this.model) {
      this.learning.push(row);
      if (this.learning.length * this.slotMs >= this.o.learnDays * DAY) this.fit();
      return;
    }
    this.detect(row, end, out);
  }

  /** Each logger's best reference (least residual variance) and its fit, over the learning rows. */
  private fit(): void {
    const rows = this.learning;
    const n = this.loggers.length;
    const model: Model = { ref: new Int32Array(n).fill(-1), a: new Float64Array(n), b: new Float64Array(n), sigma: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      for (let j = 0; j < n; j++) {
        if (j === i || (this.o.referenceOutsideDma && this.loggers[j].dma === this.loggers[i].dma)) continue;
        const f = ols(rows, j, i);
        if (f && f.residualVar < best) { best = f.residualVar; model.ref[i] = j; model.a[i] = f.a; model.b[i] = f.b; }
      }
      if (model.ref[i] < 0) continue;
      // the noise of what is tested: the residual's persistHours mean, over the learning days
      const means: number[] = [];
      let s = 0; let c = 0;
      const res = rows.map((r) => r[i] - (model.a[i] + model.b[i] * r[model.ref[i]]));
      for (let t = 0; t < res.length; t++) {
        if (Number.isFinite(res[t])) { s += res[t]; c++; }
        const old = t - this.persistSlots;
        if (old >= 0 && Number.isFinite(res[old])) { s -= res[old]; c--; }
        if (t >= this.persistSlots - 1 && c > 0) means.push(s / c);
      }
      const m = means.reduce((p, q) => p + q, 0) / Math.max(1, means.length);
      model.sigma[i] = Math.sqrt(means.reduce((p, q) => p + (q - m) ** 2, 0) / Math.max(1, means.length - 1));
    }
    this.model = model;
    this.learning = [];
  }

  private detect(row: Float64Array, ts: number, out: Condition[]): void {
    const m = this.model!;
    const n = this.loggers.length;
    for (let i = 0; i < n; i++) {
      const ref = m.ref[i];
      this.ring[this.ringPos * n + i] = ref < 0 ? Number.NaN : row[i] - (m.a[i] + m.b[i] * row[ref]);
    }
    this.ringPos = (this.ringPos + 1) % this.persistSlots;
    this.ringFill = Math.min(this.persistSlots, this.ringFill + 1);
    if (this.ringFill < this.persistSlots) return;
    const byDma = new Map<string, RankedSensor[]>();
    for (let i = 0; i < n; i++) {
      let s = 0; let c = 0;
      for (let k = 0; k < this.persistSlots; k++) {
        const v = this.ring[k * n + i];
        if (Number.isFinite(v)) { s += v; c++; }
      }
      if (c < this.persistSlots / 2 || !(m.sigma[i] > 0)) continue;
      const l = this.loggers[i];
      const mean = s / c;
      const ranked: RankedSensor = { sensor: l.id, residualMPa: round(mean), z: round(mean / m.sigma[i], 1), ...(l.x !== undefined ? { x: l.x, y: l.y } : {}) };
      if (!byDma.has(l.dma)) byDma.set(l.dma, []);
      byDma.get(l.dma)!.push(ranked);
    }
    for (const [dma, sensors] of byDma) {
      sensors.sort((p, q) => p.z - q.z);
      const top = sensors[0];
      const raised = this.active.get(dma);
      const site = this.loggers[this.index.get(top.sensor)!].site;
      if (!raised && top.z < -this.o.k && top.residualMPa < -this.o.minResidualMPa) {
        this.active.set(dma, { since: ts, sensor: top.sensor });
        out.push(this.condition(dma, site, 'raise', ts, sensors, ts));
      } else if (raised && top.z > -this.o.k / 2) {
        this.active.delete(dma);
        out.push(this.condition(dma, site, 'clear', ts, sensors, raised.since));
      }
    }
  }

  private condition(dma: string, site: string, state: 'raise' | 'clear', ts: number, ranked: RankedSensor[], since: number): Condition {
    const top = ranked[0];
    return {
      id: `leak_candidate:${dma}`, type: 'leak_candidate', state, ts, priority: 'medium', site: site || undefined, dma, sensor: top.sensor,
      text: state === 'raise'
        ? alarmText('leak_candidate.raise', { dma, sensor: top.sensor, residualKpa: (-top.residualMPa * 1000).toFixed(1), hours: this.o.persistHours })
        : alarmText('leak_candidate.clear', { dma }),
      evidence: { since, nearestSensor: top.sensor, ranked: ranked.slice(0, this.o.rankTop), persistHours: this.o.persistHours, k: this.o.k },
    };
  }
}

/** Least squares y = a + b x over the rows where both are known (x column j, y column i). */
function ols(rows: readonly Float64Array[], j: number, i: number): { a: number; b: number; residualVar: number } | undefined {
  let n = 0; let sx = 0; let sy = 0; let sxx = 0; let sxy = 0; let syy = 0;
  for (const r of rows) {
    const x = r[j]; const y = r[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    n++; sx += x; sy += y; sxx += x * x; sxy += x * y; syy += y * y;
  }
  if (n < 8) return undefined;
  const vx = sxx - (sx * sx) / n;
  const cxy = sxy - (sx * sy) / n;
  const vy = syy - (sy * sy) / n;
  if (!(vx > 0)) return undefined;
  const b = cxy / vx;
  return { a: (sy - b * sx) / n, b, residualVar: Math.max(0, vy - b * cxy) / n };
}

function round(x: number, digits = 5): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export type { PressureModelSettings };
