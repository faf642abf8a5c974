/**
 * The ELBO anomaly detector of condition monitoring (thesis `003_…` §6 and appendix D): a row whose
 * ELBO falls far below the training rows' looks like nothing the model was trained on. The score is
 * the model's own test bound per row ({@link RunnableModel.bound} with k = 1: the ELBO of a VAE, −U(x)
 * of a semi-supervised model with y summed under q(y | x), bound (8) of the semi² model), so it exists
 * for every model of the run contract and comes from the shared objective code; the threshold is a
 * quantile of the training rows' ELBOs, set from the false-alarm rate the user accepts.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import type { RunnableModel } from '../models/family.js';

/**
 * The ELBO of each row (nats), averaged over `draws` Monte Carlo estimates: x [n, D] row-major,
 * evaluated in batches of `batchSize` rows. Higher is more like the training data.
 * @throws Error when x does not hold whole rows of D values or draws < 1.
 */
export function elboPerRow(model: Pick<RunnableModel, 'bound' | 'inputDim'>, x: Float32Array, rng: Rng, opts: { draws?: number; batchSize?: number } = {}): Float64Array {
  const D = model.inputDim;
  const draws = opts.draws ?? 10;
  const bs = opts.batchSize ?? 500;
  if (x.length % D !== 0) throw new Error(`elboPerRow: ${x.length} values are not whole rows of ${D}`);
  if (!(Number.isInteger(draws) && draws >= 1)) throw new Error(`elboPerRow: draws must be an integer ≥ 1, got ${draws}`);
  const n = x.length / D;
  const out = new Float64Array(n);
  for (let s = 0; s < n; s += bs) {
    const b = Math.min(bs, n - s);
    const xb = tf.tensor2d(x.subarray(s * D, (s + b) * D), [b, D]);
    for (let d = 0; d < draws; d++) {
      const e = model.bound(xb, 1, rng);
      const v = e.dataSync();
      for (let i = 0; i < b; i++) out[s + i] += v[i] / draws;
      e.dispose();
    }
    xb.dispose();
  }
  return out;
}

/**
 * The anomaly threshold for a false-alarm rate f: the ⌊f·n⌋-th smallest (0-based) of the training
 * rows' ELBOs, so that a row is flagged when its ELBO is below it and at most f·n of the training
 * rows are (exactly ⌊f·n⌋ when their ELBOs are distinct).
 * @throws Error when f is not in [0, 1) or there are no training rows.
 */
export function anomalyThreshold(trainElbo: ArrayLike<number>, falseAlarm: number): number {
  if (!(falseAlarm >= 0 && falseAlarm < 1)) throw new Error(`the false-alarm rate must be in [0, 1), got ${falseAlarm}`);
  const n = trainElbo.length;
  if (n === 0) throw new Error('anomalyThreshold: no training rows');
  const sorted = Float64Array.from(trainElbo).sort();
  return sorted[Math.floor(falseAlarm * n)];
}

/**
 * Area under the ROC curve of a score that should be higher for positives (ties count half): the
 * probability that a random positive scores above a random negative.
 * @throws Error when either class is empty.
 */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let nPos = 0;
  let rankSum = 0;
  for (let r = 0; r < idx.length; ) {
    let e = r;
    while (e + 1 < idx.length && scores[idx[e + 1]] === scores[idx[r]]) e++;
    const mid = (r + e) / 2 + 1; // average rank of the tie group, 1-based
    for (let j = r; j <= e; j++) {
      if (positive[idx[j]]) {
        nPos++;
        rankSum += mid;
      }
    }
    r = e + 1;
  }
  const nNeg = idx.length - nPos;
  if (nPos === 0 || nNeg === 0) throw new Error(`auroc: need positives and negatives, got ${nPos} and ${nNeg}`);
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Checks that timestamps are present, parseable (ISO 8601 or anything `Date.parse` reads), and
 * strictly increasing; `where(i)` names row i in messages (file and line).
 * @returns the times in milliseconds since 1970.
 * @throws Error naming the row of the first missing, unreadable, repeated or out-of-order timestamp.
 */
export function checkTimestamps(stamps: readonly string[], where: (i: number) => string, column = 'timestamp'): Float64Array {
  const t = new Float64Array(stamps.length);
  for (let i = 0; i < stamps.length; i++) {
    const s = stamps[i].trim();
    if (s === '') throw new Error(`${where(i)}: the ${column} is missing`);
    const v = Date.parse(s);
    if (!Number.isFinite(v)) throw new Error(`${where(i)}: the ${column} '${s}' is not a date and time (e.g. 2017-01-09T08:23:00Z)`);
    if (i > 0 && v === t[i - 1]) throw new Error(`${where(i)}: the ${column} '${s}' repeats the row before`);
    if (i > 0 && v < t[i - 1]) throw new Error(`${where(i)}: the ${column} '${s}' comes before the row before ('${stamps[i - 1].trim()}'); the rows must be in time order`);
    t[i] = v;
  }
  return t;
}
