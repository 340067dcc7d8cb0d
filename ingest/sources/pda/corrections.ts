/**
 * The record of PDA corrections: every stored meter reading a PDA replaced, with the device, the
 * reader, and the value before and after. Customer service reads it to see who changed a bill's
 * basis. Kept in the state database (table `pda_corrections`), beside the device tokens.
 */
import type Database from 'better-sqlite3';
import { closeStateDb, storeDb } from '../../../core/state/state-db.ts';

export interface PdaCorrection {
  /** When the correction was accepted (ms). */
  at: number;
  deviceId: string;
  readerId?: string;
  meter: string;
  /** The reading's time (ms). */
  ts: number;
  previous: number;
  value: number;
}

const TABLES = `
  CREATE TABLE IF NOT EXISTS pda_corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL, device_id TEXT NOT NULL, reader_id TEXT, meter TEXT NOT NULL,
    ts INTEGER NOT NULL, previous REAL NOT NULL, value REAL NOT NULL)`;

export class PdaCorrectionLog {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;
  private readonly insert: Database.Statement;

  /** `db`: a path to the state database file, or an open database to share. */
  constructor(db: string | Database.Database) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
    this.insert = this.db.prepare('INSERT INTO pda_corrections (at, device_id, reader_id, meter, ts, previous, value) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  /** Several in one transaction. */
  record(list: readonly PdaCorrection[]): void {
    if (list.length === 0) return;
    this.db.transaction(() => {
      for (const c of list) this.insert.run(c.at, c.deviceId, c.readerId ?? null, c.meter, c.ts, c.previous, c.value);
    })();
  }

  /** Oldest first. */
  list(opts: { meter?: string; limit?: number } = {}): PdaCorrection[] {
    const limit = Math.min(opts.limit ?? 1000, 10_000);
    const select = 'SELECT at, device_id AS deviceId, reader_id AS readerId, meter, ts, previous, value FROM pda_corrections';
    const rows = (opts.meter
      ? this.db.prepare(`${select} WHERE meter = ? ORDER BY id LIMIT ?`).all(opts.meter, limit)
      : this.db.prepare(`${select} ORDER BY id LIMIT ?`).all(limit)) as (PdaCorrection & { readerId: string | null })[];
    return rows.map(({ readerId, ...c }) => ({ ...c, ...(readerId === null ? {} : { readerId }) }));
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }
}
