/**
 * An approved planned outage suppresses, in its areas and for its window, the alarms it will cause: low and
 * falling pressure and the outage warnings (a pending one, entered without the dispatcher's authority, nothing). The outage alarm itself stays (it is raised as planned,
 * low priority), and so do quality alarms: water coming back after works is exactly when quality
 * needs watching.
 *
 * Driven by the register's `planned-changed` event, so whoever edits the register (the dashboard,
 * the demo) only edits it. Which alarm-manager suppressions belong to which planned outage is kept
 * in the alarm manager's database, so an edit or a delete ends exactly those; `syncAll` catches up
 * at start (outages entered while analytics was down) and before a replay.
 */
import type Database from 'better-sqlite3';
import { silentLogger, type Logger } from '../../core/log.ts';
import type { AlarmManager } from '../alarms/manager.ts';
import type { OutageRegister, PlannedOutage } from './register.ts';

export const SUPPRESSED_TYPES = ['pressure*', 'outage_warning'];

export class PlannedOutageSuppressions {
  private readonly log: Logger;
  private readonly listener = (id: string) => this.syncLogged(id);

  constructor(
    private readonly db: Database.Database,
    private readonly alarms: AlarmManager,
    private readonly register: Pick<OutageRegister, 'getPlanned' | 'listPlanned'>,
    log: Logger = silentLogger,
  ) {
    this.log = log;
    db.exec(`CREATE TABLE IF NOT EXISTS planned_outage_suppressions (
      outage_id TEXT NOT NULL, suppression_id INTEGER NOT NULL, dma TEXT NOT NULL, from_ts INTEGER NOT NULL, to_ts INTEGER NOT NULL,
      PRIMARY KEY (outage_id, suppression_id))`);
  }

  /** Follow the register's edits from now on (live). */
  follow(register: Pick<OutageRegister, 'on'>): void {
    register.on('planned-changed', this.listener);
  }

  unfollow(register: Pick<OutageRegister, 'off'>): void {
    register.off('planned-changed', this.listener);
  }

  /** Make the suppressions of planned outage `id` match it (created, changed, approved, sent back to pending or deleted). */
  sync(id: string): void {
    // a pending entry suppresses nothing until a dispatcher approves it (review F18)
    const entry = this.register.getPlanned(id);
    const outage = entry?.status === 'approved' ? entry : undefined;
    const rows = this.db.prepare('SELECT suppression_id AS sid, dma, from_ts AS "from", to_ts AS "to" FROM planned_outage_suppressions WHERE outage_id = ?')
      .all(id) as { sid: number; dma: string; from: number; to: number }[];
    const wanted = outage ? outage.dmas.map((dma) => ({ dma, from: outage.start, to: outage.end })) : [];
    const same = rows.length === wanted.length && wanted.every((w) => rows.some((r) => r.dma === w.dma && r.from === w.from && r.to === w.to));
    if (same) return;
    for (const r of rows) this.alarms.endSuppression(r.sid);
    this.db.prepare('DELETE FROM planned_outage_suppressions WHERE outage_id = ?').run(id);
    if (!outage) return;
    this.suppress(outage);
  }

  /** Every planned outage not over by `since` (default the alarm manager's event time, else now), and the suppressions of deleted ones. */
  syncAll(since?: number): void {
    const now = since ?? (Number.isFinite(this.alarms.eventTime) ? this.alarms.eventTime : Date.now());
    const ids = new Set(this.register.listPlanned(now, Infinity).map((p) => p.id));
    for (const r of this.db.prepare('SELECT DISTINCT outage_id AS id FROM planned_outage_suppressions').all() as { id: string }[]) ids.add(r.id);
    for (const id of ids) this.syncLogged(id);
  }

  private syncLogged(id: string): void {
    try { this.sync(id); } catch (e) { this.log.warn({ outage: id, err: String(e) }, 'planned outage suppression failed'); }
  }

  private suppress(outage: PlannedOutage): void {
    const insert = this.db.prepare('INSERT INTO planned_outage_suppressions (outage_id, suppression_id, dma, from_ts, to_ts) VALUES (?, ?, ?, ?, ?)');
    for (const dma of outage.dmas) {
      const sid = this.alarms.suppressArea(dma, outage.start, outage.end, `planned outage ${outage.id}: ${outage.reason || outage.cause}`, { types: SUPPRESSED_TYPES });
      insert.run(outage.id, sid, dma, outage.start, outage.end);
    }
    this.log.info({ outage: outage.id, dmas: outage.dmas }, 'alarms suppressed for a planned outage');
  }
}
