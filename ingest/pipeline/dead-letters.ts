/**
 * Rejected input, kept for inspection: a reading that failed validation (with the field and the
 * reason) or a message no decoder could read. Bounded twice: the oldest rows go past `maxRows`, and
 * each source may hold at most `maxBytesPerSource` (a device sending garbage fills its own share,
 * not the disk, and does not push the other sources' evidence out). What a full source sends then
 * is counted, not kept, and `onCapped` says so once, until pruning makes room again.
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
  /** The last replay that failed again (`aquawatch dead-letters replay`), the field and reason then its. */
  replayedAt?: number;
}

/** Which dead letters a command means; every part optional. */
export interface DeadLetterFilter {
  source?: string;
  field?: string;
  /** Rejected at or after this time (ms). */
  since?: number;
  ids?: readonly number[];
}

/** How many dead letters share a source, field and reason. */
export interface DeadLetterGroup { source: string; field: string; reason: string; count: number }

export interface DeadLetterStoreOptions {
  maxRows?: number;
  /** Bytes of dead letters (origin, reason, raw) one source may hold. */
  maxBytesPerSource?: number;
  /** A source reached its cap (`raise`), or has room again (`clear`). */
  onCapped?: (source: string, state: 'raise' | 'clear', evidence: { bytes: number; cap: number; dropped: number }) => void;
}

/** Raw input is kept up to this many characters: a longer one cannot be replayed. */
export const RAW_LIMIT = 4096;
const DEFAULT_MAX_ROWS = 100_000;
export const DEFAULT_MAX_BYTES_PER_SOURCE = 32 * 1024 * 1024;
/** A capped source is reported as having room again below this share of its cap. */
const UNCAP_RATIO = 0.9;
/** The size a dead letter counts for, as SQL over the table (kept in step with sizeOf). */
const SIZE_SQL = 'length(origin) + length(reason) + length(raw)';

function sizeOf(d: DeadLetter, raw: string): number {
  return d.origin.length + d.reason.length + raw.length;
}

export class DeadLetterStore {
  private readonly insert: Database.Statement;
  private readonly prune: Database.Statement;
  private readonly bytesBySource: Database.Statement;
  private inserted = 0;
  private readonly maxRows: number;
  private readonly maxBytes: number;
  private readonly bytes = new Map<string, number>();
  private readonly droppedBySource = new Map<string, number>();
  private readonly capped = new Set<string>();

