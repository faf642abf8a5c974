/**
 * Schedules over training progress, measured in (fractional) epochs: the KL weight β with linear
 * warm-up (Sønderby et al. 2016; thesis `003_…` §5.1), and the learning rate.
 */

/**
 * Linear warm-up of the KL weight: β(e) = target · min(1, e / warmupEpochs), where e is the number of
 * epochs completed (fractional within an epoch). With `warmupEpochs` = 0, β = target throughout.
 */
export function warmupBeta(epoch: number, warmupEpochs: number, target = 1): number {
  if (!(warmupEpochs >= 0)) throw new Error(`warm-up epochs must be ≥ 0, got ${warmupEpochs}`);
  if (warmupEpochs === 0) return target;
  return target * Math.min(1, Math.max(0, epoch) / warmupEpochs);
}

/** A learning-rate schedule. */
export type LrSchedule =
  | { kind: 'constant' }
  /** lr · gamma^epoch */
  | { kind: 'exponential'; gamma: number }
  /** cosine from lr to `min` over the run */
  | { kind: 'cosine'; min: number }
  /** lr · gamma^⌊epoch / every⌋ */
  | { kind: 'step'; every: number; gamma: number };

/** Learning rate at fractional epoch `epoch` of `totalEpochs`, from base rate `lr`. */
export function learningRate(lr: number, schedule: LrSchedule, epoch: number, totalEpochs: number): number {
  switch (schedule.kind) {
    case 'constant':
      return lr;
    case 'exponential':
      return lr * Math.pow(schedule.gamma, epoch);
    case 'cosine': {
      const p = totalEpochs > 0 ? Math.min(1, epoch / totalEpochs) : 1;
      return schedule.min + 0.5 * (lr - schedule.min) * (1 + Math.cos(Math.PI * p));
    }
    case 'step':
      return lr * Math.pow(schedule.gamma, Math.floor(epoch / schedule.every));
  }
}
