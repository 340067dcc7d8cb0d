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
}

export interface DeadLetterStoreOptions {
  maxRows?: number;
  /** Bytes of dead letters (origin, reason, raw) one source may hold. */
  maxBytesPerSource?: number;
  /** A source reached its cap (`raise`), or has room again (`clear`). */
  onCapped?: (source: string, state: 'raise' | 'clear', evidence: { bytes: number; cap: number; dropped: number }) => void;
}

const RAW_LIMIT = 4096;
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
