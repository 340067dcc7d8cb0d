/**
 * A pressure-model alarm's ranked loggers (issue #12.6), read from the alarm's evidence (its shape:
 * `pressureModelEvidence` in the contract). The evidence is a free record on the wire, so each
 * logger is checked here: one that is not readable is left out rather than drawn somewhere wrong.
 * The order is the detector's (by z, the first the nearest to the leak): the rank is the position.
 */
import type { AlarmRecord, MapSensor, RankedLogger } from '../../contract/index.ts';

/** The pressure-model detector's alarm type (analytics/detectors/pressure-model). */
export const PRESSURE_MODEL_TYPE = 'leak_candidate';

export interface RankedOnMap extends RankedLogger {
  rank: number;
  /** The logger's name on the map (its id when the map does not know it). */
  name: string;
  /** Where to draw it: the evidence's coordinates, else the map's; none when neither has them. */
  at?: [number, number];
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The alarm's loggers in the detector's order; [] for another alarm type or unreadable evidence. */
export function rankedLoggersOf(alarm: Pick<AlarmRecord, 'type' | 'evidence'>): RankedLogger[] {
  const ranked = alarm.type === PRESSURE_MODEL_TYPE ? alarm.evidence?.ranked : undefined;
  if (!Array.isArray(ranked)) return [];
  return ranked.flatMap((r: unknown): RankedLogger[] => {
    const { sensor, residualKpa, z, x, y } = (r ?? {}) as Record<string, unknown>;
    if (typeof sensor !== 'string' || !sensor || !isNum(residualKpa) || !isNum(z)) return [];
    return [{ sensor, residualKpa, z, ...(isNum(x) && isNum(y) ? { x, y } : {}) }];
  });
}

/** The loggers with their rank, name and place on the map. */
export function placeRanked(alarm: Pick<AlarmRecord, 'type' | 'evidence'>, sensors: readonly MapSensor[]): RankedOnMap[] {
  const byId = new Map(sensors.map((s) => [s.id, s]));
  return rankedLoggersOf(alarm).map((r, i) => {
    const s = byId.get(r.sensor);
    const at: [number, number] | undefined = r.x !== undefined && r.y !== undefined ? [r.x, r.y]
      : s && isNum(s.x) && isNum(s.y) ? [s.x, s.y] : undefined;
    return { ...r, rank: i + 1, name: s?.name ?? r.sensor, ...(at ? { at } : {}) };
  });
}

/**
 * A marker's size in pixels by the logger's loss: the alarm's largest loss is the largest marker; a
 * logger at or above the model (residual ≥ 0) the smallest.
 */
export function markerSize(residualKpa: number, largestLossKpa: number): number {
  const MIN_PX = 16, MAX_PX = 34;
  const loss = Math.max(0, -residualKpa);
  return largestLossKpa > 0 ? MIN_PX + (MAX_PX - MIN_PX) * Math.min(1, loss / largestLossKpa) : MIN_PX;
}
