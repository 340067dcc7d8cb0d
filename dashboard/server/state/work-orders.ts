/**
 * Maintenance work orders in the server's state database (SQLite). A burst alarm's raise creates
 * one (status `new`), linked to the alarm, its DMA and the detector's location hint; crews are
 * assigned and the status moves new → assigned → in_progress → resolved (any order a crew needs,
 * but a resolved order stays resolved). Notes keep who said what when.
 *
 * The estimated water lost is burst flow × time since the burst's estimated start, up to the
 * resolution (or up to `now`, an event time the caller gives: the alarm manager's clock).
 */
import Database from 'better-sqlite3';
import { closeStateDb, storeDb } from '../../../core/state/state-db.ts';
import { DomainError, type DomainErrorCode } from '../../../core/errors.ts';

import { WORK_ORDER_STATUSES } from '../../contract/work-orders.ts';

export { WORK_ORDER_STATUSES };
export type WorkOrderStatus = (typeof WORK_ORDER_STATUSES)[number];

export interface WorkOrderNote { at: number; by: string; text: string }

export interface WorkOrder {
  id: string;
  alarmId: string;
  dma: string;
  locationHint?: string;
  status: WorkOrderStatus;
  crew?: string;
  notes: WorkOrderNote[];
  createdAt: number;
  updatedAt: number;
  resolvedAt?: number;
  burstFlowM3h?: number;
  /** Event time the burst is estimated to have started (the detector's evidence). */
  burstStart?: number;
  estimatedLossM3: number;
}

export class WorkOrderError extends DomainError {
  constructor(readonly field: string, reason: string, code: DomainErrorCode = 'validation') {
    super(code, `${field}: ${reason}`, field);
    this.name = 'WorkOrderError';
  }
}

interface Row {
  id: string; alarm_id: string; dma: string; location_hint: string | null; status: string; crew: string | null;
  notes: string; created_at: number; updated_at: number; resolved_at: number | null; burst_flow_m3h: number | null; burst_start: number | null;
}

export interface NewWorkOrder {
  alarmId: string;
  dma: string;
  locationHint?: string;
  burstFlowM3h?: number;
  burstStart?: number;
  note?: string;
  by: string;
  /** Event time of creation. */
  at: number;
}

/** m³ lost: flow (m³/h) × hours from the burst's start to its resolution or `now`. */
export function estimatedLoss(o: { burstFlowM3h?: number; burstStart?: number; createdAt: number; resolvedAt?: number }, now: number): number {
  if (o.burstFlowM3h === undefined || !Number.isFinite(o.burstFlowM3h)) return 0;
  const start = o.burstStart ?? o.createdAt;
  const end = o.resolvedAt ?? now;
  return Math.round(Math.max(0, o.burstFlowM3h * (end - start) / 3_600_000) * 10) / 10;
}

/** This store's tables, created through the state database's owner (core/state/state-db.ts). */
const TABLES = `
  CREATE TABLE IF NOT EXISTS work_orders (
    id TEXT PRIMARY KEY,
    alarm_id TEXT NOT NULL UNIQUE,
    dma TEXT NOT NULL,
    location_hint TEXT,
    status TEXT NOT NULL,
    crew TEXT,
    notes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    resolved_at INTEGER,
    burst_flow_m3h REAL,
    burst_start INTEGER);
  CREATE INDEX IF NOT EXISTS work_orders_status ON work_orders (status, created_at);`;

export class WorkOrderStore {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;

