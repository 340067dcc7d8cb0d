/**
 * Outages per DMA, and warnings before the water stops.
 *
 * Outage (`outage:<dma>`): the DMA's pressures (sensors placed network/network-end in the DMA, not in
 * fault) stay below the outage threshold (0.05 MPa) for the on-delay — or, where no healthy pressure
 * sensor is left, its net inflow stops while demand is expected. The incident gets a start (the first
 * reading below), an end (the first reading back up, after the off-delay), the DMA's customers, and
 * a class: planned when a planned outage of the register covers the DMA at the start, with that
 * outage's cause; otherwise unplanned, cause from the hint callback (e.g. an active burst), a pump
 * trip at a station that supplies the DMA, or `unknown`.
 *
 * Warnings before the water stops:
 * - `tank_low_warning:<level sensor>`: the level trend gives less than the limit (6 h) to empty;
 * - `pump_trip:<state sensor>`: a pump stops away from its level-control stop level, fails to
 *   restart when its tank falls below the usual start level, or stays off while its tank runs empty;
 * - `outage_warning:<dma>`: the pressures decline steadily and will cross the threshold within the
 *   warning horizon.
 *
 * Seeds' rules (昆明 item 14): `planned_outage_short_notice:<id>` for a planned outage told to customers
 * less than 24 h ahead; `emergency_supply_required:<dma>` when an outage reaches 24 h.
 */
import { readRawHistory } from '../../baseline/history.ts';
import type { Point } from '../../../core/model/reading.ts';
import type { Condition, Detector, DetectorContext, SensorHealthView } from '../../types.ts';
import type { Topology, SensorInfo } from '../../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import type { CauseCode, Incident, IncidentSink, PlannedOutage, PlannedOutageLookup } from '../../outages/types.ts';
import { DEFAULT_MIN_NOTICE_MS } from '../../outages/register.ts';
import { TrendWindow } from './trend.ts';
import { medianOf } from '../../baseline/median.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

export interface OutageOptions {
  /** Below this a tap on an upper floor runs dry (domain.md). Default 0.05 MPa. */
  thresholdMPa?: number;
  /** Added to the threshold for recovery (hysteresis). Default 0.02 MPa. */
  recoveryMarginMPa?: number;
  /** The DMA is down when this share of its usable pressure sensors is below. Default 0.6. */
  minShareBelow?: number;
  onDelayMs?: number;
  offDelayMs?: number;
  /** Net inflow below this share of its usual level counts as stopped. Default 0.05. */
  inflowStopFraction?: number;
  /** Usual net inflow below this (m³/h) means no demand is expected. Default 1. */
  minExpectedInflowM3h?: number;
  /** Planned outages match incidents starting this long before their start or after their end. Default 30 min. */
  plannedToleranceMs?: number;
  /** Default 24 h (seeds). */
  emergencyAfterMs?: number;
  /** Default 24 h (seeds). */
  minNoticeMs?: number;
  /** The planned outage register; also receives incidents when it implements IncidentSink. */
  register?: PlannedOutageLookup & Partial<IncidentSink> & { listIncidents?(from?: number, to?: number): Incident[] };
  /** Cause of an unplanned outage from elsewhere (an active burst alarm in the DMA → 'burst'). */
  causeHint?: (dma: string, ts: number) => CauseCode | undefined;
  /** Which DMAs a pump station or tank site supplies, by site id: for warnings and causes. */
  stationDmas?: Record<string, string[]>;
  tank?: {
    /** Warn when the tank would be empty within this. Default 6 h. */
    timeToEmptyLimitMs?: number;
    /** Trend window. Default 30 min. */
    trendWindowMs?: number;
    /** Level counted as empty, by sensor; default thresholds.lowLow, else 0. */
    floorM?: Record<string, number>;
    /** Within this of the floor the tank counts as empty. Default 0.05 m. */
    emptyBandM?: number;
    onDelayMs?: number;
    offDelayMs?: number;
  };
  pump?: {
    /** A stop within this of the usual stop level (or the highest level seen) is level control. Default 0.15 m. */
    controlBandM?: number;
    /** Pump still off this far below its usual start level: it failed to restart. Default 0.1 m. */
    restartMarginM?: number;
    /** Known start/stop levels, by pump state sensor (otherwise learned from the transitions seen). */
    levels?: Record<string, { startM?: number; stopM?: number }>;
  };
  warning?: {
    /** Warn when the threshold will be crossed within this. Default 60 min. */
    horizonMs?: number;
    trendWindowMs?: number;
    onDelayMs?: number;
    offDelayMs?: number;
  };
  /** How far back warmUp reads. Default 26 h (so the 24 h rule survives a restart). */
  warmUpMs?: number;
}

