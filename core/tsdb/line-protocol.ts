/**
 * What both InfluxDB stores need to know about line protocol: which points it can carry, how our
 * schema maps a Point onto it, and the one escape that the `influx` package leaves to its caller.
 *
 * Schema (docs/architecture.md): measurement = point.measurement; tags sensor, site, dma; fields `value`
 * (float) and `q` (integer 0 good, 1 uncertain, 2 bad); timestamps in ms.
 *
 * The two client libraries escape spaces, commas and `=` in tags, but neither can carry a newline,
 * and they disagree on backslashes (the `influx` package leaves them alone, the 2.x client doubles
 * them, and InfluxDB 1.x does not undouble them in tag values). So a point with a newline or
 * backslash in its measurement or tags is refused up front, with an error naming the field,
 * instead of being stored differently by each store or breaking the whole batch at the server.
 */
import type { Point } from '../model/reading.ts';
import { QUALITY_CODE } from '../model/reading.ts';

/** Tag keys of the schema, in line-protocol (sorted) order. */
export const TAG_KEYS = ['dma', 'sensor', 'site'] as const;

/** InfluxDB stores int64 nanoseconds; this is its usable range in milliseconds. */
export const MIN_TIME_MS = -9_223_372_036_854;
export const MAX_TIME_MS = 9_223_372_036_854;

/**
 * A point the store can never write: retrying it will not help. `retryable` is false so the outbox
 * can set the batch aside (dead-letter) instead of retrying it forever.
 */
export class InvalidPointError extends Error {
  readonly retryable = false;
  constructor(readonly index: number, readonly field: string, reason: string, point: Point) {
    super(`point ${index} (${JSON.stringify({ measurement: point.measurement, sensor: point.sensor, ts: point.ts })}): ${field} ${reason}`);
    this.name = 'InvalidPointError';
  }
}

const UNREPRESENTABLE = /[\n\r\\]/;

/** Throw InvalidPointError for the first field of `p` that line protocol cannot carry faithfully. */
export function checkPoint(p: Point, index: number): void {
  const fail = (field: string, reason: string): never => { throw new InvalidPointError(index, field, reason, p); };
  if (typeof p.measurement !== 'string' || p.measurement === '') fail('measurement', 'must be a non-empty string');
  if (UNREPRESENTABLE.test(p.measurement)) fail('measurement', 'must not contain a newline or backslash');
  if (p.measurement.startsWith('#')) fail('measurement', "must not start with '#' (line protocol reads the line as a comment)");
  if (typeof p.sensor !== 'string' || p.sensor === '') fail('sensor', 'must be a non-empty string');
  for (const key of TAG_KEYS) {
    const v = p[key];
    if (v === undefined || v === null || v === '') continue; // empty tags are left out (see pointTags)
    if (typeof v !== 'string') fail(key, `must be a string, got ${typeof v}`);
    if (UNREPRESENTABLE.test(v)) fail(key, 'must not contain a newline or backslash');
  }
  if (typeof p.value !== 'number' || !Number.isFinite(p.value)) fail('value', `must be a finite number, got ${String(p.value)}`);
  if (!Number.isSafeInteger(p.ts)) fail('ts', `must be a whole number of milliseconds, got ${String(p.ts)}`);
  if (p.ts < MIN_TIME_MS || p.ts > MAX_TIME_MS) fail('ts', `is outside InfluxDB's time range (years 1677 to 2262): ${p.ts}`);
  if (!(p.quality in QUALITY_CODE)) fail('quality', `must be good, uncertain or bad, got ${String(p.quality)}`);
}

export function checkPoints(points: readonly Point[]): void {
  points.forEach(checkPoint);
}

/**
 * The tags of a point. Line protocol has no empty tag values, and InfluxQL treats a missing tag as
 * equal to '' anyway, so an empty site or dma (e.g. a derived series) is simply left out.
 */
export function pointTags(p: Point): Record<string, string> {
  const tags: Record<string, string> = { sensor: p.sensor };
  if (p.site) tags.site = p.site;
  if (p.dma) tags.dma = p.dma;
  return tags;
}

/** Measurement names escape commas and spaces (the `influx` package writes them verbatim). */
export function escapeMeasurement(name: string): string {
  return name.replace(/[, ]/g, (c) => `\\${c}`);
}

/** Split into chunks of at most `size`, keeping order. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