  constructor(private readonly db: Database.Database, private readonly opts: DeadLetterStoreOptions = {}) {
    this.maxRows = opts.maxRows ?? DEFAULT_MAX_ROWS;
    this.maxBytes = opts.maxBytesPerSource ?? DEFAULT_MAX_BYTES_PER_SOURCE;
    db.exec(`CREATE TABLE IF NOT EXISTS dead_letters (
      id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, source TEXT NOT NULL, origin TEXT NOT NULL,
      sensor TEXT, field TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL)`);
    // added for replay; a table from before has no such column
    const columns = db.prepare('SELECT name FROM pragma_table_info(\'dead_letters\')').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'replayed_at')) db.exec('ALTER TABLE dead_letters ADD COLUMN replayed_at INTEGER');
    this.insert = db.prepare('INSERT INTO dead_letters (at, source, origin, sensor, field, reason, raw) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.prune = db.prepare('DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - ?');
    this.bytesBySource = db.prepare(`SELECT source, SUM(${SIZE_SQL}) AS n FROM dead_letters GROUP BY source`);
    this.countBytes();
  }

  /** Several at once, in one transaction (one fsync). */
  addMany(list: readonly DeadLetter[]): void {
    if (list.length === 0) return;
    this.db.transaction(() => { for (const d of list) this.add(d); })();
  }

  add(d: DeadLetter): void {
    const raw = d.raw.length > RAW_LIMIT ? d.raw.slice(0, RAW_LIMIT) : d.raw;
    const size = sizeOf(d, raw);
    const held = this.bytes.get(d.source) ?? 0;
    if (held + size > this.maxBytes) {
      const dropped = (this.droppedBySource.get(d.source) ?? 0) + 1;
      this.droppedBySource.set(d.source, dropped);
      if (!this.capped.has(d.source)) {
        this.capped.add(d.source);
        this.opts.onCapped?.(d.source, 'raise', { bytes: held, cap: this.maxBytes, dropped });
      }
      return;
    }
    this.insert.run(d.at, d.source, d.origin, d.sensor ?? null, d.field, d.reason, raw);
    this.bytes.set(d.source, held + size);
    if (++this.inserted % 1000 === 0) {
      this.prune.run(this.maxRows);
      this.countBytes();
    }
  }

  /** Dead letters of a source not kept because it was at its cap (since this process started). */
  dropped(source: string): number {
    return this.droppedBySource.get(source) ?? 0;
  }

  private countBytes(): void {
    this.bytes.clear();
    for (const r of this.bytesBySource.all() as { source: string; n: number }[]) this.bytes.set(r.source, r.n);
    for (const source of [...this.capped]) {
      const held = this.bytes.get(source) ?? 0;
      if (held < this.maxBytes * UNCAP_RATIO) {
        this.capped.delete(source);
        this.opts.onCapped?.(source, 'clear', { bytes: held, cap: this.maxBytes, dropped: this.dropped(source) });
      }
    }
  }

  /** The newest dead letters first (at most 10,000), those the filter selects. */
  list(opts: DeadLetterFilter & { limit?: number } = {}): DeadLetter[] {
    const { where, params } = whereClause(opts);
    const rows = this.db.prepare(`SELECT * FROM dead_letters ${where} ORDER BY id DESC LIMIT ?`).all(...params, Math.min(opts.limit ?? 100, 10_000));
    return (rows as Row[]).map(fromRow);
  }

  /** The oldest first, after `afterId`: a replay pages through the table with it. */
  page(filter: DeadLetterFilter, afterId: number, limit: number): DeadLetter[] {
    const { where, params } = whereClause(filter, afterId);
    return (this.db.prepare(`SELECT * FROM dead_letters ${where} ORDER BY id LIMIT ?`).all(...params, limit) as Row[]).map(fromRow);
  }

  get(id: number): DeadLetter | undefined {
    const row = this.db.prepare('SELECT * FROM dead_letters WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  /** Counts by source, field and reason, the largest first. */
  groups(filter: DeadLetterFilter = {}, limit = 50): { total: number; groups: DeadLetterGroup[] } {
    const { where, params } = whereClause(filter);
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM dead_letters ${where}`).get(...params) as { n: number }).n;
    const groups = this.db.prepare(`SELECT source, field, reason, COUNT(*) AS count FROM dead_letters ${where}
      GROUP BY source, field, reason ORDER BY count DESC, source, field, reason LIMIT ?`).all(...params, limit) as DeadLetterGroup[];
    return { total, groups };
  }

  /** Remove a dead letter that was replayed; false when it is gone already (another replay took it). */
  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM dead_letters WHERE id = ?').run(id).changes === 1;
  }

  /** A replayed dead letter was rejected again: it stays, with the field and reason of this attempt. */
  rejectedAgain(id: number, field: string, reason: string, at: number): void {
    this.db.prepare('UPDATE dead_letters SET field = ?, reason = ?, replayed_at = ? WHERE id = ?').run(field, reason, at, id);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM dead_letters').get() as { n: number }).n;
  }
}

type Row = Omit<DeadLetter, 'sensor' | 'replayedAt'> & { sensor: string | null; replayed_at: number | null };

function fromRow({ sensor, replayed_at: replayedAt, ...r }: Row): DeadLetter {
  return { ...r, ...(sensor !== null ? { sensor } : {}), ...(replayedAt !== null ? { replayedAt } : {}) };
}

/** The WHERE of a filter: constant fragments, values as parameters. */
function whereClause(f: DeadLetterFilter, afterId?: number): { where: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  if (afterId !== undefined) { parts.push('id > ?'); params.push(afterId); }
  if (f.source !== undefined) { parts.push('source = ?'); params.push(f.source); }
  if (f.field !== undefined) { parts.push('field = ?'); params.push(f.field); }
  if (f.since !== undefined) { parts.push('at >= ?'); params.push(f.since); }
  if (f.ids !== undefined) {
    parts.push(f.ids.length ? `id IN (${f.ids.map(() => '?').join(', ')})` : '0');
    params.push(...f.ids);
  }
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}
