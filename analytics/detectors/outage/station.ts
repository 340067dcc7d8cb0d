/**
 * Warnings from pump stations and tanks, before the water stops (part of the outage detector):
 * - `tank_low_warning:<level sensor>`: the level trend gives less than the limit (6 h) to empty;
 * - `pump_trip:<state sensor>`: a pump stops away from its level-control stop level, fails to
 *   restart when its tank falls below the usual start level, or stays off while its tank runs empty.
 *
 * Not a detector of its own: an outage that starts while a station supplying the DMA has a tripped
 * pump gets the cause `pump_trip`, so the outage detector reads the trips of the same batch
 * (trippedFor) before it judges its DMAs.
 */
import type { Point } from '../../../core/model/reading.ts';
import type { SensorInfo, Topology } from '../../../core/topology/topology.ts';
import type { Condition, SensorHealthView } from '../../types.ts';
import { medianOf } from '../../baseline/median.ts';
import { TrendWindow } from './trend.ts';
import { HOUR, round } from './units.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';
import type { OutageSettings } from './options.ts';
import { readingIntervalMs } from '../../baseline/sample-interval.ts';

type TankOptions = OutageSettings['tank'];
/** Fewest level readings a tank's trend rests on. */
const MIN_TREND_READINGS = 4;
type PumpOptions = OutageSettings['pump'];

interface TankState { sensor: SensorInfo; trend: TrendWindow; lowSince?: number; okSince?: number; warning: boolean; maxSeen: number }

interface PumpState {
  sensor: SensorInfo;
  on?: boolean;
  lastTs: number;
  startLevels: number[];
  stopLevels: number[];
  tripped?: { ts: number; reason: string };
}

/** What the station watch uses of the outage detector. */
export interface StationWatchContext {
  topology: Topology;
  health: SensorHealthView;
  /** DMAs a site supplies. */
  suppliedDmas(sensor: SensorInfo): string[];
  /** A reading of this sensor at `lastTs` is recent enough at `t`, and the sensor is healthy. */
  fresh(sensor: SensorInfo, lastTs: number, t: number): boolean;
  /** Emits a condition (nothing while the detector warms up). */
  emit(out: Condition[], c: Condition): void;
}

export class StationWatch {
  private readonly tanks = new Map<string, TankState>();
  private readonly pumps = new Map<string, PumpState>();

  constructor(private readonly ctx: StationWatchContext, private readonly tankO: TankOptions, private readonly pumpO: PumpOptions) {}

  /** Watches a sensor if it is a tank level or a pump state; false otherwise. */
  add(s: SensorInfo): boolean {
    if (s.kind === 'level' && s.place === 'tank') {
      this.tanks.set(s.id, { sensor: s, trend: new TrendWindow(this.tankO.trendWindowMs), warning: false, maxSeen: -Infinity });
      return true;
    }
    if (s.kind === 'pump') {
      const known = this.pumpO.levels[s.id];
      this.pumps.set(s.id, {
        sensor: s, lastTs: -Infinity,
        startLevels: known?.startM !== undefined ? [known.startM] : [],
        stopLevels: known?.stopM !== undefined ? [known.stopM] : [],
      });
      return true;
    }
    return false;
  }

  /** The sensors watched, for the warm-up's history. */
  sensors(): string[] {
    return [...this.tanks.keys(), ...this.pumps.keys()];
  }

  /** A reading (usable: not bad, finite); ignored unless of a watched sensor. */
  onReading(out: Condition[], r: Point): void {
    const t = this.tanks.get(r.sensor);
    if (t) {
      this.fitWindowToInterval(t);
      t.trend.push(r.ts, r.value);
      t.maxSeen = Math.max(t.maxSeen, r.value);
      this.evaluateTank(out, t, r.ts);
      return;
    }
    const pump = this.pumps.get(r.sensor);
    if (pump) this.onPumpState(out, pump, r);
  }

  onTime(out: Condition[], t: number): void {
    for (const p of this.pumps.values()) this.checkRestart(out, p, t);
  }

  /**
   * After a restart (OutageDetector.reconcile), an open alarm of a tank or a pump the warm-up did
   * not raise again. A pump running now: its trip is over, its clear is returned. Otherwise taken
   * up: the tank's warning ends with its margin and off-delay, the trip when the pump starts.
   */
  takeUp(type: string, sensor: string, raisedAt: number, evidence: Record<string, unknown>, at: number): Condition | undefined {
    const tank = type === 'tank_low_warning' ? this.tanks.get(sensor) : undefined;
    if (tank) tank.warning = true;
    const p = type === 'pump_trip' ? this.pumps.get(sensor) : undefined;
    if (!p) return undefined;
    if (p.on === true) {
      return {
        id: `pump_trip:${sensor}`, type: 'pump_trip', state: 'clear', ts: at, priority: 'high', site: p.sensor.site, sensor,
        dma: this.ctx.suppliedDmas(p.sensor)[0], text: alarmText('pump_trip.clear', { pump: sensor }),
        evidence: { since: raisedAt, reason: evidence.reason ?? null, runningAt: p.lastTs, afterRestart: true },
      };
    }
    p.tripped = { ts: raisedAt, reason: typeof evidence.reason === 'string' ? evidence.reason : 'stopped' };
    return undefined;
  }

