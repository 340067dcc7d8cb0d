/**
 * The embedded time-series store: SQLite through better-sqlite3, used when no InfluxDB is configured.
 * One table keyed by (measurement, sensor, ts) WITHOUT ROWID, so a rewrite overwrites in place and a
 * range scan per sensor reads contiguous pages. Fine for a demo city and a small utility; a big one
 * runs InfluxDB.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Point } from '../model/reading.ts';
import { QUALITY_CODE, qualityFromCode } from '../model/reading.ts';
import type { Aggregate, LatestValue, RangeQuery, SeriesValue, TimeSeriesStore } from './types.ts';
import { checkPoints } from './line-protocol.ts';
import { SqliteRetention, type RetentionOptions } from './sqlite-retention.ts';

const AGG_SQL: Record<Aggregate, string> = {
  mean: 'AVG(value)', min: 'MIN(value)', max: 'MAX(value)', count: 'COUNT(value)', sum: 'SUM(value)',
  // `last` is handled separately: SQLite has no LAST(); a bare column with MAX(ts) gives the row of the max
  last: 'value',
};

/**
 * The newest row of every sensor of a measurement, in index seeks only (review F24: a GROUP BY read
 * the measurement's whole history, on the event loop, every few seconds). The recursive part walks
 * the distinct sensors one primary-key seek each (SQLite has no skip-scan for this on its own), and
 * each sensor's newest row is one more seek: the cost grows with the sensors, not with the history.
 * `sensor >= ''` keeps every seek on (measurement, sensor) so the query plan shows it (sqlite.test.ts).
 */
export const LATEST_OF_MEASUREMENT_SQL = `WITH RECURSIVE sensors(sensor) AS (
    SELECT (SELECT MIN(sensor) FROM readings WHERE measurement = @measurement AND sensor >= '')
    UNION ALL
    SELECT (SELECT MIN(sensor) FROM readings WHERE measurement = @measurement AND sensor > sensors.sensor)
      FROM sensors WHERE sensors.sensor IS NOT NULL)
  SELECT r.sensor, r.ts, r.value, r.q FROM sensors CROSS JOIN readings r
    ON r.measurement = @measurement AND r.sensor = sensors.sensor
    AND r.ts = (SELECT MAX(ts) FROM readings WHERE measurement = @measurement AND sensor = sensors.sensor)`;

/**
 * A raw range read of one sensor as three JSON arrays (times, values, quality codes) in one row:
 * better-sqlite3 spends most of a plain range read making a JS array per row, and JSON.parse of
 * three arrays costs about a third less. SQLite renders a REAL in JSON with round-trip precision,
 * so the values are the same numbers. Parameters: measurement, sensor, from (inclusive), to
 * (exclusive). Also run by the replay's read-ahead thread (analytics/replay-read-ahead.ts).
 */
export const RAW_RANGE_SQL = `SELECT json_group_array(ts), json_group_array(value), json_group_array(q)
  FROM (SELECT ts, value, q FROM readings WHERE measurement = ? AND sensor = ? AND ts >= ? AND ts < ? ORDER BY ts)`;

/** Rows per INSERT of a write: one statement for many rows costs about a quarter less per row. */
const INSERT_BLOCK_ROWS = 64;

const insertSql = (rows: number) => `INSERT OR REPLACE INTO readings (measurement, sensor, ts, value, q, site, dma) VALUES ${
  Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`;

/**
 * One point's row; parameters measurement, sensor, ts, value, quality code, site, dma. Also run by
 * the replay's read-ahead thread to write the derived series (analytics/replay-read-ahead.ts).
 */
export const INSERT_ROW_SQL = insertSql(1);

