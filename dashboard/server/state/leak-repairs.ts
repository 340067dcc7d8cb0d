/**
 * Leak repairs the flow confirmed (issue #12.4), in the server's state database: a leak alarm
 * (`leak_trend`, `abrupt_leak`, night-flow's `new_leak`) that cleared because the night flow fell,
 * with the drop, its date and the work order opened from the alarm, if one was (none is recorded as
 * none). Written by leak-repairs.ts (the dashboard's link of alarms to work orders), read by the
 * alarm and maintenance views, the live alarm message and the crew's work-order page.
 */
import Database from 'better-sqlite3';
import { closeStateDb, storeDb } from '../../../core/state/state-db.ts';
import type { AcceptableLeakType } from '../../../core/messages/alarm-texts.ts';

/**
 * Where a repair's `nightDropM3h` comes from: `night_drop`, the drop the detector measured and sent
 * with its clear (leak-change's `nightDropM3h`); `last_leak_flow`, the leak flow the alarm last
 * measured, when the clear gives no drop (night-flow's `new_leak`, or a clear from before the drop
 * reached the alarm's history).
 */
export const REPAIR_DROP_SOURCES = ['night_drop', 'last_leak_flow'] as const;
export type RepairDropSource = (typeof REPAIR_DROP_SOURCES)[number];

export interface LeakRepair {
  alarmId: string;
  type: AcceptableLeakType;
  dma: string;
  /** Event time the alarm cleared on the lower flow. */
  seenTs: number;
  /** How much the night flow fell, m³/h (see `dropSource`). */
  nightDropM3h: number;
  dropSource: RepairDropSource;
  /** When the detector dates the repair (abrupt leak: the downward step's start; slow leak: the first night at the lower level); absent without a measured drop. */
  repairedTs?: number;
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

/** Columns added after the table first shipped: rows from before them all hold the alarm's last leak flow. */
const ADDED_COLUMNS: [string, string][] = [['drop_source', "TEXT NOT NULL DEFAULT 'last_leak_flow'"], ['repaired_ts', 'INTEGER']];

interface Row {
  alarm_id: string; type: string; dma: string; seen_ts: number; night_drop_m3h: number; drop_source: string; repaired_ts: number | null; work_order_id: string | null;
}

export class LeakRepairStore {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;

  constructor(db: string | Database.Database) {
    ({ db: this.db, ownsDb: this.ownsDb } = storeDb(db, TABLES));
    const have = new Set((this.db.pragma('table_info(leak_repairs)') as { name: string }[]).map((c) => c.name));
    for (const [name, type] of ADDED_COLUMNS) if (!have.has(name)) this.db.exec(`ALTER TABLE leak_repairs ADD COLUMN ${name} ${type}`);
  }

  /** One repair per alarm: an alarm clears once. */
  record(r: LeakRepair): void {
    this.db.prepare(`INSERT OR REPLACE INTO leak_repairs (alarm_id, type, dma, seen_ts, night_drop_m3h, drop_source, repaired_ts, work_order_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(r.alarmId, r.type, r.dma, r.seenTs, r.nightDropM3h, r.dropSource, r.repairedTs ?? null, r.workOrderId ?? null);
  }

  /** Newest first; of one alarm or one work order when given. */
  list(q: { alarmId?: string; workOrderId?: string } = {}): LeakRepair[] {
    const rows = this.db.prepare(`SELECT * FROM leak_repairs WHERE (@alarmId IS NULL OR alarm_id = @alarmId)
      AND (@workOrderId IS NULL OR work_order_id = @workOrderId) ORDER BY seen_ts DESC, alarm_id`)
      .all({ alarmId: q.alarmId ?? null, workOrderId: q.workOrderId ?? null }) as Row[];
    return rows.map((r) => ({
      alarmId: r.alarm_id, type: r.type as AcceptableLeakType, dma: r.dma, seenTs: r.seen_ts, nightDropM3h: r.night_drop_m3h,
      dropSource: r.drop_source as RepairDropSource,
      ...(r.repaired_ts !== null ? { repairedTs: r.repaired_ts } : {}),
      ...(r.work_order_id !== null ? { workOrderId: r.work_order_id } : {}),
    }));
  }

  /** The repair of one alarm, if it cleared as one. */
  ofAlarm(alarmId: string): LeakRepair | undefined {
    return this.list({ alarmId })[0];
  }

  close(): void {
    if (this.ownsDb) closeStateDb(this.db);
  }
}
