import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Topology } from '../../../core/topology/topology.ts';
import { topologySchema } from '../../../core/config/schema.ts';
import { SqliteStore } from '../../../core/tsdb/sqlite.ts';
import { ReadingValidator } from '../../pipeline/validate.ts';
import { importCsv, ImportError, type ImportRejection } from './import.ts';
import { loadMapping, parseMapping, MappingError } from './mapping.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const BWDF_MAPPING = join(FIXTURES, 'bwdf.yaml');
const HOUR = 3_600_000;

/*
 * CSV files in the layout of the BWDF InflowData.csv (which the mapping fixtures/bwdf.yaml reads): a
 * header, `DD/MM/YYYY HH:mm` in Italian local time, one column per DMA in L/s, `NaN` for a gap, CRLF
 * line ends. The values are this test's own: the reference data are never copied into the project.
 */
const BWDF_HEADER = ['Date-time CET-CEST (DD/MM/YYYY HH:mm)', ...Array.from({ length: 10 }, (_, i) => `DMA ${i + 1} (L/s)`)].join(',');
type InflowRow = [localTime: string, litresPerSecond: (number | null)[]];
const inflowCsv = (rows: InflowRow[]) =>
  [BWDF_HEADER, ...rows.map(([t, vs]) => [t, ...vs.map((v) => (v === null ? 'NaN' : String(v)))].join(','))].join('\r\n') + '\r\n';
const pad = (n: number) => String(n).padStart(2, '0');
/** DMA d's inflow on row `row` (multiples of 1/8: exact in binary, so the checks can be exact too). */
const inflow = (d: number, row: number) => d + (row % 24) / 8;

/** 199 hourly rows from 01/01/2021 00:00 CET; DMA 6 and 9 are gaps all along, DMA 3 on row 100 only. */
const HEAD_ROWS = 199;
function headRows(): InflowRow[] {
  return Array.from({ length: HEAD_ROWS }, (_, row) => {
    const local = new Date(Date.UTC(2021, 0, 1) + row * HOUR); // CET all along: the wall clock as UTC fields
    const time = `${pad(local.getUTCDate())}/${pad(local.getUTCMonth() + 1)}/${local.getUTCFullYear()} ${pad(local.getUTCHours())}:00`;
    return [time, Array.from({ length: 10 }, (_, i) => (i + 1 === 6 || i + 1 === 9 || (i + 1 === 3 && row === 100) ? null : inflow(i + 1, row)))];
  });
}

/**
 * The two days the clocks change in 2021, written as the BWDF file writes them: 28/03 has no 02:00 row
 * (the hour is skipped), 31/10 has 02:00 twice (first CEST, then CET). Row k of a day carries inflow(d, k).
 */
function dstRows(): InflowRow[] {
  const day = (date: string, hours: number[]): InflowRow[] =>
    hours.map((h, k) => [`${date} ${pad(h)}:00`, Array.from({ length: 10 }, (_, i) => inflow(i + 1, k))]);
  const hours = Array.from({ length: 24 }, (_, h) => h);
  return [
    ...day('28/03/2021', hours.filter((h) => h !== 2)),
    ...day('31/10/2021', [0, 1, 2, ...hours.slice(2)]),
  ];
}

let samples: string;
let HEAD_CSV: string;
let DST_CSV: string;
beforeAll(() => {
  samples = mkdtempSync(join(tmpdir(), 'aw-csv-samples-'));
  HEAD_CSV = join(samples, 'inflow-head.csv');
  DST_CSV = join(samples, 'inflow-dst.csv');
  writeFileSync(HEAD_CSV, inflowCsv(headRows()));
  writeFileSync(DST_CSV, inflowCsv(dstRows()));
});
afterAll(() => rmSync(samples, { recursive: true, force: true }));

