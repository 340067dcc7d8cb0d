/**
 * The night-flow trend per DMA over the period: the nightly minimum night flow (`night_flow`) and
 * leakage estimate (`leakage_estimate`) series the night-flow detector stores, sensor = DMA id,
 * m³/h, one value per night. Summarised as first, last, mean and a least-squares slope, so a report
 * shows whether an area's leakage is growing.
 */
import type { Topology } from '../../core/topology/topology.ts';
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';
import type { NightFlowTrend } from './types.ts';

/** Names of the derived series (analytics/detectors/night-flow stores them). */
export const NIGHT_FLOW_SERIES = 'night_flow';
export const LEAKAGE_ESTIMATE_SERIES = 'leakage_estimate';

const DAYS_30_MS = 30 * 86_400_000;

export async function nightFlowTrends(store: TimeSeriesStore, topology: Topology, from: number, to: number): Promise<NightFlowTrend[]> {
  const dmas = [...topology.dmas.keys()];
  if (!dmas.length) return [];
  const [flows, leaks] = await Promise.all([
    store.query({ measurement: NIGHT_FLOW_SERIES, sensors: dmas, from, to }),
    store.query({ measurement: LEAKAGE_ESTIMATE_SERIES, sensors: dmas, from, to }),
  ]);
  return dmas.map((dma) => {
    const nights = new Map<number, { ts: number; nightFlowM3h: number | null; leakageM3h: number | null }>();
    for (const v of flows.get(dma) ?? []) nights.set(v.ts, { ts: v.ts, nightFlowM3h: v.value, leakageM3h: null });
    for (const v of leaks.get(dma) ?? []) {
      const n = nights.get(v.ts) ?? { ts: v.ts, nightFlowM3h: null, leakageM3h: null };
      n.leakageM3h = v.value;
      nights.set(v.ts, n);
    }
    const list = [...nights.values()].sort((a, b) => a.ts - b.ts);
    const flowPoints = list.filter((n) => n.nightFlowM3h !== null) as { ts: number; nightFlowM3h: number }[];
    const leakValues = list.flatMap((n) => (n.leakageM3h === null ? [] : [n.leakageM3h]));
    return {
      dma,
      nights: list,
      firstM3h: flowPoints[0]?.nightFlowM3h ?? null,
      lastM3h: flowPoints.at(-1)?.nightFlowM3h ?? null,
      meanM3h: flowPoints.length ? mean(flowPoints.map((p) => p.nightFlowM3h)) : null,
      slopeM3hPer30d: slope(flowPoints.map((p) => [p.ts, p.nightFlowM3h])),
      meanLeakageM3h: leakValues.length ? mean(leakValues) : null,
    };
  });
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Least-squares slope of value over time, per 30 days; null with fewer than two distinct times. */
function slope(points: readonly (readonly [number, number])[]): number | null {
  if (points.length < 2) return null;
  const mt = mean(points.map((p) => p[0]));
  const mv = mean(points.map((p) => p[1]));
  let num = 0;
  let den = 0;
  for (const [t, v] of points) {
    num += (t - mt) * (v - mv);
    den += (t - mt) ** 2;
  }
  return den > 0 ? (num / den) * DAYS_30_MS : null;
}
