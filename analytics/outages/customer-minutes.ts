/**
 * The outages and low-pressure periods (供水不足) that affected one customer, with their minutes in a
 * period (issue #14.2, the customer page; rule 4, compensation needs per-customer minutes).
 *
 * An incident of the customer's area affected the customer unless people recorded a part of the
 * area it really affected that leaves the customer's meter out (affected-part.ts): meters picked, or
 * the meters the server selected inside a drawn polygon → the customer's meter among them; a polygon
 * stored without a selection (the area's meters had no positions) → the meter's own position inside
 * it, and a meter without one cannot be placed: it counts as affected, marked `placed: false`, so
 * nobody loses minutes they may be owed (analytics/kpi/compensation.ts `affectsCustomer` decides alike). Incidents merged into another count once, through that one.
 * An incident still open lasts until `now`. The totals per kind are the union of the incidents'
 * times, so two overlapping incidents of one kind are not counted twice.
 */
import { insidePolygon } from '../../core/topology/polygon.ts';
import type { AffectedPart, IncidentKind, IncidentRecord } from './types.ts';

export interface CustomerMeterPlace {
  id: string;
  dma?: string;
  /** Position on the map (the network's coordinates), when known. */
  x?: number;
  y?: number;
}

export interface CustomerIncidentMinutes {
  incident: IncidentRecord;
  /** The meters of the customer the incident reached. */
  meters: string[];
  /** Clipped to the period, ms. */
  from: number;
  to: number;
  minutes: number;
  /** False when a polygon limited the incident and a meter had no position to place it by. */
  placed: boolean;
}

/** Whether `part` (undefined: the whole area) reaches `meter`; `undefined` when it cannot be told. */
export function partReaches(part: AffectedPart | undefined, meter: CustomerMeterPlace): boolean | undefined {
  if (!part) return true;
  if (part.meters) return part.meters.includes(meter.id);
  if (!('polygon' in part) || meter.x === undefined || meter.y === undefined) return undefined;
  return insidePolygon(meter.x, meter.y, part.polygon);
}

const MIN = 60_000;

export function customerIncidentMinutes(
  meters: readonly CustomerMeterPlace[], incidents: readonly IncidentRecord[], from: number, to: number, now: number,
): CustomerIncidentMinutes[] {
  const out: CustomerIncidentMinutes[] = [];
  for (const incident of incidents) {
    if (incident.mergedInto) continue;
    let placed = true;
    const reached = meters.filter((m) => {
      if (m.dma !== incident.dma) return false;
      const r = partReaches(incident.affectedPart, m);
      if (r === undefined) placed = false;
      return r !== false;
    });
    if (!reached.length) continue;
    const start = Math.max(from, incident.start);
    const end = Math.min(to, incident.end ?? Math.max(now, incident.start));
    if (end < start || (end === start && incident.end !== incident.start)) continue;
    out.push({ incident, meters: reached.map((m) => m.id), from: start, to: end, minutes: Math.round((end - start) / MIN), placed });
  }
  return out.sort((a, b) => a.from - b.from || a.incident.id.localeCompare(b.incident.id));
}

/** Minutes per kind, overlapping incidents of one kind counted once. */
export function minutesByKind(rows: readonly CustomerIncidentMinutes[]): Record<IncidentKind, number> {
  const total: Record<IncidentKind, number> = { outage: 0, low_pressure: 0 };
  for (const kind of Object.keys(total) as IncidentKind[]) {
    const spans = rows.filter((r) => r.incident.kind === kind).map((r) => [r.from, r.to] as const).sort((a, b) => a[0] - b[0]);
    let ms = 0;
    let [curFrom, curTo] = [-Infinity, -Infinity];
    for (const [f, t] of spans) {
      if (f > curTo) { if (curTo > curFrom) ms += curTo - curFrom; [curFrom, curTo] = [f, t]; }
      else curTo = Math.max(curTo, t);
    }
    if (curTo > curFrom) ms += curTo - curFrom;
    total[kind] = Math.round(ms / MIN);
  }
  return total;
}
