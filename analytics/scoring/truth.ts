/**
 * A utility's event log as it keeps it (a repair log, BattLeDIM's leaks.csv): a CSV with a header
 * naming the columns `area` or `pipe` (or both), `start`, `end`, `type` and optionally `peak`; other
 * columns are ignored. `end` empty or `ongoing`: still running. `type` is `abrupt` or `incipient`
 * (`burst` is read as abrupt). Times are ISO 8601; without an offset they are read in `zone`.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { parseIso } from '../../core/time/zoned.ts';
import type { LeakKind, TruthEvent } from './score.ts';

export class TruthFileError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'TruthFileError';
  }
}

const KINDS: Record<string, LeakKind> = { abrupt: 'abrupt', burst: 'abrupt', incipient: 'incipient' };

export function parseTruth(text: string, zone: string, file = '(truth)'): TruthEvent[] {
  const rows = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  const problems: string[] = [];
  const header = rows.length ? Object.keys(rows[0]) : [];
  for (const need of ['start', 'type']) if (rows.length && !header.includes(need)) problems.push(`no column '${need}'`);
  if (rows.length && !header.includes('area') && !header.includes('pipe')) problems.push("no column 'area' or 'pipe'");
  if (problems.length) throw new TruthFileError(file, problems);
  const events: TruthEvent[] = [];
  rows.forEach((row, i) => {
    const at = `line ${i + 2}`;
    const time = (col: string, optional: boolean): number | undefined => {
      const v = row[col] ?? '';
      if (optional && (v === '' || v.toLowerCase() === 'ongoing')) return undefined;
      const r = parseIso(v, zone);
      if (!r.ok) { problems.push(`${at}: ${col}: ${r.reason}`); return undefined; }
      return r.utc;
    };
    const kind = KINDS[(row.type ?? '').toLowerCase()];
    if (!kind) problems.push(`${at}: type: ${JSON.stringify(row.type)} is not abrupt, burst or incipient`);
    const start = time('start', false);
    const end = time('end', true);
    const peak = time('peak', true);
    const area = row.area || undefined;
    const pipe = row.pipe || undefined;
    if (!area && !pipe) problems.push(`${at}: names neither an area nor a pipe`);
    if (start !== undefined && end !== undefined && end <= start) problems.push(`${at}: end is not after start`);
    if (kind && start !== undefined && (area || pipe)) {
      events.push({ id: `${pipe ?? area}@${(row.start ?? '').slice(0, 16)}`, area, pipe, kind, start, end, peak });
    }
  });
  if (problems.length) throw new TruthFileError(file, problems);
  return events;
}

export function loadTruth(file: string, zone: string): TruthEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TruthFileError(file, [`cannot read: ${(e as Error).message}`]);
  }
  return parseTruth(text, zone, file);
}
