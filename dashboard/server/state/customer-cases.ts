/**
 * Customer service's cases of meter anomalies (issue #14.2), in the state database (SQLite). A case
 * belongs to one meter-anomaly alarm (`meter_backwards`, `meter_zero_use`, `meter_high_use`,
 * `meter_continuous_use`) and exists from the first action on it; an alarm without a row is `open`.
 *
 *   open ──call──▶ contacted ──field_visit──▶ visit_requested
 *     │ └──────────field_visit──────────────────▲      │
 *     └───────────── close (reason) ◀───────────┴──────┘  → closed (final)
 *
 * A call may be recorded in any state but closed (calling again after a visit was requested keeps
 * the case there); a field visit is requested once; closing needs a reason from CLOSE_REASONS, and
 * free text with `other`. Every action is a row of the case's history with who and when.
 */
import type Database from 'better-sqlite3';
import { closeStateDb, storeDb } from '../../../core/state/state-db.ts';
import { DomainError, type DomainErrorCode } from '../../../core/errors.ts';
import { CASE_ACTIONS, CASE_STATES, CLOSE_REASONS } from '../../contract/customers.ts';

export { CASE_ACTIONS, CASE_STATES, CLOSE_REASONS };
export type CaseState = (typeof CASE_STATES)[number];
export type CaseAction = (typeof CASE_ACTIONS)[number];
export type CloseReason = (typeof CLOSE_REASONS)[number];

export interface CaseEvent {
  at: number;
  by: string;
  action: CaseAction;
  /** What was said (a call's note, the visit's purpose, the closing text). */
  note: string;
  reason?: CloseReason;
  /** The case's state after the action. */
  state: CaseState;
}

export interface CustomerCase {
  /** The meter-anomaly alarm's id. */
  alarmId: string;
  meter: string;
  state: CaseState;
  closeReason?: CloseReason;
  updatedAt: number;
  updatedBy: string;
  history: CaseEvent[];
}

export interface CaseActionInput {
  action: CaseAction;
  note?: string;
  reason?: CloseReason;
}

export class CaseError extends DomainError {
  constructor(readonly field: string, reason: string, code: DomainErrorCode = 'validation') {
    super(code, `${field}: ${reason}`, field);
    this.name = 'CaseError';
  }
}

/** The state after `input` on a case in `state`; throws CaseError naming the field when refused. */
export function nextCaseState(state: CaseState, input: CaseActionInput): CaseState {
  const note = input.note?.trim() ?? '';
  if (state === 'closed') throw new CaseError('action', `the case is closed; ${input.action} is not possible`, 'conflict');
  if (input.reason !== undefined && input.action !== 'close') throw new CaseError('reason', 'only a close has a reason');
  switch (input.action) {
    case 'call':
      if (!note) throw new CaseError('note', 'say what the customer was told or said');
      return state === 'open' ? 'contacted' : state;
    case 'field_visit':
      if (state === 'visit_requested') throw new CaseError('action', 'a field visit is already requested', 'conflict');
      return 'visit_requested';
    case 'close':
      if (input.reason === undefined) throw new CaseError('reason', `required, one of ${CLOSE_REASONS.join(', ')}`);
      if (!(CLOSE_REASONS as readonly string[]).includes(input.reason)) throw new CaseError('reason', `must be one of ${CLOSE_REASONS.join(', ')}`);
      if (input.reason === 'other' && !note) throw new CaseError('note', 'say why (the reason is "other")');
      return 'closed';
    default:
      throw new CaseError('action', `must be one of ${CASE_ACTIONS.join(', ')}`);
  }
}

const TABLES = `
  CREATE TABLE IF NOT EXISTS customer_cases (
    alarm_id TEXT PRIMARY KEY,
    meter TEXT NOT NULL,
    state TEXT NOT NULL,
    close_reason TEXT,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS customer_cases_meter ON customer_cases (meter);
  CREATE TABLE IF NOT EXISTS customer_case_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT NOT NULL,
    reason TEXT,
    state TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS customer_case_events_alarm ON customer_case_events (alarm_id, seq);`;

