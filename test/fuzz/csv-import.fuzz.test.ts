/**
 * Whole-file CSV import (importCsv) under hostile files (issue #11 §6): any text is read to the
 * end or refused with an ImportError, within a bounded time per line and bounded memory; well-
 * formed rows among broken ones are stored exactly, and every broken cell or row is dead-lettered
 * with its line and reason. A real SQLite store in a temporary folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topologySchema } from '../../core/config/schema.ts';
import { Topology } from '../../core/topology/topology.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';
import { ReadingValidator } from '../../ingest/pipeline/validate.ts';
import { importCsv, ImportError, type ImportRejection } from '../../ingest/sources/csv/import.ts';
import { parseMapping } from '../../ingest/sources/csv/mapping.ts';

/**
 * The bound per line of a file, as for every other parser of the suite (decoders.fuzz.test.ts); a
 * line longer than 64 KiB counts as one line per 64 KiB (reading a file is linear in its bytes).
 */
const MAX_MS_PER_LINE = 100;
const BYTES_PER_LINE_UNIT = 64 * 1024;
const RUNS = 40;
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);

const topology = new Topology(topologySchema.parse({
  sites: [{ id: 'S' }], dmas: [{ id: 'D' }],
  sensors: [
    { id: 'P-1', kind: 'pressure', site: 'S', dma: 'D' },
    { id: 'F-1', kind: 'flow', site: 'S', dma: 'D' },
    { id: 'CL-1', kind: 'chlorine', site: 'S', dma: 'D' },
  ],
}));
const SENSORS = [['P-1', 'pressure'], ['F-1', 'flow'], ['CL-1', 'chlorine']] as const;
const mapping = parseMapping({
  timestamp: { column: 'time', format: 'iso' },
  columns: { 'P-1': { sensor: 'P-1' }, 'F-1': { sensor: 'F-1' }, 'CL-1': { sensor: 'CL-1' } },
});
const validator = new ReadingValidator(topology, { maxFutureMs: 5 * 60_000, now: () => Date.UTC(2026, 11, 1) });

