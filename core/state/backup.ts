/**
 * Backup and restore of the state database (users, sessions, alarms, work orders, device tokens)
 * while the services run. SQLite's online backup API copies pages inside a read transaction, so the
 * copy is one consistent snapshot even while another process writes (WAL: the writer is not
 * blocked). A write by another connection between two steps restarts the copy; after the first
 * step every step copies the whole file, so a busy database still finishes.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, clearStateDbHolders, stateDbHolders } from './state-db.ts';

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
 * Refuse when another process has the state database open. SQLite leaves WAL mode only with no
 * other connection on the file (every one holds a lock on it while open, across processes and
 * containers sharing the volume), so a failed switch to rollback mode is the proof; the holders
 * table (state-db.ts) then says who. A running service keeps alarms and sessions in memory and
 * would write them over the restored file.
 */
function refuseWhileInUse(statePath: string): void {
  if (!existsSync(statePath)) return;
  const db = new Database(statePath, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    try {
      db.pragma('journal_mode = DELETE');
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
    }
    const holders = stateDbHolders(db).map((h) => `${h.command} (pid ${h.pid} on ${h.host}, since ${new Date(h.openedAt).toISOString()})`);
    throw new StateBackupError(`${statePath} is in use: stop the services using it first. `
      + (holders.length ? `Recorded as open by: ${holders.join('; ')}` : 'No service recorded itself (aquawatch report or another SQLite client?)'));
  } finally {
    db.close();
  }
}

/**
 * Replace the state database at `statePath` with the backup `file`, after checking it is an intact
 * state database and that no service has the file open. Through the backup API as well, so a
 * leftover WAL of the old file cannot mix with the restored pages.
 */
export async function restoreStateDb(file: string, statePath: string): Promise<{ pages: number }> {
  if (!existsSync(file)) throw new StateBackupError(`${file}: no such file`);
  const src = new Database(file, { readonly: true, fileMustExist: true });
  try {
    checkStateFile(src, file);
    refuseWhileInUse(statePath);
    const r = await src.backup(statePath, { progress: copyAllAtOnce });
    const restored = new Database(statePath, { fileMustExist: true });
    try { clearStateDbHolders(restored); } finally { restored.close(); }
    return { pages: r.totalPages };
  } finally {
    src.close();
  }
}
