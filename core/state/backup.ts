/**
 * Backup and restore of the state database (users, sessions, alarms, work orders, device tokens)
 * while the services run. SQLite's online backup API copies pages inside a read transaction, so the
 * copy is one consistent snapshot even while another process writes (WAL: the writer is not
 * blocked). A write by another connection between two steps restarts the copy; after the first
 * step every step copies the whole file, so a busy database still finishes.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS } from './state-db.ts';

/** Tables only an aquawatch state database has; a file without any of them is not one. */
const STATE_TABLES = ['device_tokens', 'users', 'sessions', 'alarms', 'alarm_tracks', 'work_orders'];

export class StateBackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateBackupError';
  }
}

const copyAllAtOnce = ({ totalPages }: { totalPages: number; remainingPages: number }) => Math.max(totalPages, 100);

function checkStateFile(db: Database.Database, file: string): void {
  const check = db.pragma('quick_check', { simple: true });
  if (check !== 'ok') throw new StateBackupError(`${file}: the database is damaged (quick_check: ${String(check)})`);
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
  if (!tables.some((t) => STATE_TABLES.includes(t))) throw new StateBackupError(`${file}: not an aquawatch state database (no ${STATE_TABLES.join(', ')} table)`);
}

/** Copy the state database at `statePath` to `out` (written aside, then renamed). Returns its pages. */
export async function backupStateDb(statePath: string, out: string): Promise<{ pages: number }> {
  if (!existsSync(statePath)) throw new StateBackupError(`${statePath}: no state database there (is dataDir or state.path right?)`);
  const db = new Database(statePath, { fileMustExist: true });
  const partial = `${out}.partial`;
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    rmSync(partial, { force: true });
    const r = await db.backup(partial, { progress: copyAllAtOnce });
    const copy = new Database(partial, { readonly: true });
    try { checkStateFile(copy, partial); } finally { copy.close(); }
    renameSync(partial, out);
    return { pages: r.totalPages };
  } finally {
    rmSync(partial, { force: true });
    db.close();
  }
}

/**
 * Replace the state database at `statePath` with the backup `file`, after checking it is an intact
 * state database. Through the backup API as well, so a leftover WAL of the old file cannot mix with
 * the restored pages. Run it with the services stopped: they keep some state in memory.
 */
export async function restoreStateDb(file: string, statePath: string): Promise<{ pages: number }> {
  if (!existsSync(file)) throw new StateBackupError(`${file}: no such file`);
  const src = new Database(file, { readonly: true, fileMustExist: true });
  try {
    checkStateFile(src, file);
    const r = await src.backup(statePath, { progress: copyAllAtOnce });
    return { pages: r.totalPages };
  } finally {
    src.close();
  }
}
