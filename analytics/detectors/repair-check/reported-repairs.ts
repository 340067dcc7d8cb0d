/**
 * Repairs the crews reported: work orders moved to `resolved`, read from the state database's
 * `work_orders` table, which the dashboard's work-order store owns (dashboard/server/state/
 * work-orders.ts). The repair check reads them by event time: a work order's `resolved_at` is the
 * alarm manager's clock when the crew resolved it, so a replay of the period (`aquawatch analyze`,
 * which reads live's work orders read-only, as it reads live's leak decisions) gives the same
 * alarms. Only the columns named here are read; the table may not exist yet (a server that never
 * ran the dashboard), which reads as no repairs.
 */
import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { openStateDbReadOnly } from '../../../core/state/state-db.ts';

export interface ReportedRepair {
  workOrderId: string;
  /** The alarm the work order was opened from (`<condition id>@<ISO raise time>`). */
  alarmId: string;
  dma: string;
  crew?: string;
  /** Event time the crew resolved the work order. */
  reportedTs: number;
}

/** What the check reads: the repairs reported in (fromTs, toTs], oldest first. */
export interface ReportedRepairLookup {
  reportedBetween(fromTs: number, toTs: number): readonly ReportedRepair[];
}

interface Row { id: string; alarm_id: string; dma: string; crew: string | null; resolved_at: number }

const SELECT = `SELECT id, alarm_id, dma, crew, resolved_at FROM work_orders
  WHERE status = 'resolved' AND resolved_at > ? AND resolved_at <= ? ORDER BY resolved_at, id`;

function hasWorkOrders(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'work_orders'").get() !== undefined;
}

function toRepair(r: Row): ReportedRepair {
  return { workOrderId: r.id, alarmId: r.alarm_id, dma: r.dma, ...(r.crew ? { crew: r.crew } : {}), reportedTs: r.resolved_at };
}

/**
 * Live: asked on the process's own connection to the state database, so a work order the
 * dashboard resolves is seen at the check's next step.
 */
export function liveReportedRepairs(db: Database.Database): ReportedRepairLookup {
  let tableSeen = false;
  return {
    reportedBetween(fromTs, toTs) {
      tableSeen ||= hasWorkOrders(db);
      return tableSeen ? (db.prepare(SELECT).all(fromTs, toTs) as Row[]).map(toRepair) : [];
    },
  };
}

/** For a replay: live's resolved work orders, read once (nothing is written to the live state database). */
export function readReportedRepairs(statePath: string): ReportedRepairLookup {
  if (!existsSync(statePath)) return { reportedBetween: () => [] };
  const db = openStateDbReadOnly(statePath);
  let repairs: ReportedRepair[];
  try {
    repairs = hasWorkOrders(db) ? (db.prepare(SELECT).all(-Number.MAX_VALUE, Number.MAX_VALUE) as Row[]).map(toRepair) : [];
  } finally {
    db.close();
  }
  return { reportedBetween: (fromTs, toTs) => repairs.filter((r) => r.reportedTs > fromTs && r.reportedTs <= toTs) };
}
