/**
 * Import a CSV file of history (a legacy SCADA export, a utility's inflow records) into the
 * time-series store. Streams the file (never holds it in memory), checks every reading with the
 * pipeline's validator, and writes straight to the store in batches: the file itself is the durable
 * source, so there is no outbox, and re-running an import stores nothing twice because the store
 * overwrites the same series and timestamp.
 *
 * Bad cells do not stop the import: each goes to `deadLetter` with its line, column and reason.
 * Empty and NaN cells are gaps (counted, not errors).
 */
import { createReadStream, statSync } from 'node:fs';
import { Parser, type Options as CsvOptions } from 'csv-parse';
import type { Point, RawReading } from '../../../core/model/reading.ts';
import { converterFor } from '../../../core/model/units.ts';
import type { TimeSeriesStore } from '../../../core/tsdb/types.ts';
import type { Topology } from '../../../core/topology/topology.ts';
import type { ReadingValidator } from '../../pipeline/validate.ts';
import type { CsvMapping } from './mapping.ts';
import { timestampReader } from './timestamps.ts';
import { parseDecimalText } from '../common/decimal-text.ts';

export interface ImportRejection {
  /** 1-based line of the file (the line where the record ends, for a quoted multi-line cell). */
  line: number;
  /** Header name of the column, or `#<index>` without a header. */
  column?: string;
  /** The reading field at fault: `ts`, `value`, `sensor`, `unit`, or `row` for a line that is not CSV. */
  field: string;
  reason: string;
}

export interface ImportSummary {
  file: string;
  /** Data rows read (header and skipped lines excluded). */
  rows: number;
  /** Readings written to the store. */
  readings: number;
  /** Dead-lettered items: cells, or whole rows when the time or the row itself is bad. */
  rejected: number;
  /** Empty or NaN cells. */
  gaps: number;
  seconds: number;
  bytes: number;
  /** Time range of the written readings, ms. */
  firstTs?: number;
  lastTs?: number;
}

/** How far an import is, for a progress display (the command's bar: bin/commands/import-progress.ts). */
export interface ProgressState {
  bytesRead: number;
  totalBytes: number;
  rows: number;
  readings: number;
}

export interface ImportOptions {
  file: string;
  mapping: CsvMapping;
  store: TimeSeriesStore;
  validator: ReadingValidator;
  /** When given, the mapping's sensors and units are checked against it before anything is read. */
  topology?: Topology;
  /** Readings per store write. */
  batchSize?: number;
  onProgress?: (p: ProgressState) => void;
  deadLetter?: (r: ImportRejection) => void;
}

/** The file cannot be imported at all (missing column, unknown sensor): nothing was written. */
export class ImportError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ImportError';
  }
}

/** A parsed row with its line, or a line csv-parse could not read (kept in file order). */
type LineRecord = { cells: string[]; line: number; error?: undefined } | { cells?: undefined; line: number; error: string };

/**
 * csv-parse's stream, with each record's line number attached. The parser's `info.lines` is exact
 * at the moment a record is pushed (asking for `info: true` snapshots instead more than doubles the
 * parse time). A record csv-parse skips as invalid is pushed as an error in its place, so that
 * dead letters come in line order.
 */
class LineNumberedParser extends Parser {
  constructor(options: CsvOptions) {
    const self: { parser?: LineNumberedParser } = {};
    super({
      ...options,
      skip_records_with_error: true,
      on_skip: (err) => {
        self.parser?.pushError(typeof err?.lines === 'number' ? err.lines : 0, err?.message ?? 'unknown error');
        return undefined;
      },
    });
    self.parser = this;
  }

  override push(record: unknown, encoding?: BufferEncoding): boolean {
    return super.push(record === null ? null : { cells: record as string[], line: this.info.lines } satisfies LineRecord, encoding);
  }

  private lastErrorLine = -1;

  /**
   * One error per line: past max_record_size, csv-parse reports the same record again for every
   * chunk it reads (an unclosed quote before 8 MiB of text made 114 dead letters of line 2).
   */
  private pushError(line: number, message: string): void {
    if (line === this.lastErrorLine) return;
    this.lastErrorLine = line;
    super.push({ line, error: message } satisfies LineRecord);
  }
}

function numberParser(decimal: '.' | ','): (s: string) => number {
  return (s) => parseDecimalText(s, decimal);
}

interface WideColumn { index: number; name: string; sensor: string; unit?: string; scale: number }

/** Where each mapped thing is in a row, once the header (if any) is known. */
interface Plan {
  timestamp: { indices: number[]; name: string };
  wide?: WideColumn[];
  long?: {
    sensor: number; value: number; unitColumn?: number; names: Record<string, string>; unit?: string; scale: number;
    sensorName: string; valueName: string;
  };
}

