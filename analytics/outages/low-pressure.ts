/**
 * Low-pressure incidents (供水不足): a DMA whose network-end pressure stays below the minimum service
 * pressure longer than a configured time (default 30 min) gets an incident of kind `low_pressure`,
 * from when the pressure first fell below to when the last of its low-pressure alarms cleared. They
 * are kept for compensation (insufficient supply, 昆明 item 19); the outage KPIs do not count them.
 *
 * It follows the pressure detector's `pressure_low` alarms at the DMA's `network-end` sensors (every
 * `network` pressure sensor of a DMA that has none marked), from the alarm manager's open alarms, so
 * a restart loses nothing: `sweep(now)` is called on every pressure alarm transition and periodically.
 */
import type { AlarmRecord } from '../../core/state/alarm-store.ts';
import type { Topology } from '../../core/topology/topology.ts';
import type { IncidentBook } from './incident-book.ts';

export const DEFAULT_LOW_PRESSURE_MINUTES = 30;
const LOW_PRESSURE_ALARM = 'pressure_low';

export class LowPressureIncidents {
  /** sensor id → DMA, for the sensors whose low pressure counts. */
  private readonly endSensors = new Map<string, string>();

  constructor(private readonly o: { book: IncidentBook; topology: Topology; minMs: number }) {
    const pressure = [...o.topology.sensors.values()].filter((s) => s.kind === 'pressure' && s.dma);
    for (const dma of o.topology.dmas.keys()) {
      const mine = pressure.filter((s) => s.dma === dma);
      const ends = mine.filter((s) => s.place === 'network-end');
      for (const s of ends.length ? ends : mine.filter((x) => x.place === 'network')) this.endSensors.set(s.id, dma);
    }
  }

  /** Whether an alarm is one this follows (a `pressure_low` alarm at a counted sensor). */
  follows(alarm: Pick<AlarmRecord, 'type' | 'sensor'>): boolean {
    return alarm.type === LOW_PRESSURE_ALARM && alarm.sensor !== undefined && this.endSensors.has(alarm.sensor);
  }

  /**
   * Opens the incidents whose low pressure has lasted `minMs` at `now`, and ends the open ones whose
   * DMA has no active low-pressure alarm left (at the latest clear among `alarms`, else `now`).
   */
  sweep(now: number, alarms: readonly AlarmRecord[]): void {
    const active = new Map<string, number>();
    const lastClear = new Map<string, number>();
    for (const a of alarms) {
      if (!this.follows(a)) continue;
      const dma = this.endSensors.get(a.sensor!)!;
      if (a.state === 'active-unacknowledged' || a.state === 'active-acknowledged') active.set(dma, Math.min(active.get(dma) ?? Infinity, a.conditionSince));
      else if (a.clearedAt !== undefined) lastClear.set(dma, Math.max(lastClear.get(dma) ?? -Infinity, a.clearedAt));
    }
    const open = new Map(this.o.book.list(now - 1, Infinity, { kind: 'low_pressure' }).filter((i) => i.end === undefined && i.origin === 'detected').map((i) => [i.dma, i]));
    for (const [dma, since] of active) {
      if (open.has(dma) || now - since < this.o.minMs) continue;
      this.o.book.recordLowPressure({ dma, start: since, customersAffected: this.o.topology.dmas.get(dma)?.customers ?? 0 }, now);
    }
    for (const [dma, inc] of open) {
      if (active.has(dma)) continue;
      const end = Math.max(inc.start, lastClear.get(dma) ?? now);
      this.o.book.recordLowPressure({ dma, start: inc.start, end, customersAffected: inc.detected.customersAffected }, now);
    }
  }
}
