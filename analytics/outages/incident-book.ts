/**
 * Incidents people work with, on top of the register's detected records (register.ts,
 * `outage_incidents`): corrections (cause, the part of the area affected and its customers,
 * expected and actual restoration, notes), incidents entered by hand (a call from an area without
 * sensors), low-pressure incidents (供水不足), merge and split, the history of every change (who and
 * when), and the emergency-supply record an outage reaching 24 h opens (昆明 item 14).
 *
 * The detector keeps writing its own record (`recordIncident` upserts the detected values only), so
 * a correction survives the detector closing the incident or a replay recording it again: the values
 * in force are the corrections where there are some, else the detected ones. Merged incidents count
 * once, through the one they were merged into (its start the earliest, its end the latest, open while
 * any is open).
 */
import type Database from 'better-sqlite3';
import {
  CAUSE_CODES, INCIDENT_KINDS, type AffectedPart, type CauseCode, type EmergencyMeasure, type EmergencySupply, type Incident,
  type IncidentChange, type IncidentKind, type IncidentRecord,
} from './types.ts';
import { DomainError, type DomainErrorCode } from '../../core/errors.ts';
import { incidentNote } from '../../core/messages/incident-notes.ts';

export class IncidentError extends DomainError {
  constructor(readonly field: string, reason: string, code: DomainErrorCode = 'validation') {
    super(code, `${field}: ${reason}`, field);
    this.name = 'IncidentError';
  }
}

/** Tables of the corrections, the history and the emergency supplies (beside `outage_incidents`). */
export const INCIDENT_BOOK_TABLES = `
  CREATE TABLE IF NOT EXISTS incident_edits (
    id TEXT PRIMARY KEY,            -- the incident's id in outage_incidents
    kind TEXT NOT NULL DEFAULT 'outage',
    origin TEXT NOT NULL DEFAULT 'detected',
    cause TEXT,
    customers INTEGER,
    affected TEXT,                  -- JSON AffectedPart
    expected_restoration INTEGER,
    actual_restoration INTEGER,
    notes TEXT NOT NULL DEFAULT '',
    merged_into TEXT,
    split_from TEXT,                -- the second part of a split takes the first part's detected end
    updated_at INTEGER,
    updated_by TEXT
  );
  CREATE INDEX IF NOT EXISTS incident_edits_merged ON incident_edits (merged_into);
  CREATE TABLE IF NOT EXISTS incident_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    action TEXT NOT NULL,
    changes TEXT NOT NULL,          -- JSON { field: [before, after] }
    note TEXT
  );
  CREATE INDEX IF NOT EXISTS incident_history_incident ON incident_history (incident_id, seq);
  CREATE TABLE IF NOT EXISTS emergency_supplies (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL UNIQUE,
    dma TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    measures TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT ''
  );
`;

interface JoinedRow {
  id: string; dma: string; start: number; end: number | null; customers_affected: number; planned: number;
  planned_outage_id: string | null; cause: string;
  kind: string | null; origin: string | null; e_cause: string | null; e_customers: number | null; affected: string | null;
  expected_restoration: number | null; actual_restoration: number | null; notes: string | null; merged_into: string | null;
  split_from: string | null; updated_at: number | null; updated_by: string | null;
}

interface SupplyRow { id: string; incident_id: string; dma: string; opened_at: number; closed_at: number | null; measures: string; notes: string }

const SELECT = `SELECT i.*, e.kind, e.origin, e.cause AS e_cause, e.customers AS e_customers, e.affected, e.expected_restoration,
  e.actual_restoration, e.notes, e.merged_into, e.split_from, e.updated_at, e.updated_by
  FROM outage_incidents i LEFT JOIN incident_edits e ON e.id = i.id`;

/** What a person may change on an incident. `null` takes a correction back (the detected value again). */
export interface IncidentPatch {
  cause?: CauseCode | null;
  /** The part of the area affected, with the customers it holds (computed by the caller from the topology). */
  affected?: { part: AffectedPart; customers: number } | null;
  customersAffected?: number | null;
  expectedRestoration?: number | null;
  actualRestoration?: number | null;
  notes?: string;
}

export interface ManualIncidentInput {
  dma: string;
  start: number;
  end?: number;
  kind?: IncidentKind;
  cause: CauseCode;
  customersAffected: number;
  expectedRestoration?: number;
  notes?: string;
}

const ID = /^[A-Za-z0-9_.:\-]{1,128}$/;

