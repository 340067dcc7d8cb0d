/**
 * Drinking-water quality against GB 5749-2022, by where the sensor sits:
 * - free chlorine: plant outlet 0.3–2 mg/L; in the network (and at its ends) ≥ 0.05 mg/L;
 * - turbidity ≤ 1 NTU;
 * - pH 6.5–8.5.
 * A sensor's own thresholds (low/high) replace these; lowLow/highHigh make the excursion critical.
 * An excursion is raised when the median of the readings over the last 2 × on-delay (5 min) is
 * beyond the limit — for a clean step that is the on-delay; near the limit with noise, one stray
 * reading neither confirms nor resets it — and cleared when that median is back inside by a margin
 * (hysteresis) for the off-delay.
 *
 * A sudden chlorine drop (the median of the last 5 min against the median of the hour before falls by
 * ≥ 0.2 mg/L and ≥ 30 %) is raised separately, often before the limit is crossed: a dosing failure
 * or an ingress shows here first.
 *
 * Conditions: `quality_<param>:<sensor>` (chlorine, turbidity, ph, and conductivity/temperature
 * when a sensor has thresholds), `quality_chlorine_drop:<sensor>`.
 */
import { medianOf } from '../../baseline/median.ts';
import { readRawHistory } from '../../baseline/history.ts';
import type { Point } from '../../../core/model/reading.ts';
import type { Condition, Detector, DetectorContext, OpenAlarm, SensorHealthView } from '../../types.ts';
import type { SensorInfo, Topology } from '../../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';
import { qualityOptionsSchema, type QualityOptions, type QualitySettings } from './options.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import { WarmedConditions } from '../warmed-conditions.ts';
import { readingIntervalMs } from '../../baseline/sample-interval.ts';

const MIN = 60_000;

export type QualityParam = 'chlorine' | 'turbidity' | 'ph' | 'conductivity' | 'temperature';
const PARAMS: readonly QualityParam[] = ['chlorine', 'turbidity', 'ph', 'conductivity', 'temperature'];

export interface Limits { low?: number; high?: number; lowLow?: number; highHigh?: number }

/** GB 5749-2022 limits by place, canonical units. */
export function standardLimits(kind: QualityParam, place: SensorInfo['place']): Limits {
  switch (kind) {
    case 'chlorine': return place === 'plant-outlet' ? { low: 0.3, high: 2 } : { low: 0.05 };
    case 'turbidity': return { high: 1 };
    case 'ph': return { low: 6.5, high: 8.5 };
    default: return {};
  }
}

export type { QualityOptions };

interface Excursion { okSince?: number; active?: { ts: number; direction: 'low' | 'high'; limit: number; worst: number; critical: boolean } }

