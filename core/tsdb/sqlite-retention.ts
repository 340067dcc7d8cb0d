/**
 * Retention for the embedded SQLite store (review F24: the file grew until the disk was full).
 *
 * Rows older than a measurement's retention are deleted in chunks, each one short transaction, with the
 * event loop free between chunks: ingest's writes (same connection in `aquawatch start`, another
 * process in a split deployment) wait at most one chunk. A pass walks the measurements and their
 * sensors by primary-key seeks only, so it never reads the history it keeps.
 *
 * The age is counted back from the measurement's newest reading, or from now when that is later:
 * live data ages with the clock, while an imported historical dataset (BattLeDIM 2019, a CSV of
 * last decade) is not deleted the moment it arrives, and a reading stamped in the future moves
 * nothing.
 *
 * Space: SQLite reuses the pages of deleted rows for new ones, so under steady ingest the file stops
 * growing once the oldest data leaves. A store created with `auto_vacuum = INCREMENTAL` (every store
 * created since retention exists, see sqlite.ts) also gives back what a large deletion frees (retention
 * shortened, or switched on for a store with years of data), in chunks of pages, keeping a reserve
 * for the next days' writes.
 */
import type Database from 'better-sqlite3';
import { KINDS } from '../model/units.ts';

const DAY_MS = 86_400_000;

/** Days kept; 0 keeps everything. */
export interface RetentionDays {
  /** The readings of sensors: the quantity kinds (pressure, flow, level, meter, …). */
  readings: number;
  /** Analytics' derived series (every measurement that is not a quantity kind: dma_inflow, …). */
  derived: number;
  /** Per measurement, over the two above. */
  measurements: Record<string, number>;
}

/**
 * Readings 400 days: a year-on-year KPI compares a month with the same month a year before, which
 * needs 365 + 31 days back. Derived series 800 days: the leakage trend compares whole years, and a
 * derived series cannot be computed again once the readings it came from are gone.
 */
export const DEFAULT_RETENTION_DAYS: Readonly<RetentionDays> = { readings: 400, derived: 800, measurements: {} };

/** The config's `store.retentionDays` (a number for every measurement, or per kind), with the defaults. */
export function resolveRetentionDays(configured: number | Partial<RetentionDays> | undefined): RetentionDays {
  if (typeof configured === 'number') return { readings: configured, derived: configured, measurements: {} };
  return {
    readings: configured?.readings ?? DEFAULT_RETENTION_DAYS.readings,
    derived: configured?.derived ?? DEFAULT_RETENTION_DAYS.derived,
    measurements: { ...configured?.measurements },
  };
}

const QUANTITY_KINDS: ReadonlySet<string> = new Set(KINDS);

export function retentionDaysOf(days: RetentionDays, measurement: string): number {
  return days.measurements[measurement] ?? (QUANTITY_KINDS.has(measurement) ? days.readings : days.derived);
}

export interface RetentionOptions {
  days: RetentionDays;
  now?: () => number;
  /** Rows deleted per transaction at most. */
  chunkRows?: number;
  /** Sensors looked at per transaction at most (a fleet of meters has many with few rows each). */
  chunkSensors?: number;
  /** Pages given back per incremental-vacuum step. */
  chunkPages?: number;
  /** Free pages kept for new rows, as a share of the file's pages, before any is given back. */
  freeReserve?: number;
  /** After each chunk's commit: rows of `measurement` deleted by it (a metric counts them). */
  onDeleted?: (measurement: string, rows: number) => void;
}

export interface RetentionPassResult {
  /** Rows deleted, by measurement (only measurements with deletions). */
  deleted: Record<string, number>;
  /** The oldest time kept, by measurement with a retention. */
  keptFrom: Record<string, number>;
  /** Transactions that deleted rows. */
  chunks: number;
  /** Pages given back to the filesystem. */
  pagesFreed: number;
}

interface SensorSpan { sensor: string; oldest: number; newest: number }