export class IncidentBook {
  private seq = 0;
  /** False on a read-only database from before these tables: no corrections to apply. */
  readonly hasTables: boolean;

  constructor(private readonly db: Database.Database) {
    if (!db.readonly) db.exec(INCIDENT_BOOK_TABLES);
    this.hasTables = !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'incident_edits'").get();
  }

  // --- reading -------------------------------------------------------------------------------------

  /**
   * Incidents in force overlapping [from, to): corrections applied, merged ones folded into theirs.
   * `kind` limits to outages or low-pressure periods; merged-away incidents are left out unless asked.
   */
  list(from = -Infinity, to = Infinity, o: { kind?: IncidentKind; includeMerged?: boolean } = {}): IncidentRecord[] {
    // corrected, merged and split rows are read whatever their detected end: their end in force may differ
    const widen = this.hasTables ? ' OR e.actual_restoration IS NOT NULL OR e.merged_into IS NOT NULL OR e.split_from IS NOT NULL' : '';
    const rows = this.rows(`WHERE i.start < ? AND (i."end" IS NULL OR i."end" > ?${widen})`, [toSqlNumber(to), toSqlNumber(from)]);
    // a merge group's members may lie outside the window while the group reaches into it
    const groupIds = new Set(rows.map((r) => r.merged_into ?? r.id));
    const more = this.hasTables && groupIds.size
      ? this.rows(`WHERE e.merged_into IN (${[...groupIds].map(() => '?').join(',')}) OR i.id IN (${[...groupIds].map(() => '?').join(',')})`, [...groupIds, ...groupIds])
      : [];
    const byId = new Map([...rows, ...more].map((r) => [r.id, r]));
    const out: IncidentRecord[] = [];
    for (const r of byId.values()) {
      const rec = this.resolve(r, byId);
      if (o.kind && rec.kind !== o.kind) continue;
      if (rec.mergedInto && !o.includeMerged) continue;
      const end = rec.end ?? Infinity;
      const overlaps = rec.start < to && (end > from || (rec.end === rec.start && rec.start >= from));
      if (overlaps) out.push(rec);
    }
    return out.sort((a, b) => a.start - b.start || a.dma.localeCompare(b.dma) || a.id.localeCompare(b.id));
  }

  get(id: string): IncidentRecord | undefined {
    const [row] = this.rows('WHERE i.id = ?', [id]);
    if (!row) return undefined;
    const group = this.hasTables ? this.rows('WHERE e.merged_into = ?', [row.merged_into ?? id]) : [];
    const target = row.merged_into ? this.rows('WHERE i.id = ?', [row.merged_into]) : [];
    return this.resolve(row, new Map([row, ...group, ...target].map((r) => [r.id, r])));
  }

  history(id: string): IncidentChange[] {
    if (!this.hasTables) return [];
    const rows = this.db.prepare('SELECT * FROM incident_history WHERE incident_id = ? ORDER BY seq').all(id) as
      { incident_id: string; at: number; by: string; action: IncidentChange['action']; changes: string; note: string | null }[];
    return rows.map((r) => ({ incidentId: r.incident_id, at: r.at, by: r.by, action: r.action, changes: JSON.parse(r.changes) as IncidentChange['changes'], ...(r.note ? { note: r.note } : {}) }));
  }

  private rows(where: string, params: unknown[]): JoinedRow[] {
    if (this.hasTables) return this.db.prepare(`${SELECT} ${where}`).all(...params) as JoinedRow[];
    // read-only database without the corrections' tables: the detected records as they are
    return this.db.prepare(`SELECT i.*, NULL AS kind, NULL AS origin, NULL AS e_cause, NULL AS e_customers, NULL AS affected,
      NULL AS expected_restoration, NULL AS actual_restoration, NULL AS notes, NULL AS merged_into, NULL AS split_from,
      NULL AS updated_at, NULL AS updated_by FROM outage_incidents i ${where}`).all(...params) as JoinedRow[];
  }

