/**
 * The mapping file of a CSV history import (YAML): how to read the file (delimiter, decimal mark,
 * header), where the time is and in which zone, and which column is which sensor. Validated with
 * zod; an error names the file, the key path and the reason (`bwdf.yaml: timestamp.timeZone: ...`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatZodIssues } from '../../../core/config/load.ts';
import { isValidTimeZone } from '../../../core/time/zoned.ts';
import { patternProblem, EPOCH_FORMATS } from './timestamps.ts';

/** A column: its header name (when `header: true`) or its 0-based index. */
const columnRef = z.union([z.string().min(1), z.number().int().min(0)]);

const sensorId = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/, 'letters, digits and _ . : - only');

export const wideColumnSchema = z.object({
  sensor: sensorId,
  /** Unit of the values in this column; the pipeline converts to the sensor's canonical unit. */
  unit: z.string().min(1).optional(),
  /** Factor applied before the unit conversion (e.g. 0.001 for a column in thousandths). */
  scale: z.number().refine(Number.isFinite, 'must be a finite number').default(1),
}).strict();

export const longFormatSchema = z.object({
  /** Column naming the sensor of each row. */
  sensor: columnRef,
  /** Column with the value. */
  value: columnRef,
  /** Column with each row's unit (optional). */
  unitColumn: columnRef.optional(),
  /** Unit of every value, when the file has no unit column. */
  unit: z.string().min(1).optional(),
  scale: z.number().refine(Number.isFinite, 'must be a finite number').default(1),
  /** Names used in the file → sensor ids in the topology (names not listed are taken as ids). */
  sensors: z.record(z.string(), sensorId).default({}),
}).strict();

export const timestampSchema = z.object({
  /** One column, or several joined with a space (e.g. [Date, Time]). */
  column: columnRef.optional(),
  columns: z.array(columnRef).min(1).optional(),
  /**
   * `iso` (ISO 8601; an offset in the value wins over timeZone), `epoch-s`, `epoch-ms`, or a pattern
   * of YYYY MM M DD D HH H mm ss SSS and literal characters, e.g. `DD/MM/YYYY HH:mm`.
   */
  format: z.string().min(1).default('iso'),
  /** IANA zone of local wall-clock times (Europe/Rome, Asia/Shanghai, UTC). Required for patterns. */
  timeZone: z.string().optional(),
}).strict();

export const mappingSchema = z.object({
  delimiter: z.string().min(1).max(8).default(','),
  /** Decimal mark of the numbers: `.` or `,` (e.g. 3,75 with delimiter `;`). */
  decimal: z.enum(['.', ',']).default('.'),
  quote: z.string().length(1).default('"'),
  /** The first row (after skipLines) names the columns; false: columns are 0-based indices. */
  header: z.boolean().default(true),
  /** Lines before the header (or the data) to ignore: titles, export banners. */
  skipLines: z.number().int().min(0).default(0),
  encoding: z.enum(['utf8', 'latin1', 'utf16le']).default('utf8'),
  /** Cell contents that mean "no value": counted as gaps, not errors. Compared after trimming. */
  missing: z.array(z.string()).default(['', 'NaN', 'nan', 'NA', 'N/A', 'null', '-']),
  /** Quality given to every imported reading. */
  quality: z.enum(['good', 'uncertain', 'bad']).default('good'),
  timestamp: timestampSchema,
  /** Wide files: column (header name, or index when header is false) → sensor. */
  columns: z.record(z.string(), wideColumnSchema).optional(),
  /** Long files: one reading per row. */
  long: longFormatSchema.optional(),
}).strict().superRefine((m, ctx) => {
  const t = m.timestamp;
  if ((t.column === undefined) === (t.columns === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['timestamp'], message: 'give either column or columns' });
  }
  const isEpoch = EPOCH_FORMATS.includes(t.format);
  if (!isEpoch && t.format !== 'iso') {
    const p = patternProblem(t.format);
    if (p) ctx.addIssue({ code: 'custom', path: ['timestamp', 'format'], message: p });
    if (t.timeZone === undefined) {
      ctx.addIssue({ code: 'custom', path: ['timestamp', 'timeZone'], message: `required for the local wall-clock format ${JSON.stringify(t.format)} (e.g. Europe/Rome, Asia/Shanghai or UTC)` });
    }
  }
  if (t.timeZone !== undefined && !isValidTimeZone(t.timeZone)) {
    ctx.addIssue({ code: 'custom', path: ['timestamp', 'timeZone'], message: `unknown time zone ${JSON.stringify(t.timeZone)} (expected an IANA name such as Europe/Rome)` });
  }
  if ((m.columns === undefined) === (m.long === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['columns'], message: 'give either columns (a wide file: one column per sensor) or long (a sensor column and a value column)' });
  }
  if (m.columns && Object.keys(m.columns).length === 0) ctx.addIssue({ code: 'custom', path: ['columns'], message: 'names no column' });
  if (!m.header) {
    // Without a header there are no names: every column reference must be an index.
    const refs: [PropertyKey[], unknown][] = [
      [['timestamp', 'column'], t.column],
      ...(t.columns ?? []).map((c, i): [PropertyKey[], unknown] => [['timestamp', 'columns', i], c]),
      [['long', 'sensor'], m.long?.sensor],
      [['long', 'value'], m.long?.value],
      [['long', 'unitColumn'], m.long?.unitColumn],
    ];
    for (const [path, ref] of refs) {
      if (typeof ref === 'string') ctx.addIssue({ code: 'custom', path, message: `must be a 0-based column index when header is false (got ${JSON.stringify(ref)})` });
    }
    for (const key of Object.keys(m.columns ?? {})) {
      if (!/^\d+$/.test(key)) ctx.addIssue({ code: 'custom', path: ['columns', key], message: 'must be a 0-based column index when header is false' });
    }
  }
  if (m.delimiter === m.decimal) {
    ctx.addIssue({ code: 'custom', path: ['decimal'], message: `cannot be the same as the delimiter ${JSON.stringify(m.delimiter)}` });
  }
});

export type CsvMapping = z.infer<typeof mappingSchema>;

export class MappingError extends Error {
  constructor(readonly file: string, readonly issues: string[]) {
    super(`${file}: ${issues.join('; ')}`);
    this.name = 'MappingError';
  }
}

/** Validate a mapping object (from YAML or built in code). */
export function parseMapping(raw: unknown, file = '(mapping)'): CsvMapping {
  const r = mappingSchema.safeParse(raw ?? {});
  if (!r.success) throw new MappingError(file, formatZodIssues(r.error));
  return r.data;
}

export function loadMapping(file: string): CsvMapping {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MappingError(file, [`cannot read: ${(e as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new MappingError(file, [(e as Error).message.split('\n')[0]]);
  }
  return parseMapping(raw, file);
}