const topologyConfig = topologySchema.parse({
  sites: [{ id: 'bwdf' }, { id: 'plant-a' }],
  dmas: Array.from({ length: 10 }, (_, i) => ({ id: `bwdf-dma${i + 1}` })),
  sensors: [
    ...Array.from({ length: 10 }, (_, i) => ({ id: `bwdf-dma${i + 1}-inflow`, kind: 'flow', site: 'bwdf', dma: `bwdf-dma${i + 1}`, place: 'inlet' })),
    { id: 'pa-pressure', kind: 'pressure', site: 'plant-a' },
    { id: 'pa-flow', kind: 'flow', site: 'plant-a' },
    { id: 'pa-level', kind: 'level', site: 'plant-a' },
  ],
});
const topology = new Topology(topologyConfig);
const validator = new ReadingValidator(topology, { maxFutureMs: 5 * 60_000, now: () => Date.UTC(2026, 0, 1) });

/** Non-NaN cells of a wide fixture, counted by plain string splitting (independent of the importer). */
function countCells(file: string): { values: number; gaps: number; rows: number } {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean).slice(1);
  let values = 0;
  let gaps = 0;
  for (const l of lines) for (const c of l.split(',').slice(1)) (c === 'NaN' ? gaps++ : values++);
  return { values, gaps, rows: lines.length };
}