interface CaseRow { alarm_id: string; meter: string; state: string; close_reason: string | null; updated_at: number; updated_by: string }
interface EventRow { alarm_id: string; at: number; by: string; action: string; note: string; reason: string | null; state: string }

export class CustomerCaseStore {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;

  constructor(db: string | Database.Database) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
  }

  get(alarmId: string): CustomerCase | undefined {
    const row = this.db.prepare('SELECT * FROM customer_cases WHERE alarm_id = ?').get(alarmId) as CaseRow | undefined;
    return row ? this.toCase(row, this.events([alarmId]).get(alarmId) ?? []) : undefined;
  }

  /** The cases of these alarms (those that have one), history included. */
  byAlarms(alarmIds: readonly string[]): Map<string, CustomerCase> {
    const out = new Map<string, CustomerCase>();
    if (!alarmIds.length) return out;
    const events = this.events(alarmIds);
    // chunks keep under SQLite's limit of bound parameters
    for (let i = 0; i < alarmIds.length; i += 500) {
      const ids = alarmIds.slice(i, i + 500);
      const rows = this.db.prepare(`SELECT * FROM customer_cases WHERE alarm_id IN (${ids.map(() => '?').join(',')})`).all(...ids) as CaseRow[];
      for (const r of rows) out.set(r.alarm_id, this.toCase(r, events.get(r.alarm_id) ?? []));
    }
    return out;
  }

  /** Apply one action (state machine above) at `at` by `by`; the case is created on its first action. */
  act(alarmId: string, meter: string, input: CaseActionInput, by: string, at: number): CustomerCase {
    const run = this.db.transaction(() => {
      const row = this.db.prepare('SELECT * FROM customer_cases WHERE alarm_id = ?').get(alarmId) as CaseRow | undefined;
      const state = nextCaseState((row?.state ?? 'open') as CaseState, input);
      const reason = input.action === 'close' ? input.reason! : null;
      this.db.prepare(`INSERT INTO customer_cases (alarm_id, meter, state, close_reason, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (alarm_id) DO UPDATE SET state = excluded.state, close_reason = excluded.close_reason, updated_at = excluded.updated_at, updated_by = excluded.updated_by`)
        .run(alarmId, meter, state, reason, at, by);
      this.db.prepare('INSERT INTO customer_case_events (alarm_id, at, by, action, note, reason, state) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(alarmId, at, by, input.action, input.note?.trim() ?? '', reason, state);
    });
    run();
    return this.get(alarmId)!;
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }

  private events(alarmIds: readonly string[]): Map<string, CaseEvent[]> {
    const out = new Map<string, CaseEvent[]>();
    for (let i = 0; i < alarmIds.length; i += 500) {
      const ids = alarmIds.slice(i, i + 500);
      const rows = this.db.prepare(`SELECT * FROM customer_case_events WHERE alarm_id IN (${ids.map(() => '?').join(',')}) ORDER BY seq`).all(...ids) as EventRow[];
      for (const r of rows) {
        const list = out.get(r.alarm_id) ?? [];
        list.push({ at: r.at, by: r.by, action: r.action as CaseAction, note: r.note, ...(r.reason !== null ? { reason: r.reason as CloseReason } : {}), state: r.state as CaseState });
        out.set(r.alarm_id, list);
      }
    }
    return out;
  }

  private toCase(r: CaseRow, history: CaseEvent[]): CustomerCase {
    return {
      alarmId: r.alarm_id, meter: r.meter, state: r.state as CaseState,
      ...(r.close_reason !== null ? { closeReason: r.close_reason as CloseReason } : {}),
      updatedAt: r.updated_at, updatedBy: r.updated_by, history,
    };
  }
}
