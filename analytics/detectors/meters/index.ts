/**
 * Customer meter anomalies from PDA readings (kind `meter`, cumulative m³), for customer service
 * (武汉 "水管家": compare a customer's use with its own history, warn of abnormal use, offer leak detection).
 *
 * - `meter_backwards:<meter>`: a reading lower than the one before (a digit slip, a swapped or reset
 *   register). The lower reading is not taken as the new reference until it is confirmed: if the next
 *   reading is back above the old one, it was a misread; if the next ones go on from the lower value,
 *   the register was reset or replaced.
 * - `meter_zero_use:<meter>`: no use at all on an active account for `zeroDays` (14 d).
 * - `meter_high_use:<meter>`: use over a period (≥ 1 day between readings) above `highFactor` (3) ×
 *   the median of the customer's own previous periods, and at least `minExcessM3PerDay` more.
 * - `meter_continuous_use:<meter>`: use never below `floorM3PerH` (5 L/h) between readings over
 *   `continuousDays` (3 d): a leak behind the meter. Only visible when readings are at most
 *   `maxIntervalForContinuousMs` (6 h) apart (smart or large-customer meters); monthly PDA readings
 *   cannot show it. Large (enterprise) accounts use water around the clock and are left out by default.
 */
import type { Point } from '../../../core/model/reading.ts';
import type { Condition, Detector, DetectorContext, OpenAlarm } from '../../types.ts';
import type { MeterConfig } from '../../../core/config/schema.ts';
import type { Topology } from '../../../core/topology/topology.ts';
import { CUSTOMER_SITE } from '../../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import { medianOf } from '../../baseline/median.ts';
import { alarmText, type AlarmText } from '../../../core/messages/alarm-texts.ts';
import { meterOptionsSchema, type MeterOptions, type MeterSettings } from './options.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import { WarmedConditions } from '../warmed-conditions.ts';

