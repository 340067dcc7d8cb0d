/** Times and numbers formatted with Intl in the site's time zone (GET /site) and the UI language. */
import { lang } from './i18n.ts';

let timeZone = 'Asia/Shanghai';
export function setTimeZone(tz: string): void {
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); timeZone = tz; } catch { /* unknown zone: keep the default */ }
}
export function siteTimeZone(): string { return timeZone; }

const cache = new Map<string, Intl.DateTimeFormat>();
function dtf(kind: 'time' | 'hm' | 'datetime' | 'date' | 'short'): Intl.DateTimeFormat {
  const key = `${lang()}|${timeZone}|${kind}`;
  let f = cache.get(key);
  if (!f) {
    const o: Intl.DateTimeFormatOptions = { timeZone, hour12: false };
    if (kind === 'time') Object.assign(o, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    if (kind === 'hm') Object.assign(o, { hour: '2-digit', minute: '2-digit' });
    if (kind === 'short') Object.assign(o, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    if (kind === 'datetime') Object.assign(o, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    if (kind === 'date') Object.assign(o, { year: 'numeric', month: '2-digit', day: '2-digit' });
    f = new Intl.DateTimeFormat(lang(), o);
    cache.set(key, f);
  }
  return f;
}

export const fmtTime = (ts?: number | null) => (ts == null ? '—' : dtf('time').format(ts));
export const fmtDateTime = (ts?: number | null) => (ts == null ? '—' : dtf('datetime').format(ts));
export const fmtHm = (ts?: number | null) => (ts == null ? '—' : dtf('hm').format(ts));
export const fmtShort = (ts?: number | null) => (ts == null ? '—' : dtf('short').format(ts));
export const fmtDate = (ts?: number | null) => (ts == null ? '—' : dtf('date').format(ts));

export function fmtNum(v: number | null | undefined, digits = 2): string {
  if (v == null || !Number.isFinite(v)) return '—';
  if (Math.abs(v) < 0.5 * 10 ** -digits) v = 0; // never "-0"
  return new Intl.NumberFormat(lang(), { maximumFractionDigits: digits }).format(v);
}

/** Wall-clock parts of `ts` in the site's zone, as a `datetime-local` input value. */
export function toLocalInput(ts: number): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(ts).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour === '24' ? '00' : parts.hour}:${parts.minute}`;
}

/** A `datetime-local` value read as wall-clock time in the site's zone → epoch ms. */
export function fromLocalInput(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return undefined;
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // the zone's offset at that instant (twice, to settle across a DST change)
  let ts = asUtc;
  for (let i = 0; i < 2; i++) ts = asUtc - offsetMs(ts);
  return ts;
}

function offsetMs(ts: number): number {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).formatToParts(ts).map((x) => [x.type, x.value]));
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, p.hour === '24' ? 0 : +p.hour, +p.minute, +p.second);
  return wall - Math.floor(ts / 1000) * 1000;
}