  /** The values in force of one row; `rows` holds its merge group (and a split's first part when loaded). */
  private resolve(r: JoinedRow, rows: ReadonlyMap<string, JoinedRow>): IncidentRecord {
    const detectedEnd = r.end ?? (r.split_from ? this.baseEnd(r.split_from, rows) : undefined);
    const own = { start: r.start, end: r.actual_restoration ?? detectedEnd ?? undefined, customers: r.e_customers ?? r.customers_affected };
    const members = r.merged_into ? [] : [...rows.values()].filter((m) => m.merged_into === r.id);
    let { start, end, customers } = own;
    for (const m of members) {
      const mEnd = m.actual_restoration ?? m.end ?? undefined;
      start = Math.min(start, m.start);
      end = end === undefined || mEnd === undefined ? undefined : Math.max(end, mEnd);
      customers = Math.max(customers, m.e_customers ?? m.customers_affected);
    }
    return {
      id: r.id, dma: r.dma, start, ...(end !== undefined ? { end } : {}), customersAffected: customers,
      planned: r.planned === 1, ...(r.planned_outage_id ? { plannedOutageId: r.planned_outage_id } : {}),
      cause: (r.e_cause ?? r.cause) as CauseCode,
      kind: (r.kind ?? 'outage') as IncidentKind,
      origin: r.origin === 'manual' ? 'manual' : 'detected',
      detected: { cause: r.cause as CauseCode, customersAffected: r.customers_affected, ...(detectedEnd != null ? { end: detectedEnd } : {}) },
      ...(r.affected ? { affectedPart: JSON.parse(r.affected) as AffectedPart } : {}),
      ...(r.expected_restoration !== null ? { expectedRestoration: r.expected_restoration } : {}),
      ...(r.actual_restoration !== null ? { actualRestoration: r.actual_restoration } : {}),
      notes: r.notes ?? '',
      ...(r.merged_into ? { mergedInto: r.merged_into } : {}),
      merged: members.map((m) => m.id).sort(),
      ...(r.updated_at !== null ? { updatedAt: r.updated_at } : {}),
      ...(r.updated_by ? { updatedBy: r.updated_by } : {}),
    };
  }

  private baseEnd(id: string, rows: ReadonlyMap<string, JoinedRow>): number | undefined {
    const r = rows.get(id) ?? (this.db.prepare('SELECT "end" FROM outage_incidents WHERE id = ?').get(id) as { end: number | null } | undefined);
    return r?.end ?? undefined;
  }

  // --- changing ------------------------------------------------------------------------------------

  private requireWritable(): void {
    if (!this.hasTables || this.db.readonly) throw new IncidentError('incident', 'the incident book is read-only here (a report or a replay)', 'conflict');
  }

  private need(id: string): IncidentRecord {
    const rec = this.get(id);
    if (!rec) throw new IncidentError('id', `no incident ${id}`, 'not_found');
    return rec;
  }

  private ensureEditRow(id: string): void {
    this.db.prepare('INSERT INTO incident_edits (id) VALUES (?) ON CONFLICT(id) DO NOTHING').run(id);
  }

