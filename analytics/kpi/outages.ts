/**
 * Outage KPIs from incidents: planned and unplanned outages (count, duration, areas, per cause),
 * customer-minutes lost, and the reliability figures the seeds ask for:
 * - average outage time per customer (用户平均停水时间, SAIDI for water) =
 *   Σ customers affected × minutes ÷ customers served, with chosen causes left out (三亚 item 六);
 * - interruption frequency per customer (SAIFI) = Σ customers affected ÷ customers served.
 * Every incident is clipped to the period; one still open runs to the period's end or `asOf`.
 */
import type { AreaOutageMinutes, CauseStats, DurationStats, IncidentInPeriod, OutageKpis } from './types.ts';
import type { Incident } from '../outages/types.ts';

const MINUTE_MS = 60_000;

export interface OutageKpiOptions {
  from: number;
  to: number;
  /** Open incidents count up to min(to, asOf). Default `to`. */
  asOf?: number;
  /** Cause codes left out of SAIDI/SAIFI. */
  excludeCauses: readonly string[];
  customersServed: number;
  /** Customers per DMA, for the per-area table. */
  customersOf?: (dma: string) => number;
}

export function outageKpis(incidents: readonly Incident[], o: OutageKpiOptions): OutageKpis {
  const until = Math.min(o.to, o.asOf ?? o.to);
  const excluded = new Set(o.excludeCauses);
  const seen = new Set<string>();
  const inPeriod: IncidentInPeriod[] = [];
  for (const i of incidents) {
    if (seen.has(i.id)) continue; // a source may list an incident twice (overlapping pages)
    const end = i.end === undefined ? until : i.end;
    const overlaps = i.start < o.to && end > o.from;
    const instantInside = i.start === end && i.start >= o.from && i.start < o.to;
    if (!overlaps && !instantInside) continue;
    seen.add(i.id);
    const clippedStart = Math.max(i.start, o.from);
    const clippedEnd = Math.max(clippedStart, Math.min(end, o.to));
    const minutes = Math.max(0, clippedEnd - clippedStart) / MINUTE_MS;
    inPeriod.push({
      ...i, clippedStart, clippedEnd, minutes,
      customerMinutes: minutes * i.customersAffected, ongoing: i.end === undefined,
      excluded: excluded.has(i.cause),
    });
  }
  inPeriod.sort((a, b) => a.clippedStart - b.clippedStart || a.dma.localeCompare(b.dma));

  const counted = inPeriod.filter((i) => !i.excluded);
  const perCustomer = (v: number) => (o.customersServed > 0 ? v / o.customersServed : null);
  const causes = [...new Set(inPeriod.map((i) => i.cause))].sort();
  const byCause: CauseStats[] = causes.map((cause) => ({
    cause, excluded: excluded.has(cause), ...durationStats(inPeriod.filter((i) => i.cause === cause)),
  }));

  const byArea: AreaOutageMinutes[] = [...new Set(inPeriod.map((i) => i.dma))].sort().map((dma) => {
    const mine = inPeriod.filter((i) => i.dma === dma);
    return {
      dma, customers: o.customersOf?.(dma) ?? 0, incidents: mine.length,
      outageMinutes: sum(mine.map((i) => i.minutes)),
      outageMinutesCounted: sum(mine.filter((i) => !i.excluded).map((i) => i.minutes)),
      customerMinutes: sum(mine.map((i) => i.customerMinutes)),
    };
  });

  return {
    planned: durationStats(inPeriod.filter((i) => i.planned)),
    unplanned: durationStats(inPeriod.filter((i) => !i.planned)),
    all: durationStats(inPeriod),
    byCause,
    customerMinutesLost: sum(inPeriod.map((i) => i.customerMinutes)),
    customersServed: o.customersServed,
    excludedCauses: [...excluded].sort(),
    saidiMinutes: perCustomer(sum(counted.map((i) => i.customerMinutes))),
    saidiMinutesAllCauses: perCustomer(sum(inPeriod.map((i) => i.customerMinutes))),
    saifi: perCustomer(sum(counted.map((i) => i.customersAffected))),
    saifiAllCauses: perCustomer(sum(inPeriod.map((i) => i.customersAffected))),
    byArea,
    incidents: inPeriod,
  };
}

/**
 * Outage minutes of each affected customer group in the period: per incident, the DMA, the minutes
 * and how many customers were without water. Compensation rules multiply these by their rate.
 */
export function customerOutageMinutes(kpis: OutageKpis): { dma: string; incident: string; customers: number; minutes: number; cause: string; counted: boolean }[] {
  return kpis.incidents.map((i) => ({
    dma: i.dma, incident: i.id, customers: i.customersAffected, minutes: i.minutes, cause: i.cause, counted: !i.excluded,
  }));
}

function durationStats(list: readonly IncidentInPeriod[]): DurationStats {
  const totalMinutes = sum(list.map((i) => i.minutes));
  return {
    count: list.length,
    totalMinutes,
    meanMinutes: list.length ? totalMinutes / list.length : 0,
    areas: [...new Set(list.map((i) => i.dma))].sort(),
    customerMinutes: sum(list.map((i) => i.customerMinutes)),
    customersAffected: sum(list.map((i) => i.customersAffected)),
  };
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
