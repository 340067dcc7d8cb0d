/**
 * The planned-outage register and the outage incidents, in the server's state database (SQLite).
 *
 * A planned outage is entered by a dispatcher before the works: which DMAs, from when to when, when
 * the customers were told (notice time), a cause code and a reason. The seeds (昆明 item 14) require at
 * least 24 h notice; `isShortNotice` gives the flag.
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
  CAUSE_CODES, type CauseCode, type Incident, type IncidentSink, type PlannedOutage, type PlannedOutageInput, type PlannedOutageLookup,
} from './types.ts';

export { CAUSE_CODES };
export type { CauseCode, Incident, IncidentSink, PlannedOutage, PlannedOutageInput, PlannedOutageLookup };

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

interface PlannedRow { id: string; dmas: string; start: number; end: number; notified_at: number; cause: string; reason: string }

export interface OutageRegisterOptions {
  /** DMA ids that exist; a planned outage naming another is refused. Omit to accept any id. */
  knownDmas?: Iterable<string>;
  minNoticeMs?: number;
}

/** `planned-changed`: a planned outage was created, changed or deleted (its id), for the suppressions. */
type RegisterEvents = { 'planned-changed': [string] };

/** This store's tables, created through the state database's owner (core/state/state-db.ts). */
const TABLES = `
  CREATE TABLE IF NOT EXISTS planned_outages (
    id TEXT PRIMARY KEY,
    dmas TEXT NOT NULL,          -- JSON array of DMA ids
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    notified_at INTEGER NOT NULL,
    cause TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
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
    return { id, dmas: [...new Set(p.dmas)], start, end, notifiedAt, cause, reason };
  }

  /** Enters a planned outage. Returns it with the short-notice flag (notice < 24 h by default). */
  createPlanned(input: PlannedOutageInput): { outage: PlannedOutage; shortNotice: boolean } {
    const outage = this.validatePlanned(input);
    if (this.getPlanned(outage.id)) throw new RegisterError('id', `planned outage ${outage.id} already exists`, 'conflict');
    this.db.prepare(`INSERT INTO planned_outages (id, dmas, start, "end", notified_at, cause, reason)
      VALUES (@id, @dmas, @start, @end, @notifiedAt, @cause, @reason)`)
      .run({ ...outage, dmas: JSON.stringify(outage.dmas) });
    this.emit('planned-changed', outage.id);
    return { outage, shortNotice: this.isShortNotice(outage) };
  }

  /** Changes a planned outage (e.g. extended works); the id stays. Returns the new state and flag. */
  updatePlanned(id: string, patch: Partial<Omit<PlannedOutage, 'id'>>): { outage: PlannedOutage; shortNotice: boolean } {
    const current = this.getPlanned(id);
    if (!current) throw new RegisterError('id', `no planned outage ${id}`, 'not_found');
    const outage = this.validatePlanned({ ...current, ...patch, id });
    this.db.prepare(`UPDATE planned_outages SET dmas=@dmas, start=@start, "end"=@end, notified_at=@notifiedAt,
      cause=@cause, reason=@reason WHERE id=@id`).run({ ...outage, dmas: JSON.stringify(outage.dmas) });
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

  listPlanned(from = -Infinity, to = Infinity): PlannedOutage[] {
    const rows = this.db.prepare('SELECT * FROM planned_outages WHERE "end" > ? AND start < ? ORDER BY start, id')
      .all(toSqlNumber(from), toSqlNumber(to)) as PlannedRow[];
    return rows.map(rowToPlanned);
  }

  findPlanned(dma: string, ts: number, toleranceMs = 0): PlannedOutage | undefined {
    const rows = this.db.prepare('SELECT * FROM planned_outages WHERE start - ? <= ? AND "end" + ? >= ? ORDER BY start')
      .all(toleranceMs, ts, toleranceMs, ts) as PlannedRow[];
    return rows.map(rowToPlanned).find((p) => p.dmas.includes(dma));
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


function rowToPlanned(r: PlannedRow): PlannedOutage {
  return { id: r.id, dmas: JSON.parse(r.dmas) as string[], start: r.start, end: r.end, notifiedAt: r.notified_at, cause: r.cause as CauseCode, reason: r.reason };
}