  private log(id: string, at: number, by: string, action: IncidentChange['action'], changes: IncidentChange['changes'], note?: string): void {
    this.db.prepare('INSERT INTO incident_history (incident_id, at, by, action, changes, note) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, at, by, action, JSON.stringify(changes), note ?? null);
  }

  /** Applies a person's corrections; every changed field goes into the history with `by` and `at`. */
  edit(id: string, patch: IncidentPatch, by: string, at: number): IncidentRecord {
    this.requireWritable();
    const before = this.need(id);
    if (before.mergedInto) throw new IncidentError('id', `incident ${id} was merged into ${before.mergedInto}: edit that one`, 'conflict');
    const set: Record<string, unknown> = {};
    const changes: IncidentChange['changes'] = {};
    if (patch.cause !== undefined) {
      if (patch.cause !== null) checkCause(patch.cause);
      set.cause = patch.cause;
    }
    if (patch.affected !== undefined) {
      set.affected = patch.affected === null ? null : JSON.stringify(patch.affected.part);
      set.customers = patch.affected === null ? null : checkCustomers(patch.affected.customers);
    }
    if (patch.customersAffected !== undefined) set.customers = patch.customersAffected === null ? null : checkCustomers(patch.customersAffected);
    if (patch.expectedRestoration !== undefined) set.expected_restoration = patch.expectedRestoration === null ? null : checkTime('expectedRestoration', patch.expectedRestoration);
    if (patch.actualRestoration !== undefined) {
      if (patch.actualRestoration !== null && checkTime('actualRestoration', patch.actualRestoration) < before.start) {
        throw new IncidentError('actualRestoration', 'must not be before the start');
      }
      set.actual_restoration = patch.actualRestoration;
    }
    if (patch.notes !== undefined) set.notes = checkText('notes', patch.notes, 2000);
    if (!Object.keys(set).length) return before;
    this.db.transaction(() => {
      this.ensureEditRow(id);
      const cols = Object.keys(set);
      this.db.prepare(`UPDATE incident_edits SET ${cols.map((c) => `${c} = @${c}`).join(', ')}, updated_at = @at, updated_by = @by WHERE id = @id`)
        .run({ ...set, at, by, id });
      const after = this.get(id)!;
      for (const f of ['cause', 'customersAffected', 'affectedPart', 'expectedRestoration', 'actualRestoration', 'end', 'notes'] as const) {
        if (JSON.stringify(before[f]) !== JSON.stringify(after[f])) changes[f] = [before[f] ?? null, after[f] ?? null];
      }
      // a request that changed nothing in force (a correction equal to the detected value) leaves no history
      if (Object.keys(changes).length) this.log(id, at, by, 'edit', changes);
    })();
    return this.get(id)!;
  }

  /** An incident entered by a person (a call from an area without sensors, a crew's report). */
  createManual(input: ManualIncidentInput, by: string, at: number): IncidentRecord {
    this.requireWritable();
    if (typeof input.dma !== 'string' || !ID.test(input.dma)) throw new IncidentError('dma', `${JSON.stringify(input.dma)} is not a DMA id`);
    const start = checkTime('start', input.start);
    if (input.end !== undefined && checkTime('end', input.end) < start) throw new IncidentError('end', 'must not be before the start');
    const kind = input.kind ?? 'outage';
    if (!(INCIDENT_KINDS as readonly string[]).includes(kind)) throw new IncidentError('kind', `unknown kind ${JSON.stringify(kind)}`);
    checkCause(input.cause);
    const customers = checkCustomers(input.customersAffected);
    const id = `manual:${input.dma}:${start}-${at}-${++this.seq}`;
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO outage_incidents (id, dma, start, "end", customers_affected, planned, planned_outage_id, cause)
        VALUES (?, ?, ?, ?, ?, 0, NULL, ?)`).run(id, input.dma, start, input.end ?? null, customers, input.cause);
      this.db.prepare(`INSERT INTO incident_edits (id, kind, origin, expected_restoration, notes, updated_at, updated_by)
        VALUES (?, ?, 'manual', ?, ?, ?, ?)`).run(id, kind, input.expectedRestoration ?? null, checkText('notes', input.notes ?? '', 2000), at, by);
      this.log(id, at, by, 'create', {}, incidentNote(kind === 'outage' ? 'manual_outage' : 'manual_low_pressure', { dma: input.dma }));
    })();
    return this.get(id)!;
  }

  /**
   * Folds `others` into `target`: one incident from the earliest start to the latest end (open while
   * any is open), with the most customers of any; the others stay listed under it (`merged`).
   */
  merge(target: string, others: readonly string[], by: string, at: number): IncidentRecord {
    this.requireWritable();
    const t = this.need(target);
    if (t.mergedInto) throw new IncidentError('target', `incident ${target} was itself merged into ${t.mergedInto}`, 'conflict');
    const list = [...new Set(others)].filter((o) => o !== target);
    if (!list.length) throw new IncidentError('incidents', 'name at least one other incident to merge');
    this.db.transaction(() => {
      for (const [i, o] of list.entries()) {
        const rec = this.need(o);
        if (rec.mergedInto) throw new IncidentError(`incidents[${i}]`, `incident ${o} is already merged into ${rec.mergedInto}`, 'conflict');
        if (rec.kind !== t.kind) throw new IncidentError(`incidents[${i}]`, `incident ${o} is a ${rec.kind} incident, ${target} a ${t.kind} one`);
        if (rec.merged.length) throw new IncidentError(`incidents[${i}]`, `incident ${o} has incidents merged into it: merge into it instead`, 'conflict');
        this.ensureEditRow(o);
        this.db.prepare('UPDATE incident_edits SET merged_into = ?, updated_at = ?, updated_by = ? WHERE id = ?').run(target, at, by, o);
        this.log(o, at, by, 'merged_into', { mergedInto: [null, target] });
      }
      this.log(target, at, by, 'merge', { merged: [t.merged, [...t.merged, ...list].sort()] });
    })();
    return this.get(target)!;
  }

  /**
   * Splits an incident at `at` (supply restored to part of the area): the first part ends there,
   * the second starts there with `customersAfter` customers (default: as before) and ends when the
   * first would have (the detected end, when the detector records it).
   */
  split(id: string, splitAt: number, customersAfter: number | undefined, by: string, at: number): { first: IncidentRecord; second: IncidentRecord } {
    this.requireWritable();
    const rec = this.need(id);
    if (rec.mergedInto || rec.merged.length) throw new IncidentError('id', `incident ${id} is part of a merge: split it before merging`, 'conflict');
    checkTime('at', splitAt);
    if (splitAt <= rec.start || (rec.end !== undefined && splitAt >= rec.end)) throw new IncidentError('at', 'must lie inside the incident');
    const customers = customersAfter === undefined ? rec.customersAffected : checkCustomers(customersAfter);
    const secondId = `${id}:split-${splitAt}`;
    if (this.get(secondId)) throw new IncidentError('at', `incident ${id} is already split at that time`, 'conflict');
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO outage_incidents (id, dma, start, "end", customers_affected, planned, planned_outage_id, cause)
        VALUES (?, ?, ?, NULL, ?, ?, ?, ?)`).run(secondId, rec.dma, splitAt, rec.detected.customersAffected, rec.planned ? 1 : 0, rec.plannedOutageId ?? null, rec.detected.cause);
      this.db.prepare(`INSERT INTO incident_edits (id, kind, origin, cause, customers, affected, expected_restoration, actual_restoration, notes, split_from, updated_at, updated_by)
        VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)`).run(
        secondId, rec.kind, rec.origin, rec.cause === rec.detected.cause ? null : rec.cause, customers,
        rec.expectedRestoration ?? null, rec.actualRestoration ?? (rec.origin === 'manual' ? rec.end ?? null : null), rec.notes, id, at, by);
      this.ensureEditRow(id);
      this.db.prepare('UPDATE incident_edits SET actual_restoration = ?, updated_at = ?, updated_by = ? WHERE id = ?').run(splitAt, at, by, id);
      this.log(id, at, by, 'split', { end: [rec.end ?? null, splitAt] }, incidentNote('continued_as', { id: secondId }));
      this.log(secondId, at, by, 'create', {}, incidentNote('split_from', { id, at: new Date(splitAt).toISOString() }));
    })();
    return { first: this.get(id)!, second: this.get(secondId)! };
  }

  /** Records (or updates) a low-pressure period of a DMA; its id is `low_pressure:<dma>:<start>`. */
  recordLowPressure(p: { dma: string; start: number; end?: number; customersAffected: number }, at: number): IncidentRecord {
    this.requireWritable();
    const id = `low_pressure:${p.dma}:${p.start}`;
    const existed = this.db.prepare('SELECT 1 FROM outage_incidents WHERE id = ?').get(id);
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO outage_incidents (id, dma, start, "end", customers_affected, planned, planned_outage_id, cause)
        VALUES (?, ?, ?, ?, ?, 0, NULL, 'unknown') ON CONFLICT(id) DO UPDATE SET "end" = excluded."end", customers_affected = excluded.customers_affected`)
        .run(id, p.dma, p.start, p.end ?? null, p.customersAffected);
      this.db.prepare("INSERT INTO incident_edits (id, kind) VALUES (?, 'low_pressure') ON CONFLICT(id) DO NOTHING").run(id);
      if (!existed) this.log(id, at, 'system', 'create', {}, incidentNote('low_pressure_opened'));
    })();
    return this.get(id)!;
  }

  // --- emergency supply ----------------------------------------------------------------------------

  /**
   * Opens an emergency-supply record for every outage in force that has lasted `afterMs` (24 h) at
   * `now`, and closes the open ones whose outage has ended (at its end). Idempotent.
   */
  sweepEmergencySupply(now: number, afterMs: number): { opened: EmergencySupply[]; closed: EmergencySupply[] } {
    if (!this.hasTables || this.db.readonly) return { opened: [], closed: [] };
    const opened: EmergencySupply[] = [];
    const closed: EmergencySupply[] = [];
    this.db.transaction(() => {
      for (const inc of this.list(now - 1, now + 1, { kind: 'outage' })) {
        if (now - inc.start < afterMs || (inc.end !== undefined && inc.end - inc.start < afterMs)) continue;
        if (this.db.prepare('SELECT 1 FROM emergency_supplies WHERE incident_id = ?').get(inc.id)) continue;
        const id = `es-${inc.id}`;
        this.db.prepare('INSERT INTO emergency_supplies (id, incident_id, dma, opened_at) VALUES (?, ?, ?, ?)').run(id, inc.id, inc.dma, inc.start + afterMs);
        this.log(inc.id, now, 'system', 'emergency_supply', {}, incidentNote('emergency_opened', { hours: Math.round(afterMs / 3_600_000), id }));
        opened.push(this.getEmergency(id)!);
      }
      for (const row of this.db.prepare('SELECT * FROM emergency_supplies WHERE closed_at IS NULL').all() as SupplyRow[]) {
        const inc = this.get(row.incident_id);
        const target = inc?.mergedInto ? this.get(inc.mergedInto) : inc;
        const end = target ? target.end : now;
        if (end === undefined || end > now) continue;
        this.db.prepare('UPDATE emergency_supplies SET closed_at = ? WHERE id = ?').run(end, row.id);
        closed.push(this.getEmergency(row.id)!);
      }
    })();
    return { opened, closed };
  }

  listEmergency(o: { open?: boolean } = {}): EmergencySupply[] {
    if (!this.hasTables) return [];
    const rows = this.db.prepare(`SELECT * FROM emergency_supplies ${o.open ? 'WHERE closed_at IS NULL' : ''} ORDER BY opened_at DESC`).all() as SupplyRow[];
    return rows.map(toSupply);
  }

  getEmergency(id: string): EmergencySupply | undefined {
    if (!this.hasTables) return undefined;
    const row = this.db.prepare('SELECT * FROM emergency_supplies WHERE id = ?').get(id) as SupplyRow | undefined;
    return row ? toSupply(row) : undefined;
  }

  /** Records the measures taken (water trucks, supply points with their times) and notes. */
  updateEmergency(id: string, patch: { measures?: EmergencyMeasure[]; notes?: string }, by: string, at: number): EmergencySupply {
    this.requireWritable();
    const before = this.getEmergency(id);
    if (!before) throw new IncidentError('id', `no emergency supply record ${id}`, 'not_found');
    const measures = patch.measures ?? before.measures;
    measures.forEach((m, i) => {
      checkTime(`measures[${i}].from`, m.from);
      if (m.to !== undefined && checkTime(`measures[${i}].to`, m.to) < m.from) throw new IncidentError(`measures[${i}].to`, 'must not be before from');
    });
    const notes = patch.notes === undefined ? before.notes : checkText('notes', patch.notes, 2000);
    this.db.transaction(() => {
      this.db.prepare('UPDATE emergency_supplies SET measures = ?, notes = ? WHERE id = ?').run(JSON.stringify(measures), notes, id);
      this.log(before.incidentId, at, by, 'emergency_supply', { measures: [before.measures.length, measures.length] }, incidentNote('emergency_updated', { id }));
    })();
    return this.getEmergency(id)!;
  }
}

/** An incident record as the KPIs and the area states read it: the values in force, no more. */
export function plainIncident(r: IncidentRecord): Incident {
  return {
    id: r.id, dma: r.dma, start: r.start, ...(r.end !== undefined ? { end: r.end } : {}), customersAffected: r.customersAffected,
    planned: r.planned, ...(r.plannedOutageId ? { plannedOutageId: r.plannedOutageId } : {}), cause: r.cause,
  };
}

function toSupply(r: SupplyRow): EmergencySupply {
  return {
    id: r.id, incidentId: r.incident_id, dma: r.dma, openedAt: r.opened_at, ...(r.closed_at !== null ? { closedAt: r.closed_at } : {}),
    measures: JSON.parse(r.measures) as EmergencyMeasure[], notes: r.notes,
  };
}

function checkTime(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new IncidentError(field, `expected a time in ms, got ${JSON.stringify(v)}`);
  return v;
}

function checkCause(v: unknown): CauseCode {
  if (typeof v !== 'string' || !(CAUSE_CODES as readonly string[]).includes(v)) throw new IncidentError('cause', `unknown cause code ${JSON.stringify(v)}`);
  return v as CauseCode;
}

function checkCustomers(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new IncidentError('customersAffected', 'expected a whole number ≥ 0');
  return v;
}

function checkText(field: string, v: unknown, max: number): string {
  if (typeof v !== 'string' || v.length > max) throw new IncidentError(field, `expected text of at most ${max} characters`);
  return v;
}

/** SQLite has no infinity in bound parameters; the extremes of a 64-bit integer serve. */
export function toSqlNumber(v: number): number {
  if (v === Infinity) return Number.MAX_SAFE_INTEGER;
  if (v === -Infinity) return Number.MIN_SAFE_INTEGER;
  return v;
}