function buildPlan(mapping: CsvMapping, header: string[] | undefined, file: string): Plan {
  const label = (i: number) => (header ? header[i] : `#${i}`);
  const resolve = (ref: string | number, where: string): number => {
    if (typeof ref === 'number') {
      if (header && ref >= header.length) throw new ImportError(file, `${where}: column index ${ref} is beyond the header's ${header.length} columns`);
      return ref;
    }
    const i = header!.findIndex((h) => h === ref);
    if (i >= 0) return i;
    const loose = header!.findIndex((h) => h.trim().toLowerCase() === ref.trim().toLowerCase());
    if (loose >= 0) return loose;
    throw new ImportError(file, `${where}: column ${JSON.stringify(ref)} is not in the header (the header has: ${header!.map((h) => JSON.stringify(h)).join(', ')})`);
  };
  const t = mapping.timestamp;
  const tsRefs = t.columns ?? [t.column!];
  const tsIndices = tsRefs.map((r, i) => resolve(r, t.columns ? `timestamp.columns[${i}]` : 'timestamp.column'));
  const plan: Plan = { timestamp: { indices: tsIndices, name: tsIndices.map(label).join('+') } };
  if (mapping.columns) {
    plan.wide = Object.entries(mapping.columns).map(([key, c]) => {
      const index = header ? resolve(key, `columns.${key}`) : Number(key);
      return { index, name: label(index), sensor: c.sensor, unit: c.unit, scale: c.scale };
    });
  } else {
    const l = mapping.long!;
    const value = resolve(l.value, 'long.value');
    const sensor = resolve(l.sensor, 'long.sensor');
    plan.long = {
      sensor, value,
      unitColumn: l.unitColumn === undefined ? undefined : resolve(l.unitColumn, 'long.unitColumn'),
      names: l.sensors, unit: l.unit, scale: l.scale, sensorName: label(sensor), valueName: label(value),
    };
  }
  return plan;
}

/** Fail before reading when the mapping names sensors or units the topology does not have. */
function checkAgainstTopology(mapping: CsvMapping, topology: Topology, file: string): void {
  const problems: string[] = [];
  for (const [key, c] of Object.entries(mapping.columns ?? {})) {
    const s = topology.sensors.get(c.sensor);
    if (!s) problems.push(`columns.${key}.sensor: unknown sensor ${c.sensor}`);
    else if (c.unit !== undefined && !converterFor(s.kind, c.unit)) problems.push(`columns.${key}.unit: ${c.unit} is not a unit of ${s.kind} (sensor ${s.id})`);
  }
  for (const [name, id] of Object.entries(mapping.long?.sensors ?? {})) {
    if (!topology.sensors.has(id)) problems.push(`long.sensors.${name}: unknown sensor ${id}`);
  }
  if (problems.length) throw new ImportError(file, `mapping does not fit the topology: ${problems.join('; ')}`);
}

