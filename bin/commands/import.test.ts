import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify as toYaml } from 'yaml';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { run as importCommand } from './import.ts';

const HOUR = 3_600_000;
const ROWS = 48;
const topology = {
  sites: [{ id: 'plant-a' }],
  sensors: [{ id: 'pa-flow', kind: 'flow', site: 'plant-a' }, { id: 'pa-pressure', kind: 'pressure', site: 'plant-a' }],
};
const mapping = {
  timestamp: { column: 'time', format: 'iso' },
  columns: { flow: { sensor: 'pa-flow', unit: 'L/s' }, pressure: { sensor: 'pa-pressure', unit: 'MPa' } },
};
/** Hourly rows; the pressure is a gap on row 10 and not a number on row 20. */
function csv(): string {
  const lines = ['time,flow,pressure'];
  for (let row = 0; row < ROWS; row++) {
    const pressure = row === 10 ? 'NaN' : row === 20 ? 'broken' : String(0.3 + row / 1000);
    lines.push(`${new Date(Date.UTC(2025, 0, 1) + row * HOUR).toISOString()},${10 + row},${pressure}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('aquawatch import', () => {
  it('imports with a config file and a mapping, prints the summary, keeps rejects in a file; usage and mapping errors exit 2', async () => {
    const d = mkdtempSync(join(tmpdir(), 'aw-import-cli-'));
    try {
      const file = join(d, 'history.csv');
      writeFileSync(file, csv());
      writeFileSync(join(d, 'map.yaml'), toYaml(mapping));
      writeFileSync(join(d, 'config.yaml'), toYaml({ dataDir: join(d, 'data'), store: { type: 'sqlite', path: 'tsdb.sqlite' }, topology }));
      const stdout: string[] = [];
      const errChunks: string[] = [];
      const stderr = new Writable({ write(chunk, _enc, cb) { errChunks.push(String(chunk)); cb(); } });
      const code = await importCommand([file, '--map', join(d, 'map.yaml'), '--config', join(d, 'config.yaml'), '--json', '--rejects', join(d, 'rejects.jsonl')],
        { stdout: (l) => stdout.push(l), stderr, env: {} });
      expect(code).toBe(0);
      expect(JSON.parse(stdout[0])).toMatchObject({ rows: ROWS, readings: 2 * ROWS - 2, rejected: 1, gaps: 1 });
      // stderr is not a terminal here: the progress is a plain line, no carriage returns
      expect(errChunks.join('')).toMatch(/history\.csv 100\.0% .* rows\/s/);
      expect(errChunks.join('')).not.toContain('\r');
      const rejects = readFileSync(join(d, 'rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(rejects).toEqual([expect.objectContaining({ line: 22, column: 'pressure', field: 'value' })]);

      const s = new SqliteStore(join(d, 'data', 'tsdb.sqlite'));
      await s.init();
      const c = await s.query({ measurement: 'pressure', sensors: ['pa-pressure'], from: 0, to: Date.UTC(2030, 0, 1), aggregate: 'count' });
      expect(c.get('pa-pressure')).toEqual([{ ts: 0, value: ROWS - 2 }]);
      await s.close();

      expect(await importCommand([file], { stdout: () => undefined, stderr, env: {} })).toBe(2);
      expect(errChunks.join('')).toContain('--map MAPPING.yaml is required');
      writeFileSync(join(d, 'bad.yaml'), 'timestamp: { column: time, format: "DD/MM/YYYY" }\ncolumns: { flow: { sensor: pa-flow } }\n');
      expect(await importCommand([file, '-m', join(d, 'bad.yaml'), '-c', join(d, 'config.yaml')], { stdout: () => undefined, stderr, env: {} })).toBe(2);
      expect(errChunks.join('')).toMatch(/mapping error: .*bad\.yaml: timestamp\.timeZone: required/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
