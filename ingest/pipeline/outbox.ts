/**
 * The store-and-forward outbox: a durable, bounded queue on disk in front of the store writer.
 *
 * Readings are group-committed: submissions arriving within `batchMaxDelayMs` (or until
 * `batchMaxSize` readings) become one SQLite transaction with `synchronous = FULL`, and every
 * submitter's promise resolves only after that commit. A source acknowledges upstream only then,
 * so a reading acknowledged to a source survives a store outage, a broker restart and kill -9.
 * Each committed group is one row (columnar JSON), so the cost per reading is small.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Point } from '../../core/model/reading.ts';
import { QUALITY_CODE, qualityFromCode } from '../../core/model/reading.ts';
import { BackpressureError } from './contract.ts';
import { checkDatabaseFile, moveAsideStep, recoverRowsStep } from '../../core/sqlite-file-check.ts';

/**
 * What the operator does with a damaged outbox. Never deleted for them: it holds readings already
 * acknowledged to their sources and not yet stored, and the dead letters.
 */
function outboxRemedy(path: string): string {
  return `It holds the readings not yet stored and the dead letters; do not delete it. Stop ingest, ${moveAsideStep(path)}, `
    + `${recoverRowsStep(path)}, then start ingest: it stores the recovered readings (rows it cannot read go to outbox_quarantine). Starting without `
    + `that step creates an empty outbox: the unsent readings then stay only in the moved file`;
}

export interface OutboxOptions {
  path: string;
  maxReadings: number;
  batchMaxSize: number;
  batchMaxDelayMs: number;
}

/** One committed group, as stored. Columns keep the JSON small and fast to build. */
interface Row { m: string[]; s: string[]; t: number[]; v: number[]; q: number[]; si: string[]; d: string[] }

function encodeRow(points: readonly Point[]): string {
  const r: Row = { m: [], s: [], t: [], v: [], q: [], si: [], d: [] };
  for (const p of points) {
    r.m.push(p.measurement); r.s.push(p.sensor); r.t.push(p.ts); r.v.push(p.value);
    r.q.push(QUALITY_CODE[p.quality]); r.si.push(p.site); r.d.push(p.dma);
  }
  return JSON.stringify(r);
}

/** Decode one stored row; throws naming what is wrong when the row is not one this code wrote. */
function decodeRow(json: string, into: Point[]): void {
  const r = JSON.parse(json) as Row;
  const columns = [r?.m, r?.s, r?.t, r?.v, r?.q, r?.si, r?.d];
  if (!columns.every(Array.isArray)) throw new Error('row is not the outbox\'s columnar JSON');
  const n = r.s.length;
  if (!columns.every((c) => c.length === n)) throw new Error('row columns differ in length');
  const start = into.length;
  for (let i = 0; i < n; i++) {
    if (typeof r.s[i] !== 'string' || !Number.isFinite(r.t[i]) || typeof r.v[i] !== 'number') {
      into.length = start;
      throw new Error(`row item ${i} is not a reading`);
    }
    into.push({ measurement: r.m[i], sensor: r.s[i], ts: r.t[i], value: r.v[i], quality: qualityFromCode(r.q[i]), site: r.si[i], dma: r.d[i] });
  }
}

/** The ingest database (outbox and dead letters): `ingest.outboxPath`, relative to `dataDir`. */
export function outboxFile(config: { dataDir: string; ingest: { outboxPath: string } }): string {
  const p = config.ingest.outboxPath;
  return p === ':memory:' || isAbsolute(p) ? p : join(config.dataDir, p);
}

interface Waiter { resolve: () => void; reject: (e: Error) => void }

export interface OutboxBatch { lastId: number; points: Point[] }

export class Outbox {
  /** The ingest database; the dead-letter table lives beside the outbox. */
  readonly db: Database.Database;
  private readonly insertRow: Database.Statement;
  private readonly selectRows: Database.Statement;
  private readonly deleteUpTo: Database.Statement;
  private readonly quarantineRow: (id: number, n: unknown, reason: string, points: unknown) => void;
  private pending: Point[] = [];
  private waiters: Waiter[] = [];
  private timer?: NodeJS.Timeout;
  private committedDepth = 0;
  private closed = false;
  /** Called after every commit with the points just made durable (the bus publisher listens). */
  onCommit?: (points: readonly Point[]) => void;
  /** Called when a row that cannot be decoded was moved to the quarantine table. */
  onQuarantine?: (rowId: number, reason: string) => void;

