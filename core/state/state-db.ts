/**
 * The owner of the state database: one SQLite file for alarms, outages, users, sessions, work
 * orders, device tokens and notification deliveries, shared by the stores of analytics, the
 * dashboard and ingest's PDA route.
 *
 * - `stateDbPath(config)`: where it is (`state.path`, relative to `dataDir`; default
 *   `<dataDir>/state.sqlite`). A split deployment (ingest and server in separate containers) points
 *   both at the same file so tokens issued by the server reach ingest's PDA route.
 * - `openStateDb(path)`: one connection per file per process (WAL, and a busy timeout so the other
 *   process's writes wait instead of failing with SQLITE_BUSY), after `quick_check`: a damaged file
 *   stops the service with DatabaseFileError, saying to restore the latest backup. Every store
 *   opened on the same path shares it; the last `closeStateDb` closes it. `:memory:` (tests) always gives a new database.
 * - `storeDb(db, tables)`: what a store's constructor calls with a path or a connection it is handed,
 *   and the DDL of its own tables (`CREATE ... IF NOT EXISTS`). The stores live with the part that
 *   owns their data (alarms in core/state, planned outages in analytics/outages, users, sessions and
 *   work orders in dashboard/server/state): each brings its tables, this file only opens and hands
 *   out the connection.
 * - `state_db_holders`: every process with the file open through openStateDb has a row (host, pid,
 *   command) while it does, so `aquawatch restore` can name the services it must wait for.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { checkDatabaseFile, moveAsideStep, recoverRowsStep } from '../sqlite-file-check.ts';

/** Writers of another process wait this long for the lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

export const DEFAULT_STATE_FILE = 'state.sqlite';

export function stateDbPath(config: { dataDir: string; state?: { path?: string } }): string {
  const file = config.state?.path ?? DEFAULT_STATE_FILE;
  return isAbsolute(file) ? file : join(config.dataDir, file);
}

const shared = new Map<string, { db: Database.Database; users: number }>();

export function openStateDb(path: string): Database.Database {
  if (path === ':memory:') return configure(new Database(path));
  const key = resolve(path);
  const open = shared.get(key);
  if (open?.db.open) {
    open.users++;
    return open.db;
  }
  mkdirSync(dirname(key), { recursive: true });
  const opened = new Database(key);
  checkDatabaseFile(opened, key, stateRemedy(key));
  const db = configure(opened);
  recordHolder(db);
  shared.set(key, { db, users: 1 });
  return db;
}

/**
 * What the operator does with a damaged state database: the backup is the intact copy. Moved aside
 * first: restore cannot write over a file that is not a database (it stops with SQLite's error).
 */
function stateRemedy(path: string): string {
  return `Stop the services, ${moveAsideStep(path)}, then put the latest backup back: aquawatch restore BACKUP_FILE `
    + `(it checks the copy). Without a backup, ${recoverRowsStep(path)}`;
}

export interface StateDbHolder { host: string; pid: number; command: string; openedAt: number }

const HOLDERS_TABLE = `CREATE TABLE IF NOT EXISTS state_db_holders (
  host TEXT NOT NULL, pid INTEGER NOT NULL, command TEXT NOT NULL, opened_at INTEGER NOT NULL,
  PRIMARY KEY (host, pid))`;

/** What this process is, for the holders table: `aquawatch server` rather than a path to node. */
function holderCommand(): string {
  const script = process.argv[1] ?? '';
  return basename(script) === 'aquawatch.js' ? `aquawatch ${process.argv[2] ?? ''}`.trim() : basename(script) || 'node';
}

function recordHolder(db: Database.Database): void {
  db.exec(HOLDERS_TABLE);
  db.prepare('INSERT OR REPLACE INTO state_db_holders (host, pid, command, opened_at) VALUES (?, ?, ?, ?)')
    .run(hostname(), process.pid, holderCommand(), Date.now());
}

function forgetHolder(db: Database.Database): void {
  try {
    db.prepare('DELETE FROM state_db_holders WHERE host = ? AND pid = ?').run(hostname(), process.pid);
  } catch {
    // A full disk or a read-only file must not stop the close; the row is only a hint (stateDbHolders).
  }
}

/**
 * The processes recorded as holding the state database open. A process killed with SIGKILL leaves
 * its row behind; only a caller that knows the file is in use (restore) should believe the list.
 */
export function stateDbHolders(db: Database.Database): StateDbHolder[] {
  db.exec(HOLDERS_TABLE);
  return db.prepare('SELECT host, pid, command, opened_at AS openedAt FROM state_db_holders ORDER BY opened_at').all() as StateDbHolder[];
}

/** After a restore nobody holds the copied file: the rows it carried from its source are not true. */
export function clearStateDbHolders(db: Database.Database): void {
  db.exec(HOLDERS_TABLE);
  db.exec('DELETE FROM state_db_holders');
}

/** Gives back a connection from openStateDb; the database closes when its last user gives it back. */
export function closeStateDb(db: Database.Database): void {
  for (const [key, open] of shared) {
    if (open.db !== db) continue;
    if (--open.users > 0) return;
    shared.delete(key);
    if (db.open) forgetHolder(db);
    break;
  }
  if (db.open) db.close();
}

/** A read-only connection for a report (`aquawatch report`): nothing is created or changed. */
export function openStateDbReadOnly(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}

/**
 * For a store's constructor: `db` is a path to the state database (`:memory:` for tests), opened
 * through openStateDb (the store gives it back with closeStateDb when `ownsDb`), or an open
 * connection another store or the process shares with it. `tables` (the store's own
 * `CREATE ... IF NOT EXISTS` statements) are created on it; a failure gives the connection back.
 */
export function storeDb(db: string | Database.Database, tables: string): { db: Database.Database; ownsDb: boolean } {
  const opened = typeof db === 'string' ? { db: openStateDb(db), ownsDb: true } : { db, ownsDb: false };
  try {
    opened.db.exec(tables);
  } catch (e) {
    if (opened.ownsDb) closeStateDb(opened.db);
    throw e;
  }
  return opened;
}

function configure(db: Database.Database): Database.Database {
  db.pragma('journal_mode = WAL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}
