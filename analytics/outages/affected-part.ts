/**
 * The customers of the part of an area an incident really affected (issue #14.1): the meters
 * picked, or a polygon drawn on the map. The topology has the area's customer count and a list of
 * its meters (a meter may stand for many properties), and the map has the area's pipes: so
 * - meters picked: the area's customers × picked meters ÷ the area's meters;
 * - polygon: the area's customers × the area's pipe vertices inside ÷ all its pipe vertices (the
 *   network's extent stands for where its customers live).
 * Rounded to whole customers, never more than the area has.
 */
import type { AffectedPart } from './types.ts';
import { IncidentError } from './incident-book.ts';

export interface AreaExtent {
  customers: number;
  /** The area's meter ids. */
  meters: readonly string[];
  /** Vertices of the area's pipes on the map, [x, y]. */
  points: readonly (readonly [number, number])[];
}

export function customersInPart(part: AffectedPart, area: AreaExtent): number {
  if ('meters' in part) {
    const known = new Set(area.meters);
    const picked = [...new Set(part.meters)];
    picked.forEach((m, i) => { if (!known.has(m)) throw new IncidentError(`affected.meters[${i}]`, `meter ${m} is not in this area`); });
    if (!picked.length) throw new IncidentError('affected.meters', 'pick at least one meter');
    return Math.min(area.customers, Math.round((area.customers * picked.length) / area.meters.length));
  }
  if (part.polygon.length < 3) throw new IncidentError('affected.polygon', 'a polygon needs at least 3 corners');
  if (!area.points.length) throw new IncidentError('affected.polygon', 'the map has no pipes of this area to measure the polygon against');
  const inside = area.points.filter(([x, y]) => insidePolygon(x, y, part.polygon)).length;
  return Math.min(area.customers, Math.round((area.customers * inside) / area.points.length));
}

/** Even-odd rule (ray casting). */
export function insidePolygon(x: number, y: number, polygon: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
