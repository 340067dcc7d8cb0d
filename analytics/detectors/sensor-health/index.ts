/**
 * Sensor health: which sensors cannot be trusted right now, and why.
 *
 * Faults (each a condition `sensor_<fault>:<sensor>`):
 * - stale: no reading for `staleIntervals` × the sensor's intervalS, judged on the watermark (onTime);
 * - flatline: the same value `flatlineSamples` times in a row, for kinds that always move a little
 *   (a frozen transmitter or a stuck register); an exact zero of flow or pressure is not counted,
 *   because a stopped flow or an emptied main really reads zero;
 * - range: a value outside the kind's physical range (core/model/units.ts PHYSICAL_RANGE, or a
 *   narrower range given per kind);
 * - bad_quality: `badQualitySamples` bad-quality readings in a row;
 * - offline: the source says the sensor is gone (Sparkplug NDEATH/DDEATH, OPC UA session lost),
 *   passed in by the worker through markOffline/markOnline.
 *
 * It is also the SensorHealthView the other detectors consult: a sensor with any fault is excluded
 * until it recovers. Feed it each batch BEFORE the other detectors.
 */
import { readRawHistory } from '../../baseline/history.ts';
import type { Condition, Detector, DetectorContext, SensorHealthView, SensorReading } from '../../types.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import type { Topology } from '../../../core/topology/topology.ts';
import { PHYSICAL_RANGE, type Kind } from '../../../core/model/units.ts';

export type SensorFault = 'stale' | 'flatline' | 'range' | 'bad_quality' | 'offline';

export interface SensorHealthOptions {
  /** A sensor silent for this many of its intervals is stale. Default 3. */
  staleIntervals?: number;
  /** Identical values in a row that make a flatline. Default 30. */
  flatlineSamples?: number;
  /** Kinds whose readings always vary (noise at least); others (pump state, valve %) may hold still. */
  flatlineKinds?: readonly Kind[];
  /** Kinds for which an exact 0 that holds is real (no flow, an emptied main), not a flatline. */
  zeroIsRealKinds?: readonly Kind[];
  /** Bad-quality readings in a row before the sensor counts as faulty. Default 3. */
  badQualitySamples?: number;
  /** Readings back in range (or good) needed to clear range/bad-quality faults. Default 3. */
  recoverySamples?: number;
  /** Narrower physical ranges per kind, canonical units. */
  range?: Partial<Record<Kind, readonly [number, number]>>;
  /** Kinds never judged stale (customer meters are read monthly by hand). Default ['meter']. */
  staleExemptKinds?: readonly Kind[];
}

const DEFAULTS = {
  staleIntervals: 3,
  flatlineSamples: 30,
  flatlineKinds: ['pressure', 'flow', 'level', 'chlorine', 'turbidity', 'ph', 'conductivity', 'temperature'] as readonly Kind[],
  zeroIsRealKinds: ['flow', 'pressure'] as readonly Kind[],
  badQualitySamples: 3,
  recoverySamples: 3,
  staleExemptKinds: ['meter'] as readonly Kind[],
};

const FAULT_PRIORITY: Record<SensorFault, Condition['priority']> = {
  stale: 'medium', flatline: 'medium', range: 'medium', bad_quality: 'low', offline: 'medium',
};

const FAULT_TEXT: Record<SensorFault, string> = {
  stale: 'sends no readings',
  flatline: 'reads the same value over and over',
  range: 'reads values outside the physical range',
  bad_quality: 'reports bad quality',
  offline: 'is offline at its source',
};

interface SensorState {
  lastTs: number;
  lastValue?: number;
  repeatCount: number;
  badCount: number;
  goodCount: number;
  inRangeCount: number;
  offlineSince?: number;
  offlineReason?: string;
  /** Active faults with the event time they were raised. */
  faults: Map<SensorFault, number>;
}

export class SensorHealthDetector implements Detector, SensorHealthView {
  readonly name = 'sensor-health';
  private readonly topology: Topology;
  private readonly o: typeof DEFAULTS & SensorHealthOptions;
  private readonly states = new Map<string, SensorState>();
  /** Watermark when the detector started: a sensor never heard from is stale counted from here. */
  private firstWatermark?: number;
  private watermark = -Infinity;
  private warming = false;

