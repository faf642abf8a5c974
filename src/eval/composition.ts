/**
 * Errors of predicted compositions and generated endmembers, as reported in the "untapped" paper
 * (Gemp et al., `000_…`): the KL divergence of tables 2–4 and the endmember error ‖x̄ − x‖₂ of fig. 5.
 * Plain JavaScript in double precision over row-major typed arrays.
 */

function checkShape(who: string, name: string, a: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`${who}: row count must be a positive integer, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 1) throw new Error(`${who}: column count must be a positive integer, got ${cols}`);
  if (a.length !== rows * cols) throw new Error(`${who}: ${name} has ${a.length} values, expected ${rows} × ${cols} = ${rows * cols}`);
}

/**
 * Mean over the `n` rows of KL(true ‖ pred) = Σ_j t_j (log t_j − log p_j), for compositions `trueY`
 * and `predY` (`n × k`, row-major). Before the logs both are clipped to [eps, 1] (default
 * eps = 1e-6), so a zero in either is treated as eps and the result stays finite; rows are not
 * renormalised after clipping. This is the reference implementation's metric (its `KL(pred, true)`
 * in the plotting code, and the `KL` loss of `M12.py`, which also clips at 1e-6): the expectation is
 * under the ground truth, i.e. the divergence of the prediction from the truth that the paper's
 * tables call "KL-divergence from predicted distribution … to ground truth". It is 0 when the rows
 * are equal and is not symmetric in its arguments.
 */
export function compositionKl(trueY: ArrayLike<number>, predY: ArrayLike<number>, n: number, k: number, eps = 1e-6): number {
  const who = 'compositionKl';
  checkShape(who, 'trueY', trueY, n, k);
  checkShape(who, 'predY', predY, n, k);
  if (!(eps > 0 && eps < 1)) throw new Error(`${who}: eps must be in (0, 1), got ${eps}`);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const t = Math.min(1, Math.max(eps, trueY[i * k + j]));
      const p = Math.min(1, Math.max(eps, predY[i * k + j]));
      s += t * (Math.log(t) - Math.log(p));
    }
    if (Number.isNaN(s)) throw new Error(`${who}: row ${i} has a NaN`);
    total += s;
  }
  return total / n;
}

/**
 * Endmember extraction error: for each of the `k` endmembers the Euclidean distance
 * ‖x̄_i − x_i‖₂ between the generated spectrum `generated` and the true one `truth` (both `k × d`,
 * row-major), and their mean (the number in the paper's fig. 5).
 */
export function endmemberError(generated: ArrayLike<number>, truth: ArrayLike<number>, k: number, d: number): { perMineral: number[]; mean: number } {
  const who = 'endmemberError';
  checkShape(who, 'generated', generated, k, d);
  checkShape(who, 'truth', truth, k, d);
  const perMineral: number[] = [];
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += (generated[i * d + c] - truth[i * d + c]) ** 2;
    perMineral.push(Math.sqrt(s));
  }
  return { perMineral, mean: perMineral.reduce((a, b) => a + b, 0) / k };
}