  constructor(private readonly opts: OutboxOptions) {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new Database(opts.path);
    if (opts.path !== ':memory:') checkDatabaseFile(this.db, opts.path, outboxRemedy(opts.path));
    this.db.pragma('journal_mode = WAL');
    // FULL: the WAL is fsynced at every commit, so an acknowledged reading survives power loss too.
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, points TEXT NOT NULL)`);
    // Rows that cannot be decoded (a torn write, bit rot, a hand edit) are moved here, text kept,
    // so one bad row neither blocks the readings behind it nor crashes the writer on every start.
    this.db.exec(`CREATE TABLE IF NOT EXISTS outbox_quarantine (
      id INTEGER PRIMARY KEY, at INTEGER NOT NULL, n INTEGER, reason TEXT NOT NULL, points TEXT)`);
    this.insertRow = this.db.prepare('INSERT INTO outbox (n, points) VALUES (?, ?)');
    const keep = this.db.prepare('INSERT OR REPLACE INTO outbox_quarantine (id, at, n, reason, points) VALUES (?, ?, ?, ?, ?)');
    const drop = this.db.prepare('DELETE FROM outbox WHERE id = ?');
    this.quarantineRow = this.db.transaction((id: number, n: unknown, reason: string, points: unknown) => {
      keep.run(id, Date.now(), typeof n === 'number' ? n : null, reason, typeof points === 'string' ? points : String(points));
      drop.run(id);
    });
    this.selectRows = this.db.prepare('SELECT id, n, points FROM outbox WHERE id > ? ORDER BY id LIMIT ?');
    this.deleteUpTo = this.db.prepare('DELETE FROM outbox WHERE id <= ?');
    this.committedDepth = this.storedDepth();
  }

  /**
   * Append points as one row now, inside the caller's transaction: a replayed dead letter leaves its
   * table in the same commit that makes it durable here (ingest/pipeline/replay.ts). Another process
   * (the `aquawatch dead-letters` command) may call this while ingest runs: the store writer picks
   * the row up at its next poll.
   */
  appendRow(points: readonly Point[]): void {
    if (points.length === 0) return;
    this.insertRow.run(points.length, encodeRow(points));
    this.committedDepth += points.length;
  }

  /** Readings in committed rows as the database counts them, rows other processes added included. */
  storedDepth(): number {
    return (this.db.prepare('SELECT COALESCE(SUM(n), 0) AS n FROM outbox').get() as { n: number }).n;
  }

  /** Readings durable in the outbox and not yet written to the store, plus those awaiting commit. */
  get depth(): number { return this.committedDepth + this.pending.length; }
  get capacity(): number { return this.opts.maxReadings; }
  get isFull(): boolean { return this.depth >= this.opts.maxReadings; }

  /**
   * Queue points for the next group commit. Resolves once they are durable.
   * Rejects with BackpressureError, accepting nothing, once the outbox is full. A batch is taken
   * whole while there is room, even if it overshoots the bound by its own size: refusing a batch
   * larger than the room left would refuse it forever (the source redelivers the same batch), and
   * the outbox would never fill up far enough to raise its alarm.
   */
  enqueue(points: readonly Point[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('outbox closed'));
    if (points.length === 0) return Promise.resolve();
    if (this.depth >= this.opts.maxReadings) return Promise.reject(new BackpressureError());
    for (const p of points) this.pending.push(p);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.pending.length >= this.opts.batchMaxSize || this.opts.batchMaxDelayMs === 0) this.commit();
    else if (!this.timer) this.timer = setTimeout(() => this.commit(), this.opts.batchMaxDelayMs);
    return done;
  }

  /** Commit what is pending now. */
  commit(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.pending.length === 0) return;
    const points = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    try {
      this.insertRow.run(points.length, encodeRow(points));
      this.committedDepth += points.length;
    } catch (e) {
      for (const w of waiters) w.reject(e as Error);
      return;
    }
    for (const w of waiters) w.resolve();
    this.onCommit?.(points);
  }

  /**
   * The oldest committed rows, whole, up to about `maxPoints` readings (at least one row).
   * Rows stay until `ack(lastId)`: a crash between write and ack rewrites them, which the store's
   * overwrite semantics make harmless.
   */
  peek(maxPoints: number, afterId = 0): OutboxBatch | undefined {
    const points: Point[] = [];
    let lastId = afterId;
    // iterate() reads lazily, so stopping at maxPoints does not load the rest of a deep outbox
    const bad: { id: number; n: unknown; reason: string; points: unknown }[] = [];
    for (const row of this.selectRows.iterate(afterId, 1_000_000) as IterableIterator<{ id: number; n: number; points: string }>) {
      if (points.length > 0 && points.length + row.n > maxPoints) break;
      try {
        decodeRow(row.points, points);
      } catch (e) {
        bad.push({ id: row.id, n: row.n, reason: (e as Error).message, points: row.points });
        if (bad.length >= 100) break;
      }
      lastId = row.id;
    }
    // Quarantined after the read (the iterator holds the statement); the good rows around a bad
    // one are still returned, and acking past the bad row's id is harmless since it is gone.
    for (const b of bad) {
      this.quarantineRow(b.id, b.n, b.reason, b.points);
      if (typeof b.n === 'number' && b.n > 0) this.committedDepth = Math.max(0, this.committedDepth - b.n);
      this.onQuarantine?.(b.id, b.reason);
    }
    if (points.length === 0) return bad.length > 0 ? this.peek(maxPoints, lastId) : undefined;
    return { lastId, points };
  }

  /** Rows moved aside because they could not be decoded, newest first. */
  quarantined(limit = 100): { id: number; at: number; n: number | null; reason: string; points: string }[] {
    return this.db.prepare('SELECT id, at, n, reason, points FROM outbox_quarantine ORDER BY id DESC LIMIT ?').all(limit) as
      { id: number; at: number; n: number | null; reason: string; points: string }[];
  }

  /** Remove every row up to and including `lastId` (written to the store). */
  ack(lastId: number, count: number): void {
    this.deleteUpTo.run(lastId);
    this.committedDepth = Math.max(0, this.committedDepth - count);
  }

  close(): void {
    if (this.closed) return;
    this.commit();
    this.closed = true;
    this.db.close();
  }
}