  constructor(ctx: Pick<DetectorContext, 'topology'>, options: SensorHealthOptions = {}) {
    this.topology = ctx.topology;
    this.o = { ...DEFAULTS, ...options };
    for (const [k, v] of Object.entries({ staleIntervals: this.o.staleIntervals, flatlineSamples: this.o.flatlineSamples, badQualitySamples: this.o.badQualitySamples, recoverySamples: this.o.recoverySamples })) {
      if (!Number.isFinite(v) || v < 1) throw new Error(`sensor-health.${k}: must be a number ≥ 1, got ${v}`);
    }
  }

  isFaulty(sensor: string): boolean {
    const s = this.states.get(sensor);
    return !!s && s.faults.size > 0;
  }

  /** The active faults of a sensor, for evidence in other detectors and for the dashboard. */
  faultsOf(sensor: string): SensorFault[] {
    return [...(this.states.get(sensor)?.faults.keys() ?? [])];
  }

  private state(sensor: string): SensorState {
    let s = this.states.get(sensor);
    if (!s) {
      s = { lastTs: -Infinity, repeatCount: 0, badCount: 0, goodCount: 0, inRangeCount: 0, faults: new Map() };
      this.states.set(sensor, s);
    }
    return s;
  }

  private raise(out: Condition[], sensor: string, fault: SensorFault, ts: number, evidence: Record<string, unknown>): void {
    const s = this.state(sensor);
    if (s.faults.has(fault)) return;
    s.faults.set(fault, ts);
    if (this.warming) return;
    const info = this.topology.sensors.get(sensor);
    out.push({
      id: `sensor_${fault}:${sensor}`, type: `sensor_${fault}`, state: 'raise', ts, priority: FAULT_PRIORITY[fault],
      site: info?.site, dma: info?.dma || undefined, sensor,
      message: `Sensor ${sensor} ${FAULT_TEXT[fault]}`, evidence,
    });
  }

  private clear(out: Condition[], sensor: string, fault: SensorFault, ts: number, evidence: Record<string, unknown> = {}): void {
    const s = this.states.get(sensor);
    if (!s || !s.faults.has(fault)) return;
    const since = s.faults.get(fault)!;
    s.faults.delete(fault);
    if (this.warming) return;
    const info = this.topology.sensors.get(sensor);
    out.push({
      id: `sensor_${fault}:${sensor}`, type: `sensor_${fault}`, state: 'clear', ts, priority: FAULT_PRIORITY[fault],
      site: info?.site, dma: info?.dma || undefined, sensor,
      message: `Sensor ${sensor} recovered (${fault})`, evidence: { ...evidence, faultSince: since },
    });
  }

  onReadings(batch: readonly SensorReading[]): Condition[] {
    const out: Condition[] = [];
    for (const r of batch) {
      const info = this.topology.sensors.get(r.sensor);
      const kind = (info?.kind ?? r.measurement) as Kind;
      const s = this.state(r.sensor);
      // Late data (older than what we have) says nothing about the sensor now: no flatline counting,
      // and it must not un-stale the sensor.
      if (r.ts <= s.lastTs) continue;
      s.lastTs = r.ts;
      // a late reading that is itself already too old for the watermark does not end staleness
      const fresh = this.watermark - r.ts < this.o.staleIntervals * (info?.intervalS ?? 60) * 1000;
      if (s.faults.has('stale') && fresh) this.clear(out, r.sensor, 'stale', r.ts, { value: r.value });

      // bad quality
      if (r.quality === 'bad') {
        s.badCount++; s.goodCount = 0;
        if (s.badCount >= this.o.badQualitySamples) this.raise(out, r.sensor, 'bad_quality', r.ts, { samples: s.badCount });
        continue; // a bad value is no evidence for range or flatline
      }
      s.goodCount++; s.badCount = 0;
      if (s.faults.has('bad_quality') && s.goodCount >= this.o.recoverySamples) this.clear(out, r.sensor, 'bad_quality', r.ts);

      // physical range
      const [lo, hi] = this.o.range?.[kind] ?? PHYSICAL_RANGE[kind] ?? [-Infinity, Infinity];
      if (!Number.isFinite(r.value) || r.value < lo || r.value > hi) {
        s.inRangeCount = 0;
        this.raise(out, r.sensor, 'range', r.ts, { value: r.value, min: lo, max: hi });
        continue;
      }
      s.inRangeCount++;
      if (s.faults.has('range') && s.inRangeCount >= this.o.recoverySamples) this.clear(out, r.sensor, 'range', r.ts, { value: r.value });

      // flatline
      if (this.o.flatlineKinds.includes(kind)) {
        const zeroIsReal = r.value === 0 && this.o.zeroIsRealKinds.includes(kind);
        if (s.lastValue === r.value && !zeroIsReal) s.repeatCount++;
        else {
          if (s.faults.has('flatline')) this.clear(out, r.sensor, 'flatline', r.ts, { value: r.value, previous: s.lastValue });
          s.repeatCount = 1;
        }
        if (s.repeatCount >= this.o.flatlineSamples) this.raise(out, r.sensor, 'flatline', r.ts, { value: r.value, samples: s.repeatCount });
      }
      s.lastValue = r.value;
    }
    return out;
  }

