/**
 * Rejected input, kept for inspection: a reading that failed validation (with the field and the
 * reason) or a message no decoder could read. Bounded: the oldest rows go past `maxRows`.
 */
import Database from 'better-sqlite3';

export interface DeadLetter {
  id?: number;
  /** When it was rejected (wall clock: this is about the platform, not the process being measured). */
  at: number;
  source: string;
  /** Where inside the source: topic, node id, line number, item index. */
  origin: string;
  sensor?: string;
  field: string;
  reason: string;
  /** The input as received, truncated to 4 kB. */
  raw: string;
}

const RAW_LIMIT = 4096;

export class DeadLetterStore {
  private readonly insert: Database.Statement;
  private readonly prune: Database.Statement;
  private inserted = 0;

  constructor(private readonly db: Database.Database, private readonly maxRows = 100_000) {
    db.exec(`CREATE TABLE IF NOT EXISTS dead_letters (
      id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, source TEXT NOT NULL, origin TEXT NOT NULL,
      sensor TEXT, field TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL)`);
    this.insert = db.prepare('INSERT INTO dead_letters (at, source, origin, sensor, field, reason, raw) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.prune = db.prepare('DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - ?');
  }

  /** Several at once, in one transaction (one fsync). */
  addMany(list: readonly DeadLetter[]): void {
    if (list.length === 0) return;
    this.db.transaction(() => { for (const d of list) this.add(d); })();
  }

  add(d: DeadLetter): void {
    this.insert.run(d.at, d.source, d.origin, d.sensor ?? null, d.field, d.reason, d.raw.length > RAW_LIMIT ? d.raw.slice(0, RAW_LIMIT) : d.raw);
    if (++this.inserted % 1000 === 0) this.prune.run(this.maxRows);
  }

  /** The newest dead letters first, optionally of one source. */
  list(opts: { source?: string; limit?: number } = {}): DeadLetter[] {
    const limit = Math.min(opts.limit ?? 100, 10_000);
    const rows = opts.source
      ? this.db.prepare('SELECT * FROM dead_letters WHERE source = ? ORDER BY id DESC LIMIT ?').all(opts.source, limit)
      : this.db.prepare('SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?').all(limit);
    return (rows as (DeadLetter & { sensor: string | null })[]).map((r) => ({ ...r, sensor: r.sensor ?? undefined }));
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM dead_letters').get() as { n: number }).n;
  }
}
