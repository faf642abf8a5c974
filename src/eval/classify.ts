/**
 * Classification metrics for the semi-supervised models (M2, ADGM, the inverted VAE): predicted
 * classes from class probabilities, error rate, and the confusion matrix as numbers or Markdown.
 */

function checkPair(what: string, trueY: ArrayLike<number>, predY: ArrayLike<number>): void {
  if (trueY.length !== predY.length) {
    throw new Error(`${what}: ${trueY.length} true labels but ${predY.length} predictions`);
  }
}

function checkLabel(what: string, which: string, row: number, v: number, k: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= k) throw new Error(`${what}: ${which} label at row ${row} is ${v}, outside 0..${k - 1}`);
}

/**
 * The k × k confusion matrix: entry `[t][p]` counts the rows whose true class is `t` and predicted
 * class is `p` (rows are true classes, columns predictions). Throws if the arrays differ in length,
 * or a label is not an integer in `0..k − 1` (naming which array, the row and the value).
 */
export function confusionMatrix(trueY: ArrayLike<number>, predY: ArrayLike<number>, k: number): number[][] {
  const what = 'confusionMatrix';
  if (!Number.isInteger(k) || k < 1) throw new Error(`${what}: k must be a positive integer, got ${k}`);
  checkPair(what, trueY, predY);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < trueY.length; i++) {
    const t = trueY[i];
    const p = predY[i];
    checkLabel(what, 'true', i, t, k);
    checkLabel(what, 'predicted', i, p, k);
    m[t][p]++;
  }
  return m;
}

/**
 * The rows of a prediction that have a label (true class ≥ 0; −1 marks a row without one, e.g. an
 * empty label cell): their true and predicted classes, for {@link errorRate} and {@link confusionMatrix}.
 */
export function labelledOnly(trueY: ArrayLike<number>, predY: ArrayLike<number>): { trueY: Int32Array; predY: Int32Array } {
  checkPair('labelledOnly', trueY, predY);
  const rows = Array.from({ length: trueY.length }, (_, i) => i).filter((i) => trueY[i] >= 0);
  return { trueY: Int32Array.from(rows, (i) => trueY[i]), predY: Int32Array.from(rows, (i) => predY[i]) };
}

/**
 * The fraction of rows where the prediction differs from the true label, in [0, 1]. Throws if the
 * arrays differ in length or are empty.
 */
export function errorRate(trueY: ArrayLike<number>, predY: ArrayLike<number>): number {
  checkPair('errorRate', trueY, predY);
  if (trueY.length === 0) throw new Error('errorRate: no labels (the error rate of nothing is undefined)');
  let wrong = 0;
  for (let i = 0; i < trueY.length; i++) if (trueY[i] !== predY[i]) wrong++;
  return wrong / trueY.length;
}

/**
 * The index of the largest entry of each row of `probs` (`n × k`, row-major); ties go to the lowest
 * index. Works on probabilities, log-probabilities or logits alike. Throws if the length is not a
 * multiple of `k`, or a row holds NaN (naming the row and column).
 */
export function argmaxRows(probs: Float32Array, k: number): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new Error(`argmaxRows: k must be a positive integer, got ${k}`);
  const n = probs.length / k;
  if (!Number.isInteger(n)) throw new Error(`argmaxRows: ${probs.length} values do not form rows of ${k}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let best = 0;
    let bestV = probs[o];
    for (let j = 0; j < k; j++) {
      const v = probs[o + j];
      if (Number.isNaN(v)) throw new Error(`argmaxRows: row ${i}, column ${j} is NaN`);
      if (v > bestV) {
        bestV = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/**
 * A confusion matrix as a Markdown table: one row per true class, one column per predicted class,
 * then each row's total and the class's error rate (`–` for a class with no rows); a last row
 * gives the column totals and the overall error rate. Throws if `m` is empty or not square.
 */
export function formatConfusion(m: number[][]): string {
  const k = m.length;
  if (k === 0) throw new Error('formatConfusion: the matrix is empty');
  for (let t = 0; t < k; t++) {
    if (!Array.isArray(m[t]) || m[t].length !== k) {
      throw new Error(`formatConfusion: the matrix must be square (${k} × ${k}) but row ${t} has ${m[t]?.length ?? 0} entries`);
    }
  }
  const pct = (wrong: number, total: number) => (total > 0 ? `${((100 * wrong) / total).toFixed(2)}%` : '–');
  const cls = Array.from({ length: k }, (_, j) => String(j));
  const lines = [`| true \\ predicted | ${cls.join(' | ')} | total | error |`, `| ---: | ${cls.map(() => '---:').join(' | ')} | ---: | ---: |`];
  const colTotals = new Array<number>(k).fill(0);
  let all = 0;
  let allWrong = 0;
  for (let t = 0; t < k; t++) {
    let total = 0;
    for (let p = 0; p < k; p++) {
      total += m[t][p];
      colTotals[p] += m[t][p];
    }
    const wrong = total - m[t][t];
    all += total;
    allWrong += wrong;
    lines.push(`| **${t}** | ${m[t].join(' | ')} | ${total} | ${pct(wrong, total)} |`);
  }
  lines.push(`| **total** | ${colTotals.join(' | ')} | ${all} | ${pct(allWrong, all)} |`);
  return lines.join('\n') + '\n';
}
