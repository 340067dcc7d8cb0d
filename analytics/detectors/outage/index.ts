/**
 * Outages per DMA, and warnings before the water stops. This file: the detector and the DMA outage;
 * station.ts: tanks and pumps; warning.ts: the pressure decline warning; the short-notice rule is
 * analytics/outages/notice-rules.ts (beside the register it reads).
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
import type { Condition, Detector, DetectorContext, OpenAlarm, SensorHealthView } from '../../types.ts';
import type { Topology, SensorInfo } from '../../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import type { CauseCode, Incident, IncidentSink, PlannedOutage, PlannedOutageLookup } from '../../outages/types.ts';
import type { z } from 'zod';
import { ShortNoticeRule } from '../../outages/notice-rules.ts';
import { TrendWindow } from './trend.ts';
import { StationWatch } from './station.ts';
import { OutageWarnings, type PressureState, type WarningState } from './warning.ts';
import { outageOptionsSchema, type OutageSettings } from './options.ts';
import { parseDetectorOptions } from '../parse-options.ts';
import { WarmedConditions } from '../warmed-conditions.ts';
import { HOUR, MIN, round } from './units.ts';
import { alarmText, type AlarmText } from '../../../core/messages/alarm-texts.ts';
import { readingIntervalMs } from '../../baseline/sample-interval.ts';

export type OutageOptions = z.input<typeof outageOptionsSchema> & {
  /** The planned outage register; also receives incidents when it implements IncidentSink. */
  register?: PlannedOutageLookup & Partial<IncidentSink> & { listIncidents?(from?: number, to?: number): Incident[] };
  /** Cause of an unplanned outage from elsewhere (an active burst alarm in the DMA → 'burst'). */
  causeHint?: (dma: string, ts: number) => CauseCode | undefined;
  /** Which DMAs a pump station or tank site supplies, by site id: for warnings and causes. */
  stationDmas?: Record<string, string[]>;
};

interface OpenIncident {
  start: number;
  raisedAt: number;
  planned?: PlannedOutage;
  cause: CauseCode;
  signal: 'pressure' | 'inflow';
  emergencyRaised: boolean;
  overrunReported: boolean;
}

interface DmaState extends WarningState {
  pressureSensors: string[];
  /** The same pressure sensors' states, and the inlets (+1) then outlets (−1): resolved once. */
  pressures: PressureState[];
  flowTerms: { info: SensorInfo; sign: 1 | -1 }[];
  downSince?: number;
  upSince?: number;
  incident?: OpenIncident;
  lastEval: number;
  /** While warming up: the DMA's first evaluation in the replayed window. */
  firstWarmEval?: number;
  /** Usual net inflow, m³/h: an exponentially weighted mean over about a day, outside outages. */
  expectedInflow?: number;
  inflowTs?: number;
}

export class OutageDetector implements Detector {
  readonly name = 'outage';
  private readonly topology: Topology;
  private readonly health: SensorHealthView;
  private readonly o: Omit<OutageSettings, 'tank' | 'pump' | 'warning'>;
  private readonly register?: OutageOptions['register'];
  private readonly causeHint?: OutageOptions['causeHint'];
  private readonly stationDmas: Record<string, string[]>;

  private readonly pressure = new Map<string, PressureState>();
  private readonly dmas = new Map<string, DmaState>();
  /** flow sensor → latest (ts, value) */
  private readonly flows = new Map<string, { ts: number; value: number }>();
  private readonly flowDmas = new Map<string, string[]>();
  private readonly stations: StationWatch;
  private readonly warnings: OutageWarnings;
  private readonly shortNotice?: ShortNoticeRule;
  private watermark = -Infinity;
  private warming = false;
  /** While warming up: the incidents the register held open, by DMA. */
  private readonly openBeforeWarmUp = new Map<string, Incident>();
  /** What warmUp found and did not emit (reconcile). */
  private readonly warmed = new WarmedConditions();