interface SensorState {
  info: SensorInfo;
  param: QualityParam;
  limits: Limits;
  lastTs: number;
  exc: Excursion;
  /** Readings of the last 2 × on-delay, for the robust level. */
  window: { ts: number[]; xs: number[] };
  /** Chlorine only: recent (ts, value), for the drop check. */
  history?: { ts: number[]; xs: number[] };
  drop?: { ts: number; baseline: number };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export class QualityDetector implements Detector {
  readonly name = 'quality';
  private readonly topology: Topology;
  private readonly health: SensorHealthView;
  private readonly onDelayMs: number;
  private readonly offDelayMs: number;
  private readonly hysteresis: Record<QualityParam, number>;
  private readonly drop: QualitySettings['chlorineDrop'];
  private readonly sensors = new Map<string, SensorState>();
  private readonly baseScratch: number[] = [];
  private readonly recentScratch: number[] = [];
  private warming = false;
  /** What warmUp found and did not emit (reconcile). */
  private readonly warmed = new WarmedConditions();

  constructor(ctx: Pick<DetectorContext, 'topology' | 'health'>, options: QualityOptions = {}) {
    this.topology = ctx.topology;
    this.health = ctx.health;
    const o = parseDetectorOptions('quality', qualityOptionsSchema, options);
    this.onDelayMs = o.onDelayMs;
    this.offDelayMs = o.offDelayMs;
    this.hysteresis = o.hysteresis;
    this.drop = o.chlorineDrop;
    for (const s of this.topology.sensors.values()) {
      if (!(PARAMS as readonly string[]).includes(s.kind)) continue;
      const param = s.kind as QualityParam;
      // the sensor's own thresholds win over the standard, field by field
      const limits: Limits = { ...standardLimits(param, s.place), ...definedOnly(s.thresholds ?? {}) };
      if (limits.low === undefined && limits.high === undefined && limits.lowLow === undefined && limits.highHigh === undefined) continue;
      this.sensors.set(s.id, {
        info: s, param, limits, lastTs: -Infinity, exc: {}, window: { ts: [], xs: [] },
        ...(param === 'chlorine' ? { history: { ts: [], xs: [] } } : {}),
      });
    }
  }

  /** The limits applied to a sensor (for the dashboard and tests). */
  limitsOf(sensor: string): Limits | undefined {
    return this.sensors.get(sensor)?.limits;
  }

  private emit(out: Condition[], c: Condition): void {
    if (!this.warming) out.push(c);
    else this.warmed.note(c);
  }

  onReadings(batch: readonly Point[]): Condition[] {
    const out: Condition[] = [];
    for (const r of batch) {
      const s = this.sensors.get(r.sensor);
      if (!s || r.ts <= s.lastTs || r.quality === 'bad' || !Number.isFinite(r.value)) continue;
      s.lastTs = r.ts;
      if (this.health.isFaulty(r.sensor)) {
        // a faulty sensor says nothing about the water: forget its recent level, keep an active excursion
        s.window.ts.length = 0; s.window.xs.length = 0;
        continue;
      }
      this.checkLimits(out, s, r.ts, r.value);
      if (s.history) this.checkDrop(out, s, r.ts, r.value);
    }
    return out;
  }

  onTime(_eventTime: number): Condition[] {
    // everything here is driven by readings; a silent sensor is the health detector's business
    return [];
  }

  private beyond(s: SensorState, v: number): { direction: 'low' | 'high'; limit: number } | undefined {
    const { low, high, lowLow, highHigh } = s.limits;
    const lo = low ?? lowLow; const hi = high ?? highHigh;
    if (lo !== undefined && v < lo) return { direction: 'low', limit: lo };
    if (hi !== undefined && v > hi) return { direction: 'high', limit: hi };
    return undefined;
  }

  private checkLimits(out: Condition[], s: SensorState, ts: number, v: number): void {
    // the level is the median of the readings over the last 2 × on-delay: one stray reading near the
    // limit neither confirms nor resets an excursion; for a clean step it is beyond after the on-delay
    const w = s.window;
    w.ts.push(ts); w.xs.push(v);
    // (and at least three readings: at 15-min samples the 10-min window held one, and nothing was judged)
    const windowMs = Math.max(2 * this.onDelayMs, 3 * this.intervalMsOf(s));
    let cut = 0;
    while (cut < w.ts.length && w.ts[cut] < ts - windowMs) cut++;
    if (cut) { w.ts.splice(0, cut); w.xs.splice(0, cut); }
    const level = w.xs.length >= 2 || this.onDelayMs === 0 ? medianOf(w.xs) : undefined;
    const e = s.exc;
    if (!e.active) {
      const b = level === undefined ? undefined : this.beyond(s, level);
      if (!b) return;
      // (the ids are built only when a condition is: checkLimits runs per reading)
      const id = `quality_${s.param}:${s.info.id}`;
      const type = `quality_${s.param}`;
      e.active = { ts, direction: b.direction, limit: b.limit, worst: v, critical: this.priority(s, level!) === 'critical' };
      e.okSince = undefined;
      this.emit(out, {
        id, type, state: 'raise', ts, priority: this.priority(s, level!), site: s.info.site, dma: s.info.dma || undefined, sensor: s.info.id,
        text: alarmText('quality.beyond_limit', { param: `@quality.${s.param}`, direction: b.direction === 'low' ? '@below' : '@above', sensor: s.info.id, value: round(level!), unit: s.info.canonicalUnit, limit: b.limit }),
        evidence: {
          value: round(v), level: round(level!), windowMin: windowMs / MIN, readings: w.xs.length, limit: b.limit, direction: b.direction,
          place: s.info.place, standard: 'GB 5749-2022', limits: s.limits,
        },
      });
      return;
    }
    const a = e.active;
    const id = `quality_${s.param}:${s.info.id}`;
    const type = `quality_${s.param}`;
    a.worst = a.direction === 'low' ? Math.min(a.worst, v) : Math.max(a.worst, v);
    const h = this.hysteresis[s.param];
    const recovered = level !== undefined && (a.direction === 'low' ? level >= a.limit + h : level <= a.limit - h);
    if (!recovered) {
      e.okSince = undefined;
      // an excursion that worsens past lowLow/highHigh is escalated once
      if (!a.critical && level !== undefined && this.priority(s, level) === 'critical') {
        a.critical = true;
        this.emit(out, {
          id, type, state: 'update', ts, priority: 'critical', site: s.info.site, dma: s.info.dma || undefined, sensor: s.info.id,
          text: alarmText('quality.critical', { param: `@quality.${s.param}`, sensor: s.info.id, value: round(level), unit: s.info.canonicalUnit }),
          evidence: { value: round(v), level: round(level), limit: a.limit, direction: a.direction, limits: s.limits },
        });
      }
      return;
    }
    e.okSince ??= ts;
    if (ts - e.okSince < this.offDelayMs) return;
    this.emit(out, {
      id, type, state: 'clear', ts, priority: 'high', site: s.info.site, dma: s.info.dma || undefined, sensor: s.info.id,
      text: alarmText('quality.within_limits', { param: `@quality.${s.param}`, sensor: s.info.id, value: round(level!), unit: s.info.canonicalUnit }),
      evidence: { value: round(v), level: round(level!), limit: a.limit, direction: a.direction, worst: round(a.worst), raisedAt: a.ts, durationMin: Math.round((ts - a.ts) / MIN) },
    });
    e.active = undefined; e.okSince = undefined;
  }

  private intervalMsOf(s: SensorState): number {
    return readingIntervalMs(this.health, s.info);
  }

  private priority(s: SensorState, v: number): Condition['priority'] {
    const { lowLow, highHigh } = s.limits;
    if ((lowLow !== undefined && v < lowLow) || (highHigh !== undefined && v > highHigh)) return 'critical';
    return s.param === 'ph' || s.param === 'conductivity' || s.param === 'temperature' ? 'medium' : 'high';
  }

  private checkDrop(out: Condition[], s: SensorState, ts: number, v: number): void {
    const h = s.history!;
    h.ts.push(ts); h.xs.push(v);
    // the windows hold at least two recent readings and four before them, whatever the interval
    const interval = this.intervalMsOf(s);
    const recentMs = Math.max(this.drop.recentMs, 2 * interval);
    const baselineMs = Math.max(this.drop.baselineMs, 4 * interval);
    const horizon = ts - recentMs - baselineMs;
    let cut = 0;
    while (cut < h.ts.length && h.ts[cut] < horizon) cut++;
    if (cut) { h.ts.splice(0, cut); h.xs.splice(0, cut); }
    const recentFrom = ts - recentMs;
    // (scratch arrays: checkDrop runs per chlorine reading, and medianOf copies what it sorts)
    const recent = this.recentScratch;
    recent.length = 0;
    let baseCount = 0;
    let baseMax = -Infinity;
    for (let i = 0; i < h.ts.length; i++) {
      if (h.ts[i] >= recentFrom) recent.push(h.xs[i]);
      else {
        baseCount++;
        if (h.xs[i] > baseMax) baseMax = h.xs[i];
      }
    }
    if (s.drop) {
      const id = `quality_chlorine_drop:${s.info.id}`;
      const recentMedian = recent.length ? medianOf(recent) : v;
      const recoveredLevel = s.drop.baseline - this.drop.minDrop / 2;
      const recovered = recentMedian >= recoveredLevel;
      if (recovered || ts - s.drop.ts >= this.drop.holdMs) {
        this.emit(out, {
          id, type: 'quality_chlorine_drop', state: 'clear', ts, priority: 'high', site: s.info.site, dma: s.info.dma || undefined, sensor: s.info.id,
          text: alarmText(recovered ? 'quality_chlorine_drop.recovered' : 'quality_chlorine_drop.settled', { sensor: s.info.id }),
          evidence: { recentMedian: round(recentMedian), baseline: round(s.drop.baseline), recovered },
        });
        s.drop = undefined;
      }
      return;
    }
    // need most of both windows: a gap is no drop
    if (recent.length < Math.max(2, Math.floor(recentMs / interval * 0.6))) return;
    if (baseCount < Math.max(3, Math.floor(baselineMs / interval * 0.5))) return;
    const now = medianOf(recent);
    // the baseline (a median) is at most the window's highest reading: while chlorine holds, no drop
    // is possible and the baseline's sort is skipped
    if (baseMax - now < this.drop.minDrop) return;
    const base = this.baseScratch;
    base.length = 0;
    for (let i = 0; i < h.ts.length; i++) if (h.ts[i] < recentFrom) base.push(h.xs[i]);
    const baseline = medianOf(base);
    const fell = baseline - now;
    if (fell >= this.drop.minDrop && fell >= this.drop.minFraction * baseline) {
      const id = `quality_chlorine_drop:${s.info.id}`;
      s.drop = { ts, baseline };
      this.emit(out, {
        id, type: 'quality_chlorine_drop', state: 'raise', ts, priority: 'high', site: s.info.site, dma: s.info.dma || undefined, sensor: s.info.id,
        text: alarmText('quality_chlorine_drop.raise', { sensor: s.info.id, baseline: round(baseline), now: round(now) }),
        evidence: { baseline: round(baseline), recentMedian: round(now), dropMgL: round(fell), dropFraction: round(fell / baseline), place: s.info.place },
      });
    }
  }

  /**
   * Replays the last hours of quality readings silently: pending and active excursions survive a
   * restart, and so does a chlorine drop still held then (the replay starts a drop's hold time
   * before its baseline and recent windows, so a drop that began while analytics was down is seen
   * against the level before it, as live saw it).
   */
  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    const from = until - Math.max(this.drop.baselineMs + this.drop.recentMs + this.drop.holdMs, this.onDelayMs, this.offDelayMs) - MIN;
    const readings = await readRawHistory(history, this.topology, [...this.sensors.values()].map((s) => s.info.id), from, until);
    this.warming = true;
    try { this.onReadings(readings); } finally { this.warming = false; }
  }