/** The clear text of each anomaly, for one found over after a restart. */
const METER_CLEAR_TEXT: Record<string, 'meter.backwards_clear' | 'meter.zero_use_clear' | 'meter.continuous_use_clear' | 'meter.high_use_clear'> = {
  backwards: 'meter.backwards_clear', zero_use: 'meter.zero_use_clear', continuous_use: 'meter.continuous_use_clear', high_use: 'meter.high_use_clear',
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type { MeterOptions };

interface Period { from: number; to: number; m3PerDay: number }

interface MeterState {
  meter: MeterConfig;
  lastTs: number;
  /** The register we trust (a suspect lower reading is held apart until confirmed). */
  reading?: number;
  readingTs?: number;
  suspect?: { ts: number; reading: number; previous: number; previousTs: number; confirmations: number; lastTs: number; lastReading: number };
  periodStart?: { ts: number; reading: number };
  periods: Period[];
  zeroSince?: number;
  continuousSince?: number;
  active: Set<'backwards' | 'zero_use' | 'high_use' | 'continuous_use'>;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export class MeterAnomalyDetector implements Detector {
  readonly name = 'meters';
  private readonly topology: Topology;
  private readonly o: MeterSettings;
  private readonly states = new Map<string, MeterState>();
  private warming = false;
  /** What warmUp found and did not emit (reconcile). */
  private readonly warmed = new WarmedConditions();

  constructor(ctx: Pick<DetectorContext, 'topology'>, options: MeterOptions = {}) {
    this.topology = ctx.topology;
    this.o = parseDetectorOptions('meters', meterOptionsSchema, options);
    for (const [k, v] of Object.entries(this.o)) {
      if (typeof v === 'number' && !(v >= 0)) throw new Error(`meters.${k}: must be a number ≥ 0, got ${v}`);
    }
    if (this.o.highFactor <= 1) throw new Error(`meters.highFactor: must be > 1, got ${this.o.highFactor}`);
    for (const m of this.topology.meters.values()) this.states.set(m.id, { meter: m, lastTs: -Infinity, periods: [], active: new Set() });
  }

  private condition(out: Condition[], s: MeterState, anomaly: 'backwards' | 'zero_use' | 'high_use' | 'continuous_use', state: 'raise' | 'clear', ts: number, text: AlarmText, evidence: Record<string, unknown>): void {
    if (state === 'raise') { if (s.active.has(anomaly)) return; s.active.add(anomaly); }
    else { if (!s.active.delete(anomaly)) return; }
    const c: Condition = {
      id: `meter_${anomaly}:${s.meter.id}`, type: `meter_${anomaly}`, state, ts, priority: 'low', site: CUSTOMER_SITE,
      dma: s.meter.dma, sensor: s.meter.id, text,
      evidence: { customer: s.meter.customer, address: s.meter.address ?? null, ...evidence },
    };
    if (this.warming) this.warmed.note(c);
    else out.push(c);
  }

  /**
   * After warmUp on a live restart (see Detector.reconcile). The warm-up replays the meters' whole
   * stored history (`warmUpMs`, 400 days), so what it holds is the truth: an anomaly it holds without
   * an alarm appeared in readings read while analytics was down (raised now); an open alarm of a
   * meter whose anomaly it does not hold is over (cleared now), or its meter left the register.
   */
  reconcile(open: readonly OpenAlarm[], at: number): Condition[] {
    const out = this.warmed.raisesWithoutAlarm(open, at);
    for (const a of open) {
      if (!a.type.startsWith('meter_') || this.warmed.holds(a.conditionId)) continue;
      const meter = a.conditionId.slice(a.type.length + 1);
      const anomaly = a.type.slice('meter_'.length);
      out.push({
        id: a.conditionId, type: a.type, state: 'clear', ts: at, priority: 'low', site: CUSTOMER_SITE, dma: a.dma, sensor: meter,
        text: alarmText(METER_CLEAR_TEXT[anomaly] ?? 'meter.backwards_clear', { meter }), evidence: { afterRestart: true },
      });
    }
    this.warmed.clear();
    return out;
  }

  /** PDA rounds upload hours after the reading: the worker hands late meter readings here too. */
  readonly acceptsLateMeterReadings = true;

  onReadings(batch: readonly Point[]): Condition[] {
    const out: Condition[] = [];
    const mine = batch.filter((r) => r.measurement === 'meter' && this.states.has(r.sensor) && r.quality !== 'bad' && Number.isFinite(r.value));
    // PDA batches are not always in time order within themselves
    mine.sort((a, b) => a.ts - b.ts);
    for (const r of mine) this.onReading(out, this.states.get(r.sensor)!, r.ts, r.value);
    return out;
  }

  onTime(_eventTime: number): Condition[] {
    // readings drive everything; a meter not read for months is the billing system's concern
    return [];
  }

  private onReading(out: Condition[], s: MeterState, ts: number, value: number): void {
    // A duplicate upload, or a late batch older than what we have: nothing new about the meter now.
    if (ts <= s.lastTs) return;
    s.lastTs = ts;
    const m = s.meter.id;
    if (s.reading === undefined) { this.accept(s, ts, value); s.periodStart = { ts, reading: value }; return; }

    if (s.suspect) {
      const sp = s.suspect;
      if (value >= s.reading - this.o.backwardsToleranceM3) {
        // back above the trusted register: the low reading was a misread
        s.suspect = undefined;
        this.condition(out, s, 'backwards', 'clear', ts, alarmText('meter.backwards_misread', { meter: m }), { resolution: 'misread', reading: value });
      } else if (value >= sp.lastReading - this.o.backwardsToleranceM3) {
        sp.confirmations++; sp.lastTs = ts; sp.lastReading = value;
        if (sp.confirmations >= 2) {
          // the register really restarted lower (reset or replaced meter): take it as the new reference
          s.suspect = undefined;
          s.periodStart = { ts: sp.ts, reading: sp.reading };
          s.zeroSince = undefined; s.continuousSince = undefined;
          this.accept(s, sp.ts, sp.reading);
          this.condition(out, s, 'backwards', 'clear', ts, alarmText('meter.backwards_reset', { meter: m }), { resolution: 'register_reset', newReference: sp.reading });
          this.consume(out, s, ts, value);
        }
        return;
      } else {
        sp.lastTs = ts; sp.lastReading = value; sp.confirmations = 0;
        return;
      }
    }

    if (value < s.reading - this.o.backwardsToleranceM3) {
      s.suspect = { ts, reading: value, previous: s.reading, previousTs: s.readingTs!, confirmations: 0, lastTs: ts, lastReading: value };
      this.condition(out, s, 'backwards', 'raise', ts, alarmText('meter.backwards', { meter: m, reading: value, previous: s.reading }), {
        reading: value, previous: s.reading, previousTs: s.readingTs, dropM3: r3(s.reading - value),
      });
      return;
    }
    this.consume(out, s, ts, value);
  }

  private accept(s: MeterState, ts: number, value: number): void {
    s.reading = value; s.readingTs = ts;
  }

  /** Use between the trusted register and a new reading that is not below it. */
  private consume(out: Condition[], s: MeterState, ts: number, value: number): void {
    const prevTs = s.readingTs!; const prev = s.reading!;
    const used = Math.max(0, value - prev);
    const dt = ts - prevTs;
    const m = s.meter.id;
    this.accept(s, ts, value);

    // zero use on an active account
    if (used <= this.o.backwardsToleranceM3) {
      s.zeroSince ??= prevTs;
      if (s.meter.active && ts - s.zeroSince >= this.o.zeroDays * DAY) {
        this.condition(out, s, 'zero_use', 'raise', ts, alarmText('meter.zero_use', { customer: s.meter.customer, meter: m, days: Math.floor((ts - s.zeroSince) / DAY) }), {
          since: s.zeroSince, days: r3((ts - s.zeroSince) / DAY), reading: value,
        });
      }
    } else {
      if (s.active.has('zero_use')) this.condition(out, s, 'zero_use', 'clear', ts, alarmText('meter.zero_use_clear', { meter: m }), { usedM3: r3(used) });
      s.zeroSince = undefined;
    }

    // continuous use: only judged where readings are close enough to show a quiet hour
    if (!s.meter.large || this.o.continuousIncludesLarge) {
      const rate = used / (dt / HOUR);
      if (dt > this.o.maxIntervalForContinuousMs) s.continuousSince = undefined;
      else if (rate >= this.o.floorM3PerH) {
        s.continuousSince ??= prevTs;
        if (ts - s.continuousSince >= this.o.continuousDays * DAY) {
          this.condition(out, s, 'continuous_use', 'raise', ts, alarmText('meter.continuous_use', { meter: m, days: Math.floor((ts - s.continuousSince) / DAY) }), {
            since: s.continuousSince, floorM3PerH: this.o.floorM3PerH, lastRateM3PerH: r3(rate),
          });
        }
      } else {
        if (s.active.has('continuous_use')) this.condition(out, s, 'continuous_use', 'clear', ts, alarmText('meter.continuous_use_clear', { meter: m }), { rateM3PerH: r3(rate) });
        s.continuousSince = undefined;
      }
    }

    // high use against the customer's own history, per period of at least a day
    const start = s.periodStart ?? { ts: prevTs, reading: prev };
    s.periodStart = start;
    if (ts - start.ts < this.o.minPeriodMs) return;
    const period: Period = { from: start.ts, to: ts, m3PerDay: Math.max(0, value - start.reading) / ((ts - start.ts) / DAY) };
    s.periodStart = { ts, reading: value };
    const history = s.periods.map((p) => p.m3PerDay);
    let anomalous = false;
    if (history.length >= this.o.minHistoryPeriods) {
      const usual = medianOf(history);
      anomalous = period.m3PerDay > this.o.highFactor * usual && period.m3PerDay - usual >= this.o.minExcessM3PerDay;
      if (anomalous) {
        this.condition(out, s, 'high_use', 'raise', ts, alarmText('meter.high_use', { meter: m, perDay: r3(period.m3PerDay), ratio: r3(period.m3PerDay / Math.max(usual, 1e-9)), usual: r3(usual) }), {
          m3PerDay: r3(period.m3PerDay), usualM3PerDay: r3(usual), ratio: r3(period.m3PerDay / Math.max(usual, 1e-9)), periodFrom: period.from, periodTo: period.to, historyPeriods: history.length,
        });
      } else if (s.active.has('high_use')) {
        this.condition(out, s, 'high_use', 'clear', ts, alarmText('meter.high_use_clear', { meter: m }), { m3PerDay: r3(period.m3PerDay), usualM3PerDay: r3(usual) });
      }
    }
    // an anomalous period does not become the customer's norm
    if (!anomalous) {
      s.periods.push(period);
      if (s.periods.length > this.o.historyPeriods) s.periods.shift();
    }
  }

  /** Replays the meters' stored history silently, so the customer's usual use is known after a restart. */
  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    const ids = [...this.states.keys()];
    if (!ids.length) return;
    const series = await history.query({ measurement: 'meter', sensors: ids, from: until - this.o.warmUpMs, to: until });
    const readings: Point[] = [];
    for (const [sensor, values] of series) {
      const dma = this.states.get(sensor)?.meter.dma ?? '';
      for (const v of values) readings.push({ measurement: 'meter', sensor, ts: v.ts, value: v.value, quality: v.quality ?? 'good', site: CUSTOMER_SITE, dma });
    }
    this.warming = true;
    try { this.onReadings(readings); } finally { this.warming = false; }
  }
}