/** Text of any kind, with the long digit runs that trip a backtracking number regex. */
const hostileCell = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer({ min: 1, max: 5000 }).map((n) => `${'9'.repeat(n)}x`),
  fc.constantFrom('', ' ', 'NaN', 'Infinity', '-0', '1e999', '0x10', '١٢٣', '\u0000', '"', '""', '"a', ',', '\r', '\n', '\uFEFF'),
);
const hostileLine = fc.oneof(
  fc.array(hostileCell, { maxLength: 8 }).map((cells) => cells.join(',')),
  fc.string({ maxLength: 300 }),
);
/** Cells that cannot change how the rest of the file splits (no quote, delimiter or line break). */
const inertCell = hostileCell.filter((c) => !/[",\r\n]/.test(c));
/** A well-formed value of each sensor, within its physical range, written as a file would. */
const goodValues = fc.tuple(
  fc.integer({ min: 0, max: 999 }).map((n) => n / 100), // pressure, MPa
  fc.integer({ min: -50_000, max: 50_000 }).map((n) => n / 10), // flow
  fc.integer({ min: 0, max: 400 }).map((n) => n / 100), // chlorine
);

let dir: string;
let store: SqliteStore;
let files = 0;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aw-fuzz-csv-'));
  store = new SqliteStore(join(dir, 'tsdb.sqlite'));
  await store.init();
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Import `text` as a file, timed per line (or 64 KiB); an ImportError is an answer, anything else thrown is a crash. */
async function importText(text: string): Promise<{ rejected: ImportRejection[]; readings?: number; refused?: string }> {
  const file = join(dir, `f${++files}.csv`);
  writeFileSync(file, text);
  const rejected: ImportRejection[] = [];
  const lines = Math.max(text.split('\n').length, Math.ceil(text.length / BYTES_PER_LINE_UNIT));
  const t0 = performance.now();
  let out: { rejected: ImportRejection[]; readings?: number; refused?: string };
  try {
    const s = await importCsv({ file, mapping, store, validator, topology, batchSize: 500, deadLetter: (r) => rejected.push(r) });
    out = { rejected, readings: s.readings };
  } catch (e) {
    if (!(e instanceof ImportError)) throw e;
    expect(e.message.length).toBeGreaterThan(file.length + 2);
    out = { rejected, refused: e.message };
  } finally {
    rmSync(file, { force: true });
  }
  const ms = (performance.now() - t0) / lines;
  if (ms > MAX_MS_PER_LINE) throw new Error(`${ms.toFixed(1)} ms per line (bound ${MAX_MS_PER_LINE} ms)`);
  for (const r of rejected) {
    expect(r.line).toBeGreaterThan(0);
    expect(r.reason.length).toBeGreaterThan(0);
  }
  return out;
}

describe('CSV import of whole files', () => {
  it('any file: imported to the end or refused with an ImportError, never a crash, in bounded time per line', async () => {
    await fc.assert(fc.asyncProperty(
      fc.boolean(), fc.array(hostileLine, { maxLength: 40 }), fc.constantFrom('\n', '\r\n'),
      async (withHeader, lines, eol) => {
        await importText([...(withHeader ? ['time,P-1,F-1,CL-1'] : []), ...lines].join(eol));
      },
    ), { numRuns: RUNS });
  }, 60_000);

  it('well-formed rows among rows of broken cells: every good value stored exactly, every broken cell dead-lettered with its line', async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.oneof(goodValues.map((v) => ({ good: v })), fc.tuple(inertCell, inertCell, inertCell).map((c) => ({ bad: c }))), { minLength: 1, maxLength: 40 }),
      async (rows) => {
        const base = T0 + (run++) * DAY;
        const text = ['time,P-1,F-1,CL-1', ...rows.map((r, i) => {
          const time = new Date(base + i * 60_000).toISOString();
          return 'good' in r ? `${time},${r.good.join(',')}` : `${time},${r.bad.join(',')}`;
        })].join('\n');
        const { rejected } = await importText(text);
        const stored = await Promise.all(SENSORS.map(async ([sensor, measurement]) => new Map(
          ((await store.query({ measurement, sensors: [sensor], from: base, to: base + DAY })).get(sensor) ?? []).map((v) => [v.ts, v.value]))));
        rows.forEach((r, i) => {
          if (!('good' in r)) return;
          SENSORS.forEach((_, k) => expect(stored[k].get(base + i * 60_000)).toBe(r.good[k]));
        });
        // A good row is never blamed; each rejection is on a line of a broken row (line 1 is the header).
        const badLines = new Set(rows.flatMap((r, i) => ('bad' in r ? [i + 2] : [])));
        for (const rj of rejected) expect(badLines.has(rj.line)).toBe(true);
      },
    ), { numRuns: RUNS });
  }, 60_000);

  it('an unclosed quote before 8 MiB of text: one dead letter for its line, in bounded time and memory', async () => {
    const good = `${new Date(T0 - 2 * DAY).toISOString()},0.3,1,0.5`;
    // By CSV's rules the quote runs to the end of the file: the rows after it are part of that record.
    const text = ['time,P-1,F-1,CL-1', good, `${new Date(T0 - 2 * DAY + 60_000).toISOString()},"0.3${'x'.repeat(8 << 20)}`, good].join('\n');
    const heapBefore = process.memoryUsage().heapUsed;
    const { rejected, readings } = await importText(text);
    const grown = process.memoryUsage().heapUsed - heapBefore;
    expect(rejected).toEqual([{ line: 3, field: 'row', reason: expect.stringMatching(/^not valid CSV: Max Record Size/) }]);
    expect(readings).toBe(3);
    // The parser's record bound (1 MiB) caps what one row may hold, whatever the file has.
    expect(grown).toBeLessThan(64 << 20);
  }, 60_000);
});
