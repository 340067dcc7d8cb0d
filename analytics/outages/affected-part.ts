/**
 * The customers of the part of an area an incident really affected (issue #14.1): the meters
 * picked, or a polygon drawn on the map. The topology has the area's customer count and a list of
 * its meters (a meter may stand for many properties), and the map has the area's pipes: so
 * - meters picked: the area's customers × picked meters ÷ the area's meters;
 * - polygon, when the area's meters have map positions: the meters inside it (on its edge counts as
 *   inside) are the ones selected, and count as if picked; the part keeps them beside the polygon;
 * - polygon, when none of them has a position: the area's customers × the area's pipe vertices
 *   inside ÷ all its pipe vertices (the network's extent stands for where its customers live).
 * Rounded to whole customers, never more than the area has. Computed here, on the server, from the
 * topology: a client's own count or selection is never taken.
 */
import type { AffectedPart, AffectedPartInput } from './types.ts';
import { IncidentError } from './incident-book.ts';
import { insidePolygon, type MapPoint } from '../../core/topology/polygon.ts';

export interface AreaExtent {
  customers: number;
  /** The area's meters, with their map position when the topology gives one. */
  meters: readonly { id: string; x?: number; y?: number }[];
  /** Vertices of the area's pipes on the map, [x, y]. */
  points: readonly MapPoint[];
}

/** The part as stored (a polygon with the meters it selects) and the customers it holds. */
export function measurePart(input: AffectedPartInput, area: AreaExtent): { part: AffectedPart; customers: number } {
  const share = (n: number, of: number) => Math.min(area.customers, Math.round((area.customers * n) / of));
  if ('meters' in input) {
    const known = new Set(area.meters.map((m) => m.id));
    const picked = [...new Set(input.meters)];
    picked.forEach((m, i) => { if (!known.has(m)) throw new IncidentError(`affected.meters[${i}]`, `meter ${m} is not in this area`); });
    if (!picked.length) throw new IncidentError('affected.meters', 'pick at least one meter');
    return { part: { meters: picked }, customers: share(picked.length, area.meters.length) };
  }
  const polygon = input.polygon;
  if (polygon.length < 3) throw new IncidentError('affected.polygon', 'a polygon needs at least 3 corners');
  const placed = area.meters.filter((m): m is { id: string; x: number; y: number } => m.x !== undefined && m.y !== undefined);
  if (placed.length) {
    const inside = placed.filter((m) => insidePolygon(m.x, m.y, polygon)).map((m) => m.id);
    if (!inside.length) throw new IncidentError('affected.polygon', 'the polygon holds none of this area\'s meters');
    return { part: { polygon: [...polygon], meters: inside }, customers: share(inside.length, area.meters.length) };
  }
  if (!area.points.length) throw new IncidentError('affected.polygon', 'the map has no meters or pipes of this area to measure the polygon against');
  const inside = area.points.filter(([x, y]) => insidePolygon(x, y, polygon)).length;
  return { part: { polygon: [...polygon] }, customers: share(inside, area.points.length) };
}
