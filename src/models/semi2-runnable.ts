/**
 * The semi²-supervised model (`models/semi2.ts`, Gemp et al. `000_…` §3) behind the run contract
 * of `models/family.ts`, so that the code that serves every run serves it too: `evaluate`'s IW
 * log-likelihood and `sample` reach a model of `untapped fit` this way (its `predict` and
 * `generate` keep fit's own, with calibrated intervals and compositions).
 *
 * The adapter adds what the semi² run keeps beside the network weights: the fitted preprocessing
 * chain (`preprocess`, `data/preprocess.ts`: applied to every x, its invertible end undone on every
 * generated x), the input mean subtracted before the networks when the fit centred its inputs
 * (`center`; added back to every generated x) and the mean nuisance z̄ of the labelled rows, the default z of {@link Semi2Runnable.generate}
 * (`000_…` eq 18).
 *
 * Its training objective is (15) with the weights the run was fitted with; a discrete label
 * arrives from the pipeline as class indices and is one-hot encoded here.
 *
 * Not yet a registered family (`models/registry.ts`): the semi² model trains through its own run
 * config (three sources, validation, calibration; `experiments/semi2-run.ts`) and saves the
 * directory of `untapped fit`; {@link fittedRunnable} in `experiments/fit.ts` wraps a loaded one.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { iwaeFromLogWeights } from '../objectives/bounds.js';
import { oneHot } from '../dists/categorical.js';
import type { ObjectiveSettings, RunnableModel, StepBatch } from './family.js';
import type { Semi2Dgm, Semi2Weights } from './semi2.js';
import { applyPreprocessing, outputWidth, undoPreprocessing, type FittedPreprocessing } from '../data/preprocess.js';

/** What the semi² run keeps beside the network weights. */
export interface Semi2RunState {
  /** Mean input subtracted before the networks (length D), or null when the fit did not centre. */
  xMean?: Float32Array | null;
  /** The fitted preprocessing chain applied to x before `xMean` is subtracted (rows of its input width in, of the networks' width out), or null when none. */
  preprocessing?: FittedPreprocessing | null;
  /** Mean nuisance of the labelled rows (length d): the default z of `generate`; default the box's centre. */
  zMean?: number[];
  /** The weights of objective (15) the model trains with (needed by {@link Semi2Runnable.loss} only). */
  weights?: Semi2Weights;
}

/** The semi² model as a {@link RunnableModel}. */
export class Semi2Runnable implements RunnableModel {
  readonly params;
  readonly inputDim: number;
  readonly classes: number;
  private readonly xMean: tf.Tensor1D | null;
  private readonly zMean: number[];

  constructor(
    readonly instance: Semi2Dgm,
    private readonly state: Semi2RunState = {},
  ) {
    this.params = instance.params;
    // the run contract's inputs are the rows as given: the chain's input width (after pca:k the networks read k scores)
    this.inputDim = state.preprocessing?.width ?? instance.config.inputDim;
    this.classes = instance.config.classes;
    const D = instance.config.inputDim;
    if (state.xMean && state.xMean.length !== D) throw new Error(`semi² run: xMean has ${state.xMean.length} values for ${D} inputs`);
    this.xMean = state.xMean ? tf.tensor1d(state.xMean) : null;
    this.zMean = state.zMean ?? new Array<number>(instance.config.latent).fill(instance.zCentre());
    if (this.zMean.length !== instance.config.latent) throw new Error(`semi² run: zMean has ${this.zMean.length} values for a ${instance.config.latent}-dimensional z`);
  }

  /** x as the networks see it (preprocessed, then minus the stored input mean). */
  private centred(x: tf.Tensor): tf.Tensor {
    const f = this.state.preprocessing;
    const p = f ? tf.tensor(applyPreprocessing(f, x.dataSync() as Float32Array, this.inputDim), [x.shape[0], outputWidth(f)]) : x;
    return this.xMean ? tf.sub(p, this.xMean) : p;
  }

  /**
   * A generated mean back in the data's units (plus the stored input mean, then the invertible end
   * of the preprocessing undone; after SNV, MSC or Savitzky–Golay it stays in their space).
   */
  private uncentred(x: tf.Tensor): tf.Tensor {
    const c = this.xMean ? tf.add(x, this.xMean) : x;
    const f = this.state.preprocessing;
    return f ? tf.tensor(undoPreprocessing(f, c.dataSync() as Float32Array, outputWidth(f)).rows, [c.shape[0], f.width]) : c;
  }

  /** Label rows [B, K] from class indices (int32 [B]) or rows already [B, K]. */
  private labelRows(y: tf.Tensor): tf.Tensor {
    if (y.rank === 2) return y;
    if (this.instance.config.labels === 'simplex') throw new Error('semi² run: a composition label needs its K components, not a class index');
    return oneHot(y, this.classes);
  }

