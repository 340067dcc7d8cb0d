import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Condition } from '../core/bus/messages/condition.ts';
import { KeptAcrossRestart } from './kept-across-restart.ts';

const death = (node: string, state: Condition['state'] = 'raise', ts = 1000): Condition => ({
  id: `sparkplug.node_death:G1/${node}`, type: 'sparkplug.node_death', state, ts, priority: 'medium', message: `node ${node}`, evidence: { bdSeq: 3 },
});
const everything = { offline: () => true, condition: () => true };

describe('KeptAcrossRestart', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
  /** A database file, opened again as a restarted ingest would. */
  const file = () => {
    const d = mkdtempSync(join(tmpdir(), 'aw-kept-'));
    dirs.push(d);
    return join(d, 'outbox.db');
  };

  it('gives a restart the sensors held offline (from their first report) and the resumable conditions raised and not cleared', () => {
    const path = file();
    const db = new Database(path);
    const kept = new KeptAcrossRestart(db);
    kept.status('spb', ['F1', 'P1', 'L1'], 'offline', 1000);
    kept.status('spb', ['F1'], 'offline', 2000); // still offline: since stays 1000
    kept.status('spb', ['L1'], 'online', 3000);
    kept.status('opc', ['T1'], 'offline', 1500);
    kept.condition(death('N1'), true);
    kept.condition(death('N2'), true);
    kept.condition(death('N2', 'clear', 4000), false);
    kept.condition({ id: 'opcua.session_lost:opc', type: 'opcua.session_lost', state: 'raise', ts: 1500, message: 'no session' }, false);
    db.close();

    const again = new KeptAcrossRestart(new Database(path));
    const taken = again.takeUp(everything);
    expect(taken.offline.map((o) => `${o.source} ${o.sensor} ${o.since}`).sort()).toEqual(['opc T1 1500', 'spb F1 1000', 'spb P1 1000']);
    expect(taken.conditions).toEqual([death('N1')]);
    expect(taken.unreadable).toBe(0);
  });

  it('forgets at the restart what is no longer wanted (a source or sensor gone from the configuration) and rows that do not read as conditions', () => {
    const path = file();
    const db = new Database(path);
    const kept = new KeptAcrossRestart(db);
    kept.status('spb', ['F1', 'GONE'], 'offline', 1000);
    kept.status('removed-source', ['P1'], 'offline', 1000);
    kept.condition(death('N1'), true);
    kept.condition(death('N9'), true);
    db.prepare('INSERT INTO kept_conditions (id, condition) VALUES (?, ?)').run('sparkplug.node_death:G1/N3', '{"id":"sparkplug.node_death:G1/N3","type":');
    db.close();

    const db2 = new Database(path);
    const first = new KeptAcrossRestart(db2).takeUp({
      offline: (o) => o.source === 'spb' && o.sensor !== 'GONE',
      condition: (c) => c.id.endsWith('/N1'),
    });
    expect(first.offline.map((o) => o.sensor)).toEqual(['F1']);
    expect(first.conditions.map((c) => c.id)).toEqual(['sparkplug.node_death:G1/N1']);
    expect(first.unreadable).toBe(1);
    db2.close();
    // what was forgotten stays forgotten
    const second = new KeptAcrossRestart(new Database(path)).takeUp(everything);
    expect(second.offline.map((o) => o.sensor)).toEqual(['F1']);
    expect(second.conditions.map((c) => c.id)).toEqual(['sparkplug.node_death:G1/N1']);
    expect(second.unreadable).toBe(0);
  });

  it('a condition kept once and later raised as not resumable, or cleared, is no longer kept', () => {
    const db = new Database(':memory:');
    const kept = new KeptAcrossRestart(db);
    kept.condition(death('N1'), true);
    kept.condition(death('N1', 'update', 2000), false);
    kept.condition(death('N2'), true);
    kept.condition(death('N2', 'clear', 3000), true); // a clear is never kept, whatever the source says
    expect(kept.takeUp(everything).conditions).toEqual([]);
  });
});
