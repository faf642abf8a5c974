/**
 * Bounded real-valued targets (a moisture %, a fraction in (0, 1)): the model works on the logit
 * scale t = log((y − lo) / (hi − y)), which maps the open interval (lo, hi) onto the real line, so
 * that the Gaussian prior and the Gaussian q(y | x) of the real-label model sit on a space without
 * edges, and every prediction mapped back, y = lo + (hi − lo) · σ(t), lies inside the bounds.
 *
 * The map is monotone, so the median of q carries over: the point prediction lo + (hi − lo)·σ(t̄)
 * of the mean t̄ of a Gaussian q(t | x) is the median of the induced q(y | x), not its mean (which
 * lies nearer the middle of the interval). Densities of y on the logit scale differ from those on
 * the original scale by the Jacobian log |dt/dy| = −log(y − lo) − log(hi − y) + log(hi − lo); the
 * bounds the model reports for labelled rows are of t (the Jacobian is a constant of the data, so
 * training is unaffected).
 */

/** Per-target bounds lo_k < hi_k. */
export interface TargetBounds {
  lo: number[];
  hi: number[];
}

/**
 * Parses `fit --bounds`: `lo:hi` per target, comma-separated (`0:100`; two targets `0:100,0.5:2`).
 * @throws Error naming the part: not two numbers, lo ≥ hi, or a count other than `targets`.
 */
export function parseBounds(spec: string, targets: number, names: readonly string[] = []): TargetBounds {
  const parts = spec.split(',');
  if (parts.length !== targets) throw new Error(`--bounds '${spec}': ${parts.length} range${parts.length === 1 ? '' : 's'} for ${targets} target${targets === 1 ? '' : 's'}${names.length ? ` (${names.join(', ')})` : ''}; give lo:hi for each, comma-separated`);
  const lo: number[] = [];
  const hi: number[] = [];
  parts.forEach((p, k) => {
    const m = /^\s*([^:]+):([^:]+)\s*$/.exec(p);
    const a = m ? Number(m[1]) : NaN;
    const b = m ? Number(m[2]) : NaN;
    if (!m || m[1].trim() === '' || m[2].trim() === '' || !Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`--bounds '${spec}': '${p.trim()}' is not lo:hi (two numbers, e.g. 0:100)`);
    if (!(a < b)) throw new Error(`--bounds '${spec}': target ${names[k] ?? k + 1}: the lower bound ${a} is not below the upper bound ${b}`);
    lo.push(a);
    hi.push(b);
  });
  return { lo, hi };
}

/**
 * Checks that every value lies strictly inside its target's bounds.
 * @param y n × K row-major; `what` names the rows in the message (e.g. `y.csv`), `row` names row i,
 *   `hint` says what to do.
 * @throws Error naming the row, the target and the value.
 */
export function checkInside(b: TargetBounds, y: ArrayLike<number>, what: string, row: (i: number) => string = (i) => `row ${i}`, names: readonly string[] = [], hint = 'widen --bounds (a value on a bound is infinitely far on the logit scale)'): void {
  const K = b.lo.length;
  for (let i = 0; i < y.length; i++) {
    const k = i % K;
    const v = y[i];
    if (!(v > b.lo[k] && v < b.hi[k])) throw new Error(`${what}: ${row(Math.floor(i / K))}, target ${names[k] ?? k}: ${v} is not strictly inside the bounds (${b.lo[k]}, ${b.hi[k]}); ${hint}`);
  }
}

/** t = log((y − lo) / (hi − y)) per value (n × K row-major, K = the number of bounds); values must lie inside (see {@link checkInside}). */
export function toLogit(b: TargetBounds, y: ArrayLike<number>): Float32Array {
  const K = b.lo.length;
  return Float32Array.from(y, (v, i) => Math.log((v - b.lo[i % K]) / (b.hi[i % K] - v)));
}

/** y = lo + (hi − lo) · σ(t) per value (n × K row-major). */
export function fromLogit(b: TargetBounds, t: ArrayLike<number>): number[] {
  const K = b.lo.length;
  return Array.from(t, (v, i) => {
    const k = i % K;
    const s = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    return b.lo[k] + (b.hi[k] - b.lo[k]) * s;
  });
}
