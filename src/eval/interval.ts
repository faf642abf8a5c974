/**
 * Calibrated prediction intervals by split-conformal calibration (Vovk et al.; Lei et al. 2018,
 * "Distribution-free predictive inference for regression"), and the measures to check them.
 *
 * A fitted predictor ŷ(x) is scored on n labelled calibration rows it was not trained on. For a
 * level 1 − a, the conformal quantile of the scores s_1..s_n is their k-th smallest with
 * k = ⌈(n + 1)(1 − a)⌉ (infinite when k > n: fewer than (1 − a)/a rows cannot support the level).
 * For a new row exchangeable with the calibration rows, the interval built from that quantile
 * holds the true label with probability at least 1 − a (marginally, per component), whatever the
 * model — but only if the calibration rows played no part in training.
 *
 * - Compositions (and any real labels), per component k: `absolute` scores s = |ŷ_k − y_k| give
 *   ŷ_k ± q_k (the same width for every row); `scaled` scores s = |ŷ_k − y_k| / sd_k give
 *   ŷ_k ± q_k · sd_k, where sd is the model's own spread for the row (wider where the model is less
 *   sure; the calibration fixes the scale). Intervals may be clipped to [0, 1] for compositions.
 * - Classes: the score of a row is 1 − p̂(true class); the prediction set of a new row holds every
 *   class with p̂_k ≥ 1 − q (least-ambiguous sets, Sadinle et al. 2019).
 */

/** The rank k = ⌈(n + 1)(1 − a)⌉ of the conformal quantile among n calibration scores (may exceed n). */
export function conformalRank(n: number, alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new Error(`conformal: the miscoverage a must be in (0, 1), got ${alpha}`);
  if (!(n >= 0) || !Number.isInteger(n)) throw new Error(`conformal: the number of calibration rows must be a non-negative integer, got ${n}`);
  // the small slack keeps products such as 20 · 0.95 = 19.000000000000004 from rounding up
  return Math.max(1, Math.ceil((n + 1) * (1 - alpha) - 1e-9));
}

/** The fewest calibration rows for which the conformal quantile at miscoverage `alpha` is finite. */
export function conformalMinRows(alpha: number): number {
  let n = 1;
  while (conformalRank(n, alpha) > n) n++;
  return n;
}

/**
 * The split-conformal quantile of `scores` at miscoverage `alpha`: the k-th smallest score with
 * k = ⌈(n + 1)(1 − a)⌉, or Infinity when k > n (too few rows for the level).
 */
export function conformalQuantile(scores: ArrayLike<number>, alpha: number): number {
  const s = Float64Array.from(scores);
  for (let i = 0; i < s.length; i++) if (!(s[i] >= 0)) throw new Error(`conformal: score ${i} is ${s[i]}; scores must be ≥ 0`);
  const k = conformalRank(s.length, alpha);
  if (k > s.length) return Infinity;
  s.sort();
  return s[k - 1];
}

/** How per-component residuals are scored: see the module doc. */
export type IntervalMethod = 'absolute' | 'scaled';

/** A calibration of per-component intervals, as stored in `fit.json`. */
export interface IntervalCalibration {
  kind: 'split-conformal';
  /** Nominal coverage 1 − a, per component. */
  level: number;
  method: IntervalMethod;
  /** Calibration rows. */
  n: number;
  /** k = ⌈(n + 1)·level⌉. */
  rank: number;
  /** Per component: the conformal quantile of the scores; null when infinite (n < minRows). */
  quantile: (number | null)[];
  /** Fewest calibration rows with a finite quantile at this level. */
  minRows: number;
}

/** The smallest sd a `scaled` score divides by. */
const SD_FLOOR = 1e-9;

