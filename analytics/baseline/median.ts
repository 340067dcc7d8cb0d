/**
 * Median without sorting: a quickselect on a reused scratch buffer. The detectors take a median (and
 * a MAD) per reading over windows of a few dozen values, which made sorting a hot spot of the replay.
 * The one median module of analytics: detectors and baselines take their medians from here (even for
 * windows of 5, quickselect measured as fast as an insertion sort).
 */

let scratch = new Float64Array(1024);
let deviations = new Float64Array(1024);

/** Rearranges a[0..n) so that a[k] is the k-th smallest and a[0..k) ≤ a[k] (Hoare's FIND). */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i]; a[i] = a[j]; a[j] = t;
        i++; j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break; // a[j+1..i-1] all equal the pivot
  }
  return a[k];
}

/** Median of values[0..n) (NaN for none); values are not changed. */
export function medianOf(values: ArrayLike<number>, n = values.length): number {
  if (n === 0) return NaN;
  if (n > scratch.length) scratch = new Float64Array(2 * n);
  const a = scratch;
  for (let i = 0; i < n; i++) a[i] = values[i];
  const m = n >> 1;
  const upper = select(a, n, m);
  if (n % 2) return upper;
  let lower = a[0];
  for (let i = 1; i < m; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}

/** Median and MAD (median absolute deviation from the median). */
export function medianAndMad(values: ArrayLike<number>): { median: number; mad: number } {
  const n = values.length;
  const median = medianOf(values, n);
  if (n > deviations.length) deviations = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) deviations[i] = Math.abs(values[i] - median);
  return { median, mad: medianOf(deviations, n) };
}

/** The standard deviation 1.4826 × MAD stands for with normal noise (robust to the odd event among the values). */
export function madSigma(values: ArrayLike<number>): number {
  return 1.4826 * medianAndMad(values).mad;
}

/** Median of three numbers without a buffer (smoothing single-sample noise in a hot loop). */
export function medianOfThree(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}
