/**
 * Leak repairs the flow confirmed (issue #12.4), in the server's state database: a leak alarm
 * (`leak_trend`, `abrupt_leak`, night-flow's `new_leak`) that cleared because the night flow fell,
 * with the drop and the work order opened from the alarm, if one was (none is recorded as none).
 * Written by leak-repairs.ts (the dashboard's link of alarms to work orders), read by the alarm and
 * maintenance views.
 */
import Database from 'better-sqlite3';
import { closeStateDb, storeDb } from '../../../core/state/state-db.ts';
import type { AcceptableLeakType } from '../../../core/messages/alarm-texts.ts';


export interface LeakRepair {
  alarmId: string;
  type: AcceptableLeakType;
  dma: string;
  /** Event time the alarm cleared on the lower flow. */
  seenTs: number;
  /** How much the night flow fell: the leak flow the alarm last measured, m³/h. */
  nightDropM3h: number;
  workOrderId?: string;
}

const TABLES = `
  CREATE TABLE IF NOT EXISTS leak_repairs (
    alarm_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    dma TEXT NOT NULL,
    seen_ts INTEGER NOT NULL,
    night_drop_m3h REAL NOT NULL,
    work_order_id TEXT);
  CREATE INDEX IF NOT EXISTS leak_repairs_work_order ON leak_repairs (work_order_id);`;

interface Row { alarm_id: string; type: string; dma: string; seen_ts: number; night_drop_m3h: number; work_order_id: string | null }

export class LeakRepairStore {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;

  constructor(db: string | Database.Database) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
  }

  /** One repair per alarm: an alarm clears once. */
  record(r: LeakRepair): void {
    this.db.prepare(`INSERT OR REPLACE INTO leak_repairs (alarm_id, type, dma, seen_ts, night_drop_m3h, work_order_id)
      VALUES (?, ?, ?, ?, ?, ?)`).run(r.alarmId, r.type, r.dma, r.seenTs, r.nightDropM3h, r.workOrderId ?? null);
  }

  /** Newest first; of one alarm or one work order when given. */
  list(q: { alarmId?: string; workOrderId?: string } = {}): LeakRepair[] {
    const rows = this.db.prepare(`SELECT * FROM leak_repairs WHERE (@alarmId IS NULL OR alarm_id = @alarmId)
      AND (@workOrderId IS NULL OR work_order_id = @workOrderId) ORDER BY seen_ts DESC, alarm_id`)
      .all({ alarmId: q.alarmId ?? null, workOrderId: q.workOrderId ?? null }) as Row[];
    return rows.map((r) => ({
      alarmId: r.alarm_id, type: r.type as AcceptableLeakType, dma: r.dma, seenTs: r.seen_ts, nightDropM3h: r.night_drop_m3h,
      ...(r.work_order_id !== null ? { workOrderId: r.work_order_id } : {}),
    }));
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }
}