  /**
   * −J of objective (15) for one batch (labelled pairs, unlabelled x; unfeatured labels where the
   * batch has them), with the weights of {@link Semi2RunState.weights}.
   * @throws Error when the adapter was built without weights.
   */
  loss(batch: StepBatch & { unfeatured?: { y: tf.Tensor; z?: tf.Tensor } }, ctx: { rng: Rng; beta: number; objective: ObjectiveSettings }): tf.Scalar {
    const w = this.state.weights;
    if (!w) throw new Error('semi² run: loss needs the weights of objective (15) (Semi2RunState.weights); `untapped fit` and untapped run configs give them');
    return tf.tidy(() =>
      this.instance.loss(
        {
          ...(batch.labelled ? { labelled: { x: this.centred(batch.labelled.x), y: this.labelRows(batch.labelled.y) } } : {}),
          ...(batch.unlabelled ? { unlabelled: { x: this.centred(batch.unlabelled.x) } } : {}),
          ...(batch.unfeatured ? { unfeatured: batch.unfeatured } : {}),
        },
        ctx.rng,
        w,
      ),
    );
  }

  /** Importance log-weights [k, B] of log p(x), y summed exactly (discrete) or drawn from q(y | x) (simplex); `Semi2Dgm.logWeights`. */
  logWeights(x: tf.Tensor, k: number, rng: Rng): tf.Tensor {
    return tf.tidy(() => this.instance.logWeights(this.centred(x), k, rng));
  }

  /** Bound (8) per example [B] for k = 1, IWAE(k) of log p(x) for k > 1. */
  bound(x: tf.Tensor, k: number, rng: Rng): tf.Tensor {
    if (!this.instance.config.variational) throw new Error('a deterministic model (variational: false) has no bound to evaluate');
    return tf.tidy(() => (k === 1 ? this.instance.boundUnlabelled(this.centred(x), rng) : iwaeFromLogWeights(this.logWeights(x, k, rng))));
  }

  /** q(y | x)'s mean ȳ [B, K]: class probabilities (discrete labels) or the predicted composition (simplex). */
  classify(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.instance.predict(this.centred(x)));
  }

  /**
   * n draws of the means of p(x | y, z), [n, D]: z ~ p(z) (uniform on the box), y the given classes
   * or drawn from p(y) (uniform classes; Dir(1) compositions).
   */
  sample(n: number, rng: Rng, y?: Int32Array): tf.Tensor {
    const { x, y: yy } = this.sampleWithLabels(n, rng, y);
    yy.dispose();
    return x;
  }

  /**
   * {@link sample} with the labels it drew from: x [n, D] (means of p(x | y, z)) and y [n, K] (one-hot
   * classes, compositions, or real targets drawn from the fitted p(y), in the model's units).
   */
  sampleWithLabels(n: number, rng: Rng, y?: Int32Array): { x: tf.Tensor; y: tf.Tensor } {
    const K = this.classes;
    let yy: tf.Tensor;
    if (y) {
      if (y.length !== n) throw new Error(`sample: ${y.length} classes for ${n} draws`);
      yy = tf.tidy(() => this.labelRows(tf.tensor1d(y, 'int32')));
    } else if (this.instance.config.labels === 'discrete') {
      yy = tf.tidy(() => oneHot(tf.floor(tf.mul(rng.uniform([n]), K - 1e-6)), K));
    } else if (this.instance.config.labels === 'real') {
      // real targets: the fitted Gaussian prior (on the logit scale of a bounded target; the caller maps it back)
      yy = this.instance.samplePriorY(n, rng);
    } else {
      // Dir(1) = normalised Exp(1) draws
      yy = tf.tidy(() => {
        const e = tf.neg(tf.log(tf.sub(1, rng.uniform([n, K], 0, 1 - 1e-7))));
        return tf.div(e, tf.sum(e, -1, true));
      });
    }
    const x = tf.tidy(() => this.uncentred(this.instance.generate(yy, this.instance.samplePriorZ(n, rng))));
    return { x, y: yy };
  }

  /** The mean of p(x | y, z̄) for each class index, z̄ the labelled rows' mean nuisance (eq 18), [n, D]. */
  generate(y: Int32Array): tf.Tensor {
    if (this.instance.config.labels === 'simplex') throw new Error('generate: a composition model takes compositions (untapped generate --y 0.2,0.8), not class indices');
    return tf.tidy(() => {
      const yy = this.labelRows(tf.tensor1d(y, 'int32'));
      const zz = tf.tile(tf.tensor2d([this.zMean], [1, this.zMean.length]), [y.length, 1]);
      return this.uncentred(this.instance.generate(yy, zz));
    });
  }

  dispose(): void {
    this.xMean?.dispose();
    this.instance.dispose();
  }
}
