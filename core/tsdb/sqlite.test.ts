/**
 * The embedded store's whole-measurement `latest()` (review F24): it used to GROUP BY over the
 * measurement's whole history. Checked through SQLite's own query plan, not by timing: every access
 * to `readings` must be a primary-key seek on (measurement, sensor), never a range over the
 * measurement alone or a scan.
 */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LATEST_OF_MEASUREMENT_SQL, SqliteStore } from './sqlite.ts';

describe('F24 embedded store latest() of a whole measurement', () => {
  it('seeks each sensor by its primary key instead of reading the history, and answers the newest row of each', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aw-latest-')), 'tsdb.sqlite');
    const store = new SqliteStore(path);
    await store.init();
    const points = [];
    for (const sensor of ['a', 'b', "c'd"]) {
      for (let ts = 0; ts < 300; ts++) points.push({ measurement: 'flow', sensor, ts: ts * 1000, value: ts, quality: 'good' as const, site: 's', dma: 'd' });
    }
    points.push({ measurement: 'level', sensor: 'a', ts: 999_000, value: -1, quality: 'good' as const, site: 's', dma: 'd' });
    await store.write(points);
    await store.write([{ measurement: 'flow', sensor: 'b', ts: 299_000, value: 42, quality: 'bad', site: 's', dma: 'd' }]);
    expect((await store.latest('flow')).map((l) => [l.sensor, l.ts, l.value, l.quality])).toEqual([
      ['a', 299_000, 299, 'good'], ['b', 299_000, 42, 'bad'], ["c'd", 299_000, 299, 'good'],
    ]);
    expect(await store.latest('pressure')).toEqual([]);

    const db = new Database(path, { readonly: true });
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${LATEST_OF_MEASUREMENT_SQL}`).all({ measurement: 'flow' }) as { detail: string }[]).map((r) => r.detail);
    db.close();
    await store.close();
    const readingsAccess = plan.filter((d) => /^(SEARCH|SCAN) (readings|r)\b/.test(d));
    expect(readingsAccess.length).toBeGreaterThanOrEqual(3);
    for (const step of readingsAccess) expect(step).toMatch(/^SEARCH (readings|r) USING PRIMARY KEY \(measurement=\? AND sensor[=>]\?/);
  });
});

describe('embedded store writes in blocks of rows', () => {
  it('stores every point of a batch longer than a block, a point written twice in one batch with its last value', async () => {
    const store = new SqliteStore(':memory:');
    await store.init();
    const points = [];
    for (let ts = 0; ts < 150; ts++) points.push({ measurement: 'flow', sensor: ts % 2 ? 'a' : 'b', ts, value: ts, quality: ts % 3 ? 'good' as const : 'uncertain' as const, site: 's', dma: 'd' });
    // the same keys again, in the first block, across its boundary and in the rows after the last block
    for (const ts of [3, 63, 64, 149]) points.push({ measurement: 'flow', sensor: ts % 2 ? 'a' : 'b', ts, value: -ts, quality: 'bad' as const, site: 's', dma: 'd' });
    points.splice(10, 0, { measurement: 'flow', sensor: 'b', ts: 2, value: 0.1 + 0.2, quality: 'good', site: 's', dma: 'd' });
    await store.write(points);
    const found = await store.query({ measurement: 'flow', sensors: ['a', 'b'], from: 0, to: 1000 });
    const rows = [...found.values()].flat().sort((x, y) => x.ts - y.ts);
    expect(rows).toHaveLength(150);
    const last = new Map(points.map((p) => [p.ts, p]));
    expect(rows).toEqual([...last.values()].sort((x, y) => x.ts - y.ts).map((p) => ({ ts: p.ts, value: p.value, quality: p.quality })));
    expect(rows[2].value).toBe(0.1 + 0.2);
    await store.close();
  });
});