interface PressureState { sensor: SensorInfo; lastTs: number; value: number; trend: TrendWindow }

interface OpenIncident {
  start: number;
  raisedAt: number;
  planned?: PlannedOutage;
  cause: CauseCode;
  signal: 'pressure' | 'inflow';
  emergencyRaised: boolean;
  overrunReported: boolean;
}

interface DmaState {
  id: string;
  customers: number;
  pressureSensors: string[];
  /** The same pressure sensors' states, and the inlets (+1) then outlets (−1): resolved once. */
  pressures: PressureState[];
  flowTerms: { info: SensorInfo; sign: 1 | -1 }[];
  downSince?: number;
  upSince?: number;
  incident?: OpenIncident;
  lastEval: number;
  /** Usual net inflow, m³/h: an exponentially weighted mean over about a day, outside outages. */
  expectedInflow?: number;
  inflowTs?: number;
  warnSince?: number;
  calmSince?: number;
  warning: boolean;
}

interface TankState { sensor: SensorInfo; trend: TrendWindow; lowSince?: number; okSince?: number; warning: boolean; maxSeen: number }

interface PumpState {
  sensor: SensorInfo;
  on?: boolean;
  lastTs: number;
  startLevels: number[];
  stopLevels: number[];
  tripped?: { ts: number; reason: string };
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export class OutageDetector implements Detector {
  readonly name = 'outage';
  private readonly topology: Topology;
  private readonly health: SensorHealthView;
  private readonly o: Required<Omit<OutageOptions, 'register' | 'causeHint' | 'stationDmas' | 'tank' | 'pump' | 'warning'>>;
  private readonly tankO: Required<Omit<NonNullable<OutageOptions['tank']>, 'floorM'>> & { floorM: Record<string, number> };
  private readonly pumpO: Required<NonNullable<OutageOptions['pump']>>;
  private readonly warnO: Required<NonNullable<OutageOptions['warning']>>;
  private readonly register?: OutageOptions['register'];
  private readonly causeHint?: OutageOptions['causeHint'];
  private readonly stationDmas: Record<string, string[]>;

  private readonly pressure = new Map<string, PressureState>();
  private readonly dmas = new Map<string, DmaState>();
  /** flow sensor → latest (ts, value) */
  private readonly flows = new Map<string, { ts: number; value: number }>();
  private readonly flowDmas = new Map<string, string[]>();
  private readonly tanks = new Map<string, TankState>();
  private readonly pumps = new Map<string, PumpState>();
  private readonly shortNoticeActive = new Map<string, PlannedOutage>();
  private lastRegisterPoll = -Infinity;
  private watermark = -Infinity;
  private warming = false;

  constructor(ctx: Pick<DetectorContext, 'topology' | 'health'>, options: OutageOptions = {}) {
    this.topology = ctx.topology;
    this.health = ctx.health;
    this.o = {
      thresholdMPa: options.thresholdMPa ?? 0.05,
      recoveryMarginMPa: options.recoveryMarginMPa ?? 0.02,
      minShareBelow: options.minShareBelow ?? 0.6,
      onDelayMs: options.onDelayMs ?? 3 * MIN,
      offDelayMs: options.offDelayMs ?? 3 * MIN,
      inflowStopFraction: options.inflowStopFraction ?? 0.05,
      minExpectedInflowM3h: options.minExpectedInflowM3h ?? 1,
      plannedToleranceMs: options.plannedToleranceMs ?? 30 * MIN,
      emergencyAfterMs: options.emergencyAfterMs ?? 24 * HOUR,
      minNoticeMs: options.minNoticeMs ?? DEFAULT_MIN_NOTICE_MS,
      warmUpMs: options.warmUpMs ?? 26 * HOUR,
    };
    this.tankO = {
      timeToEmptyLimitMs: options.tank?.timeToEmptyLimitMs ?? 6 * HOUR,
      trendWindowMs: options.tank?.trendWindowMs ?? 30 * MIN,
      floorM: options.tank?.floorM ?? {},
      emptyBandM: options.tank?.emptyBandM ?? 0.05,
      onDelayMs: options.tank?.onDelayMs ?? 5 * MIN,
      offDelayMs: options.tank?.offDelayMs ?? 30 * MIN,
    };
    this.pumpO = {
      controlBandM: options.pump?.controlBandM ?? 0.15,
      restartMarginM: options.pump?.restartMarginM ?? 0.1,
      levels: options.pump?.levels ?? {},
    };
    this.warnO = {
      horizonMs: options.warning?.horizonMs ?? 60 * MIN,
      trendWindowMs: options.warning?.trendWindowMs ?? 20 * MIN,
      onDelayMs: options.warning?.onDelayMs ?? 5 * MIN,
      offDelayMs: options.warning?.offDelayMs ?? 15 * MIN,
    };
    if (!(this.o.thresholdMPa > 0)) throw new Error(`outage.thresholdMPa: must be > 0, got ${this.o.thresholdMPa}`);
    if (!(this.o.minShareBelow > 0 && this.o.minShareBelow <= 1)) throw new Error(`outage.minShareBelow: must be in (0, 1], got ${this.o.minShareBelow}`);
    this.register = options.register;
    this.causeHint = options.causeHint;
    this.stationDmas = options.stationDmas ?? {};
    for (const [site, dmas] of Object.entries(this.stationDmas)) {
      for (const d of dmas) if (!this.topology.dmas.has(d)) throw new Error(`outage.stationDmas.${site}: unknown DMA ${d}`);
    }

    for (const d of this.topology.dmas.values()) {
      const flowTerms = [...d.inlets.map((id) => ({ info: this.topology.sensors.get(id)!, sign: 1 as const })), ...d.outlets.map((id) => ({ info: this.topology.sensors.get(id)!, sign: -1 as const }))];
      this.dmas.set(d.id, { id: d.id, customers: d.customers, pressureSensors: [], pressures: [], flowTerms, lastEval: -Infinity, warning: false });
      for (const f of [...d.inlets, ...d.outlets]) this.flowDmas.set(f, [...(this.flowDmas.get(f) ?? []), d.id]);
    }
    for (const s of this.topology.sensors.values()) {
      if (s.kind === 'pressure' && s.dma && (s.place === 'network' || s.place === 'network-end')) {
        const state: PressureState = { sensor: s, lastTs: -Infinity, value: NaN, trend: new TrendWindow(this.warnO.trendWindowMs) };
        this.pressure.set(s.id, state);
        this.dmas.get(s.dma)?.pressureSensors.push(s.id);
        this.dmas.get(s.dma)?.pressures.push(state);
      } else if (s.kind === 'level' && s.place === 'tank') {
        this.tanks.set(s.id, { sensor: s, trend: new TrendWindow(this.tankO.trendWindowMs), warning: false, maxSeen: -Infinity });
      } else if (s.kind === 'pump') {
        const known = this.pumpO.levels[s.id];
        this.pumps.set(s.id, {
          sensor: s, lastTs: -Infinity,
          startLevels: known?.startM !== undefined ? [known.startM] : [],
          stopLevels: known?.stopM !== undefined ? [known.stopM] : [],
        });
      }
    }
  }

  /** DMAs a site supplies: the configured ones, else the DMA the sensor itself is in. */
  private suppliedDmas(sensor: SensorInfo): string[] {
    return this.stationDmas[sensor.site] ?? (sensor.dma ? [sensor.dma] : []);
  }

  private emit(out: Condition[], c: Condition): void {
    if (!this.warming) out.push(c);
  }

  // --- readings ------------------------------------------------------------------------------------

  onReadings(batch: readonly Point[]): Condition[] {
    const out: Condition[] = [];
    // DMAs whose pressure or flow moved, with the latest time (inline, no closure: a hot path)
    const touched = new Map<string, number>();
    for (const r of batch) {
      if (r.quality === 'bad' || !Number.isFinite(r.value)) continue;
      const p = this.pressure.get(r.sensor);
      if (p) {
        if (r.ts > p.lastTs) {
          p.lastTs = r.ts; p.value = r.value; p.trend.push(r.ts, r.value);
          if (!(r.ts <= (touched.get(p.sensor.dma) ?? -Infinity))) touched.set(p.sensor.dma, r.ts);
        }
        continue;
      }
      const dmasOfFlow = this.flowDmas.get(r.sensor);
      if (dmasOfFlow) {
        const f = this.flows.get(r.sensor);
        if (!f || r.ts > f.ts) this.flows.set(r.sensor, { ts: r.ts, value: r.value });
        for (const d of dmasOfFlow) if (!(r.ts <= (touched.get(d) ?? -Infinity))) touched.set(d, r.ts);
      }
      const t = this.tanks.get(r.sensor);
      if (t) { t.trend.push(r.ts, r.value); t.maxSeen = Math.max(t.maxSeen, r.value); this.evaluateTank(out, t, r.ts); continue; }
      const pump = this.pumps.get(r.sensor);
      if (pump) this.onPumpState(out, pump, r);
    }
    for (const [dma, ts] of touched) this.evaluateDma(out, this.dmas.get(dma)!, ts);
    return out;
  }

  onTime(eventTime: number): Condition[] {
    const out: Condition[] = [];
    if (eventTime < this.watermark) return out;
    this.watermark = eventTime;
    for (const d of this.dmas.values()) this.evaluateDma(out, d, eventTime);
    for (const p of this.pumps.values()) this.checkRestart(out, p, eventTime);
    this.pollRegister(out, eventTime);
    return out;
  }

  // --- DMA outage ----------------------------------------------------------------------------------

  private fresh(sensor: SensorInfo, lastTs: number, t: number): boolean {
    return t - lastTs <= 3 * sensor.intervalS * 1000 && !this.health.isFaulty(sensor.id);
  }

  /** Net inflow of a DMA now, when every inlet and outlet is fresh and healthy. */
  private netInflow(d: DmaState, t: number): number | undefined {
    if (!d.flowTerms.length || d.flowTerms[0].sign < 0) return undefined; // no inlet
    let sum = 0;
    for (const term of d.flowTerms) {
      const f = this.flows.get(term.info.id);
      if (!f || !this.fresh(term.info, f.ts, t)) return undefined;
      sum += term.sign * f.value;
    }
    return sum;
  }

  private evaluateDma(out: Condition[], d: DmaState, tIn: number): void {
    const t = Math.max(tIn, d.lastEval);
    d.lastEval = t;
    const thr = this.o.thresholdMPa;
    // plain loops, no per-call closures: this runs for every DMA at every step
    const usable: PressureState[] = [];
    let belowCount = 0;
    let upCount = 0;
    for (const p of d.pressures) {
      if (!this.fresh(p.sensor, p.lastTs, t)) continue;
      usable.push(p);
      if (p.value < thr) belowCount++;
      if (p.value >= thr + this.o.recoveryMarginMPa) upCount++;
    }

    const inflow = this.netInflow(d, t);
    const expected = d.expectedInflow;
    const demandExpected = d.customers > 0 && expected !== undefined && expected >= this.o.minExpectedInflowM3h;
    const stopLevel = expected !== undefined ? Math.max(this.o.inflowStopFraction * expected, 0.2) : undefined;
    const inflowStopped = demandExpected && inflow !== undefined && Math.abs(inflow) < stopLevel!;

    let isDown: boolean | undefined; let isUp: boolean | undefined; let signal: 'pressure' | 'inflow' = 'pressure';
    if (usable.length) {
      isDown = belowCount / usable.length >= this.o.minShareBelow;
      isUp = upCount / usable.length >= this.o.minShareBelow;
    } else if (inflow !== undefined && demandExpected) {
      // no pressure sensor to trust: the inflow alone tells whether water reaches the area
      signal = 'inflow';
      isDown = inflowStopped;
      isUp = Math.abs(inflow) >= 2 * stopLevel!;
    }

    // learn the usual inflow only while water flows normally (about a day's memory)
    if (inflow !== undefined && !d.incident && !isDown && (d.inflowTs === undefined || t > d.inflowTs)) {
      const dt = d.inflowTs === undefined ? HOUR : Math.min(t - d.inflowTs, HOUR);
      const alpha = 1 - Math.exp(-dt / (24 * HOUR));
      d.expectedInflow = d.expectedInflow === undefined ? Math.abs(inflow) : d.expectedInflow + alpha * (Math.abs(inflow) - d.expectedInflow);
      d.inflowTs = t;
    }

    const evidence = this.dmaEvidence;

    if (!d.incident) {
      if (isDown) {
        d.downSince ??= t;
        if (t - d.downSince >= this.o.onDelayMs) this.openIncident(out, d, d.downSince, t, signal, evidence(d, usable, inflow, expected));
      } else if (isDown === false) d.downSince = undefined;
      // (isDown undefined: no evidence either way; keep waiting)
      if (!d.incident) this.evaluateWarning(out, d, t, usable);
      return;
    }

    // in an outage
    const inc = d.incident;
    if (isUp) {
      d.upSince ??= t;
      if (t - d.upSince >= this.o.offDelayMs) { this.closeIncident(out, d, d.upSince, t, evidence(d, usable, inflow, expected)); return; }
    } else if (isUp === false) d.upSince = undefined;

    if (!inc.emergencyRaised && t - inc.start >= this.o.emergencyAfterMs) {
      inc.emergencyRaised = true;
      this.emit(out, {
        id: `emergency_supply_required:${d.id}`, type: 'emergency_supply_required', state: 'raise', ts: inc.start + this.o.emergencyAfterMs,
        priority: 'critical', dma: d.id,
        text: alarmText('emergency_supply_required.raise', { dma: d.id }),
        evidence: { outageStart: inc.start, customersAffected: d.customers, planned: !!inc.planned, plannedOutageId: inc.planned?.id ?? null },
      });
    }
    if (inc.planned && !inc.overrunReported && t > inc.planned.end + this.o.plannedToleranceMs) {
      inc.overrunReported = true;
      this.emit(out, {
        id: `outage:${d.id}`, type: 'outage', state: 'update', ts: t, priority: 'high', dma: d.id,
        text: alarmText('outage.overrun', { outage: inc.planned.id, dma: d.id }),
        evidence: { ...this.incidentEvidence(d, inc), overrun: true, plannedEnd: inc.planned.end, ...evidence(d, usable, inflow, expected) },
      });
    }
  }

  /** What the pressures and the inflow of a DMA showed (built only when a condition is emitted). */
  private readonly dmaEvidence = (d: DmaState, usable: readonly PressureState[], inflow: number | undefined, expected: number | undefined): Record<string, unknown> => {
    const thr = this.o.thresholdMPa;
    return {
      thresholdMPa: thr,
      pressures: Object.fromEntries(usable.map((p) => [p.sensor.id, round(p.value, 4)])),
      sensorsBelow: usable.filter((p) => p.value < thr).map((p) => p.sensor.id),
      excludedSensors: d.pressureSensors.filter((id) => !usable.some((p) => p.sensor.id === id)),
      netInflowM3h: inflow === undefined ? null : round(inflow, 2),
      expectedInflowM3h: expected === undefined ? null : round(expected, 2),
    };
  };

  private incidentEvidence(d: DmaState, inc: OpenIncident): Record<string, unknown> {
    return {
      start: inc.start, customersAffected: d.customers, planned: !!inc.planned, plannedOutageId: inc.planned?.id ?? null,
      cause: inc.cause, signal: inc.signal,
    };
  }

  private classify(dma: string, start: number): { planned?: PlannedOutage; cause: CauseCode } {
    const planned = this.register?.findPlanned(dma, start, this.o.plannedToleranceMs);
    if (planned) return { planned, cause: planned.cause };
    const hinted = this.causeHint?.(dma, start);
    if (hinted) return { cause: hinted };
    for (const p of this.pumps.values()) {
      if (p.tripped && this.suppliedDmas(p.sensor).includes(dma)) return { cause: 'pump_trip' };
    }
    return { cause: 'unknown' };
  }

  private openIncident(out: Condition[], d: DmaState, start: number, t: number, signal: 'pressure' | 'inflow', evidence: Record<string, unknown>): void {
    const { planned, cause } = this.classify(d.id, start);
    d.incident = { start, raisedAt: t, planned, cause, signal, emergencyRaised: false, overrunReported: false };
    d.downSince = undefined; d.upSince = undefined;
    // while warming, the start may still be corrected from the register: recorded after warm-up
    if (!this.warming) this.recordIncident(d, d.incident);
    if (d.warning) this.endWarning(out, d, t, 'outage began');
    this.emit(out, {
      id: `outage:${d.id}`, type: 'outage', state: 'raise', ts: t, priority: planned ? 'low' : 'high', dma: d.id,
      text: planned
        ? alarmText('outage.planned', { dma: d.id, outage: planned.id, cause: planned.cause, customers: d.customers })
        : alarmText('outage.unplanned', { dma: d.id, customers: d.customers, cause }),
      evidence: { ...this.incidentEvidence(d, d.incident), ...evidence },
    });
  }

  private closeIncident(out: Condition[], d: DmaState, end: number, t: number, evidence: Record<string, unknown>): void {
    const inc = d.incident!;
    d.incident = undefined; d.upSince = undefined; d.downSince = undefined;
    this.recordIncident(d, inc, end);
    const base = this.incidentEvidence(d, inc);
    this.emit(out, {
      id: `outage:${d.id}`, type: 'outage', state: 'clear', ts: t, priority: inc.planned ? 'low' : 'high', dma: d.id,
      text: alarmText('outage.clear', { dma: d.id, minutes: Math.round((end - inc.start) / MIN) }),
      evidence: { ...base, end, durationMin: Math.round((end - inc.start) / MIN), customerMinutes: Math.round(d.customers * (end - inc.start) / MIN), ...evidence },
    });
    if (inc.emergencyRaised) {
      this.emit(out, {
        id: `emergency_supply_required:${d.id}`, type: 'emergency_supply_required', state: 'clear', ts: t, priority: 'critical', dma: d.id,
        text: alarmText('emergency_supply_required.clear', { dma: d.id }), evidence: { outageStart: inc.start, end },
      });
    }
  }

  private recordIncident(d: DmaState, inc: OpenIncident, end?: number): void {
    this.register?.recordIncident?.({
      id: `${d.id}:${inc.start}`, dma: d.id, start: inc.start, ...(end !== undefined ? { end } : {}),
      customersAffected: d.customers, planned: !!inc.planned, ...(inc.planned ? { plannedOutageId: inc.planned.id } : {}), cause: inc.cause,
    });
  }

  // --- pressure decline warning --------------------------------------------------------------------

  private evaluateWarning(out: Condition[], d: DmaState, t: number, usable: PressureState[]): void {
    if (!usable.length) return;
    const thr = this.o.thresholdMPa;
    const forecasts: { sensor: string; value: number; slopeMPaPerH: number; crossInMin: number }[] = [];
    for (const p of usable) {
      const fit = p.trend.fit();
      if (!fit || fit.n < 4 || fit.spanMs < this.warnO.trendWindowMs / 2 || fit.slope >= 0) continue;
      const [a, b] = p.trend.halves();
      // a steady decline shows in both halves; a step (a burst, a valve) in one half only
      if (!a || !b || a.slope > 0.3 * fit.slope || b.slope > 0.3 * fit.slope) continue;
      if (fit.valueAtEnd <= thr) continue;
      const crossInMs = (fit.valueAtEnd - thr) / -fit.slope;
      if (crossInMs <= this.warnO.horizonMs) {
        forecasts.push({ sensor: p.sensor.id, value: round(p.value, 4), slopeMPaPerH: round(fit.slope * HOUR, 4), crossInMin: Math.round(crossInMs / MIN) });
      }
    }
    const predicted = forecasts.length / usable.length >= this.o.minShareBelow;
    if (predicted) {
      d.calmSince = undefined;
      d.warnSince ??= t;
      if (!d.warning && t - d.warnSince >= this.warnO.onDelayMs) {
        d.warning = true;
        this.emit(out, {
          id: `outage_warning:${d.id}`, type: 'outage_warning', state: 'raise', ts: t, priority: 'high', dma: d.id,
          text: alarmText('outage_warning.raise', { dma: d.id, minutes: Math.min(...forecasts.map((f) => f.crossInMin)) }),
          evidence: { thresholdMPa: thr, horizonMin: this.warnO.horizonMs / MIN, forecasts, customers: d.customers },
        });
      }
    } else {
      d.warnSince = undefined;
      if (d.warning) {
        d.calmSince ??= t;
        if (t - d.calmSince >= this.warnO.offDelayMs) this.endWarning(out, d, t, 'pressure steady');
      }
    }
  }

  private endWarning(out: Condition[], d: DmaState, t: number, reason: string): void {
    d.warning = false; d.warnSince = undefined; d.calmSince = undefined;
    this.emit(out, {
      id: `outage_warning:${d.id}`, type: 'outage_warning', state: 'clear', ts: t, priority: 'high', dma: d.id,
      text: alarmText('outage_warning.clear', { dma: d.id, reason: `@reason.${reason.replaceAll(' ', '_')}` }), evidence: { reason },
    });
  }

  // --- tanks ---------------------------------------------------------------------------------------

  private tankFloor(s: SensorInfo): number {
    return this.tankO.floorM[s.id] ?? s.thresholds?.lowLow ?? 0;
  }

  private evaluateTank(out: Condition[], tank: TankState, t: number): void {
    const s = tank.sensor;
    if (this.health.isFaulty(s.id)) return;
    const fit = tank.trend.fit();
    if (!fit || fit.n < 4 || fit.spanMs < this.tankO.trendWindowMs / 2) return;
    const floor = this.tankFloor(s);
    const level = fit.valueAtEnd;
    // a tank within a few centimetres of its floor is empty, whatever the (flat) trend says
    const timeToEmptyMs = level <= floor + this.tankO.emptyBandM ? 0 : fit.slope < 0 ? (level - floor) / -fit.slope : Infinity;
    const low = timeToEmptyMs < this.tankO.timeToEmptyLimitMs;
    const evidence = {
      levelM: round(level, 3), floorM: floor, trendMPerH: round(fit.slope * HOUR, 3),
      timeToEmptyH: Number.isFinite(timeToEmptyMs) ? round(timeToEmptyMs / HOUR, 2) : null,
      limitH: this.tankO.timeToEmptyLimitMs / HOUR, dmas: this.suppliedDmas(s),
    };
    if (low) {
      tank.okSince = undefined;
      tank.lowSince ??= t;
      if (!tank.warning && t - tank.lowSince >= this.tankO.onDelayMs) {
        tank.warning = true;
        // a pump left off while its own tank runs empty is not under level control any more
        for (const p of this.pumps.values()) {
          if (p.sensor.site === s.site && p.on === false && !p.tripped) {
            this.raiseTrip(out, p, t, 'off_while_tank_low', { tankLevelM: evidence.levelM, timeToEmptyH: evidence.timeToEmptyH });
          }
        }
        this.emit(out, {
          id: `tank_low_warning:${s.id}`, type: 'tank_low_warning', state: 'raise', ts: t, priority: 'high', site: s.site, sensor: s.id,
          dma: evidence.dmas[0],
          text: alarmText('tank_low_warning.raise', { tank: s.id, hours: String(evidence.timeToEmptyH) }), evidence,
        });
      }
    } else {
      tank.lowSince = undefined;
      // recover only with a margin, so a level hovering at the limit does not flap
      if (tank.warning && timeToEmptyMs > 1.5 * this.tankO.timeToEmptyLimitMs) {
        tank.okSince ??= t;
        if (t - tank.okSince >= this.tankO.offDelayMs) {
          tank.warning = false; tank.okSince = undefined;
          this.emit(out, {
            id: `tank_low_warning:${s.id}`, type: 'tank_low_warning', state: 'clear', ts: t, priority: 'high', site: s.site, sensor: s.id,
            dma: evidence.dmas[0], text: alarmText('tank_low_warning.clear', { tank: s.id }), evidence,
          });
        }
      } else tank.okSince = undefined;
    }
  }

  // --- pumps ---------------------------------------------------------------------------------------

  /** The station's tank level now (the first fresh, healthy tank sensor on the same site). */
  private stationTank(pump: SensorInfo, t: number): TankState | undefined {
    for (const tank of this.tanks.values()) {
      const last = tank.trend.lastTs;
      if (tank.sensor.site === pump.site && last !== undefined && this.fresh(tank.sensor, last, t)) return tank;
    }
    return undefined;
  }

  private remember(list: number[], v: number): void {
    list.push(v);
    if (list.length > 7) list.shift();
  }

  private onPumpState(out: Condition[], p: PumpState, r: Point): void {
    if (r.ts <= p.lastTs || this.health.isFaulty(p.sensor.id)) return;
    p.lastTs = r.ts;
    const on = r.value >= 0.5;
    const was = p.on;
    p.on = on;
    if (was === undefined || was === on) return;
    const tank = this.stationTank(p.sensor, r.ts);
    const level = tank?.trend.lastValue;
    if (on) {
      if (level !== undefined && !p.tripped) this.remember(p.startLevels, level);
      if (p.tripped) this.clearTrip(out, p, r.ts, level);
      return;
    }
    // 1 → 0: level control stops the pump when its tank is full; anything else is a trip
    const stopLevel = p.stopLevels.length ? medianOf(p.stopLevels) : tank?.maxSeen;
    const controlled = level !== undefined && stopLevel !== undefined && level >= stopLevel - this.pumpO.controlBandM;
    if (controlled) { this.remember(p.stopLevels, level!); return; }
    this.raiseTrip(out, p, r.ts, 'stopped', { tankLevelM: level ?? null, usualStopLevelM: stopLevel ?? null });
  }

  /** A pump that stays off while its tank falls below the usual start level has failed to restart. */
  private checkRestart(out: Condition[], p: PumpState, t: number): void {
    if (p.on !== false || p.tripped) return;
    const configuredLow = [...this.tanks.values()].find((k) => k.sensor.site === p.sensor.site)?.sensor.thresholds?.low;
    const startLevel = p.startLevels.length ? medianOf(p.startLevels) : configuredLow;
    if (startLevel === undefined) return;
    const tank = this.stationTank(p.sensor, t);
    const level = tank?.trend.lastValue;
    if (level !== undefined && level < startLevel - this.pumpO.restartMarginM) {
      this.raiseTrip(out, p, t, 'failed_to_restart', { tankLevelM: round(level, 3), usualStartLevelM: round(startLevel, 3) });
    }
  }

  private raiseTrip(out: Condition[], p: PumpState, ts: number, reason: string, evidence: Record<string, unknown>): void {
    p.tripped = { ts, reason };
    const dmas = this.suppliedDmas(p.sensor);
    this.emit(out, {
      id: `pump_trip:${p.sensor.id}`, type: 'pump_trip', state: 'raise', ts, priority: 'high', site: p.sensor.site, sensor: p.sensor.id, dma: dmas[0],
      text: alarmText(reason === 'stopped' ? 'pump_trip.stopped' : reason === 'failed_to_restart' ? 'pump_trip.failed_to_restart' : 'pump_trip.off_while_emptying', { pump: p.sensor.id }),
      evidence: { reason, dmas, ...evidence },
    });
  }

  private clearTrip(out: Condition[], p: PumpState, ts: number, level: number | undefined): void {
    const trip = p.tripped!;
    p.tripped = undefined;
    this.emit(out, {
      id: `pump_trip:${p.sensor.id}`, type: 'pump_trip', state: 'clear', ts, priority: 'high', site: p.sensor.site, sensor: p.sensor.id,
      dma: this.suppliedDmas(p.sensor)[0], text: alarmText('pump_trip.clear', { pump: p.sensor.id }),
      evidence: { since: trip.ts, reason: trip.reason, tankLevelM: level ?? null },
    });
  }

  // --- planned outage register: the short-notice rule ------------------------------------------------

  private pollRegister(out: Condition[], t: number): void {
    if (!this.register || t - this.lastRegisterPoll < MIN) return;
    this.lastRegisterPoll = t;
    for (const po of this.register.listPlanned(t, Infinity)) {
      if (po.notifiedAt > t || this.shortNoticeActive.has(po.id)) continue;
      if (!this.register.isShortNotice(po, this.o.minNoticeMs)) continue;
      this.shortNoticeActive.set(po.id, po);
      this.emit(out, {
        id: `planned_outage_short_notice:${po.id}`, type: 'planned_outage_short_notice', state: 'raise', ts: t, priority: 'medium', dma: po.dmas[0],
        text: alarmText('planned_outage_short_notice.raise', { outage: po.id, hours: round((po.start - po.notifiedAt) / HOUR, 1) }),
        evidence: { plannedOutageId: po.id, dmas: po.dmas, start: po.start, end: po.end, notifiedAt: po.notifiedAt, noticeH: round((po.start - po.notifiedAt) / HOUR, 2), requiredH: this.o.minNoticeMs / HOUR, cause: po.cause },
      });
    }
    for (const [id, po] of this.shortNoticeActive) {
      const now = this.register.listPlanned(po.start, po.start + 1).find((x) => x.id === id);
      if (now && t < now.end && this.register.isShortNotice(now, this.o.minNoticeMs)) continue;
      this.shortNoticeActive.delete(id);
      this.emit(out, {
        id: `planned_outage_short_notice:${id}`, type: 'planned_outage_short_notice', state: 'clear', ts: t, priority: 'medium', dma: po.dmas[0],
        text: alarmText(now ? (t >= now.end ? 'planned_outage_short_notice.over' : 'planned_outage_short_notice.enough_notice') : 'planned_outage_short_notice.withdrawn', { outage: id }), evidence: { plannedOutageId: id },
      });
    }
  }

  // --- restart ---------------------------------------------------------------------------------------

  /**
   * Replays the last `warmUpMs` (26 h) of pressures, flows, tank levels and pump states without
   * emitting anything, so an outage in progress at a restart keeps its start (and its 24 h clock),
   * the usual inflow and the pumps' control levels are known, and nothing is raised twice.
   */
  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    const from = until - this.o.warmUpMs;
    const watched = [...this.pressure.keys(), ...this.flowDmas.keys(), ...this.tanks.keys(), ...this.pumps.keys()];
    const readings = await readRawHistory(history, this.topology, watched, from, until);
    const openBefore = new Map<string, Incident>();
    for (const inc of this.register?.listIncidents?.(until - 1, until) ?? []) if (inc.end === undefined) openBefore.set(inc.dma, inc);
    this.warming = true;
    try {
      // one minute of readings at a time, then the watermark, as live
      let i = 0;
      while (i < readings.length) {
        const stepEnd = Math.floor(readings[i].ts / MIN) * MIN + MIN;
        let j = i;
        while (j < readings.length && readings[j].ts < stepEnd) j++;
        this.onReadings(readings.slice(i, j));
        this.onTime(readings[j - 1].ts);
        i = j;
      }
      this.onTime(until);
      // an incident recorded before the restart that began before the history window keeps its start
      for (const d of this.dmas.values()) {
        const before = openBefore.get(d.id);
        if (d.incident && before && before.start < d.incident.start) {
          d.incident.start = before.start;
          d.incident.emergencyRaised = until - before.start >= this.o.emergencyAfterMs;
        }
        if (d.incident) this.recordIncident(d, d.incident);
      }
    } finally {
      this.warming = false;
    }
  }

  /** The open incidents, for the dashboard's area status and for tests. */
  openIncidents(): { dma: string; start: number; planned: boolean; plannedOutageId?: string; cause: CauseCode; customers: number }[] {
    return [...this.dmas.values()].filter((d) => d.incident).map((d) => ({
      dma: d.id, start: d.incident!.start, planned: !!d.incident!.planned, plannedOutageId: d.incident!.planned?.id, cause: d.incident!.cause, customers: d.customers,
    }));
  }
}