  constructor(ctx: Pick<DetectorContext, 'topology' | 'health'>, options: OutageOptions = {}) {
    this.topology = ctx.topology;
    this.health = ctx.health;
    const { register, causeHint, stationDmas, ...config } = options;
    const { tank: tankO, pump: pumpO, warning: warnO, ...settings } = parseDetectorOptions('outage', outageOptionsSchema, config);
    this.o = settings;
    this.register = register;
    this.causeHint = causeHint;
    this.stationDmas = stationDmas ?? {};
    for (const [site, dmas] of Object.entries(this.stationDmas)) {
      for (const d of dmas) if (!this.topology.dmas.has(d)) throw new Error(`outage.stationDmas.${site}: unknown DMA ${d}`);
    }
    const emit = (out: Condition[], c: Condition) => this.emit(out, c);
    this.stations = new StationWatch({
      topology: this.topology, health: this.health, emit,
      suppliedDmas: (sensor) => this.suppliedDmas(sensor),
      fresh: (sensor, lastTs, t) => this.fresh(sensor, lastTs, t),
    }, tankO, pumpO);
    this.warnings = new OutageWarnings(this.o, warnO, emit);
    if (this.register) this.shortNotice = new ShortNoticeRule(this.register, this.o.minNoticeMs);

    for (const d of this.topology.dmas.values()) {
      const flowTerms = [...d.inlets.map((id) => ({ info: this.topology.sensors.get(id)!, sign: 1 as const })), ...d.outlets.map((id) => ({ info: this.topology.sensors.get(id)!, sign: -1 as const }))];
      this.dmas.set(d.id, { id: d.id, customers: d.customers, pressureSensors: [], pressures: [], flowTerms, lastEval: -Infinity, warning: false });
      for (const f of [...d.inlets, ...d.outlets]) this.flowDmas.set(f, [...(this.flowDmas.get(f) ?? []), d.id]);
    }
    for (const s of this.topology.sensors.values()) {
      if (s.kind === 'pressure' && s.dma && (s.place === 'network' || s.place === 'network-end')) {
        const state: PressureState = { sensor: s, lastTs: -Infinity, value: NaN, trend: new TrendWindow(warnO.trendWindowMs) };
        this.pressure.set(s.id, state);
        this.dmas.get(s.dma)?.pressureSensors.push(s.id);
        this.dmas.get(s.dma)?.pressures.push(state);
      } else {
        this.stations.add(s);
      }
    }
  }

  /** DMAs a site supplies: the configured ones, else the DMA the sensor itself is in. */
  private suppliedDmas(sensor: SensorInfo): string[] {
    return this.stationDmas[sensor.site] ?? (sensor.dma ? [sensor.dma] : []);
  }

