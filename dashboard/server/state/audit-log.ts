/**
 * The audit log (issue #14.5): every change people make through the dashboard API — incidents,
 * planned outages, emergency supply, users, device tokens, alarms, work orders — one row each, in
 * the state database: when (wall clock), who (user and role), what (the route's action, e.g.
 * `incidents.update`), on what (the target id) and the details (the request's fields, secrets left
 * out, plus what the route adds, such as the fields changed with their values before and after).
 * Rows are only ever added.
 */
import type Database from 'better-sqlite3';
import { closeStateDb, storeDb } from '../../../core/state/state-db.ts';
import { csvCell } from '../../../core/csv-cell.ts';

export interface AuditEntry {
  seq: number;
  /** Wall clock, ms. */
  at: number;
  username: string;
  role: string;
  /** `<area>.<route>` of the contract, e.g. `outages.createPlanned`. */
  action: string;
  /** The id of what changed, when the route names one. */
  target?: string;
  details: Record<string, unknown>;
}

const TABLES = `
  CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    details TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
`;

interface Row { seq: number; at: number; username: string; role: string; action: string; target: string | null; details: string }

/** Keys whose values never go into the log (passwords, token secrets). */
const SECRET_KEY = /password|secret|token/i;

/** A copy of a request body without its secrets (`[hidden]` in their place). */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[hidden]' : withoutSecrets(v)]));
}

export class AuditLog {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;

  constructor(db: string | Database.Database) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }

  record(e: Omit<AuditEntry, 'seq'>): AuditEntry {
    const details = withoutSecrets(e.details) as Record<string, unknown>;
    const seq = Number(this.db.prepare('INSERT INTO audit_log (at, username, role, action, target, details) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.at, e.username, e.role, e.action, e.target ?? null, JSON.stringify(details)).lastInsertRowid);
    return { seq, ...e, details };
  }

  /** Newest first, at most `limit`, optionally in [from, to) and for one user, action prefix or target. */
  list(q: { from?: number; to?: number; username?: string; action?: string; target?: string; limit?: number } = {}): AuditEntry[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.from !== undefined) { where.push('at >= ?'); params.push(q.from); }
    if (q.to !== undefined) { where.push('at < ?'); params.push(q.to); }
    if (q.username) { where.push('username = ?'); params.push(q.username); }
    if (q.action) { where.push('action LIKE ?'); params.push(`${q.action.replace(/[%_]/g, '')}%`); }
    if (q.target) { where.push('target = ?'); params.push(q.target); }
    const rows = this.db.prepare(`SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`)
      .all(...params, q.limit ?? 1000) as Row[];
    return rows.map((r) => ({
      seq: r.seq, at: r.at, username: r.username, role: r.role, action: r.action, ...(r.target !== null ? { target: r.target } : {}),
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }
}

/** The entries as CSV for a spreadsheet: every cell formula-neutralised (core/csv-cell.ts). */
export function auditCsv(entries: readonly AuditEntry[]): string {
  const lines = [['seq', 'time_utc', 'username', 'role', 'action', 'target', 'details'].join(',')];
  for (const e of entries) {
    lines.push([e.seq, new Date(e.at).toISOString(), e.username, e.role, e.action, e.target ?? '', JSON.stringify(e.details)].map((v) => csvCell(v)).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
