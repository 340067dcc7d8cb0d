/**
 * Ridge regression from a covariance matrix: the pressure model fits each logger on the others from
 * the learning days' means and covariances alone, so it can fit again without a missing regressor
 * (a logger that stopped reporting) without keeping the learning data.
 */

/** Column means and covariances (divided by n) of the rows where every column is known. */
export interface Moments { n: number; mean: Float64Array; cov: Float64Array; columns: number }

/** The moments of the rows (those for which `include(t)` holds) where every column is known. */
export function moments(rows: readonly Float64Array[], columns: number, include: (t: number) => boolean = () => true): Moments {
  const mean = new Float64Array(columns);
  const cov = new Float64Array(columns * columns);
  const used = rows.filter((r, t) => include(t) && complete(r));
  let n = 0;
  for (const r of used) {
    n++;
    for (let j = 0; j < columns; j++) mean[j] += r[j];
  }
  if (n === 0) return { n, mean, cov, columns };
  for (let j = 0; j < columns; j++) mean[j] /= n;
  for (const r of used) {
    for (let j = 0; j < columns; j++) {
      const dj = r[j] - mean[j];
      for (let k = j; k < columns; k++) cov[j * columns + k] += dj * (r[k] - mean[k]);
    }
  }
  for (let j = 0; j < columns; j++) {
    for (let k = j; k < columns; k++) {
      cov[j * columns + k] /= n;
      cov[k * columns + j] = cov[j * columns + k];
    }
  }
  return { n, mean, cov, columns };
}

function complete(r: Float64Array): boolean {
  for (let j = 0; j < r.length; j++) if (!Number.isFinite(r[j])) return false;
  return true;
}

/** y ≈ intercept + Σ coef[j] × x[j]; coef is 0 for the columns left out. */
export interface Fit { intercept: number; coef: Float64Array; residualVar: number }

/**
 * Column `target` from the columns in `use` (not the target), ridge on standardised regressors:
 * `lambda` is added to the diagonal of their correlation matrix (a fraction of each one's variance),
 * which keeps the weights of near-collinear loggers (neighbours on one main) finite. Undefined when
 * no regressor varies.
 */
export function ridgeFit(m: Moments, target: number, use: readonly number[], lambda: number): Fit | undefined {
  const c = m.columns;
  const cols = use.filter((j) => j !== target && m.cov[j * c + j] > 0);
  const p = cols.length;
  if (p === 0) return undefined;
  const sd = cols.map((j) => Math.sqrt(m.cov[j * c + j]));
  const a = new Float64Array(p * p);
  const rhs = new Float64Array(p);
  for (let u = 0; u < p; u++) {
    for (let v = 0; v < p; v++) a[u * p + v] = m.cov[cols[u] * c + cols[v]] / (sd[u] * sd[v]);
    a[u * p + u] += lambda;
    rhs[u] = m.cov[cols[u] * c + target] / sd[u];
  }
  const beta = solveSymmetric(a, rhs, p);
  if (!beta) return undefined;
  const coef = new Float64Array(c);
  let intercept = m.mean[target];
  for (let u = 0; u < p; u++) {
    coef[cols[u]] = beta[u] / sd[u];
    intercept -= coef[cols[u]] * m.mean[cols[u]];
  }
  // Var(y − b·x) = Var(y) − 2 b·Cov(x, y) + b' Cov(x) b
  let residualVar = m.cov[target * c + target];
  for (let u = 0; u < p; u++) {
    const bu = coef[cols[u]];
    residualVar -= 2 * bu * m.cov[cols[u] * c + target];
    for (let v = 0; v < p; v++) residualVar += bu * coef[cols[v]] * m.cov[cols[u] * c + cols[v]];
  }
  return { intercept, coef, residualVar: Math.max(0, residualVar) };
}

/** Cholesky solve of a symmetric positive definite system (the ridge term makes it so). */
function solveSymmetric(a: Float64Array, b: Float64Array, p: number): Float64Array | undefined {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * p + j];
      for (let k = 0; k < j; k++) s -= l[i * p + k] * l[j * p + k];
      if (i === j) {
        if (!(s > 0)) return undefined;
        l[i * p + i] = Math.sqrt(s);
      } else l[i * p + j] = s / l[j * p + j];
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * p + k] * y[k];
    y[i] = s / l[i * p + i];
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < p; k++) s -= l[k * p + i] * x[k];
    x[i] = s / l[i * p + i];
  }
  return x;
}
