/**
 * One CSV cell, for the exports people open in a spreadsheet (alarms, KPIs). Text that a
 * spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) is
 * prefixed with ' (OWASP's advice against CSV injection): an alarm message or an area name comes
 * from a device or a user and must not become a formula. Plain numbers are left as they are.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6)) : String(value);
  if (typeof value === 'string' && FORMULA_START.test(s) && !(s.length <= 64 && PLAIN_NUMBER.test(s))) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
