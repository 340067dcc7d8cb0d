import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DeadLetterStore, type DeadLetter } from './dead-letters.ts';

let db: Database.Database | undefined;
afterEach(() => { db?.close(); db = undefined; });

const letter = (source: string, i: number, rawBytes = 1000): DeadLetter =>
  ({ at: i, source, origin: `t/${i}`, field: 'payload', reason: 'payload: not JSON', raw: 'x'.repeat(rawBytes) });

describe('dead letters', () => {
  it('are capped in bytes per source: a flooding source stops at its cap, with a condition, and the others are still kept', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aw-dlcap-')), 'dl.sqlite');
    db = new Database(path);
    const events: { source: string; state: string; dropped: number }[] = [];
    const store = new DeadLetterStore(db, {
      maxBytesPerSource: 50_000,
      onCapped: (source, state, evidence) => events.push({ source, state, dropped: evidence.dropped }),
    });
    for (let i = 0; i < 200; i++) store.add(letter('flood', i));
    store.addMany(Array.from({ length: 10 }, (_, i) => letter('quiet', i)));
    const bytesOf = (source: string) => (db!.prepare('SELECT SUM(length(raw) + length(reason) + length(origin)) AS n FROM dead_letters WHERE source = ?').get(source) as { n: number }).n;
    expect(bytesOf('flood')).toBeLessThanOrEqual(50_000);
    expect(bytesOf('flood')).toBeGreaterThan(45_000);
    expect(store.list({ source: 'quiet', limit: 100 })).toHaveLength(10);
    expect(store.dropped('flood')).toBeGreaterThan(150);
    expect(events).toEqual([{ source: 'flood', state: 'raise', dropped: 1 }]);

    // After a restart the bytes already stored still count.
    const again = new DeadLetterStore(db, { maxBytesPerSource: 50_000, onCapped: (source, state) => events.push({ source, state, dropped: 0 }) });
    again.add(letter('flood', 999));
    expect(again.list({ source: 'flood', limit: 1 })[0].at).not.toBe(999);
  });
});