  /**
   * After warmUp on a live restart (see Detector.reconcile). An excursion or a chlorine drop the
   * warm-up found without an alarm began while analytics was down: raised now. An alarm whose
   * excursion or drop the warm-up did not find again is taken up as it was (its direction and limit,
   * its baseline, from the alarm's evidence), so it ends as live would: the level back past the
   * limit by the hysteresis for the off-delay, the chlorine back near its baseline (or the drop's
   * hold time run out). Not cleared at once: an hour of readings inside the limit but within the
   * hysteresis would not have cleared it live.
   */
  reconcile(open: readonly OpenAlarm[], at: number): Condition[] {
    for (const a of open) {
      const sep = a.conditionId.indexOf(':');
      const s = sep > 0 && a.conditionId.slice(0, sep) === a.type ? this.sensors.get(a.conditionId.slice(sep + 1)) : undefined;
      if (!s) continue;
      const ev = a.evidence ?? {};
      if (a.type === `quality_${s.param}` && !s.exc.active) {
        const direction = ev.direction === 'low' || ev.direction === 'high' ? ev.direction : undefined;
        if (direction === undefined || typeof ev.limit !== 'number') continue;
        const worst = typeof ev.value === 'number' ? ev.value : ev.limit;
        s.exc.active = { ts: a.raisedAt, direction, limit: ev.limit, worst, critical: false };
        s.exc.okSince = undefined;
      } else if (a.type === 'quality_chlorine_drop' && s.history && !s.drop && typeof ev.baseline === 'number') {
        s.drop = { ts: a.raisedAt, baseline: ev.baseline };
      }
    }
    const out = this.warmed.raisesWithoutAlarm(open, at);
    this.warmed.clear();
    return out;
  }
}

function definedOnly(t: Limits): Limits {
  return Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as Limits;
}