  private emit(out: Condition[], c: Condition): void {
    if (!this.warming) out.push(c);
    else this.warmed.note(c);
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
      this.stations.onReading(out, r);
    }
    for (const [dma, ts] of touched) this.evaluateDma(out, this.dmas.get(dma)!, ts);
    return out;
  }

  onTime(eventTime: number): Condition[] {
    const out: Condition[] = [];
    if (eventTime < this.watermark) return out;
    this.watermark = eventTime;
    for (const d of this.dmas.values()) this.evaluateDma(out, d, eventTime);
    this.stations.onTime(out, eventTime);
    this.shortNotice?.poll(eventTime, (c) => this.emit(out, c));
    return out;
  }

  // --- DMA outage ----------------------------------------------------------------------------------

  /**
   * Within three of the sensor's intervals: the one its readings come at when coarser than declared
   * (sensor health's view), else 5-min or 15-min samples of sensors declared at 60 s were never
   * recent, and every pump stop at a full tank was taken for a trip (the level not known).
   */
  private fresh(sensor: SensorInfo, lastTs: number, t: number): boolean {
    return t - lastTs <= 3 * readingIntervalMs(this.health, sensor) && !this.health.isFaulty(sensor.id);
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
    if (this.warming) d.firstWarmEval ??= t;
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
      if (!d.incident) this.warnings.evaluate(out, d, t, usable);
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
      this.emit(out, this.emergencyRaise(d, inc, inc.start + this.o.emergencyAfterMs));
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

  private emergencyRaise(d: DmaState, inc: OpenIncident, ts: number): Condition {
    return {
      id: `emergency_supply_required:${d.id}`, type: 'emergency_supply_required', state: 'raise', ts, priority: 'critical', dma: d.id,
      text: alarmText('emergency_supply_required.raise', { dma: d.id }),
      evidence: { outageStart: inc.start, customersAffected: d.customers, planned: !!inc.planned, plannedOutageId: inc.planned?.id ?? null },
    };
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
    if (this.stations.trippedFor(dma)) return { cause: 'pump_trip' };
    return { cause: 'unknown' };
  }

  private openIncident(out: Condition[], d: DmaState, startSeen: number, t: number, signal: 'pressure' | 'inflow', evidence: Record<string, unknown>): void {
    // warming up: down from the replayed window's first evaluation, with an incident the register
    // holds open from before it: the same outage, with its start (so its end closes that incident)
    const before = this.warming ? this.openBeforeWarmUp.get(d.id) : undefined;
    const start = before && before.start < startSeen && startSeen === d.firstWarmEval ? before.start : startSeen;
    const { planned, cause } = this.classify(d.id, start);
    d.incident = { start, raisedAt: t, planned, cause, signal, emergencyRaised: false, overrunReported: false };
    d.downSince = undefined; d.upSince = undefined;
    // while warming, the start may still be corrected from the register: recorded after warm-up
    if (!this.warming) this.recordIncident(d, d.incident);
    if (d.warning) this.warnings.end(out, d, t, 'outage began');
    this.emit(out, this.incidentRaise(d, d.incident, t, evidence));
  }

  private incidentRaise(d: DmaState, inc: OpenIncident, t: number, evidence: Record<string, unknown>): Condition {
    const { planned, cause } = inc;
    return {
      id: `outage:${d.id}`, type: 'outage', state: 'raise', ts: t, priority: planned ? 'low' : 'high', dma: d.id,
      text: planned
        ? alarmText('outage.planned', { dma: d.id, outage: planned.id, cause: planned.cause, customers: d.customers })
        : alarmText('outage.unplanned', { dma: d.id, customers: d.customers, cause }),
      evidence: { ...this.incidentEvidence(d, inc), ...evidence },
    };
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

  // --- restart ---------------------------------------------------------------------------------------

  /**
   * Replays the last `warmUpMs` (26 h) of pressures, flows, tank levels and pump states without
   * emitting anything, so an outage in progress at a restart keeps its start (and its 24 h clock),
   * the usual inflow and the pumps' control levels are known, and nothing is raised twice.
   */
  async warmUp(history: TimeSeriesStore, until: number): Promise<void> {
    const from = until - this.o.warmUpMs;
    const watched = [...this.pressure.keys(), ...this.flowDmas.keys(), ...this.stations.sensors()];
    const readings = await readRawHistory(history, this.topology, watched, from, until);
    const openBefore = this.openBeforeWarmUp;
    openBefore.clear();
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

  /**
   * After warmUp on a live restart (see Detector.reconcile), with the alarms left open by the run
   * before. What the warm-up found without an alarm began while analytics was down: raised now
   * (an outage with its incident's start, its 24 h emergency, a warning, a pump trip). An open alarm
   * the warm-up did not raise again is taken up, so it ends as live would, with its end recorded:
   * an outage is an open incident again (closed when the DMA's pressures are back for the
   * off-delay), a warning waits for its margin and off-delay, a pump trip for the pump's start. It is
   * cleared at once only when the state says it is over: an outage whose incident the warm-up saw
   * end (the register has its end), a pump running, a short-notice rule that no longer holds
   * (the register is the whole truth of it), an emergency without its outage.
   */
  reconcile(open: readonly OpenAlarm[], at: number): Condition[] {
    const out: Condition[] = [];
    const alarmed = new Set(open.map((a) => a.conditionId));
    const ended = new Map<string, Incident>();
    for (const inc of this.register?.listIncidents?.(at - this.o.warmUpMs, at) ?? []) if (inc.end !== undefined) ended.set(`${inc.dma}:${inc.start}`, inc);
    const clear = (a: OpenAlarm, text: AlarmText, evidence: Record<string, unknown>) => out.push({
      id: a.conditionId, type: a.type, state: 'clear', ts: at, dma: a.dma, text, evidence: { ...evidence, afterRestart: true },
    });
    // outages first: an emergency is judged against its outage as taken up
    const order = (a: OpenAlarm) => (a.type === 'outage' ? 0 : 1);
    for (const a of [...open].sort((x, y) => order(x) - order(y))) {
      const sep = a.conditionId.indexOf(':');
      if (sep < 0 || a.conditionId.slice(0, sep) !== a.type || this.warmed.holds(a.conditionId)) continue;
      const key = a.conditionId.slice(sep + 1);
      const ev = a.evidence ?? {};
      const d = this.dmas.get(key);
      if (a.type === 'outage' && d && !d.incident) {
        const start = typeof ev.start === 'number' ? ev.start : a.raisedAt;
        const over = ended.get(`${d.id}:${start}`);
        if (over) {
          clear(a, alarmText('outage.clear', { dma: d.id, minutes: Math.round((over.end! - start) / MIN) }), { start, end: over.end });
          continue;
        }
        const { planned, cause } = this.classify(d.id, start);
        d.incident = {
          start, raisedAt: a.raisedAt, planned, cause: typeof ev.cause === 'string' ? ev.cause as CauseCode : cause,
          signal: ev.signal === 'inflow' ? 'inflow' : 'pressure', emergencyRaised: alarmed.has(`emergency_supply_required:${d.id}`), overrunReported: ev.overrun === true,
        };
        d.downSince = undefined; d.upSince = undefined;
      } else if (a.type === 'emergency_supply_required' && d) {
        if (d.incident) d.incident.emergencyRaised = true;
        else clear(a, alarmText('emergency_supply_required.clear', { dma: d.id }), { outageStart: ev.outageStart ?? null });
      } else if (a.type === 'outage_warning' && d && !d.incident) {
        d.warning = true;
      } else if (a.type === 'outage_warning' && d) {
        clear(a, alarmText('outage_warning.clear', { dma: d.id, reason: '@reason.outage_began' }), { reason: 'outage began' });
      } else if (a.type === 'tank_low_warning' || a.type === 'pump_trip') {
        const over = this.stations.takeUp(a.type, key, a.raisedAt, ev, at);
        if (over) out.push(over);
      } else if (a.type === 'planned_outage_short_notice' && this.shortNotice) {
        // (the rule reads the register whole: one the warm-up's polls did not raise again no longer holds)
        clear(a, alarmText('planned_outage_short_notice.withdrawn', { outage: key }), { plannedOutageId: key });
      }
    }
    // found without an alarm
    out.push(...this.warmed.raisesWithoutAlarm(open, at, { skip: (c) => c.type === 'outage' || c.type === 'emergency_supply_required' }));
    for (const d of this.dmas.values()) {
      const inc = d.incident;
      if (!inc) continue;
      // (the warm-up may have moved an incident's start back to the register's: built from the incident now)
      if (!alarmed.has(`outage:${d.id}`)) out.push(this.incidentRaise(d, inc, at, { afterRestart: true }));
      if (inc.emergencyRaised && !alarmed.has(`emergency_supply_required:${d.id}`)) {
        const emergency = this.emergencyRaise(d, inc, at);
        out.push({ ...emergency, evidence: { ...emergency.evidence, afterRestart: true } });
      }
    }
    this.warmed.clear();
    return out;
  }

  /** The open incidents, for the dashboard's area status and for tests. */
  openIncidents(): { dma: string; start: number; planned: boolean; plannedOutageId?: string; cause: CauseCode; customers: number }[] {
    return [...this.dmas.values()].filter((d) => d.incident).map((d) => ({
      dma: d.id, start: d.incident!.start, planned: !!d.incident!.planned, plannedOutageId: d.incident!.planned?.id, cause: d.incident!.cause, customers: d.customers,
    }));
  }
}
