/**
 * One PDA upload item, from JSON or from a CSV line, checked on its own: a bad item is answered
 * with its field and reason and never fails the rest of the batch.
 */
import { z } from 'zod';
import { parse as parseCsv } from 'csv-parse/sync';
import { parseIso } from '../../../core/time/zoned.ts';
import { isDecimalText } from '../common/decimal-text.ts';

/** What a PDA sends per meter visit. `reading` is the cumulative register in m³. */
export interface PdaItem {
  meter: string;
  reading: number;
  /** ISO 8601 with an offset, or epoch milliseconds. */
  time: string | number;
  readerId?: string;
  /** The reading replaces one stored for the same meter and time (a typing error put right). */
  correction?: boolean;
}

function describeInput(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number') return String(v);
  return typeof v;
}

export const pdaItemSchema = z.object({
  meter: z.string({ error: (i) => (i.input === undefined ? 'missing' : `must be a meter id string (got ${describeInput(i.input)})`) })
    .min(1, 'must not be empty').max(128, 'longer than 128 characters'),
  reading: z.number({ error: (i) => (i.input === undefined ? 'missing' : `not a finite number (got ${describeInput(i.input)})`) })
    .min(0, 'must not be negative (a meter register counts up from 0)'),
  time: z.union([z.string(), z.number()], {
    error: (i) => (i.input === undefined ? 'missing' : `must be an ISO 8601 time with offset or epoch ms (got ${describeInput(i.input)})`),
  }),
  readerId: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(128, 'longer than 128 characters').optional(),
  correction: z.boolean({ error: (i) => `must be true or false (got ${describeInput(i.input)})` }).optional(),
}, { error: (i) => `each reading must be an object (got ${describeInput(i.input)})` });

export type ItemCheck = { ok: true; item: PdaItem } | { ok: false; field: string; reason: string };

/** Shape of one item (types, required fields). Meter existence and time window are checked by the route. */
export function checkItemShape(raw: unknown): ItemCheck {
  const r = pdaItemSchema.safeParse(raw);
  if (r.success) return { ok: true, item: r.data };
  const issue = r.error.issues[0];
  return { ok: false, field: issue.path.length ? String(issue.path[0]) : 'item', reason: issue.message };
}

export type TimeCheck = { ok: true; ts: number } | { ok: false; reason: string };

/** Epoch ms or ISO 8601 with an offset to ms. A PDA must say which offset its clock runs in. */
export function parseItemTime(time: string | number): TimeCheck {
  if (typeof time === 'number') {
    if (!Number.isFinite(time)) return { ok: false, reason: 'not a finite epoch time' };
    if (Math.abs(time) < 1e11) return { ok: false, reason: `${time} looks like epoch seconds; send epoch milliseconds or ISO 8601` };
    return { ok: true, ts: Math.round(time) };
  }
  const r = parseIso(time);
  return r.ok ? { ok: true, ts: r.utc } : { ok: false, reason: r.reason };
}

const INTEGER = /^\d+$/;
const CSV_BOOLEAN: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false };

export class CsvBodyError extends Error {}

/**
 * A `text/csv` upload: header `meter,reading,time[,reader][,correction]` (any order, case-insensitive; other
 * columns are ignored), one reading per line. Cells become the JSON item shape, so both bodies go
 * through the same checks. Throws CsvBodyError for a body that is not CSV or lacks a column.
 */
export function csvBodyToItems(text: string): Record<string, unknown>[] {
  let records: string[][];
  try {
    // A record longer than any real line is refused, not buffered (bodies may be megabytes).
    records = parseCsv(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, max_record_size: 64 * 1024 }) as string[][];
  } catch (e) {
    throw new CsvBodyError(`body: not valid CSV (${(e as Error).message})`);
  }
  if (records.length === 0) throw new CsvBodyError('body: empty CSV (expected a header meter,reading,time[,reader])');
  const header = records[0].map((h) => h.toLowerCase());
  const col = (...names: string[]) => header.findIndex((h) => names.includes(h));
  const meter = col('meter');
  const reading = col('reading');
  const time = col('time');
  const reader = col('reader', 'readerid', 'reader_id');
  const correction = col('correction');
  const missing = [['meter', meter], ['reading', reading], ['time', time]].filter(([, i]) => i === -1).map(([n]) => n);
  if (missing.length) {
    throw new CsvBodyError(`body: CSV header lacks ${missing.join(', ')} (expected meter,reading,time[,reader]; got ${records[0].join(',')})`);
  }
  return records.slice(1).map((cells) => {
    const item: Record<string, unknown> = {};
    const m = cells[meter];
    if (m !== undefined && m !== '') item.meter = m;
    const v = cells[reading];
    if (v !== undefined && v !== '') item.reading = isDecimalText(v) ? Number(v) : v;
    const t = cells[time];
    if (t !== undefined && t !== '') item.time = INTEGER.test(t) ? Number(t) : t;
    const r = reader >= 0 ? cells[reader] : undefined;
    if (r !== undefined && r !== '') item.readerId = r;
    const c = correction >= 0 ? cells[correction] : undefined;
    if (c !== undefined && c !== '') item.correction = CSV_BOOLEAN[c.toLowerCase()] ?? c;
    return item;
  });
}