  /** A pump of a station supplying this DMA is tripped. */
  trippedFor(dma: string): boolean {
    for (const p of this.pumps.values()) {
      if (p.tripped && this.ctx.suppliedDmas(p.sensor).includes(dma)) return true;
    }
    return false;
  }

  // --- tanks ---------------------------------------------------------------------------------------

  /**
   * The trend wants MIN_TREND_READINGS readings: the window holds `trendWindowMs` (30 min) or that
   * many of the intervals the level's readings come at, whichever is longer (at 15-min samples of a
   * level declared at 60 s the 30-min window held 2 or 3, and a tank emptying gave no warning).
   */
  private fitWindowToInterval(t: TankState): void {
    const windowMs = Math.max(this.tankO.trendWindowMs, MIN_TREND_READINGS * readingIntervalMs(this.ctx.health, t.sensor));
    if (windowMs !== t.trend.windowMs) t.trend = t.trend.widened(windowMs);
  }

  private tankFloor(s: SensorInfo): number {
    return this.tankO.floorM[s.id] ?? s.thresholds?.lowLow ?? 0;
  }

  private evaluateTank(out: Condition[], tank: TankState, t: number): void {
    const s = tank.sensor;
    if (this.ctx.health.isFaulty(s.id)) return;
    const fit = tank.trend.fit();
    if (!fit || fit.n < MIN_TREND_READINGS || fit.spanMs < this.tankO.trendWindowMs / 2) return;
    const floor = this.tankFloor(s);
    const level = fit.valueAtEnd;
    // a tank within a few centimetres of its floor is empty, whatever the (flat) trend says
    const timeToEmptyMs = level <= floor + this.tankO.emptyBandM ? 0 : fit.slope < 0 ? (level - floor) / -fit.slope : Infinity;
    const low = timeToEmptyMs < this.tankO.timeToEmptyLimitMs;
    const evidence = {
      levelM: round(level, 3), floorM: floor, trendMPerH: round(fit.slope * HOUR, 3),
      timeToEmptyH: Number.isFinite(timeToEmptyMs) ? round(timeToEmptyMs / HOUR, 2) : null,
      limitH: this.tankO.timeToEmptyLimitMs / HOUR, dmas: this.ctx.suppliedDmas(s),
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
        this.ctx.emit(out, {
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
          this.ctx.emit(out, {
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
      if (tank.sensor.site === pump.site && last !== undefined && this.ctx.fresh(tank.sensor, last, t)) return tank;
    }
    return undefined;
  }

  private remember(list: number[], v: number): void {
    list.push(v);
    if (list.length > 7) list.shift();
  }

  private onPumpState(out: Condition[], p: PumpState, r: Point): void {
    if (r.ts <= p.lastTs || this.ctx.health.isFaulty(p.sensor.id)) return;
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
    const dmas = this.ctx.suppliedDmas(p.sensor);
    this.ctx.emit(out, {
      id: `pump_trip:${p.sensor.id}`, type: 'pump_trip', state: 'raise', ts, priority: 'high', site: p.sensor.site, sensor: p.sensor.id, dma: dmas[0],
      text: alarmText(reason === 'stopped' ? 'pump_trip.stopped' : reason === 'failed_to_restart' ? 'pump_trip.failed_to_restart' : 'pump_trip.off_while_emptying', { pump: p.sensor.id }),
      evidence: { reason, dmas, ...evidence },
    });
  }

  private clearTrip(out: Condition[], p: PumpState, ts: number, level: number | undefined): void {
    const trip = p.tripped!;
    p.tripped = undefined;
    this.ctx.emit(out, {
      id: `pump_trip:${p.sensor.id}`, type: 'pump_trip', state: 'clear', ts, priority: 'high', site: p.sensor.site, sensor: p.sensor.id,
      dma: this.ctx.suppliedDmas(p.sensor)[0], text: alarmText('pump_trip.clear', { pump: p.sensor.id }),
      evidence: { since: trip.ts, reason: trip.reason, tankLevelM: level ?? null },
    });
  }
}