  constructor(db: string | Database.Database) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
  }

  /** One work order per alarm: a second one is refused (`exists`). */
  create(input: NewWorkOrder, now = input.at): WorkOrder {
    if (typeof input.alarmId !== 'string' || !input.alarmId) throw new WorkOrderError('alarmId', 'required');
    if (this.byAlarm(input.alarmId)) throw new WorkOrderError('alarmId', `alarm ${input.alarmId} already has a work order`, 'conflict');
    const seq = (this.db.prepare('SELECT COUNT(*) AS n FROM work_orders').get() as { n: number }).n + 1;
    const id = `WO-${String(seq).padStart(5, '0')}`;
    const notes: WorkOrderNote[] = input.note ? [{ at: input.at, by: input.by, text: input.note }] : [];
    this.db.prepare(`INSERT INTO work_orders (id, alarm_id, dma, location_hint, status, crew, notes, created_at, updated_at, resolved_at, burst_flow_m3h, burst_start)
      VALUES (?, ?, ?, ?, 'new', NULL, ?, ?, ?, NULL, ?, ?)`)
      .run(id, input.alarmId, input.dma, input.locationHint ?? null, JSON.stringify(notes), input.at, input.at,
        input.burstFlowM3h ?? null, input.burstStart ?? null);
    return this.get(id, now)!;
  }

  get(id: string, now: number): WorkOrder | undefined {
    const row = this.db.prepare('SELECT * FROM work_orders WHERE id = ?').get(id) as Row | undefined;
    return row ? toWorkOrder(row, now) : undefined;
  }

  byAlarm(alarmId: string, now = 0): WorkOrder | undefined {
    const row = this.db.prepare('SELECT * FROM work_orders WHERE alarm_id = ?').get(alarmId) as Row | undefined;
    return row ? toWorkOrder(row, now) : undefined;
  }

  /** Newest first. */
  list(now: number, status?: WorkOrderStatus): WorkOrder[] {
    const rows = (status
      ? this.db.prepare('SELECT * FROM work_orders WHERE status = ? ORDER BY created_at DESC, id DESC').all(status)
      : this.db.prepare('SELECT * FROM work_orders ORDER BY created_at DESC, id DESC').all()) as Row[];
    return rows.map((r) => toWorkOrder(r, now));
  }

  /** Change status, crew, add a note. `at` is the event time of the change. */
  update(id: string, patch: { status?: string; crew?: string; note?: string }, by: string, at: number): WorkOrder {
    const row = this.db.prepare('SELECT * FROM work_orders WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new WorkOrderError('id', `no work order ${id}`, 'not_found');
    let status = row.status as WorkOrderStatus;
    if (patch.status !== undefined) {
      if (!(WORK_ORDER_STATUSES as readonly string[]).includes(patch.status)) throw new WorkOrderError('status', `must be one of ${WORK_ORDER_STATUSES.join(', ')}`);
      if (row.status === 'resolved' && patch.status !== 'resolved') throw new WorkOrderError('status', `${id} is resolved; it cannot go back to ${patch.status}`);
      status = patch.status as WorkOrderStatus;
    }
    let crew = row.crew;
    if (patch.crew !== undefined) {
      crew = patch.crew.trim() || null;
      if (crew && status === 'new' && patch.status === undefined) status = 'assigned';
    }
    const notes = JSON.parse(row.notes) as WorkOrderNote[];
    if (patch.note) notes.push({ at, by, text: patch.note });
    const resolvedAt = status === 'resolved' ? row.resolved_at ?? at : null;
    this.db.prepare('UPDATE work_orders SET status = ?, crew = ?, notes = ?, updated_at = ?, resolved_at = ? WHERE id = ?')
      .run(status, crew, JSON.stringify(notes), Math.max(at, row.updated_at), resolvedAt, id);
    return this.get(id, at)!;
  }

  /** Keep the burst's latest flow estimate (the detector refines it while the burst lasts). */
  updateBurstFlow(id: string, burstFlowM3h: number): void {
    this.db.prepare("UPDATE work_orders SET burst_flow_m3h = ? WHERE id = ? AND status <> 'resolved'").run(burstFlowM3h, id);
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }
}

function toWorkOrder(r: Row, now: number): WorkOrder {
  const base = {
    id: r.id, alarmId: r.alarm_id, dma: r.dma, status: r.status as WorkOrderStatus,
    ...(r.location_hint ? { locationHint: r.location_hint } : {}),
    ...(r.crew ? { crew: r.crew } : {}),
    notes: JSON.parse(r.notes) as WorkOrderNote[],
    createdAt: r.created_at, updatedAt: r.updated_at,
    ...(r.resolved_at !== null ? { resolvedAt: r.resolved_at } : {}),
    ...(r.burst_flow_m3h !== null ? { burstFlowM3h: r.burst_flow_m3h } : {}),
    ...(r.burst_start !== null ? { burstStart: r.burst_start } : {}),
  };
  return { ...base, estimatedLossM3: estimatedLoss(base, Math.max(now, r.created_at)) };
}