function checkShape(a: number[][], b: number[][], what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} rows against ${b.length}`);
  a.forEach((r, i) => {
    if (r.length !== b[i].length) throw new Error(`${what}: row ${i} has ${r.length} values against ${b[i].length}`);
  });
}

/**
 * Conformal scores of calibration rows per component ([K][n]): |ŷ − y|, or |ŷ − y| / sd for the
 * `scaled` method (`sd` [n][K] required; sd floored at 1e-9).
 */
export function intervalScores(mean: number[][], y: number[][], opts: { method?: IntervalMethod; sd?: number[][] } = {}): number[][] {
  const method = opts.method ?? 'absolute';
  checkShape(mean, y, 'intervalScores: predictions and labels');
  if (method === 'scaled') {
    if (!opts.sd) throw new Error("intervalScores: the 'scaled' method needs the sd of every prediction");
    checkShape(mean, opts.sd, 'intervalScores: predictions and sd');
    if (opts.sd.every((r) => r.every((v) => !(v > 0)))) throw new Error("intervalScores: every sd is 0 (a deterministic model?); use the 'absolute' method");
  }
  const K = mean.length > 0 ? mean[0].length : 0;
  return Array.from({ length: K }, (_, k) =>
    mean.map((r, i) => {
      const res = Math.abs(r[k] - y[i][k]);
      return method === 'scaled' ? res / Math.max(opts.sd![i][k], SD_FLOOR) : res;
    }),
  );
}

/** A calibration at `level` from per-component scores ([K][n], as {@link intervalScores} returns). */
export function intervalsFromScores(scores: number[][], level: number, method: IntervalMethod): IntervalCalibration {
  const alpha = 1 - level;
  const n = scores.length > 0 ? scores[0].length : 0;
  scores.forEach((s, k) => {
    if (s.length !== n) throw new Error(`intervalsFromScores: component ${k} has ${s.length} scores, component 0 has ${n}`);
  });
  const quantile = scores.map((s) => {
    const q = conformalQuantile(s, alpha);
    return Number.isFinite(q) ? q : null;
  });
  return { kind: 'split-conformal', level, method, n, rank: conformalRank(n, alpha), quantile, minRows: conformalMinRows(alpha) };
}

/**
 * Calibrates per-component intervals from predictions `mean` and true labels `y` of calibration
 * rows ([n][K] each); `sd` ([n][K]) is required for the `scaled` method.
 */
export function calibrateIntervals(mean: number[][], y: number[][], opts: { level?: number; method?: IntervalMethod; sd?: number[][] } = {}): IntervalCalibration {
  const method = opts.method ?? 'absolute';
  return intervalsFromScores(intervalScores(mean, y, { method, ...(opts.sd ? { sd: opts.sd } : {}) }), opts.level ?? 0.95, method);
}

/**
 * Intervals [lower, upper] per row and component from a calibration. An infinite quantile gives
 * the whole `clip` range (or ±Infinity without one).
 */
export function predictIntervals(cal: IntervalCalibration, mean: number[][], opts: { sd?: number[][]; clip?: [number, number] } = {}): { lower: number[][]; upper: number[][] } {
  if (cal.method === 'scaled') {
    if (!opts.sd) throw new Error("predictIntervals: the 'scaled' calibration needs the sd of every prediction");
    checkShape(mean, opts.sd, 'predictIntervals: predictions and sd');
  }
  const [lo, hi] = opts.clip ?? [-Infinity, Infinity];
  const lower: number[][] = [];
  const upper: number[][] = [];
  mean.forEach((r, i) => {
    if (r.length !== cal.quantile.length) throw new Error(`predictIntervals: row ${i} has ${r.length} components, the calibration ${cal.quantile.length}`);
    const half = r.map((_, k) => {
      const q = cal.quantile[k];
      if (q === null) return Infinity;
      return cal.method === 'scaled' ? q * Math.max(opts.sd![i][k], SD_FLOOR) : q;
    });
    lower.push(r.map((v, k) => Math.min(hi, Math.max(lo, v - half[k]))));
    upper.push(r.map((v, k) => Math.max(lo, Math.min(hi, v + half[k]))));
  });
  return { lower, upper };
}

/** Coverage of intervals on labelled rows. */
export interface Coverage {
  /** Rows. */
  n: number;
  /** Share of (row, component) pairs with lower ≤ y ≤ upper. */
  overall: number;
  /** Per component, share of rows inside. */
  perComponent: number[];
  /** Share of rows with every component inside. */
  rowsAllInside: number;
  /** Mean width upper − lower per component. */
  meanWidth: number[];
}

/** Measures how often the true labels `y` lie inside [lower, upper] (all [n][K]). */
export function intervalCoverage(lower: number[][], upper: number[][], y: number[][]): Coverage {
  checkShape(lower, y, 'intervalCoverage: lower bounds and labels');
  checkShape(upper, y, 'intervalCoverage: upper bounds and labels');
  const n = y.length;
  if (n === 0) throw new Error('intervalCoverage: no rows');
  const K = y[0].length;
  const inside = new Array<number>(K).fill(0);
  const width = new Array<number>(K).fill(0);
  let all = 0;
  y.forEach((r, i) => {
    let every = true;
    r.forEach((v, k) => {
      const ok = lower[i][k] <= v && v <= upper[i][k];
      if (ok) inside[k] += 1;
      else every = false;
      width[k] += upper[i][k] - lower[i][k];
    });
    if (every) all += 1;
  });
  return { n, overall: inside.reduce((a, b) => a + b, 0) / (n * K), perComponent: inside.map((c) => c / n), rowsAllInside: all / n, meanWidth: width.map((w) => w / n) };
}

/** Root mean squared error of prediction, overall (over rows and components) and per component. */
export function rmsep(mean: number[][], y: number[][]): { overall: number; perComponent: number[] } {
  checkShape(mean, y, 'rmsep: predictions and labels');
  const n = y.length;
  if (n === 0) throw new Error('rmsep: no rows');
  const K = y[0].length;
  const ss = new Array<number>(K).fill(0);
  mean.forEach((r, i) => r.forEach((v, k) => (ss[k] += (v - y[i][k]) ** 2)));
  return { overall: Math.sqrt(ss.reduce((a, b) => a + b, 0) / (n * K)), perComponent: ss.map((s) => Math.sqrt(s / n)) };
}

/** Classification error and mean cross-entropy (nats; probabilities floored at 1e-12) of class probabilities against true classes. */
export function classificationScores(probs: number[][], classes: ArrayLike<number>): { error: number; crossEntropy: number } {
  const n = probs.length;
  if (n === 0) throw new Error('classificationScores: no rows');
  if (classes.length !== n) throw new Error(`classificationScores: ${n} rows of probabilities against ${classes.length} classes`);
  let wrong = 0;
  let ce = 0;
  probs.forEach((p, i) => {
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    if (best !== classes[i]) wrong += 1;
    ce -= Math.log(Math.max(p[classes[i]], 1e-12));
  });
  return { error: wrong / n, crossEntropy: ce / n };
}

/** A calibration of class prediction sets, as stored in `fit.json`. */
export interface SetCalibration {
  kind: 'split-conformal-set';
  level: number;
  n: number;
  rank: number;
  /** A class is in the set when its probability is ≥ this; null when the quantile is infinite (n < minRows: every class). */
  threshold: number | null;
  minRows: number;
}

/** Conformal scores of calibration rows for class sets: 1 − p̂(true class). */
export function setScores(probs: number[][], classes: ArrayLike<number>): number[] {
  if (classes.length !== probs.length) throw new Error(`setScores: ${probs.length} rows of probabilities against ${classes.length} classes`);
  return probs.map((p, i) => {
    const c = classes[i];
    if (!(c >= 0 && c < p.length) || !Number.isInteger(c)) throw new Error(`setScores: class ${c} of row ${i} is outside 0..${p.length - 1}`);
    return Math.max(0, 1 - p[c]);
  });
}

/** A set calibration at `level` from scores 1 − p̂(true class). */
export function setsFromScores(scores: number[], level: number): SetCalibration {
  const alpha = 1 - level;
  const q = conformalQuantile(scores, alpha);
  return { kind: 'split-conformal-set', level, n: scores.length, rank: conformalRank(scores.length, alpha), threshold: Number.isFinite(q) ? Math.max(0, 1 - q) : null, minRows: conformalMinRows(alpha) };
}

/** Calibrates prediction sets from class probabilities [n][K] and true classes of calibration rows. */
export function calibrateSets(probs: number[][], classes: ArrayLike<number>, level = 0.95): SetCalibration {
  return setsFromScores(setScores(probs, classes), level);
}

/** Prediction sets as 0/1 rows [n][K]: 1 for each class with probability ≥ the calibrated threshold (every class when it is null). */
export function predictionSets(cal: SetCalibration, probs: number[][]): number[][] {
  const t = cal.threshold ?? 0;
  return probs.map((p) => p.map((v) => (v >= t ? 1 : 0)));
}
/** Share of rows whose true class is in its set, and the mean set size. */
export function setCoverage(sets: number[][], classes: ArrayLike<number>): { n: number; coverage: number; meanSize: number } {
  const n = sets.length;
  if (n === 0) throw new Error('setCoverage: no rows');
  if (classes.length !== n) throw new Error(`setCoverage: ${n} sets against ${classes.length} classes`);
  let hit = 0;
  let size = 0;
  sets.forEach((s, i) => {
    if (s[classes[i]] === 1) hit += 1;
    size += s.reduce((a, b) => a + b, 0);
  });
  return { n, coverage: hit / n, meanSize: size / n };
}
