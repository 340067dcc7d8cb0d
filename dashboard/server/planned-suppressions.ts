/**
 * A planned outage suppresses, in its areas and for its window, the alarms it will cause: low and
 * falling pressure and the outage warnings (the register does not do this itself). The outage
 * alarm itself stays (it is raised as planned, low priority), and so do quality alarms: water
 * coming back after works is exactly when quality needs watching.
 *
 * Which alarm-manager suppressions belong to which planned outage is kept in the state database,
 * so an edit or a delete ends exactly those; outages entered while analytics was not running yet
 * get theirs when it starts (`syncAll`).
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { AnalyticsService } from '../../analytics/service.ts';
import type { OutageRegister } from '../../analytics/outages/register.ts';

export const SUPPRESSED_TYPES = ['pressure*', 'outage_warning'];

export class PlannedOutageSuppressions {
  constructor(private readonly db: Database.Database, private readonly o: {
    analytics: () => AnalyticsService | undefined; register: () => OutageRegister; log: Logger;
  }) {
    db.exec(`CREATE TABLE IF NOT EXISTS planned_outage_suppressions (
      outage_id TEXT NOT NULL, suppression_id INTEGER NOT NULL, dma TEXT NOT NULL, from_ts INTEGER NOT NULL, to_ts INTEGER NOT NULL,
      PRIMARY KEY (outage_id, suppression_id))`);
  }

  /** Make the suppressions of planned outage `id` match it (created, changed or deleted). */
  sync(id: string): void {
    const a = this.o.analytics();
    if (!a) return; // done by syncAll when analytics starts
    const outage = this.o.register().getPlanned(id);
    const rows = this.db.prepare('SELECT suppression_id AS sid, dma, from_ts AS "from", to_ts AS "to" FROM planned_outage_suppressions WHERE outage_id = ?')
      .all(id) as { sid: number; dma: string; from: number; to: number }[];
    const wanted = outage ? outage.dmas.map((dma) => ({ dma, from: outage.start, to: outage.end })) : [];
    const same = rows.length === wanted.length && wanted.every((w) => rows.some((r) => r.dma === w.dma && r.from === w.from && r.to === w.to));
    if (same) return;
    for (const r of rows) a.alarms.endSuppression(r.sid);
    this.db.prepare('DELETE FROM planned_outage_suppressions WHERE outage_id = ?').run(id);
    if (!outage) return;
    const insert = this.db.prepare('INSERT INTO planned_outage_suppressions (outage_id, suppression_id, dma, from_ts, to_ts) VALUES (?, ?, ?, ?, ?)');
    for (const w of wanted) {
      const sid = a.alarms.suppressArea(w.dma, w.from, w.to, `planned outage ${outage.id}: ${outage.reason || outage.cause}`, { types: SUPPRESSED_TYPES });
      insert.run(outage.id, sid, w.dma, w.from, w.to);
    }
    this.o.log.info({ outage: id, dmas: outage.dmas }, 'alarms suppressed for a planned outage');
  }

  /** Every planned outage not yet over, and the suppressions of deleted ones. */
  syncAll(): void {
    const a = this.o.analytics();
    if (!a) return;
    const now = Number.isFinite(a.alarms.eventTime) ? a.alarms.eventTime : Date.now();
    const ids = new Set(this.o.register().listPlanned(now, Infinity).map((p) => p.id));
    for (const r of this.db.prepare('SELECT DISTINCT outage_id AS id FROM planned_outage_suppressions').all() as { id: string }[]) ids.add(r.id);
    for (const id of ids) {
      try { this.sync(id); } catch (e) { this.o.log.warn({ outage: id, err: String(e) }, 'planned outage suppression failed'); }
    }
  }
}
