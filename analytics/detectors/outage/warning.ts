/**
 * `outage_warning:<dma>` (part of the outage detector): the DMA's pressures decline steadily and
 * will cross the outage threshold within the warning horizon (60 min). A steady decline shows in
 * both halves of the trend window; a step (a burst, a valve) shows in one half only and is not one.
 */
import type { SensorInfo } from '../../../core/topology/topology.ts';
import type { Condition } from '../../types.ts';
import type { TrendWindow } from './trend.ts';
import { HOUR, MIN, round } from './units.ts';
import { alarmText } from '../../../core/messages/alarm-texts.ts';
import type { OutageSettings } from './options.ts';

type WarningOptions = OutageSettings['warning'];

/** A pressure sensor of a DMA as the outage detector keeps it. */
export interface PressureState { sensor: SensorInfo; lastTs: number; value: number; trend: TrendWindow }

/** The warning's part of a DMA's state. */
export interface WarningState {
  id: string;
  customers: number;
  warnSince?: number;
  calmSince?: number;
  warning: boolean;
}

export class OutageWarnings {
  constructor(
    private readonly limits: { thresholdMPa: number; minShareBelow: number },
    private readonly o: WarningOptions,
    private readonly emit: (out: Condition[], c: Condition) => void,
  ) {}

  /** Judged while the DMA has no outage, with its usable (fresh, healthy) pressure sensors. */
  evaluate(out: Condition[], d: WarningState, t: number, usable: readonly PressureState[]): void {
    if (!usable.length) return;
    const thr = this.limits.thresholdMPa;
    const forecasts: { sensor: string; value: number; slopeMPaPerH: number; crossInMin: number }[] = [];
    for (const p of usable) {
      const fit = p.trend.fit();
      if (!fit || fit.n < 4 || fit.spanMs < this.o.trendWindowMs / 2 || fit.slope >= 0) continue;
      const [a, b] = p.trend.halves();
      // a steady decline shows in both halves; a step (a burst, a valve) in one half only
      if (!a || !b || a.slope > 0.3 * fit.slope || b.slope > 0.3 * fit.slope) continue;
      if (fit.valueAtEnd <= thr) continue;
      const crossInMs = (fit.valueAtEnd - thr) / -fit.slope;
      if (crossInMs <= this.o.horizonMs) {
        forecasts.push({ sensor: p.sensor.id, value: round(p.value, 4), slopeMPaPerH: round(fit.slope * HOUR, 4), crossInMin: Math.round(crossInMs / MIN) });
      }
    }
    const predicted = forecasts.length / usable.length >= this.limits.minShareBelow;
    if (predicted) {
      d.calmSince = undefined;
      d.warnSince ??= t;
      if (!d.warning && t - d.warnSince >= this.o.onDelayMs) {
        d.warning = true;
        this.emit(out, {
          id: `outage_warning:${d.id}`, type: 'outage_warning', state: 'raise', ts: t, priority: 'high', dma: d.id,
          text: alarmText('outage_warning.raise', { dma: d.id, minutes: Math.min(...forecasts.map((f) => f.crossInMin)) }),
          evidence: { thresholdMPa: thr, horizonMin: this.o.horizonMs / MIN, forecasts, customers: d.customers },
        });
      }
    } else {
      d.warnSince = undefined;
      if (d.warning) {
        d.calmSince ??= t;
        if (t - d.calmSince >= this.o.offDelayMs) this.end(out, d, t, 'pressure steady');
      }
    }
  }

  end(out: Condition[], d: WarningState, t: number, reason: string): void {
    d.warning = false; d.warnSince = undefined; d.calmSince = undefined;
    this.emit(out, {
      id: `outage_warning:${d.id}`, type: 'outage_warning', state: 'clear', ts: t, priority: 'high', dma: d.id,
      text: alarmText('outage_warning.clear', { dma: d.id, reason: `@reason.${reason.replaceAll(' ', '_')}` }), evidence: { reason },
    });
  }
}
