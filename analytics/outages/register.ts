/**
 * The planned-outage register and the outage incidents, in the server's state database (SQLite).
 *
 * A planned outage is entered before the works: which DMAs, from when to when, when the customers
 * were told (notice time), a cause code, an internal reason and the public reason (a template). The
 * seeds (昆明 item 14) require at least 24 h notice; `isShortNotice` gives the flag. One entered or
 * re-timed without the dispatcher's authority is pending until approved (`approvePlanned`), and the
 * analytics' lookups (`findPlanned`, `listPlanned`) see approved ones only (review F18).
 *
 * An incident is an outage the outage detector saw (or a planner entered after the fact): one DMA,
 * start, end (absent while it lasts), customers affected, planned or not (and which planned outage),
 * and a cause code. KPIs (SAIDI/SAIFI for water, excluding chosen causes) are computed from them.
 *
 * Everything here is synchronous (better-sqlite3), so detectors may call it while handling readings.
 */
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import { closeStateDb, storeDb } from '../../core/state/state-db.ts';
import { DomainError, type DomainErrorCode } from '../../core/errors.ts';
import { IncidentBook, plainIncident, toSqlNumber } from './incident-book.ts';
import {
  CAUSE_CODES, PLANNED_STATUSES, PUBLIC_REASONS, type CauseCode, type Incident, type IncidentSink, type PlannedOutage, type PlannedOutageInput,
  type PlannedOutageLookup, type PlannedOutagePatch, type PlannedStatus, type PublicReason,
} from './types.ts';

export { CAUSE_CODES, PLANNED_STATUSES, PUBLIC_REASONS };
export type { CauseCode, Incident, IncidentSink, PlannedOutage, PlannedOutageInput, PlannedOutageLookup, PlannedOutagePatch, PlannedStatus, PublicReason };

export const HOUR_MS = 3_600_000;
/** Seeds (昆明 item 14): a planned stop needs at least 24 h notice to the affected users. */
export const DEFAULT_MIN_NOTICE_MS = 24 * HOUR_MS;

export class RegisterError extends DomainError {
  constructor(readonly field: string, reason: string, code: DomainErrorCode = 'validation') {
    super(code, `${field}: ${reason}`, field);
    this.name = 'RegisterError';
  }
}

const ID = /^[A-Za-z0-9_.:\-]{1,128}$/;

function checkTime(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RegisterError(field, `expected a time in ms, got ${JSON.stringify(v)}`);
  return v;
}

function checkCause(field: string, v: unknown): CauseCode {
  if (typeof v !== 'string' || !(CAUSE_CODES as readonly string[]).includes(v)) {
    throw new RegisterError(field, `unknown cause code ${JSON.stringify(v)} (one of ${CAUSE_CODES.join(', ')})`);
  }
  return v as CauseCode;
}

function checkOneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new RegisterError(field, `${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
  return v as T;
}

/** Who changes a planned outage: a person, and whether they hold the dispatcher's authority to approve it. */
export interface PlannedAuthor { username: string; approves: boolean; at: number }

/** The approval columns are absent from a read-only state database made before them (rowToPlanned's defaults). */
interface PlannedRow {
  id: string; dmas: string; start: number; end: number; notified_at: number; cause: string; reason: string;
  public_reason?: string; status?: string; changed_by?: string | null; approved_by?: string | null; approved_at?: number | null;
}

export interface OutageRegisterOptions {
  /** DMA ids that exist; a planned outage naming another is refused. Omit to accept any id. */
  knownDmas?: Iterable<string>;
  minNoticeMs?: number;
}

/** `planned-changed`: a planned outage was created, changed or deleted (its id), for the suppressions. */
type RegisterEvents = { 'planned-changed': [string] };

/**
 * Columns of planned_outages added with the approval (review F18). A state database made before them
 * gets them at start (migratePlanned) with these defaults: its entries were in force, so they stay
 * approved and an upgrade does not end a running maintenance's suppression; the public sees the
 * neutral template, never their free text.
 */
const APPROVAL_COLUMNS: [string, string][] = [
  ['public_reason', `TEXT NOT NULL DEFAULT 'planned_works'`],
  ['status', `TEXT NOT NULL DEFAULT 'approved'`],
  ['changed_by', 'TEXT'],
  ['approved_by', 'TEXT'],
  ['approved_at', 'INTEGER'],
];

/** This store's tables, created through the state database's owner (core/state/state-db.ts). */
const TABLES = `
  CREATE TABLE IF NOT EXISTS planned_outages (
    id TEXT PRIMARY KEY,
    dmas TEXT NOT NULL,          -- JSON array of DMA ids
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    notified_at INTEGER NOT NULL,
    cause TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    ${APPROVAL_COLUMNS.map(([name, type]) => `${name} ${type}`).join(',\n    ')}
    );
  CREATE INDEX IF NOT EXISTS planned_outages_window ON planned_outages (start, "end");
  CREATE TABLE IF NOT EXISTS outage_incidents (
    id TEXT PRIMARY KEY,
    dma TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER,
    customers_affected INTEGER NOT NULL,
    planned INTEGER NOT NULL,
    planned_outage_id TEXT,
    cause TEXT NOT NULL
    );
  CREATE INDEX IF NOT EXISTS outage_incidents_start ON outage_incidents (start);
`;

export class OutageRegister extends EventEmitter<RegisterEvents> implements PlannedOutageLookup, IncidentSink {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;
  private readonly knownDmas?: Set<string>;
  private readonly minNoticeMs: number;
  private seq = 0;
  /** People's corrections, manual and low-pressure incidents, merges, history, emergency supply. */
  readonly book: IncidentBook;

  /** `db`: a path to the state database file (`:memory:` for tests), or an open database to share. */
  constructor(db: string | Database.Database, options: OutageRegisterOptions = {}) {
    super();
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
    migratePlanned(this.db);
    this.knownDmas = options.knownDmas ? new Set(options.knownDmas) : undefined;
    this.minNoticeMs = options.minNoticeMs ?? DEFAULT_MIN_NOTICE_MS;
    this.book = new IncidentBook(this.db);
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }

  // --- planned outages ---------------------------------------------------------------------------

  private validatePlanned(p: PlannedOutageInput): PlannedOutage {
    if (p === null || typeof p !== 'object') throw new RegisterError('plannedOutage', 'expected an object');
    const id = p.id ?? `po-${checkTime('start', p.start)}-${++this.seq}`;
    if (typeof id !== 'string' || !ID.test(id)) throw new RegisterError('id', `${JSON.stringify(id)} is not an id (letters, digits, _ . : -)`);
    if (!Array.isArray(p.dmas) || p.dmas.length === 0) throw new RegisterError('dmas', 'at least one DMA is required');
    p.dmas.forEach((d, i) => {
      if (typeof d !== 'string' || !ID.test(d)) throw new RegisterError(`dmas[${i}]`, `${JSON.stringify(d)} is not a DMA id`);
      if (this.knownDmas && !this.knownDmas.has(d)) throw new RegisterError(`dmas[${i}]`, `unknown DMA ${d}`);
    });
    const start = checkTime('start', p.start);
    const end = checkTime('end', p.end);
    if (end <= start) throw new RegisterError('end', 'must be after start');
    const notifiedAt = checkTime('notifiedAt', p.notifiedAt);
    if (notifiedAt > start) throw new RegisterError('notifiedAt', 'customers must be notified before the outage starts');
    const cause = checkCause('cause', p.cause);
    const reason = p.reason ?? '';
    if (typeof reason !== 'string') throw new RegisterError('reason', 'expected text');
    const publicReason = checkOneOf('publicReason', p.publicReason ?? 'planned_works', PUBLIC_REASONS);
    const status = checkOneOf('status', p.status ?? 'approved', PLANNED_STATUSES);
    const changedBy = p.changedBy !== undefined ? checkName('changedBy', p.changedBy) : undefined;
    const approval = status === 'approved' && p.approvedBy !== undefined
      ? { approvedBy: checkName('approvedBy', p.approvedBy), approvedAt: checkTime('approvedAt', p.approvedAt) } : {};
    return { id, dmas: [...new Set(p.dmas)], start, end, notifiedAt, cause, reason, publicReason, status, ...(changedBy !== undefined ? { changedBy } : {}), ...approval };
  }

  private write(outage: PlannedOutage, verb: 'INSERT' | 'INSERT OR REPLACE'): void {
    this.db.prepare(`${verb} INTO planned_outages (id, dmas, start, "end", notified_at, cause, reason, public_reason, status, changed_by, approved_by, approved_at)
      VALUES (@id, @dmas, @start, @end, @notifiedAt, @cause, @reason, @publicReason, @status, @changedBy, @approvedBy, @approvedAt)`)
      .run({ ...outage, dmas: JSON.stringify(outage.dmas), changedBy: outage.changedBy ?? null, approvedBy: outage.approvedBy ?? null, approvedAt: outage.approvedAt ?? null });
  }

  /**
   * Enters a planned outage. Returns it with the short-notice flag (notice < 24 h by default). Its
   * `status` is the caller's to say (the dashboard: pending unless the author may approve);
   * without one it is approved (the platform's own entries: demo, scenarios).
   */
  createPlanned(input: PlannedOutageInput): { outage: PlannedOutage; shortNotice: boolean } {
    const outage = this.validatePlanned(input);
    if (this.getPlanned(outage.id)) throw new RegisterError('id', `planned outage ${outage.id} already exists`, 'conflict');
    this.write(outage, 'INSERT');
    this.emit('planned-changed', outage.id);
    return { outage, shortNotice: this.isShortNotice(outage) };
  }

  /** Another register's entry as it is, approval included (a replay's copy of the live register). */
  copyPlanned(outage: PlannedOutage): void {
    this.write(this.validatePlanned(outage), 'INSERT OR REPLACE');
    this.emit('planned-changed', outage.id);
  }

  /**
   * Changes a planned outage (e.g. extended works); the id stays. A change of its window or areas
   * sends it back to pending (it suppresses nothing until approved again), recorded as `author`'s,
   * unless the author has the dispatcher's authority (`approves`): then it is approved by them at
   * `at`, in the same write, so its suppressions move without a gap. Any other change keeps the
   * approval as it is. Returns the new state and flag.
   */
  updatePlanned(id: string, patch: PlannedOutagePatch, author?: PlannedAuthor): { outage: PlannedOutage; shortNotice: boolean } {
    const current = this.getPlanned(id);
    if (!current) throw new RegisterError('id', `no planned outage ${id}`, 'not_found');
    const changed = this.validatePlanned({ ...current, ...pickPatch(patch), id });
    const moved = !sameWindow(changed, current);
    const { approvedBy: _by, approvedAt: _at, changedBy: _changedBy, ...unapproved } = changed;
    const changedBy = author ? { changedBy: checkName('author', author.username) } : {};
    const outage: PlannedOutage = !moved ? changed
      : author?.approves ? { ...unapproved, ...changedBy, status: 'approved', approvedBy: author.username, approvedAt: checkTime('author.at', author.at) }
        : { ...unapproved, ...changedBy, status: 'pending' };
    this.write(outage, 'INSERT OR REPLACE');
    this.emit('planned-changed', id);
    return { outage, shortNotice: this.isShortNotice(outage) };
  }

  /** A dispatcher's approval of a pending planned outage: from now on it suppresses, classes and is published. */
  approvePlanned(id: string, by: string, at: number): { outage: PlannedOutage; shortNotice: boolean } {
    const current = this.getPlanned(id);
    if (!current) throw new RegisterError('id', `no planned outage ${id}`, 'not_found');
    if (current.status === 'approved') throw new RegisterError('id', `planned outage ${id} is approved already`, 'conflict');
    const outage: PlannedOutage = { ...current, status: 'approved', approvedBy: checkName('by', by), approvedAt: checkTime('at', at) };
    this.write(outage, 'INSERT OR REPLACE');
    this.emit('planned-changed', id);
    return { outage, shortNotice: this.isShortNotice(outage) };
  }

  deletePlanned(id: string): boolean {
    const deleted = this.db.prepare('DELETE FROM planned_outages WHERE id = ?').run(id).changes > 0;
    if (deleted) this.emit('planned-changed', id);
    return deleted;
  }

  getPlanned(id: string): PlannedOutage | undefined {
    const row = this.db.prepare('SELECT * FROM planned_outages WHERE id = ?').get(id) as PlannedRow | undefined;
    return row ? rowToPlanned(row) : undefined;
  }

  /** Planned outages overlapping [from, to): the approved ones (what the analytics act on), and the pending too with `withPending` (the dashboard's list). */
  listPlanned(from = -Infinity, to = Infinity, { withPending = false } = {}): PlannedOutage[] {
    const rows = this.db.prepare('SELECT * FROM planned_outages WHERE "end" > ? AND start < ? ORDER BY start, id')
      .all(toSqlNumber(from), toSqlNumber(to)) as PlannedRow[];
    return rows.map(rowToPlanned).filter((p) => withPending || p.status === 'approved');
  }

  /** The approved planned outage of `dma` around `ts`: a pending one classes no outage planned. */
  findPlanned(dma: string, ts: number, toleranceMs = 0): PlannedOutage | undefined {
    const rows = this.db.prepare('SELECT * FROM planned_outages WHERE start - ? <= ? AND "end" + ? >= ? ORDER BY start')
      .all(toleranceMs, ts, toleranceMs, ts) as PlannedRow[];
    return rows.map(rowToPlanned).find((p) => p.status === 'approved' && p.dmas.includes(dma));
  }

  /** The seeds' rule: customers told less than `minNoticeMs` (24 h) before the start. */
  isShortNotice(outage: PlannedOutage, minNoticeMs = this.minNoticeMs): boolean {
    return outage.start - outage.notifiedAt < minNoticeMs;
  }

  // --- incidents ---------------------------------------------------------------------------------

  recordIncident(incident: Incident): void {
    if (!ID.test(incident.dma)) throw new RegisterError('dma', `${JSON.stringify(incident.dma)} is not a DMA id`);
    checkTime('start', incident.start);
    if (incident.end !== undefined && checkTime('end', incident.end) < incident.start) throw new RegisterError('end', 'must not be before start');
    if (!Number.isInteger(incident.customersAffected) || incident.customersAffected < 0) {
      throw new RegisterError('customersAffected', 'expected a whole number ≥ 0');
    }
    checkCause('cause', incident.cause);
    this.db.prepare(`INSERT INTO outage_incidents (id, dma, start, "end", customers_affected, planned, planned_outage_id, cause)
      VALUES (@id, @dma, @start, @end, @customersAffected, @planned, @plannedOutageId, @cause)
      ON CONFLICT(id) DO UPDATE SET "end"=excluded."end", customers_affected=excluded.customers_affected,
        planned=excluded.planned, planned_outage_id=excluded.planned_outage_id, cause=excluded.cause`)
      .run({
        ...incident, end: incident.end ?? null, planned: incident.planned ? 1 : 0,
        plannedOutageId: incident.plannedOutageId ?? null,
      });
  }

  /** Deletes the detected incidents starting in [from, to): a replay of the period records them again. Returns how many. */
  deleteIncidentsStartingBetween(from: number, to: number): number {
    return this.db.prepare('DELETE FROM outage_incidents WHERE start >= ? AND start < ?').run(toSqlNumber(from), toSqlNumber(to)).changes;
  }

  /** An outage incident with the corrections in force (see incident-book.ts). */
  getIncident(id: string): Incident | undefined {
    const rec = this.book.get(id);
    return rec && rec.kind === 'outage' ? plainIncident(rec) : undefined;
  }

  /**
   * Outage incidents overlapping [from, to), with people's corrections in force and merged ones
   * counted once; open incidents count as lasting. Low-pressure periods are not outages: not here.
   */
  listIncidents(from = -Infinity, to = Infinity): Incident[] {
    return this.book.list(from, to, { kind: 'outage' }).map(plainIncident);
  }
}


type Window = Pick<PlannedOutage, 'dmas' | 'start' | 'end'>;

/** Same start, end and set of areas: what an approval is about. */
export function sameWindow(a: Window, b: Window): boolean {
  const areas = new Set(b.dmas);
  return a.start === b.start && a.end === b.end && new Set(a.dmas).size === areas.size && a.dmas.every((d) => areas.has(d));
}

const USERNAME = /^[^\u0000-\u001f]{1,128}$/;

function checkName(field: string, v: unknown): string {
  if (typeof v !== 'string' || !USERNAME.test(v)) throw new RegisterError(field, `${JSON.stringify(v)} is not a user name`);
  return v;
}

/** Only the fields a change may set: the approval is never patched in (updatePlanned, approvePlanned). */
function pickPatch(p: PlannedOutagePatch): PlannedOutagePatch {
  const { dmas, start, end, notifiedAt, cause, reason, publicReason } = p;
  return Object.fromEntries(Object.entries({ dmas, start, end, notifiedAt, cause, reason, publicReason }).filter(([, v]) => v !== undefined));
}

/** Adds the approval columns to a planned_outages table made before them; once, also with two processes starting together. */
function migratePlanned(db: Database.Database): void {
  // a report or replay opens the file read-only and reads an older table as it is (rowToPlanned's defaults)
  if (db.readonly) return;
  db.transaction(() => {
    const have = new Set((db.pragma('table_info(planned_outages)') as { name: string }[]).map((c) => c.name));
    for (const [name, type] of APPROVAL_COLUMNS) if (!have.has(name)) db.exec(`ALTER TABLE planned_outages ADD COLUMN ${name} ${type}`);
  }).immediate();
}

function rowToPlanned(r: PlannedRow): PlannedOutage {
  return {
    id: r.id, dmas: JSON.parse(r.dmas) as string[], start: r.start, end: r.end, notifiedAt: r.notified_at, cause: r.cause as CauseCode, reason: r.reason,
    publicReason: (r.public_reason ?? 'planned_works') as PublicReason, status: (r.status ?? 'approved') as PlannedStatus,
    ...(r.changed_by ? { changedBy: r.changed_by } : {}),
    ...(r.approved_by && typeof r.approved_at === 'number' ? { approvedBy: r.approved_by, approvedAt: r.approved_at } : {}),
  };
}
