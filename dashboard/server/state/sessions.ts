/**
 * Dashboard sessions in the server's state database (SQLite). A session id is 256 random bits,
 * handed to the browser once (the cookie) and kept here only as its SHA-256, so a copy of the
 * database does not sign anyone in. Each session has its own CSRF token. A session unused for
 * `idleMs` (12 h by default) expires; `touch` on every request keeps an active one alive, but never
 * past `maxAgeMs` (24 h by default) after sign-in, so a stolen cookie kept in use still ends.
 * Listeners of `onEnded` hear of every session deleted (sign-out, a user signed out everywhere,
 * expiry), so the live channel can drop that session's sockets at once.
 * Times are wall time, unlike the sign-in limiter's: they are stored and must outlive a restart (a
 * monotonic clock starts again with the process), and the browser's cookie expiry is wall time too.
 * A step of the server's clock forwards ends sessions early (users sign in again); one backwards
 * keeps them alive longer by at most the step (review finding F17).
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { closeStateDb, storeDb } from '../../../core/state/state-db.ts';

export const DEFAULT_IDLE_MS = 12 * 3_600_000;
export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;
/** Write last_seen at most this often per session (a busy dashboard polls many times a minute). */
const TOUCH_EVERY_MS = 60_000;

export interface Session {
  username: string;
  csrfToken: string;
  createdAt: number;
  lastSeen: number;
}

interface SessionRow { id_sha256: string; username: string; csrf_token: string; created_at: number; last_seen: number }

const hashId = (id: string) => createHash('sha256').update(id, 'utf8').digest('hex');
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** This store's tables, created through the state database's owner (core/state/state-db.ts). */
const TABLES = `
  CREATE TABLE IF NOT EXISTS sessions (
    id_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS sessions_user ON sessions (username);`;

export class SessionStore {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;
  readonly idleMs: number;
  readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly endedListeners = new Set<() => void>();

  constructor(db: string | Database.Database, opts: { idleMs?: number; maxAgeMs?: number; now?: () => number } = {}) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
    this.idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.now = opts.now ?? Date.now;
  }

  /** A new session: its id (for the cookie, never stored) and CSRF token. */
  create(username: string): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: Session = { username, csrfToken: randomBytes(32).toString('base64url'), createdAt: at, lastSeen: at };
    this.db.prepare('INSERT INTO sessions (id_sha256, username, csrf_token, created_at, last_seen) VALUES (?, ?, ?, ?, ?)')
      .run(hashId(id), username, session.csrfToken, at, at);
    this.purgeExpired();
    return { id, session };
  }

  /** The live session of an id, its idle time renewed; undefined when unknown, idle too long or too old (then deleted). */
  get(id: string | undefined): Session | undefined {
    if (!id || !SESSION_ID.test(id)) return undefined;
    const key = hashId(id);
    const row = this.db.prepare('SELECT * FROM sessions WHERE id_sha256 = ?').get(key) as SessionRow | undefined;
    if (!row) return undefined;
    const at = this.now();
    if (at - row.last_seen > this.idleMs || at - row.created_at >= this.maxAgeMs) {
      this.ended(this.db.prepare('DELETE FROM sessions WHERE id_sha256 = ?').run(key).changes);
      return undefined;
    }
    if (at - row.last_seen >= TOUCH_EVERY_MS) {
      this.db.prepare('UPDATE sessions SET last_seen = ? WHERE id_sha256 = ?').run(at, key);
      row.last_seen = at;
    }
    return { username: row.username, csrfToken: row.csrf_token, createdAt: row.created_at, lastSeen: row.last_seen };
  }

  /** When a session ends unless it is used again: idle expiry or its maximum age, whichever comes first. */
  expiresAt(session: Session): number {
    return Math.min(session.lastSeen + this.idleMs, session.createdAt + this.maxAgeMs);
  }

  delete(id: string | undefined): boolean {
    if (!id) return false;
    return this.ended(this.db.prepare('DELETE FROM sessions WHERE id_sha256 = ?').run(hashId(id)).changes) > 0;
  }

  /** Sign a user out everywhere (password changed, account disabled or removed). */
  deleteForUser(username: string): number {
    return this.ended(this.db.prepare('DELETE FROM sessions WHERE username = ?').run(username).changes);
  }

  purgeExpired(): number {
    const at = this.now();
    return this.ended(this.db.prepare('DELETE FROM sessions WHERE last_seen < ? OR created_at <= ?').run(at - this.idleMs, at - this.maxAgeMs).changes);
  }

  /** Call `listener` whenever sessions were deleted; returns the unsubscribe. */
  onEnded(listener: () => void): () => void {
    this.endedListeners.add(listener);
    return () => { this.endedListeners.delete(listener); };
  }

  private ended(count: number): number {
    if (count > 0) for (const l of this.endedListeners) l();
    return count;
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }
}