export class SqliteStore implements TimeSeriesStore {
  readonly describe: string;
  private db!: Database.Database;
  private insert!: Database.Statement;
  /** INSERT_BLOCK_ROWS rows in one statement. */
  private insertBlock!: Database.Statement;
  private writeMany!: (points: readonly Point[]) => void;
  /** RAW_RANGE_SQL, prepared once: the replay's hot path. */
  private rawRange!: Database.Statement;
  /** A sensor's newest row, as an array. */
  private lastRow!: Database.Statement;
  private latestOfMeasurement!: Database.Statement;
  /** Aggregate statements by SQL text (a few window sizes and aggregates in practice). */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly path: string) {
    this.describe = `sqlite ${path}`;
  }

  /** The database file; undefined for an in-memory store (another connection cannot open it). */
  get file(): string | undefined {
    return this.path === ':memory:' || this.path === '' ? undefined : this.path;
  }

  async init(): Promise<void> {
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
    this.db = new Database(this.path);
    // Takes effect only in a new file (before its first table): retention can then give back the
    // pages a large deletion frees (sqlite-retention.ts). An older file reuses them for new rows.
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    // FULL: the store writer deletes a batch from the outbox right after this write returns, so the
    // write must survive a power cut as the outbox commit does (NORMAL may lose the last commits).
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS readings (
      measurement TEXT NOT NULL, sensor TEXT NOT NULL, ts INTEGER NOT NULL,
      value REAL NOT NULL, q INTEGER NOT NULL, site TEXT NOT NULL, dma TEXT NOT NULL,
      PRIMARY KEY (measurement, sensor, ts)) WITHOUT ROWID`);
    this.insert = this.db.prepare(INSERT_ROW_SQL);
    this.insertBlock = this.db.prepare(insertSql(INSERT_BLOCK_ROWS));
    this.lastRow = this.db.prepare('SELECT ts, value, q FROM readings WHERE measurement = ? AND sensor = ? ORDER BY ts DESC LIMIT 1').raw(true);
    this.latestOfMeasurement = this.db.prepare(LATEST_OF_MEASUREMENT_SQL);
    this.rawRange = this.db.prepare(RAW_RANGE_SQL).raw(true);
    const blockArgs: unknown[] = new Array(7 * INSERT_BLOCK_ROWS);
    this.writeMany = this.db.transaction((points: readonly Point[]) => {
      // rows in order, so a point written twice in one batch keeps its last value, as row by row
      let i = 0;
      for (; i + INSERT_BLOCK_ROWS <= points.length; i += INSERT_BLOCK_ROWS) {
        for (let j = 0; j < INSERT_BLOCK_ROWS; j++) {
          const p = points[i + j];
          const k = 7 * j;
          blockArgs[k] = p.measurement; blockArgs[k + 1] = p.sensor; blockArgs[k + 2] = p.ts; blockArgs[k + 3] = p.value;
          blockArgs[k + 4] = QUALITY_CODE[p.quality]; blockArgs[k + 5] = p.site; blockArgs[k + 6] = p.dma;
        }
        this.insertBlock.run(blockArgs);
      }
      for (; i < points.length; i++) {
        const p = points[i];
        this.insert.run(p.measurement, p.sensor, p.ts, p.value, QUALITY_CODE[p.quality], p.site, p.dma);
      }
    });
  }

  async write(points: readonly Point[]): Promise<void> {
    // The same points InfluxDB cannot take are refused here too (InvalidPointError, not retryable),
    // so the outbox sets them aside instead of retrying a constraint error forever.
    checkPoints(points);
    if (points.length) this.writeMany(points);
  }

  async query(q: RangeQuery): Promise<Map<string, SeriesValue[]>> {
    if (q.windowMs !== undefined && !(q.windowMs > 0)) throw new Error(`windowMs: must be a positive number of milliseconds (got ${q.windowMs})`);
    const out = new Map<string, SeriesValue[]>();
    for (const sensor of q.sensors) out.set(sensor, this.querySensor(q, sensor));
    return out;
  }

  private querySensor(q: RangeQuery, sensor: string): SeriesValue[] {
    const args = [q.measurement, sensor, q.from, q.to];
    if (!q.aggregate) {
      const [tsJson, valueJson, qualityJson] = this.rawRange.get(...args) as [string, string, string];
      const ts = JSON.parse(tsJson) as number[];
      const value = JSON.parse(valueJson) as number[];
      const quality = JSON.parse(qualityJson) as number[];
      const out: SeriesValue[] = new Array(ts.length);
      let ordered = true;
      for (let i = 0; i < ts.length; i++) {
        out[i] = { ts: ts[i], value: value[i], quality: qualityFromCode(quality[i]) };
        if (i > 0 && ts[i] <= ts[i - 1]) ordered = false;
      }
      // an aggregate takes the rows in the subquery's order in SQLite's plans; should a version not,
      // the series is still returned ascending
      if (!ordered) out.sort((a, b) => a.ts - b.ts);
      return out;
    }
    // Windows aligned to the epoch; without windowMs, one window starting at `from` (as InfluxQL does).
    // (the one-window start is a bound parameter, so the statement is the same for every range)
    const bucket = q.windowMs ? `((ts / ${Math.trunc(q.windowMs)}) * ${Math.trunc(q.windowMs)})` : '?';
    const sql = q.aggregate === 'last'
      ? `SELECT ${bucket} AS w, value, MAX(ts) FROM readings WHERE measurement = ? AND sensor = ? AND ts >= ? AND ts < ? GROUP BY w ORDER BY w`
      : `SELECT ${bucket} AS w, ${AGG_SQL[q.aggregate]} AS value FROM readings WHERE measurement = ? AND sensor = ? AND ts >= ? AND ts < ? GROUP BY w ORDER BY w`;
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (this.statements.size >= 64) this.statements.clear();
      this.statements.set(sql, stmt = this.db.prepare(sql));
    }
    return (stmt.all(...(q.windowMs ? args : [Math.trunc(q.from), ...args])) as { w: number; value: number }[]).map((r) => ({ ts: r.w, value: r.value }));
  }

  async latest(measurement: string, sensors?: readonly string[]): Promise<LatestValue[]> {
    if (sensors) {
      // one primary-key seek per sensor: the PDA route asks for the meters of each upload, and a
      // scan of every series of the measurement grew with the whole fleet (100,000 AMR meters)
      const out: LatestValue[] = [];
      for (const sensor of new Set(sensors)) {
        const row = this.lastRow.get(measurement, sensor) as [number, number, number] | undefined;
        if (row) out.push({ measurement, sensor, ts: row[0], value: row[1], quality: qualityFromCode(row[2]) });
      }
      return out;
    }
    const rows = this.latestOfMeasurement.all({ measurement }) as { sensor: string; ts: number; value: number; q: number }[];
    return rows.map((r) => ({ measurement, sensor: r.sensor, ts: r.ts, value: r.value, quality: qualityFromCode(r.q) }));
  }

  /** Retention on this store's connection (run by ingest, the service that writes the readings). */
  retention(options: RetentionOptions): SqliteRetention {
    return new SqliteRetention(this.db, options);
  }

  async ping(): Promise<boolean> {
    try { this.db.prepare('SELECT 1').get(); return true; } catch { return false; }
  }

  async close(): Promise<void> {
    if (this.db?.open) this.db.close();
  }
}
