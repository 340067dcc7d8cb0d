/**
 * The alarms' part of the state database (SQLite through better-sqlite3): alarms, the history of
 * every transition (who, event time, wall time), the alarm manager's pending timers per condition,
 * and area suppressions. (Notification deliveries are analytics/notify's, table notify_deliveries.)
 *
 * The alarm manager (analytics/alarms/manager.ts) owns the lifecycle; this file only keeps it, so a
 * restart reloads exactly what was open. Each alarm row keeps its indexed fields as columns (state,
 * raise and clear time, area) and the whole record as JSON, so the record can grow without a
 * migration for every field.
 */
import Database from 'better-sqlite3';
import type { AlarmText, TextLanguage } from '../messages/alarm-texts.ts';
import { closeStateDb, storeDb } from './state-db.ts';

export type AlarmState = 'active-unacknowledged' | 'active-acknowledged' | 'cleared-unacknowledged' | 'cleared';
export type AlarmPriority = 'low' | 'medium' | 'high' | 'critical';
export const ALARM_PRIORITIES: readonly AlarmPriority[] = ['low', 'medium', 'high', 'critical'];

/** A condition attached to an alarm as a secondary effect (a burst's pressure drops), not an alarm of its own. */
export interface LinkedCondition {
  conditionId: string;
  type: string;
  dma?: string;
  sensor?: string;
  message: string;
  evidence?: Record<string, unknown>;
  /** Event time it was first seen, and last changed. */
  firstTs: number;
  lastTs: number;
  active: boolean;
}

export interface AlarmShelf {
  /** Event time the shelving ends. */
  until: number;
  by: string;
  reason: string;
  /** Event time it was shelved. */
  at: number;
}

export interface AlarmRecord {
  /** `<condition id>@<ISO raise time>`: stable, so a replay of the same history gives the same ids. */
  id: string;
  conditionId: string;
  type: string;
  priority: AlarmPriority;
  state: AlarmState;
  site?: string;
  dma?: string;
  sensor?: string;
  /** In English (logs, the command line, a source's own condition). */
  message: string;
  /** The detector's message code and parameters (core/messages/alarm-texts.ts)... */
  text?: AlarmText;
  /** ...rendered in each language, for readers that cannot render (the web app imports no catalog). */
  localized?: Record<TextLanguage, string>;
  evidence?: Record<string, unknown>;
  /** Event time the condition was first raised (before the on-delay). */
  conditionSince: number;
  /** Event time the alarm was raised (the condition held through the on-delay). */
  raisedAt: number;
  /** Event time the alarm returned to normal (the clear held through the off-delay). */
  clearedAt?: number;
  ackedAt?: number;
  ackedBy?: string;
  ackComment?: string;
  /** Event time it reached `cleared` (returned to normal and acknowledged). */
  closedAt?: number;
  shelved?: AlarmShelf;
  suppressed?: { suppressionId: number; reason: string };
  /** Set when this alarm was raised first and then attached under another alarm (e.g. its burst). */
  parentAlarmId?: string;
  secondaries: LinkedCondition[];
  /** Event time of the last change. */
  updatedAt: number;
}

export type AlarmEventKind =
  | 'raise' | 'update' | 'acknowledge' | 'clear' | 'close'
  | 'shelve' | 'unshelve' | 'suppress' | 'unsuppress' | 'link' | 'secondary';

export interface AlarmEventRecord {
  seq: number;
  alarmId: string;
  kind: AlarmEventKind;
  fromState: AlarmState | null;
  toState: AlarmState;
  /** A user name, or `system` for what the manager does on its own (delays, expiry). */
  user: string;
  eventTs: number;
  wallTs: number;
  comment?: string;
  data?: Record<string, unknown>;
}

export interface SuppressionRecord {
  id: number;
  dma: string;
  from: number;
  to: number;
  reason: string;
  user: string;
  /** Condition types it applies to (exact, or a prefix ending in `*`); empty = all. */
  types: string[];
  createdWall: number;
}

export interface AlarmQuery {
  /** Raise time window, event time: [from, to). */
  from?: number;
  to?: number;
  dma?: string;
  type?: string;
  /** Only alarms not yet `cleared` (closed). */
  openOnly?: boolean;
  priority?: AlarmPriority;
  /** Newest raise first (default oldest first). */
  newestFirst?: boolean;
  /** At most this many: the database stops there, not a slice of every match (review F9). */
  limit?: number;
}

interface AlarmRow { doc: string }

