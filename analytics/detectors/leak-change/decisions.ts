/**
 * Operators' decisions on leak alarms, in the state database (SQLite): a dispatcher accepts a raised
 * `leak_trend`, `abrupt_leak` (this detector) or night-flow's `new_leak` as a real change of use (a
 * new night-shift factory), with a reason.
 * The dashboard writes them (POST /alarms/:id/accept-change); the detectors read them by
 * event time (`decisionsUpTo`): a decision applies from its own timestamp (the alarm manager's event
 * clock when it was made), so a replay over the same period with the same decisions gives the same
 * alarms. Who decided, when (event and wall time) and why is kept with each decision, and the
 * dashboard's audit log records the request too.
 *
 * Like the planned-outage register (analytics/outages/register.ts): one store on the live state
 * database shared by the server's routes and the analytics in the same process; a replay reads the
 * live decisions read-only (`readLeakDecisions`).
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { DomainError, type DomainErrorCode } from '../../../core/errors.ts';
import { closeStateDb, openStateDbReadOnly, storeDb } from '../../../core/state/state-db.ts';
import { ACCEPTABLE_LEAK_TYPES, isAcceptableLeakType, type AcceptableLeakType } from '../../../core/messages/alarm-texts.ts';

export interface LeakDecision {
  id: number;
  /** The alarm accepted (`<condition id>@<ISO raise time>`) and its condition, which the detector knows. */
  alarmId: string;
  conditionId: string;
  type: AcceptableLeakType;
  dma: string;
  /** Event time the decision applies from. */
  effectiveTs: number;
  reason: string;
  decidedBy: string;
  /** Wall time it was recorded. */
  decidedAt: number;
}

export type NewLeakDecision = Omit<LeakDecision, 'id'>;

/** What the detector reads: the decisions in force by event time `ts`, oldest first. */
export interface LeakDecisionLookup {
  decisionsUpTo(ts: number): readonly LeakDecision[];
}

export class LeakDecisionError extends DomainError {
  constructor(readonly field: string, reason: string, code: DomainErrorCode = 'validation') {
    super(code, `${field}: ${reason}`, field);
    this.name = 'LeakDecisionError';
  }
}

const TABLES = `
  CREATE TABLE IF NOT EXISTS leak_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_id TEXT NOT NULL UNIQUE,
    condition_id TEXT NOT NULL,
    type TEXT NOT NULL,
    dma TEXT NOT NULL,
    effective_ts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS leak_decisions_effective ON leak_decisions (effective_ts, id);`;

interface Row {
  id: number; alarm_id: string; condition_id: string; type: string; dma: string; effective_ts: number; reason: string; decided_by: string; decided_at: number;
}

export class LeakDecisionStore implements LeakDecisionLookup {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;
  /** Every decision, by effective time: the detector asks at every step, so no query there. */
  private decisions: LeakDecision[];

  /** `db`: a path to the state database (`:memory:` for tests), or an open database to share. */
  constructor(db: string | Database.Database) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
    this.decisions = (this.db.prepare('SELECT * FROM leak_decisions ORDER BY effective_ts, id').all() as Row[]).map(toDecision);
  }

  /** Records a dispatcher's acceptance; one decision per alarm (a second is refused, `conflict`). */
  accept(input: NewLeakDecision): LeakDecision {
    if (!isAcceptableLeakType(input.type)) {
      throw new LeakDecisionError('type', `a ${input.type} alarm cannot be accepted as a change of use (only ${ACCEPTABLE_LEAK_TYPES.join(', ')})`);
    }
    const reason = input.reason.trim();
    if (!reason) throw new LeakDecisionError('reason', 'must not be blank');
    if (!Number.isFinite(input.effectiveTs)) throw new LeakDecisionError('effectiveTs', 'expected a time in ms');
    if (this.forAlarm(input.alarmId)) throw new LeakDecisionError('alarmId', `alarm ${input.alarmId} is accepted already`, 'conflict');
    const { lastInsertRowid } = this.db.prepare(`INSERT INTO leak_decisions (alarm_id, condition_id, type, dma, effective_ts, reason, decided_by, decided_at)
      VALUES (@alarmId, @conditionId, @type, @dma, @effectiveTs, @reason, @decidedBy, @decidedAt)`).run({ ...input, reason });
    const decision: LeakDecision = { ...input, reason, id: Number(lastInsertRowid) };
    this.decisions = [...this.decisions, decision].sort((a, b) => a.effectiveTs - b.effectiveTs || a.id - b.id);
    return decision;
  }

  forAlarm(alarmId: string): LeakDecision | undefined {
    return this.decisions.find((d) => d.alarmId === alarmId);
  }

  /** Newest first, of one DMA when given. */
  list(dma?: string): LeakDecision[] {
    return this.decisions.filter((d) => !dma || d.dma === dma).reverse();
  }

  decisionsUpTo(ts: number): readonly LeakDecision[] {
    return upTo(this.decisions, ts);
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }
}

/** Decisions of a list sorted by effective time, up to `ts`. */
function upTo(sorted: readonly LeakDecision[], ts: number): readonly LeakDecision[] {
  const last = sorted.length - 1;
  if (last < 0 || sorted[0].effectiveTs > ts) return [];
  if (sorted[last].effectiveTs <= ts) return sorted;
  return sorted.filter((d) => d.effectiveTs <= ts);
}

/**
 * The live decisions for a replay, read once (a replay writes nothing to the live state database):
 * none when there is no state database yet, or one from before this table.
 */
export function readLeakDecisions(statePath: string): LeakDecisionLookup {
  if (!existsSync(statePath)) return { decisionsUpTo: () => [] };
  const db = openStateDbReadOnly(statePath);
  try {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'leak_decisions'").get();
    const rows = exists ? db.prepare('SELECT * FROM leak_decisions ORDER BY effective_ts, id').all() as Row[] : [];
    const decisions = rows.map(toDecision);
    return { decisionsUpTo: (ts) => upTo(decisions, ts) };
  } finally {
    db.close();
  }
}

function toDecision(r: Row): LeakDecision {
  return {
    id: r.id, alarmId: r.alarm_id, conditionId: r.condition_id, type: r.type as AcceptableLeakType, dma: r.dma,
    effectiveTs: r.effective_ts, reason: r.reason, decidedBy: r.decided_by, decidedAt: r.decided_at,
  };
}
