/**
 * Timestamp cells of a CSV file to UTC ms: ISO 8601, epoch seconds or milliseconds, or a pattern
 * such as `DD/MM/YYYY HH:mm` read as local wall-clock time in an IANA zone (core/time/zoned.ts).
 */
import { parseIso, timeZone as zoneNamed, type WallTime, type ZonedResult } from '../../../core/time/zoned.ts';
import { isDecimalText } from '../common/decimal-text.ts';

export const EPOCH_FORMATS: readonly string[] = ['epoch-s', 'epoch-ms'];

type Field = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond';

/** Pattern tokens, longest first so that `MM` is not read as two `M`. */
const TOKENS: readonly [string, Field, string][] = [
  ['YYYY', 'year', '(\\d{4})'],
  ['SSS', 'millisecond', '(\\d{1,3})'],
  ['MM', 'month', '(\\d{2})'],
  ['DD', 'day', '(\\d{2})'],
  ['HH', 'hour', '(\\d{2})'],
  ['mm', 'minute', '(\\d{2})'],
  ['ss', 'second', '(\\d{2})'],
  ['M', 'month', '(\\d{1,2})'],
  ['D', 'day', '(\\d{1,2})'],
  ['H', 'hour', '(\\d{1,2})'],
];

interface Compiled { re: RegExp; fields: Field[] }

function compile(pattern: string): Compiled {
  let src = '^';
  const fields: Field[] = [];
  for (let i = 0; i < pattern.length;) {
    const tok = TOKENS.find(([t]) => pattern.startsWith(t, i));
    if (tok) {
      src += tok[2];
      fields.push(tok[1]);
      i += tok[0].length;
    } else if (pattern[i] === ' ') {
      src += '\\s+'; // exports pad with one or two spaces
      i++;
    } else {
      src += pattern[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  return { re: new RegExp(`${src}$`), fields };
}

/** Why a pattern cannot be used, or undefined. */
export function patternProblem(pattern: string): string | undefined {
  const { fields } = compile(pattern);
  for (const need of ['year', 'month', 'day'] as const) {
    if (!fields.includes(need)) return `pattern ${JSON.stringify(pattern)} has no ${need} (use YYYY, MM or M, DD or D; then HH, mm, ss, SSS as needed), or use iso, epoch-s, epoch-ms`;
  }
  const seen = new Set<Field>();
  for (const f of fields) {
    if (seen.has(f)) return `pattern ${JSON.stringify(pattern)} gives the ${f} twice`;
    seen.add(f);
  }
  return undefined;
}

/** A parser of wall-clock times in `pattern`. */
export function wallTimeParser(pattern: string): (s: string) => WallTime | { reason: string } {
  const { re, fields } = compile(pattern);
  return (s) => {
    const m = re.exec(s.trim());
    if (!m) return { reason: `${JSON.stringify(s)} does not match the format ${pattern}` };
    const w: WallTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, millisecond: 0 };
    for (let i = 0; i < fields.length; i++) {
      const g = m[i + 1];
      w[fields[i]] = fields[i] === 'millisecond' ? Number(g.padEnd(3, '0')) : Number(g);
    }
    return w;
  };
}


/**
 * A reader of one timestamp text. For a wall time in a repeated (fall-back) hour it answers the
 * first occurrence and gives both instants in `ambiguous`, so the importer can take the second
 * one when the file repeats that time.
 */
export function timestampReader(format: string, zone?: string): (text: string) => ZonedResult {
  if (format === 'epoch-s' || format === 'epoch-ms') {
    const factor = format === 'epoch-s' ? 1000 : 1;
    return (text) => {
      const t = text.trim();
      const utc = isDecimalText(t) ? Math.round(Number(t) * factor) : NaN;
      // "1e999" is decimal text too, and no time
      if (!Number.isFinite(utc)) return { ok: false, reason: `${JSON.stringify(text)} is not an epoch time in ${format === 'epoch-s' ? 'seconds' : 'milliseconds'}` };
      return { ok: true, utc };
    };
  }
  if (format === 'iso') return (text) => parseIso(text, zone, 'earlier');
  const parseWall = wallTimeParser(format);
  const tz = zoneNamed(zone ?? 'UTC');
  return (text) => {
    const w = parseWall(text);
    if ('reason' in w) return { ok: false, reason: w.reason };
    return tz.toUtc(w, 'earlier');
  };
}
