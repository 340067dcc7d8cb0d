/**
 * The state database (alarms, outages, users, sessions, work orders, device tokens) is one SQLite
 * file shared by several stores; each store either opens it itself (and closes it) or is handed
 * the connection another store opened.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** `db`: a path to the state database file (`:memory:` for tests), or an open database to share. */
export function openStateDb(db: string | Database.Database): { db: Database.Database; ownsDb: boolean } {
  if (typeof db !== 'string') return { db, ownsDb: false };
  if (db !== ':memory:') mkdirSync(dirname(db), { recursive: true });
  const opened = new Database(db);
  opened.pragma('journal_mode = WAL');
  return { db: opened, ownsDb: true };
}
