/**
 * Numbers written as text (CSV cells, PDA uploads), read in time linear in the text: the pattern
 * has one way to match any input (no `\d+\.?\d*`, which backtracks quadratically on a long run of
 * digits ending in a non-digit), and texts longer than any real reading are refused unread.
 */

/** Longer than any number a meter, a logger or an epoch time is written with. */
export const MAX_NUMBER_TEXT = 64;

const DOT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const COMMA = /^[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?$/;

/** True when `text` is a plain decimal number (point as the decimal mark), at most MAX_NUMBER_TEXT long. */
export function isDecimalText(text: string): boolean {
  return text.length <= MAX_NUMBER_TEXT && DOT.test(text);
}

/** The number in `text` with the given decimal mark, or NaN when it is not a plain decimal number. */
export function parseDecimalText(text: string, decimal: '.' | ',' = '.'): number {
  if (text.length > MAX_NUMBER_TEXT) return NaN;
  if (decimal === '.') return DOT.test(text) ? Number(text) : NaN;
  return COMMA.test(text) ? Number(text.replace(',', '.')) : NaN;
}