export async function importCsv(opts: ImportOptions): Promise<ImportSummary> {
  const { file, mapping, store, validator } = opts;
  const batchSize = opts.batchSize ?? 5000;
  const started = performance.now();
  if (opts.topology) checkAgainstTopology(mapping, opts.topology, file);

  let totalBytes: number;
  try {
    totalBytes = statSync(file).size;
  } catch (e) {
    throw new ImportError(file, `cannot read: ${(e as Error).message}`);
  }

  const summary: ImportSummary = { file, rows: 0, readings: 0, rejected: 0, gaps: 0, seconds: 0, bytes: totalBytes };
  const reject = (r: ImportRejection) => {
    summary.rejected++;
    opts.deadLetter?.(r);
  };

  const csvOptions: CsvOptions = {
    delimiter: mapping.delimiter,
    quote: mapping.quote,
    encoding: mapping.encoding,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    from_line: mapping.skipLines + 1,
    // A stray quote inside a cell stays part of the cell (and fails as "not a number"): without
    // this, csv-parse loses its place after an invalid closing quote and drops the next lines.
    relax_quotes: true,
    // An unclosed quote would swallow the rest of the file into one cell; bound the damage.
    max_record_size: 1 << 20,
  };
  const input = createReadStream(file);
  const parser = new LineNumberedParser(csvOptions);
  input.once('error', (e) => parser.destroy(new ImportError(file, `cannot read: ${e.message}`)));
  input.pipe(parser);

  const readTimestamp = timestampReader(mapping.timestamp.format, mapping.timestamp.timeZone);
  const parseNumber = numberParser(mapping.decimal);
  const missing = new Set(mapping.missing);
  const quality = mapping.quality;
  // Wall times of the repeated fall-back hour seen so far, per series: the first is the earlier
  // instant, a repetition (the file writing 02:00 twice) the later one.
  const ambiguousSeen = new Map<string, number>();

  let plan: Plan | undefined;
  let batch: Point[] = [];
  const progress = () => opts.onProgress?.({ bytesRead: input.bytesRead, totalBytes, rows: summary.rows, readings: summary.readings });
  const flush = async () => {
    if (batch.length === 0) return;
    await store.write(batch);
    summary.readings += batch.length;
    for (const p of batch) {
      if (summary.firstTs === undefined || p.ts < summary.firstTs) summary.firstTs = p.ts;
      if (summary.lastTs === undefined || p.ts > summary.lastTs) summary.lastTs = p.ts;
    }
    batch = [];
    progress();
  };

  /** Validate and queue one reading; false when it was rejected. */
  const add = (raw: RawReading, line: number, column: string) => {
    const c = validator.check(raw);
    if (c.ok) batch.push(c.point);
    else reject({ line, column, field: c.field, reason: c.reason });
  };

  /** UTC ms of a row's time for one series, or undefined after dead-lettering it. */
  const resolveTime = (text: string, series: string, line: number, column: string): number | undefined => {
    const t = readTimestamp(text);
    if (!t.ok) {
      reject({ line, column, field: 'ts', reason: t.reason });
      return undefined;
    }
    if (!t.ambiguous) return t.utc;
    const key = `${series}\u0000${text.trim()}`;
    const seen = ambiguousSeen.get(key) ?? 0;
    ambiguousSeen.set(key, seen + 1);
    if (seen === 0) return t.ambiguous[0];
    if (seen === 1) return t.ambiguous[1];
    reject({ line, column, field: 'ts', reason: `${text.trim()} occurs a third time${series ? ` for ${series}` : ''}; a fall-back hour repeats only once` });
    return undefined;
  };

  try {
    for await (const record of parser as AsyncIterable<LineRecord>) {
      const { cells, line } = record;
      if (cells === undefined) {
        // Not CSV at all (an unclosed quote, an oversized record): the whole row is dead-lettered.
        summary.rows++;
        reject({ line, field: 'row', reason: `not valid CSV: ${record.error}` });
        continue;
      }
      if (!plan) {
        plan = buildPlan(mapping, mapping.header ? cells.map((c) => c.trim()) : undefined, file);
        if (mapping.header) continue;
      }
      summary.rows++;
      const ts = plan.timestamp;
      const tsParts = ts.indices.map((i) => cells[i]);
      if (tsParts.some((p) => p === undefined)) {
        reject({ line, column: ts.name, field: 'ts', reason: `row has ${cells.length} fields; no timestamp column ${ts.name}` });
        continue;
      }
      const tsText = tsParts.length === 1 ? tsParts[0] : tsParts.join(' ');

      if (plan.wide) {
        const time = resolveTime(tsText, '', line, ts.name);
        if (time === undefined) continue;
        for (const col of plan.wide) {
          const cell = cells[col.index];
          if (cell === undefined) {
            reject({ line, column: col.name, field: 'value', reason: `row has only ${cells.length} fields` });
            continue;
          }
          const text = cell.trim();
          if (missing.has(text)) { summary.gaps++; continue; }
          const v = parseNumber(text);
          if (Number.isNaN(v)) {
            reject({ line, column: col.name, field: 'value', reason: `${JSON.stringify(cell)} is not a number (decimal mark ${JSON.stringify(mapping.decimal)})` });
            continue;
          }
          add({ sensor: col.sensor, ts: time, value: v * col.scale, quality, unit: col.unit }, line, col.name);
        }
      } else {
        const l = plan.long!;
        const name = cells[l.sensor]?.trim();
        if (!name) {
          reject({ line, column: l.sensorName, field: 'sensor', reason: 'no sensor name' });
          continue;
        }
        const sensor = l.names[name] ?? name;
        const cell = cells[l.value];
        const text = cell?.trim();
        if (text === undefined || missing.has(text)) { summary.gaps++; continue; }
        const time = resolveTime(tsText, sensor, line, ts.name);
        if (time === undefined) continue;
        const v = parseNumber(text);
        if (Number.isNaN(v)) {
          reject({ line, column: l.valueName, field: 'value', reason: `${JSON.stringify(cell)} is not a number (decimal mark ${JSON.stringify(mapping.decimal)})` });
          continue;
        }
        const unit = l.unitColumn !== undefined ? cells[l.unitColumn]?.trim() || l.unit : l.unit;
        add({ sensor, ts: time, value: v * l.scale, quality, unit }, line, l.valueName);
      }
      if (batch.length >= batchSize) await flush();
    }
    if (!plan && mapping.header) throw new ImportError(file, 'the file is empty (no header row)');
    await flush();
  } finally {
    input.destroy();
  }
  summary.seconds = (performance.now() - started) / 1000;
  progress();
  return summary;
}