  onTime(eventTime: number): Condition[] {
    const out: Condition[] = [];
    if (eventTime <= this.watermark) return out;
    this.watermark = eventTime;
    this.firstWatermark ??= eventTime;
    for (const info of this.topology.sensors.values()) {
      if (this.o.staleExemptKinds.includes(info.kind)) continue;
      const s = this.state(info.id);
      const limitMs = this.o.staleIntervals * info.intervalS * 1000;
      const heardAt = Number.isFinite(s.lastTs) ? s.lastTs : this.firstWatermark;
      if (eventTime - heardAt >= limitMs) {
        // an offline sensor is silent by definition: the offline fault already says so
        if (!s.faults.has('offline')) this.raise(out, info.id, 'stale', heardAt + limitMs, { lastReading: Number.isFinite(s.lastTs) ? s.lastTs : null, silentS: Math.round((eventTime - heardAt) / 1000), limitS: limitMs / 1000 });
      }
    }
    return out;
  }

  /** The source lost these sensors (Sparkplug death, OPC UA session lost) at event time `ts`. */
  markOffline(sensors: readonly string[], ts: number, reason = 'source lost'): Condition[] {
    const out: Condition[] = [];
    for (const id of sensors) {
      const s = this.state(id);
      s.offlineSince = ts; s.offlineReason = reason;
      this.raise(out, id, 'offline', ts, { reason });
      // stale said the same thing less precisely
      this.clear(out, id, 'stale', ts, { supersededBy: 'offline' });
    }
    return out;
  }

  /** The source has the sensors back (Sparkplug birth, session restored). */
  markOnline(sensors: readonly string[], ts: number): Condition[] {
    const out: Condition[] = [];
    for (const id of sensors) {
      const s = this.state(id);
      const reason = s.offlineReason;
      s.offlineSince = undefined; s.offlineReason = undefined;
      this.clear(out, id, 'offline', ts, { reason });
    }
    return out;
  }

  /**
   * Rebuilds the last readings and repeat counts from the last hours of the store, so that a
   * restart neither forgets a frozen sensor nor calls every sensor stale for lack of history.
   */
  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    const watched = [...this.topology.sensors.values()].filter((s) => !this.o.staleExemptKinds.includes(s.kind)).map((s) => s.id);
    const maxIntervalS = Math.max(60, ...[...this.topology.sensors.values()].filter((s) => !this.o.staleExemptKinds.includes(s.kind)).map((s) => s.intervalS));
    const from = until - Math.max(this.o.flatlineSamples + 1, this.o.staleIntervals + 1) * maxIntervalS * 1000;
    const readings = await readRawHistory(history, this.topology, watched, from, until);
    this.warming = true;
    try {
      this.onReadings(readings);
      this.firstWatermark = from;
      this.onTime(until);
    } finally {
      this.warming = false;
    }
  }
}

/** The view a detector gets when health is not tracked (tests of one detector alone). */
export const ALL_HEALTHY: SensorHealthView = { isFaulty: () => false };
