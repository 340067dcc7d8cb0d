/**
 * What ingest's sources have said is gone, kept in the ingest database across a restart of ingest:
 * the sensors each source holds offline, and the conditions that only a later message of the
 * source's own device ends (a Sparkplug node's death, until its birth).
 *
 * Without it a restarted ingest believed every node alive: its retained lists on the bus (offline
 * sensors, active conditions) came back empty, and the analytics, catching up on them, cleared a
 * still-dead node's death alarm and its sensors' offline alarms. Conditions a restarted source finds
 * again by itself (a session it cannot open, a store that is down) are not kept: the source decides
 * (Source.resumes), at each raise and again at the restart.
 */
import type Database from 'better-sqlite3';
import { busConditionSchema, type Condition } from '../core/bus/messages/condition.ts';

export interface KeptOfflineSensor { source: string; sensor: string; since: number }

export class KeptAcrossRestart {
  private readonly addOffline: Database.Statement;
  private readonly removeOffline: Database.Statement;
  private readonly putCondition: Database.Statement;
  private readonly deleteCondition: Database.Statement;
  /** Ids of the conditions kept now (a clear of any other costs no write). */
  private readonly conditionIds = new Set<string>();

  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS kept_offline_sensors (
      source TEXT NOT NULL, sensor TEXT NOT NULL, since INTEGER NOT NULL, PRIMARY KEY (source, sensor)) WITHOUT ROWID`);
    db.exec('CREATE TABLE IF NOT EXISTS kept_conditions (id TEXT PRIMARY KEY, condition TEXT NOT NULL) WITHOUT ROWID');
    // (the earliest report stands while the sensor stays offline, as in OfflineSensorsBySource)
    this.addOffline = db.prepare('INSERT OR IGNORE INTO kept_offline_sensors (source, sensor, since) VALUES (?, ?, ?)');
    this.removeOffline = db.prepare('DELETE FROM kept_offline_sensors WHERE source = ? AND sensor = ?');
    this.putCondition = db.prepare('INSERT OR REPLACE INTO kept_conditions (id, condition) VALUES (?, ?)');
    this.deleteCondition = db.prepare('DELETE FROM kept_conditions WHERE id = ?');
    for (const r of db.prepare('SELECT id FROM kept_conditions').all() as { id: string }[]) this.conditionIds.add(r.id);
  }

  /** A source's status message (one transaction). */
  status(source: string, sensors: readonly string[], status: 'online' | 'offline', ts: number): void {
    if (!sensors.length) return;
    this.db.transaction(() => {
      for (const sensor of sensors) {
        if (status === 'offline') this.addOffline.run(source, sensor, ts);
        else this.removeOffline.run(source, sensor);
      }
    })();
  }

  /** A condition of a source: kept when `resumable` (its source says a restart would not find it again), forgotten at its clear. */
  condition(c: Condition, resumable: boolean): void {
    if (c.state !== 'clear' && resumable) {
      this.putCondition.run(c.id, JSON.stringify(c));
      this.conditionIds.add(c.id);
    } else if (this.conditionIds.delete(c.id)) {
      this.deleteCondition.run(c.id);
    }
  }

  /**
   * At the restart: what was kept and is still wanted (`wanted`), the rest forgotten. A row that no
   * longer reads as a condition (a torn write, a format of another version) is forgotten too, and counted.
   */
  takeUp(wanted: { offline(o: KeptOfflineSensor): boolean; condition(c: Condition): boolean }): { offline: KeptOfflineSensor[]; conditions: Condition[]; unreadable: number } {
    const offline: KeptOfflineSensor[] = [];
    const conditions: Condition[] = [];
    let unreadable = 0;
    this.db.transaction(() => {
      for (const o of this.db.prepare('SELECT source, sensor, since FROM kept_offline_sensors').all() as KeptOfflineSensor[]) {
        if (wanted.offline(o)) offline.push(o);
        else this.removeOffline.run(o.source, o.sensor);
      }
      for (const r of this.db.prepare('SELECT id, condition FROM kept_conditions').all() as { id: string; condition: string }[]) {
        const c = readCondition(r.condition);
        if (c === undefined) unreadable++;
        if (c !== undefined && c.id === r.id && c.state !== 'clear' && wanted.condition(c)) conditions.push(c);
        else {
          this.deleteCondition.run(r.id);
          this.conditionIds.delete(r.id);
        }
      }
    })();
    return { offline, conditions, unreadable };
  }
}

function readCondition(text: string): Condition | undefined {
  try {
    const c = busConditionSchema.safeParse(JSON.parse(text));
    return c.success ? c.data : undefined;
  } catch {
    return undefined;
  }
}