/** Let other work (ingest's writes, HTTP) run between two chunks. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class SqliteRetention {
  private readonly now: () => number;
  private readonly chunkRows: number;
  private readonly chunkSensors: number;
  private readonly chunkPages: number;
  private readonly freeReserve: number;
  private readonly nextMeasurement: Database.Statement;
  private readonly sensorSpans: Database.Statement;
  private readonly deleteOldest: Database.Statement;
  private running: Promise<RetentionPassResult> | undefined;
  private stopped = false;

  constructor(private readonly db: Database.Database, private readonly o: RetentionOptions) {
    this.now = o.now ?? Date.now;
    this.chunkRows = o.chunkRows ?? 5000;
    this.chunkSensors = o.chunkSensors ?? 2000;
    this.chunkPages = o.chunkPages ?? 2048;
    this.freeReserve = o.freeReserve ?? 0.1;
    this.nextMeasurement = db.prepare('SELECT MIN(measurement) AS m FROM readings WHERE measurement > ?').pluck();
    // The next `limit` sensors after `after`, each with its oldest and newest time: seeks only.
    this.sensorSpans = db.prepare(`WITH RECURSIVE s(sensor, n) AS (
        SELECT (SELECT MIN(sensor) FROM readings WHERE measurement = @m AND sensor > @after), 1
        UNION ALL
        SELECT (SELECT MIN(sensor) FROM readings WHERE measurement = @m AND sensor > s.sensor), n + 1
          FROM s WHERE s.sensor IS NOT NULL AND n < @limit)
      SELECT sensor,
        (SELECT MIN(ts) FROM readings WHERE measurement = @m AND sensor = s.sensor) AS oldest,
        (SELECT MAX(ts) FROM readings WHERE measurement = @m AND sensor = s.sensor) AS newest
      FROM s WHERE sensor IS NOT NULL`);
    // At most @limit of the sensor's rows older than @cutoff, oldest first: everything before the
    // (limit+1)-th old row, or every old row when there are no more than @limit.
    this.deleteOldest = db.prepare(`DELETE FROM readings WHERE measurement = @m AND sensor = @sensor AND ts < coalesce(
        (SELECT ts FROM readings WHERE measurement = @m AND sensor = @sensor AND ts < @cutoff ORDER BY ts LIMIT 1 OFFSET @limit),
        @cutoff)`);
  }

  /** End a running pass at its next chunk (before the store closes). */
  stop(): void {
    this.stopped = true;
  }

  /** One pass over every measurement; a pass already running is joined, not started twice. */
  runPass(): Promise<RetentionPassResult> {
    this.running ??= this.pass().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async pass(): Promise<RetentionPassResult> {
    const result: RetentionPassResult = { deleted: {}, keptFrom: {}, chunks: 0, pagesFreed: 0 };
    const now = this.now();
    // every statement runs only while not stopped: the store's connection closes after stop()
    let m = this.nextMeasurement.get('') as string | null;
    while (m !== null) {
      const days = retentionDaysOf(this.o.days, m);
      if (days > 0) {
        const spans = await this.spansOf(m);
        if (this.stopped) break;
        const newest = spans.reduce((max, s) => Math.max(max, s.newest), -Infinity);
        const cutoff = Math.min(now, newest) - days * DAY_MS;
        result.keptFrom[m] = cutoff;
        await this.deleteBefore(m, spans.filter((s) => s.oldest < cutoff), cutoff, result);
        if (this.stopped) break;
      }
      m = this.nextMeasurement.get(m) as string | null;
    }
    if (!this.stopped) result.pagesFreed = await this.releaseFreePages();
    return result;
  }

  private async spansOf(measurement: string): Promise<SensorSpan[]> {
    const spans: SensorSpan[] = [];
    for (let after = ''; ;) {
      const batch = this.sensorSpans.all({ m: measurement, after, limit: this.chunkSensors }) as SensorSpan[];
      for (const span of batch) spans.push(span);
      if (batch.length < this.chunkSensors) return spans;
      after = batch[batch.length - 1].sensor;
      await yieldToEventLoop();
      if (this.stopped) return spans;
    }
  }

  private async deleteBefore(measurement: string, sensors: SensorSpan[], cutoff: number, result: RetentionPassResult): Promise<void> {
    let next = 0;
    const chunk = this.db.transaction(() => {
      let rows = 0;
      for (let visited = 0; next < sensors.length && rows < this.chunkRows && visited < this.chunkSensors; visited++) {
        const deleted = this.deleteOldest.run({ m: measurement, sensor: sensors[next].sensor, cutoff, limit: this.chunkRows - rows }).changes;
        rows += deleted;
        // a sensor whose old rows did not all fit is taken up again by the next chunk
        if (rows < this.chunkRows) next++;
      }
      return rows;
    });
    while (next < sensors.length && !this.stopped) {
      const rows = chunk();
      if (rows > 0) {
        result.chunks++;
        result.deleted[measurement] = (result.deleted[measurement] ?? 0) + rows;
        this.o.onDeleted?.(measurement, rows);
      }
      await yieldToEventLoop();
    }
  }

  /** With incremental auto-vacuum: give back free pages beyond the reserve, a chunk of pages at a time. */
  private async releaseFreePages(): Promise<number> {
    if (this.db.pragma('auto_vacuum', { simple: true }) !== 2) return 0;
    let released = 0;
    while (!this.stopped) {
      const free = this.db.pragma('freelist_count', { simple: true }) as number;
      const pages = this.db.pragma('page_count', { simple: true }) as number;
      const beyondReserve = free - Math.ceil(pages * this.freeReserve);
      if (beyondReserve <= 0) return released;
      const step = Math.min(beyondReserve, this.chunkPages);
      this.db.pragma(`incremental_vacuum(${step})`);
      const freed = free - (this.db.pragma('freelist_count', { simple: true }) as number);
      if (freed <= 0) return released;
      released += freed;
      await yieldToEventLoop();
    }
    return released;
  }
}
