/**
 * Downsampled history for the dashboard's trends (GET /api/v1/history, API.md): the server picks
 * the window from the range, and the store computes the mean per window (InfluxDB's GROUP BY time,
 * SQLite's own aggregation), so a week of 1-min data travels as ~2,000 points, not 10,000.
 * Sensors are grouped by measurement (their kind); each group is queried in up to 4 parts at once.
 */
import type { TimeSeriesStore } from '../../core/tsdb/types.ts';

const MIN = 60_000;
/** Windows the dashboard uses, smallest first: round numbers people read on a time axis. */
export const HISTORY_STEPS_MS = [MIN, 5 * MIN, 15 * MIN, 60 * MIN, 6 * 60 * MIN, 24 * 60 * MIN] as const;
export const DEFAULT_HISTORY_POINTS = 600;
export const MAX_HISTORY_SENSORS = 20;
/** Most queries one measurement's sensors are split into, run in parallel. */
export const QUERIES_PER_MEASUREMENT = 4;

export interface HistoryQuery {
  sensors: string[];
  /** Inclusive start, ms. */
  from: number;
  /** Exclusive end, ms. */
  to: number;
  /** Most points per series wanted (default 600). */
  points?: number;
  /**
   * The measurement a sensor is stored under: its topology kind. Undefined for an unknown sensor.
   * Optional when a topology is passed to readHistory (its sensors' kinds are used).
   */
  measurementOf?(sensor: string): string | undefined;
  /** Cancels the store reads (InfluxDB's requests) when it fires: the dashboard's client went away. */
  signal?: AbortSignal;
}

/** What readHistory needs of core/topology's Topology. */
export interface SensorKinds { sensors: ReadonlyMap<string, { kind: string }> }

export interface HistoryAnswer {
  stepMs: number;
  series: Record<string, [number, number][]>;
}

/** Bad input: `field` names the query parameter at fault. */
export class HistoryQueryError extends Error {
  constructor(readonly field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'HistoryQueryError';
  }
}

/**
 * The smallest step giving at most `points` windows over [from, to); the largest step when even
 * that gives more (a range of years at 1 d still answers, with more points than asked).
 */
export function historyStep(from: number, to: number, points = DEFAULT_HISTORY_POINTS): number {
  // Windows are aligned to the epoch: count those [from, to) touches, not span / step.
  for (const step of HISTORY_STEPS_MS) if (Math.floor((to - 1) / step) - Math.floor(from / step) + 1 <= points) return step;
  return HISTORY_STEPS_MS[HISTORY_STEPS_MS.length - 1];
}

/**
 * Mean per window of each sensor over [from, to). The measurement of a sensor comes from
 * `q.measurementOf`, else from `topology` (the sensor's kind). Throws HistoryQueryError on bad input.
 */
export async function readHistory(store: TimeSeriesStore, q: HistoryQuery, topology?: SensorKinds): Promise<HistoryAnswer> {
  validate(q);
  const measurementOf = q.measurementOf ?? (topology ? (s: string) => topology.sensors.get(s)?.kind : undefined);
  if (!measurementOf) throw new TypeError('readHistory: give q.measurementOf or a topology');
  const stepMs = historyStep(q.from, q.to, q.points ?? DEFAULT_HISTORY_POINTS);
  const sensors = [...new Set(q.sensors)];
  const byMeasurement = new Map<string, string[]>();
  for (const s of sensors) {
    const m = measurementOf(s);
    if (m === undefined) throw new HistoryQueryError('sensors', `unknown sensor ${JSON.stringify(s)}`);
    const list = byMeasurement.get(m);
    if (list) list.push(s); else byMeasurement.set(m, [s]);
  }
  // InfluxDB 1.x computes one query's windows on one core (~11 µs per window and series here):
  // a few smaller queries side by side let it use the others. The sum of the work is the same.
  const groups = [...byMeasurement].flatMap(([measurement, list]) => split(list, QUERIES_PER_MEASUREMENT).map((part) => [measurement, part] as const));
  const answers = await Promise.all(groups.map(([measurement, list]) =>
    store.query({ measurement, sensors: list, from: q.from, to: q.to, windowMs: stepMs, aggregate: 'mean', signal: q.signal })));
  const series: Record<string, [number, number][]> = {};
  for (const s of sensors) series[s] = [];
  for (const answer of answers) {
    for (const [sensor, values] of answer) {
      if (!(sensor in series)) continue;
      series[sensor] = values.filter((v) => Number.isFinite(v.value)).map((v) => [v.ts, v.value]);
    }
  }
  return { stepMs, series };
}

/** `list` in at most `parts` groups of nearly equal size, order kept. */
function split<T>(list: T[], parts: number): T[][] {
  const n = Math.min(parts, list.length);
  const out: T[][] = [];
  for (let i = 0; i < n; i++) out.push(list.slice(Math.floor((i * list.length) / n), Math.floor(((i + 1) * list.length) / n)));
  return out;
}

function validate(q: HistoryQuery): void {
  if (!Array.isArray(q.sensors) || q.sensors.length === 0) throw new HistoryQueryError('sensors', 'at least one sensor is needed');
  if (q.sensors.length > MAX_HISTORY_SENSORS) throw new HistoryQueryError('sensors', `at most ${MAX_HISTORY_SENSORS}, got ${q.sensors.length}`);
  if (!Number.isFinite(q.from)) throw new HistoryQueryError('from', 'must be a time in epoch milliseconds');
  if (!Number.isFinite(q.to)) throw new HistoryQueryError('to', 'must be a time in epoch milliseconds');
  if (q.to <= q.from) throw new HistoryQueryError('to', `must be after from (from ${q.from}, to ${q.to})`);
  if (q.points !== undefined && (!Number.isInteger(q.points) || q.points < 2 || q.points > 10_000)) {
    throw new HistoryQueryError('points', `must be a whole number from 2 to 10000, got ${String(q.points)}`);
  }
}
