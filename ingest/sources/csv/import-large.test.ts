/**
 * A generated file of 1,000,000 rows (two sensors, minute data, local time in Asia/Shanghai)
 * streams into a real SQLite store. Only correctness is asserted; the rate is printed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology } from '../../../core/topology/topology.ts';
import { topologySchema } from '../../../core/config/schema.ts';
import { SqliteStore } from '../../../core/tsdb/sqlite.ts';
import { ReadingValidator } from '../../pipeline/validate.ts';
import { importCsv } from './import.ts';
import { parseMapping } from './mapping.ts';

const ROWS = 1_000_000;
const START = Date.UTC(2023, 0, 1) - 8 * 3_600_000; // 2023-01-01 00:00 in Shanghai
const MIN = 60_000;

const flowAt = (i: number) => (i % 1000) / 4;     // m³/h, exact in binary
const levelAt = (i: number) => (i % 500) / 100;   // m

async function generate(file: string): Promise<void> {
  const out = createWriteStream(file);
  const pad = (n: number) => String(n).padStart(2, '0');
  out.write('timestamp,inlet flow,tank level\n');
  const CHUNK = 10_000;
  for (let i = 0; i < ROWS; i += CHUNK) {
    let text = '';
    for (let j = i; j < Math.min(i + CHUNK, ROWS); j++) {
      const local = new Date(START + 8 * 3_600_000 + j * MIN); // wall clock in Shanghai, read as UTC fields
      text += `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:00,${flowAt(j)},${levelAt(j)}\n`;
    }
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

describe('CSV import of a large file', () => {
  let dir: string;
  let store: SqliteStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aw-csv-large-'));
    store = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await store.init();
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams 1,000,000 rows into the store, every value in place', async () => {
    const file = join(dir, 'big.csv');
    await generate(file);
    const topology = new Topology(topologySchema.parse({
      sites: [{ id: 'plant' }],
      sensors: [{ id: 'big-flow', kind: 'flow', site: 'plant' }, { id: 'big-level', kind: 'level', site: 'plant' }],
    }));
    const validator = new ReadingValidator(topology, { maxFutureMs: 5 * MIN, now: () => Date.UTC(2026, 0, 1) });
    const mapping = parseMapping({
      timestamp: { column: 'timestamp', format: 'YYYY-MM-DD HH:mm:ss', timeZone: 'Asia/Shanghai' },
      columns: { 'inlet flow': { sensor: 'big-flow' }, 'tank level': { sensor: 'big-level' } },
    });
    let progressCalls = 0;
    const summary = await importCsv({ file, mapping, store, validator, topology, batchSize: 10_000, onProgress: () => { progressCalls++; } });
    const mb = statSync(file).size / 1e6;
    console.log(`imported ${ROWS.toLocaleString('en-US')} rows (${mb.toFixed(0)} MB, ${summary.readings.toLocaleString('en-US')} readings) `
      + `in ${summary.seconds.toFixed(2)} s: ${Math.round(ROWS / summary.seconds).toLocaleString('en-US')} rows/s, `
      + `${Math.round(summary.readings / summary.seconds).toLocaleString('en-US')} readings/s`);

    expect(summary).toMatchObject({ rows: ROWS, readings: 2 * ROWS, rejected: 0, gaps: 0, firstTs: START, lastTs: START + (ROWS - 1) * MIN });
    expect(progressCalls).toBeGreaterThan(100);
    const range = { from: START, to: START + ROWS * MIN };
    const count = await store.query({ measurement: 'flow', sensors: ['big-flow'], ...range, aggregate: 'count' });
    expect(count.get('big-flow')).toEqual([{ ts: START, value: ROWS }]);
    const sum = await store.query({ measurement: 'flow', sensors: ['big-flow'], ...range, aggregate: 'sum' });
    let expectedSum = 0;
    for (let i = 0; i < ROWS; i++) expectedSum += flowAt(i);
    expect(sum.get('big-flow')![0].value).toBe(expectedSum);
    const levels = await store.query({ measurement: 'level', sensors: ['big-level'], ...range, aggregate: 'count' });
    expect(levels.get('big-level')).toEqual([{ ts: START, value: ROWS }]);
    // spot checks: first, a middle and the last row land at their minute with their values
    for (const i of [0, 123_457, ROWS - 1]) {
      const r = await store.query({ measurement: 'level', sensors: ['big-level'], from: START + i * MIN, to: START + i * MIN + 1 });
      expect(r.get('big-level')).toEqual([{ ts: START + i * MIN, value: levelAt(i), quality: 'good' }]);
    }
  }, 120_000);
});
