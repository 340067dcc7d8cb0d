/**
 * Point in polygon on the network map (map coordinates): what a polygon drawn on the map holds.
 * Shared by the server (an incident's affected part, analytics/outages/affected-part.ts) and the
 * web app (the editor's preview of the meters inside), so both select the same meters; it imports
 * nothing, so the web app can bundle it.
 */

export type MapPoint = readonly [number, number];

/**
 * Whether (x, y) lies inside the polygon or on its boundary. Even-odd rule (ray casting), which
 * handles concave and self-crossing outlines; the boundary is tested apart because ray casting
 * decides points on an edge by rounding, and a meter on the line someone drew is meant to be in.
 */
export function insidePolygon(x: number, y: number, polygon: readonly MapPoint[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (onSegment(x, y, xi, yi, xj, yj)) return true;
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** On the segment from (ax, ay) to (bx, by), within a rounding tolerance relative to its length. */
function onSegment(x: number, y: number, ax: number, ay: number, bx: number, by: number): boolean {
  const dx = bx - ax, dy = by - ay;
  const lengthSq = dx * dx + dy * dy;
  if (lengthSq === 0) return x === ax && y === ay;
  const cross = (x - ax) * dy - (y - ay) * dx;
  if (Math.abs(cross) > 1e-9 * lengthSq) return false;
  const along = (x - ax) * dx + (y - ay) * dy;
  return along >= 0 && along <= lengthSq;
}
