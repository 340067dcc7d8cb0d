/**
 * Validation and unit conversion of one reading: the checks every source's input goes through
 * (the live pipeline and the CSV import alike). Each failure names the field and the reason.
 * Only the live pipeline sets `maxAgeMs`: the CSV import exists to load history.
 */
import type { Point, RawReading, Quality } from '../../core/model/reading.ts';
import { PHYSICAL_RANGE, converterFor } from '../../core/model/units.ts';
import type { Topology } from '../../core/topology/topology.ts';

export type Checked =
  | { ok: true; point: Point }
  /** `aheadMs`: the time is this far beyond the future limit (a source's clock, or the server's, is wrong). */
  | { ok: false; field: string; reason: string; aheadMs?: number };

export interface ValidatorOptions {
  /** A timestamp further ahead of `now()` than this is a clock error at the source. */
  maxFutureMs: number;
  /**
   * A timestamp older than `now()` minus this is refused (review F16): a live device whose RTC
   * reset, or history that belongs in `aquawatch import`. Undefined: no limit (the CSV import).
   */
  maxAgeMs?: number;
  now: () => number;
}

const QUALITIES = new Set<Quality>(['good', 'uncertain', 'bad']);
// Earliest plausible reading time: 2000-01-01. An older one is a unit error (seconds read as ms).
const EARLIEST_TS = Date.UTC(2000, 0, 1);

export class ReadingValidator {
  constructor(private readonly topology: Topology, private readonly opts: ValidatorOptions) {}

  /**
   * `at`: the time the reading is judged at (default `now()`); a dead letter replayed later is
   * judged at the time it was received, so its age and future limits mean what they meant then.
   */
  check(r: RawReading, at = this.opts.now()): Checked {
    if (typeof r.sensor !== 'string' || r.sensor === '') return { ok: false, field: 'sensor', reason: 'missing sensor id' };
    const sensor = this.topology.sensors.get(r.sensor);
    if (!sensor) return { ok: false, field: 'sensor', reason: `unknown sensor ${r.sensor}` };
    if (typeof r.ts !== 'number' || !Number.isFinite(r.ts)) return { ok: false, field: 'ts', reason: 'not a valid time' };
    if (r.ts < EARLIEST_TS) return { ok: false, field: 'ts', reason: `${new Date(r.ts).toISOString()} is before 2000 (seconds sent as milliseconds?)` };
    const { maxAgeMs } = this.opts;
    if (maxAgeMs !== undefined && at - r.ts > maxAgeMs) {
      return { ok: false, field: 'ts', reason: `${new Date(r.ts).toISOString()} is ${hours(at - r.ts)} h old, older than live sources may send `
        + `(ingest.maxAgeHours ${hours(maxAgeMs)}); load history with aquawatch import` };
    }
    const ahead = r.ts - at;
    if (ahead > this.opts.maxFutureMs) {
      return { ok: false, field: 'ts', reason: `${Math.round(ahead / 1000)} s in the future (limit ${Math.round(this.opts.maxFutureMs / 1000)} s)`, aheadMs: ahead };
    }
    if (typeof r.value !== 'number' || !Number.isFinite(r.value)) return { ok: false, field: 'value', reason: `not a finite number (${String(r.value)})` };
    if (!QUALITIES.has(r.quality)) return { ok: false, field: 'quality', reason: `must be good, uncertain or bad (got ${String(r.quality)})` };
    let convert = sensor.convert;
    if (r.unit !== undefined && r.unit !== sensor.unit) {
      const c = converterFor(sensor.kind, r.unit);
      if (!c) return { ok: false, field: 'unit', reason: `${r.unit} is not a unit of ${sensor.kind}` };
      convert = c;
    }
    const value = convert(r.value);
    const [lo, hi] = PHYSICAL_RANGE[sensor.kind];
    if (value < lo || value > hi) {
      return { ok: false, field: 'value', reason: `${value} ${sensor.canonicalUnit} is outside the physical range of ${sensor.kind} [${lo}, ${hi}]` };
    }
    return { ok: true, point: { measurement: sensor.kind, sensor: sensor.id, ts: Math.round(r.ts), value, quality: r.quality, site: sensor.site, dma: sensor.dma } };
  }
}

function hours(ms: number): number {
  return Math.round((ms / 3_600_000) * 10) / 10;
}