/** This store's tables, created through the state database's owner (core/state/state-db.ts). */
const TABLES = `
  CREATE TABLE IF NOT EXISTS alarms (
    id TEXT PRIMARY KEY,
    condition_id TEXT NOT NULL,
    type TEXT NOT NULL,
    priority TEXT NOT NULL,
    state TEXT NOT NULL,
    dma TEXT, site TEXT, sensor TEXT,
    raised_at INTEGER NOT NULL,
    cleared_at INTEGER,
    closed_at INTEGER,
    parent_alarm_id TEXT,
    doc TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS alarms_raised ON alarms (raised_at);
  CREATE INDEX IF NOT EXISTS alarms_open ON alarms (state) WHERE state <> 'cleared';
  CREATE TABLE IF NOT EXISTS alarm_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    user TEXT NOT NULL,
    event_ts INTEGER NOT NULL,
    wall_ts INTEGER NOT NULL,
    comment TEXT,
    data TEXT);
  CREATE INDEX IF NOT EXISTS alarm_events_alarm ON alarm_events (alarm_id, seq);
  CREATE TABLE IF NOT EXISTS alarm_tracks (condition_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS alarm_suppressions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dma TEXT NOT NULL, from_ts INTEGER NOT NULL, to_ts INTEGER NOT NULL,
    reason TEXT NOT NULL, user TEXT NOT NULL, types TEXT NOT NULL, created_wall INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS alarm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export class AlarmStore {
  readonly db: Database.Database;
  private readonly ownsDb: boolean;
  private readonly stmt: Record<string, Database.Statement>;

  /** `db`: the state database file, `:memory:`, or an open better-sqlite3 database to share. */
  constructor(db: string | Database.Database) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
    this.stmt = {
      upsertAlarm: this.db.prepare(`INSERT OR REPLACE INTO alarms
        (id, condition_id, type, priority, state, dma, site, sensor, raised_at, cleared_at, closed_at, parent_alarm_id, doc)
        VALUES (@id, @conditionId, @type, @priority, @state, @dma, @site, @sensor, @raisedAt, @clearedAt, @closedAt, @parentAlarmId, @doc)`),
      insertEvent: this.db.prepare(`INSERT INTO alarm_events (alarm_id, kind, from_state, to_state, user, event_ts, wall_ts, comment, data)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      getAlarm: this.db.prepare('SELECT doc FROM alarms WHERE id = ?'),
      openAlarms: this.db.prepare("SELECT doc FROM alarms WHERE state <> 'cleared' ORDER BY raised_at, id"),
      putTrack: this.db.prepare('INSERT OR REPLACE INTO alarm_tracks (condition_id, doc) VALUES (?, ?)'),
      deleteTrack: this.db.prepare('DELETE FROM alarm_tracks WHERE condition_id = ?'),
      tracks: this.db.prepare('SELECT doc FROM alarm_tracks ORDER BY condition_id'),
      addSuppression: this.db.prepare(`INSERT INTO alarm_suppressions (dma, from_ts, to_ts, reason, user, types, created_wall)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      suppressions: this.db.prepare('SELECT id, dma, from_ts AS "from", to_ts AS "to", reason, user, types, created_wall AS createdWall FROM alarm_suppressions ORDER BY from_ts, id'),
      endSuppression: this.db.prepare('UPDATE alarm_suppressions SET to_ts = ? WHERE id = ?'),
      getMeta: this.db.prepare('SELECT value FROM alarm_meta WHERE key = ?'),
      putMeta: this.db.prepare('INSERT OR REPLACE INTO alarm_meta (key, value) VALUES (?, ?)'),
    };
  }

  /** Save an alarm and the event that changed it, atomically. Returns the event's seq. */
  saveTransition(alarm: AlarmRecord, event: Omit<AlarmEventRecord, 'seq' | 'alarmId'>): number {
    return this.db.transaction(() => {
      this.saveAlarm(alarm);
      const r = this.stmt.insertEvent.run(alarm.id, event.kind, event.fromState, event.toState, event.user, event.eventTs, event.wallTs,
        event.comment ?? null, event.data === undefined ? null : JSON.stringify(event.data));
      return Number(r.lastInsertRowid);
    })();
  }

  saveAlarm(a: AlarmRecord): void {
    this.stmt.upsertAlarm.run({
      id: a.id, conditionId: a.conditionId, type: a.type, priority: a.priority, state: a.state,
      dma: a.dma ?? null, site: a.site ?? null, sensor: a.sensor ?? null, raisedAt: a.raisedAt,
      clearedAt: a.clearedAt ?? null, closedAt: a.closedAt ?? null, parentAlarmId: a.parentAlarmId ?? null,
      doc: JSON.stringify(a),
    });
  }

  getAlarm(id: string): AlarmRecord | undefined {
    const row = this.stmt.getAlarm.get(id) as AlarmRow | undefined;
    return row ? JSON.parse(row.doc) as AlarmRecord : undefined;
  }

  /** Alarms not yet closed (any state but `cleared`), oldest first. */
  openAlarms(): AlarmRecord[] {
    return (this.stmt.openAlarms.all() as AlarmRow[]).map((r) => JSON.parse(r.doc) as AlarmRecord);
  }

  /** Alarms by raise time (event time), oldest first. */
  listAlarms(q: AlarmQuery = {}): AlarmRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.from !== undefined) { where.push('raised_at >= ?'); args.push(q.from); }
    if (q.to !== undefined) { where.push('raised_at < ?'); args.push(q.to); }
    if (q.dma !== undefined) { where.push('dma = ?'); args.push(q.dma); }
    if (q.type !== undefined) { where.push('type = ?'); args.push(q.type); }
    if (q.openOnly) where.push("state <> 'cleared'");
    if (q.priority !== undefined) { where.push('priority = ?'); args.push(q.priority); }
    const order = q.newestFirst ? 'raised_at DESC, id DESC' : 'raised_at, id';
    if (q.limit !== undefined) args.push(q.limit);
    const sql = `SELECT doc FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}${q.limit !== undefined ? ' LIMIT ?' : ''}`;
    return (this.db.prepare(sql).all(...args) as AlarmRow[]).map((r) => JSON.parse(r.doc) as AlarmRecord);
  }

  /** The history of one alarm (or of all alarms), in the order it happened. */
  events(alarmId?: string): AlarmEventRecord[] {
    const rows = (alarmId === undefined
      ? this.db.prepare('SELECT * FROM alarm_events ORDER BY seq').all()
      : this.db.prepare('SELECT * FROM alarm_events WHERE alarm_id = ? ORDER BY seq').all(alarmId)) as Record<string, unknown>[];
    return rows.map((r) => ({
      seq: r.seq as number, alarmId: r.alarm_id as string, kind: r.kind as AlarmEventKind,
      fromState: (r.from_state as AlarmState | null) ?? null, toState: r.to_state as AlarmState, user: r.user as string,
      eventTs: r.event_ts as number, wallTs: r.wall_ts as number,
      ...(r.comment != null ? { comment: r.comment as string } : {}),
      ...(r.data != null ? { data: JSON.parse(r.data as string) as Record<string, unknown> } : {}),
    }));
  }

  /** The manager's per-condition state (pending delays, shelving), opaque here. `undefined` deletes it. */
  saveTrack(conditionId: string, doc: object | undefined): void {
    if (doc === undefined) this.stmt.deleteTrack.run(conditionId);
    else this.stmt.putTrack.run(conditionId, JSON.stringify(doc));
  }

  tracks<T>(): T[] {
    return (this.stmt.tracks.all() as AlarmRow[]).map((r) => JSON.parse(r.doc) as T);
  }

  addSuppression(s: Omit<SuppressionRecord, 'id'>): number {
    return Number(this.stmt.addSuppression.run(s.dma, s.from, s.to, s.reason, s.user, JSON.stringify(s.types), s.createdWall).lastInsertRowid);
  }

  /** Shorten a suppression (end it early): its end becomes `to`. */
  endSuppression(id: number, to: number): boolean {
    return this.stmt.endSuppression.run(to, id).changes > 0;
  }

  suppressions(): SuppressionRecord[] {
    return (this.stmt.suppressions.all() as (Omit<SuppressionRecord, 'types'> & { types: string })[])
      .map((r) => ({ ...r, types: JSON.parse(r.types) as string[] }));
  }

  getMeta(key: string): string | undefined {
    return (this.stmt.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt.putMeta.run(key, value);
  }

  /**
   * Forget alarms raised in [from, to) with their history, and every pending timer: used before an
   * analysis run over the same period writes its alarms again.
   */
  deleteRaisedBetween(from: number, to: number): number {
    return this.db.transaction(() => {
      const ids = (this.db.prepare('SELECT id FROM alarms WHERE raised_at >= ? AND raised_at < ?').all(from, to) as { id: string }[]).map((r) => r.id);
      const delEvents = this.db.prepare('DELETE FROM alarm_events WHERE alarm_id = ?');
      const delAlarm = this.db.prepare('DELETE FROM alarms WHERE id = ?');
      for (const id of ids) { delEvents.run(id); delAlarm.run(id); }
      this.db.exec('DELETE FROM alarm_tracks; DELETE FROM alarm_meta');
      return ids.length;
    })();
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }
}