describe('CSV history import', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aw-csv-'));
    store = new SqliteStore(join(dir, 'tsdb.sqlite'));
    await store.init();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function count(measurement: string, sensors: string[]): Promise<number> {
    const r = await store.query({ measurement, sensors, from: 0, to: Date.UTC(2030, 0, 1), aggregate: 'count' });
    return [...r.values()].reduce((n, v) => n + (v[0]?.value ?? 0), 0);
  }
  async function series(sensor: string, measurement = 'flow') {
    return (await store.query({ measurement, sensors: [sensor], from: 0, to: Date.UTC(2030, 0, 1) })).get(sensor)!;
  }
  const write = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('imports a file in the BWDF layout (L/s → m³/h), and a second run stores nothing twice', async () => {
    const file = HEAD_CSV;
    const mapping = loadMapping(BWDF_MAPPING);
    const expected = countCells(file);
    const progress: number[] = [];
    const first = await importCsv({ file, mapping, store, validator, topology, batchSize: 300, onProgress: (p) => progress.push(p.bytesRead) });
    expect(first).toMatchObject({ rows: HEAD_ROWS, readings: expected.values, rejected: 0, gaps: expected.gaps });
    expect(first.rows).toBe(expected.rows);
    const sensors = Array.from({ length: 10 }, (_, i) => `bwdf-dma${i + 1}-inflow`);
    expect(await count('flow', sensors)).toBe(expected.values);
    expect(progress.at(-1)).toBe(readFileSync(file).length);

    const second = await importCsv({ file, mapping, store, validator, topology, batchSize: 300 });
    expect({ ...second, seconds: 0 }).toEqual({ ...first, seconds: 0 });
    expect(await count('flow', sensors)).toBe(expected.values);

    // first row: 01/01/2021 00:00 CET = 2020-12-31 23:00 UTC; L/s × 3.6 = m³/h
    const dma3 = await series('bwdf-dma3-inflow');
    expect(dma3[0].ts).toBe(Date.UTC(2020, 11, 31, 23));
    expect(dma3[0].value).toBeCloseTo(inflow(3, 0) * 3.6, 10);
    expect(dma3[1]).toMatchObject({ ts: Date.UTC(2021, 0, 1, 0), quality: 'good' });
    expect(dma3[1].value).toBeCloseTo(inflow(3, 1) * 3.6, 10);
    // DMA 6 and DMA 9 are NaN all along: gaps, nothing stored
    expect(await series('bwdf-dma6-inflow')).toEqual([]);
  });

  it('puts the daylight-saving days of a BWDF-layout file on a continuous UTC hour grid', async () => {
    const summary = await importCsv({ file: DST_CSV, mapping: loadMapping(BWDF_MAPPING), store, validator, topology });
    expect(summary.rejected).toBe(0);
    const dma1 = await series('bwdf-dma1-inflow');
    const march = dma1.filter((v) => v.ts < Date.UTC(2021, 5, 1)).map((v) => v.ts);
    const october = dma1.filter((v) => v.ts > Date.UTC(2021, 5, 1)).map((v) => v.ts);
    // 28/03/2021 00:00 CET … 23:00 CEST: 23 rows, 23 consecutive UTC hours
    expect(march).toEqual(Array.from({ length: 23 }, (_, i) => Date.UTC(2021, 2, 27, 23) + i * HOUR));
    // 31/10/2021 00:00 CEST … 23:00 CET with 02:00 twice: 25 rows, 25 consecutive UTC hours
    expect(october).toEqual(Array.from({ length: 25 }, (_, i) => Date.UTC(2021, 9, 30, 22) + i * HOUR));
    // 31/10: the first 02:00 row (row 2 of the day) is 02:00 CEST = 00:00 UTC; the second (row 3) is 02:00 CET = 01:00 UTC
    const at = (ts: number) => dma1.find((v) => v.ts === ts)!.value / 3.6;
    expect(at(Date.UTC(2021, 9, 31, 0))).toBeCloseTo(inflow(1, 2), 10);
    expect(at(Date.UTC(2021, 9, 31, 1))).toBeCloseTo(inflow(1, 3), 10);
    // 28/03: row 2 of the day is 03:00 CEST = 01:00 UTC, right after 01:00 CET = 00:00 UTC
    expect(at(Date.UTC(2021, 2, 28, 0))).toBeCloseTo(inflow(1, 1), 10);
    expect(at(Date.UTC(2021, 2, 28, 1))).toBeCloseTo(inflow(1, 2), 10);
  });

  it('reads semicolons, decimal commas, a banner line and units; refuses a nonexistent spring-forward time', async () => {
    const file = write('scada-export.csv', [
      'Export SCADA Werk A;erstellt 2021-04-01;',
      'Zeit;Druck Zone A [bar];Durchfluss [l/s];Pegel [cm]',
      '28.03.2021 01:30:00;4,25;12,5;350',
      '28.03.2021 02:30:00;4,20;12,0;351',
      '28.03.2021 03:30:00;4,1;NaN;352,5',
      '28.03.2021 04:30:00; ;13,75;-',
      '',
    ].join('\n'));
    const mapping = parseMapping({
      delimiter: ';', decimal: ',', skipLines: 1,
      timestamp: { column: 'Zeit', format: 'DD.MM.YYYY HH:mm:ss', timeZone: 'Europe/Rome' },
      columns: {
        'Druck Zone A [bar]': { sensor: 'pa-pressure', unit: 'bar' },
        'Durchfluss [l/s]': { sensor: 'pa-flow', unit: 'l/s' },
        'Pegel [cm]': { sensor: 'pa-level', unit: 'cm' },
      },
    });
    const rejected: ImportRejection[] = [];
    const s = await importCsv({ file, mapping, store, validator, topology, deadLetter: (r) => rejected.push(r) });
    expect(s).toMatchObject({ rows: 4, readings: 6, rejected: 1, gaps: 3 });
    expect(rejected).toEqual([{
      line: 4, column: 'Zeit', field: 'ts',
      reason: '2021-03-28 02:30:00 does not exist in Europe/Rome (clocks skip this hour for daylight saving time)',
    }]);
    const p = await series('pa-pressure', 'pressure');
    expect(p.map((v) => v.ts)).toEqual([Date.UTC(2021, 2, 28, 0, 30), Date.UTC(2021, 2, 28, 1, 30)]);
    expect(p[0].value).toBeCloseTo(0.425, 12); // 4,25 bar
    expect((await series('pa-flow')).map((v) => v.value)).toEqual([45, 49.5]); // 12,5 and 13,75 l/s
    expect((await series('pa-level', 'level')).map((v) => v.value)).toEqual([3.5, 3.525]);
  });

  it('dead-letters bad cells with line, column and reason, and imports the rest', async () => {
    const file = write('bad.csv', [
      'time,p,q',                              // 1
      '2021-06-01T00:00:00Z,0.31,10',          // 2 good
      '2021-06-01T01:00:00Z,abc,11',           // 3 p not a number
      '2021-06-01T02:00:00Z,50,12',            // 4 p 50 MPa outside physical range
      'yesterday,0.3,13',                      // 5 bad time
      '2021-06-01T04:00:00Z,0.32',             // 6 short row
      '2021-06-01T05:00:00Z,"0.33"x,14',       // 7 broken quoting in p
      '2021-06-01T06:00:00Z,0.34,1e9',         // 8 q out of range
      '2021-06-01T09:00:00+02:00,0.35,15',     // 9 good, explicit offset
      '2031-06-01T07:00:00Z,0.36,16',          // 10 in the future
      '2021-06-01T08:00:00Z,"0.37,17',         // 11 unclosed quote to the end of the file
    ].join('\n'));
    const mapping = parseMapping({
      timestamp: { column: 'time', format: 'iso' },
      columns: { p: { sensor: 'pa-pressure' }, q: { sensor: 'pa-flow' } },
    });
    const rejected: ImportRejection[] = [];
    const s = await importCsv({ file, mapping, store, validator, topology, deadLetter: (r) => rejected.push(r) });
    expect(rejected.map((r) => [r.line, r.column, r.field])).toEqual([
      [3, 'p', 'value'],
      [4, 'p', 'value'],
      [5, 'time', 'ts'],
      [6, 'q', 'value'],
      [7, 'p', 'value'],
      [8, 'q', 'value'],
      [10, 'p', 'ts'],
      [10, 'q', 'ts'],
      [11, undefined, 'row'],
    ]);
    expect(rejected[0].reason).toBe('"abc" is not a number (decimal mark ".")');
    expect(rejected[1].reason).toMatch(/50 MPa is outside the physical range of pressure/);
    expect(rejected[2].reason).toMatch(/"yesterday" is not an ISO 8601 time/);
    expect(rejected[3].reason).toBe('row has only 2 fields');
    expect(rejected[4].reason).toBe('"\\"0.33\\"x" is not a number (decimal mark ".")');
    expect(rejected[6].reason).toMatch(/in the future/);
    expect(rejected[8].reason).toMatch(/not valid CSV: Quote Not Closed/);
    expect(s).toMatchObject({ rows: 10, rejected: 9, readings: 9 });
    const h = (x: number) => Date.UTC(2021, 5, 1, x);
    expect((await series('pa-pressure', 'pressure')).map((v) => [v.ts, v.value])).toEqual([[h(0), 0.31], [h(4), 0.32], [h(6), 0.34], [h(7), 0.35]]);
    expect((await series('pa-flow')).map((v) => [v.ts, v.value])).toEqual([[h(0), 10], [h(1), 11], [h(2), 12], [h(5), 14], [h(7), 15]]);
  });

  it('reads a long file (sensor, time, value, unit) with epoch seconds and renamed sensors', async () => {
    const t0 = Date.UTC(2022, 0, 1) / 1000;
    const file = write('long.csv', [
      'tag,epoch,val,unit',
      `PT-101,${t0},3.1,bar`,
      `FT-7,${t0},2,l/s`,
      `FT-7,${t0 + 60},,l/s`,
      `FT-7,${t0 + 120},2.5,`,
      `XX-9,${t0},1,bar`,
      `,${t0},1,bar`,
    ].join('\n'));
    const mapping = parseMapping({
      timestamp: { column: 'epoch', format: 'epoch-s' },
      long: { sensor: 'tag', value: 'val', unitColumn: 'unit', unit: 'm3/h', sensors: { 'PT-101': 'pa-pressure', 'FT-7': 'pa-flow' } },
    });
    const rejected: ImportRejection[] = [];
    const s = await importCsv({ file, mapping, store, validator, topology, deadLetter: (r) => rejected.push(r) });
    expect(s).toMatchObject({ rows: 6, readings: 3, gaps: 1, rejected: 2 });
    expect(rejected.map((r) => [r.line, r.column, r.field, r.reason])).toEqual([
      [6, 'val', 'sensor', 'unknown sensor XX-9'],
      [7, 'tag', 'sensor', 'no sensor name'],
    ]);
    expect((await series('pa-flow')).map((v) => [v.ts, v.value])).toEqual([[t0 * 1000, 7.2], [(t0 + 120) * 1000, 2.5]]);
    expect((await series('pa-pressure', 'pressure'))[0].value).toBeCloseTo(0.31, 12);
  });

  it('in a long file, a repeated fall-back hour is taken per sensor; a third repetition is refused', async () => {
    const file = write('fallback.csv', [
      'sensor;time;value',
      'pa-flow;31/10/2021 02:30;1',
      'pa-level;31/10/2021 02:30;5',
      'pa-flow;31/10/2021 02:30;2',
      'pa-flow;31/10/2021 02:30;3',
    ].join('\n'));
    const mapping = parseMapping({
      delimiter: ';',
      timestamp: { column: 'time', format: 'DD/MM/YYYY HH:mm', timeZone: 'Europe/Rome' },
      long: { sensor: 'sensor', value: 'value' },
    });
    const rejected: ImportRejection[] = [];
    await importCsv({ file, mapping, store, validator, topology, deadLetter: (r) => rejected.push(r) });
    expect((await series('pa-flow')).map((v) => [v.ts, v.value])).toEqual([[Date.UTC(2021, 9, 31, 0, 30), 1], [Date.UTC(2021, 9, 31, 1, 30), 2]]);
    expect((await series('pa-level', 'level')).map((v) => v.ts)).toEqual([Date.UTC(2021, 9, 31, 0, 30)]);
    expect(rejected).toEqual([{ line: 5, column: 'time', field: 'ts', reason: '31/10/2021 02:30 occurs a third time for pa-flow; a fall-back hour repeats only once' }]);
  });

  it('reads a file without header by column index, with date and time in two columns', async () => {
    const file = write('noheader.csv', '2021/01/05,7:05,0.3\n2021/01/05,7:10,0.31\n');
    const mapping = parseMapping({
      header: false,
      timestamp: { columns: [0, 1], format: 'YYYY/MM/DD H:mm', timeZone: 'Asia/Shanghai' },
      columns: { 2: { sensor: 'pa-pressure' } },
    });
    const s = await importCsv({ file, mapping, store, validator, topology });
    expect(s).toMatchObject({ rows: 2, readings: 2 });
    expect((await series('pa-pressure', 'pressure')).map((v) => v.ts)).toEqual([Date.UTC(2021, 0, 4, 23, 5), Date.UTC(2021, 0, 4, 23, 10)]);
  });

  it('reads a latin1 file whose header has non-ASCII names', async () => {
    const file = join(dir, 'latin1.csv');
    writeFileSync(file, Buffer.from('Zeitstempel;Höhe Behälter (m)\n2021-01-05 07:05;3,5\n', 'latin1'));
    const mapping = parseMapping({
      delimiter: ';', decimal: ',', encoding: 'latin1',
      timestamp: { column: 'Zeitstempel', format: 'YYYY-MM-DD HH:mm', timeZone: 'UTC' },
      columns: { 'Höhe Behälter (m)': { sensor: 'pa-level' } },
    });
    expect(await importCsv({ file, mapping, store, validator, topology })).toMatchObject({ rows: 1, readings: 1, rejected: 0 });
    expect(await series('pa-level', 'level')).toEqual([{ ts: Date.UTC(2021, 0, 5, 7, 5), value: 3.5, quality: 'good' }]);
  });

  it('fails before writing when the header or the topology does not fit the mapping', async () => {
    const file = HEAD_CSV;
    const mapping = loadMapping(BWDF_MAPPING);
    const missingColumn = { ...mapping, columns: { ...mapping.columns, 'DMA 11 (L/s)': { sensor: 'pa-flow', scale: 1 } } };
    await expect(importCsv({ file, mapping: missingColumn, store, validator })).rejects.toThrow(
      /columns\.DMA 11 \(L\/s\): column "DMA 11 \(L\/s\)" is not in the header \(the header has: "Date-time CET-CEST/);
    const badSensor = { ...mapping, columns: { 'DMA 1 (L/s)': { sensor: 'nope', scale: 1 }, 'DMA 2 (L/s)': { sensor: 'pa-pressure', unit: 'L/s', scale: 1 } } };
    const e = await importCsv({ file, mapping: badSensor, store, validator, topology }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ImportError);
    expect((e as Error).message).toContain('columns.DMA 1 (L/s).sensor: unknown sensor nope');
    expect((e as Error).message).toContain('columns.DMA 2 (L/s).unit: L/s is not a unit of pressure (sensor pa-pressure)');
    await expect(importCsv({ file: join(dir, 'absent.csv'), mapping, store, validator })).rejects.toThrow(/absent\.csv: cannot read/);
    expect(await count('flow', ['bwdf-dma1-inflow', 'pa-flow'])).toBe(0);
  });
});

describe('mapping validation', () => {
  const base = { timestamp: { column: 't', format: 'iso' }, columns: { v: { sensor: 'pa-flow' } } };

  it('fills defaults', () => {
    expect(parseMapping(base)).toMatchObject({ delimiter: ',', decimal: '.', header: true, skipLines: 0, quality: 'good' });
  });

  it('names the key path and the reason', () => {
    const issues = (raw: unknown) => {
      try { parseMapping(raw, 'm.yaml'); } catch (e) { return (e as MappingError).message; }
      return 'no error';
    };
    expect(issues({ ...base, timestamp: { column: 't', format: 'DD/MM/YYYY HH:mm' } }))
      .toBe('m.yaml: timestamp.timeZone: required for the local wall-clock format "DD/MM/YYYY HH:mm" (e.g. Europe/Rome, Asia/Shanghai or UTC)');
    expect(issues({ ...base, timestamp: { column: 't', format: 'HH:mm', timeZone: 'UTC' } })).toMatch(/^m\.yaml: timestamp\.format: pattern "HH:mm" has no year/);
    expect(issues({ ...base, timestamp: { column: 't', format: 'iso', timeZone: 'Mars/Olympus' } })).toMatch(/timestamp\.timeZone: unknown time zone "Mars\/Olympus"/);
    expect(issues({ ...base, decimal: ';' })).toMatch(/^m\.yaml: decimal: /);
    expect(issues({ ...base, delimiter: ',', decimal: ',' })).toBe('m.yaml: decimal: cannot be the same as the delimiter ","');
    expect(issues({ ...base, long: { sensor: 's', value: 'v' } })).toMatch(/columns: give either columns .* or long/);
    expect(issues({ ...base, columns: { v: { sensor: 'pa-flow', scale: 'x' } } })).toMatch(/^m\.yaml: columns\.v\.scale: /);
    expect(issues({ ...base, header: false })).toMatch(/timestamp\.column: must be a 0-based column index when header is false.*columns\.v: must be a 0-based column index/);
    expect(issues({ ...base, colums: {} })).toMatch(/colums/);
  });

  it('reports an unreadable or broken YAML file with its name', () => {
    const d = mkdtempSync(join(tmpdir(), 'aw-map-'));
    writeFileSync(join(d, 'broken.yaml'), 'timestamp: [unclosed\n');
    expect(() => loadMapping(join(d, 'broken.yaml'))).toThrow(/broken\.yaml: /);
    expect(() => loadMapping(join(d, 'none.yaml'))).toThrow(/none\.yaml: cannot read/);
    rmSync(d, { recursive: true, force: true });
  });
});
