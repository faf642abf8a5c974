/** Diagonal Gaussian. */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { LOG_2PI } from '../engine/ops.js';
import { Distribution, paramShapeOf } from './distribution.js';

/**
 * Diagonal Normal N(loc, diag(scale²)), event = last axis of size D.
 *
 * log p(x) = Σ_d [ −½((x_d − μ_d)/σ_d)² − log σ_d − ½ log 2π ]  (shape: value shape minus last axis)
 *
 * `loc` and `scale` (σ > 0, not checked: that would force a device read) must broadcast; their
 * broadcast shape is `batchShape + [D]`. Build from a log-variance with {@link Normal.fromLogVar},
 * which keeps `logVar` so that `logProb`, `entropy` and KL use it directly (no `log(exp(·))` round trip).
 */
export class Normal extends Distribution {
  readonly batchShape: number[];
  readonly eventShape: number[];
  readonly hasRsample = true;
  readonly support = 'real vectors ℝ^D';
  /** Mean μ (not owned). */
  readonly loc: tf.Tensor;
  private _scale: tf.Tensor | null;
  private _logVar: tf.Tensor | null = null;

  /**
   * @param loc μ, a tensor of rank ≥ 1 broadcastable with `scale`.
   * @param scale σ > 0, a tensor broadcastable with `loc`.
   */
  constructor(loc: tf.Tensor, scale: tf.Tensor) {
    super();
    const shape = paramShapeOf('Normal', [['loc', loc], ['scale', scale]]);
    this.loc = loc;
    this._scale = scale;
    this.batchShape = shape.slice(0, -1);
    this.eventShape = shape.slice(-1);
  }

  /**
   * N(loc, diag(exp(logVar))), i.e. σ = exp(½·logVar). Keeps `logVar` so that `logProb`, `entropy`
   * and KL use it directly. Shapes as in the constructor.
   * @param loc μ; @param logVar log σ², broadcastable with `loc`.
   */
  static fromLogVar(loc: tf.Tensor, logVar: tf.Tensor): Normal {
    paramShapeOf('Normal.fromLogVar', [['loc', loc], ['logVar', logVar]]);
    const d = new Normal(loc, logVar);
    d._scale = null;
    d._logVar = logVar;
    return d;
  }

  /** Standard deviation σ as given to the constructor (not owned); null when built by {@link Normal.fromLogVar}. */
  get scale(): tf.Tensor | null {
    return this._scale;
  }

  /** Log-variance log σ² as given to {@link Normal.fromLogVar} (not owned); null when built from `scale`. */
  get logVar(): tf.Tensor | null {
    return this._logVar;
  }

  /** σ = scale, or exp(½·logVar): a new tensor of the parameter's own shape. Call inside a tidy. */
  private sigma(): tf.Tensor {
    return this._scale !== null ? this._scale : tf.exp(tf.mul(this._logVar!, 0.5));
  }

  /** log σ = log(scale), or ½·logVar, in the parameter's own (unbroadcast) shape. */
  logScale(): tf.Tensor {
    return tf.tidy(() => (this.logVar !== null ? tf.mul(this.logVar, 0.5) : tf.log(this.scale!)));
  }

  /** σ broadcast to `batchShape + eventShape`. */
  stddev(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(this.scale !== null ? tf.clone(this.scale) : this.sigma(), this.paramShape));
  }

  /** σ² broadcast to `batchShape + eventShape`. */
  variance(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(this.logVar !== null ? tf.exp(this.logVar) : tf.square(this.scale!), this.paramShape));
  }

  /** Draws μ + σ·ε (no gradient intended, same numbers as {@link rsample}): `[n?, ...batch, D]`. */
  sample(rng: Rng, n?: number): tf.Tensor {
    return this.draw(rng, n, 'sample');
  }

  /** Reparameterised draw μ + σ·ε, ε ~ N(0, I) from `rng.normal`: `[n?, ...batch, D]`. ∂/∂μ = 1, ∂/∂σ = ε. */
  override rsample(rng: Rng, n?: number): tf.Tensor {
    return this.draw(rng, n, 'rsample');
  }

  private draw(rng: Rng, n: number | undefined, fn: string): tf.Tensor {
    const shape = this.sampleShape(n, fn);
    return tf.tidy(() => tf.add(this.loc, tf.mul(this.sigma(), rng.normal(shape))));
  }

  /** Σ_d −½((x−μ)/σ)² − log σ − ½ log 2π: shape `broadcast(value, batch+event)` minus the last axis. */
  logProb(value: tf.Tensor): tf.Tensor {
    this.checkValue(value, 'logProb');
    return tf.tidy(() => {
      const diff = tf.sub(value, this.loc);
      let quad: tf.Tensor;
      if (this.logVar !== null) quad = tf.mul(tf.square(diff), tf.exp(tf.neg(this.logVar)));
      else quad = tf.square(tf.div(diff, this.scale!));
      const lp = tf.sub(tf.add(tf.mul(quad, -0.5), tf.neg(this.logScale())), 0.5 * LOG_2PI);
      return tf.sum(lp, -1);
    });
  }

  /** μ broadcast to `batchShape + eventShape`. */
  mean(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.clone(this.loc), this.paramShape));
  }

  /** H = Σ_d ½(1 + log 2π) + log σ_d: shape `batchShape`. */
  override entropy(): tf.Tensor {
    return tf.tidy(() => tf.sum(tf.broadcastTo(tf.add(this.logScale(), 0.5 * (1 + LOG_2PI)), this.paramShape), -1));
  }
}

/** The log-density of N(loc, scale²) at v, elementwise (no sum over the event axis): per-unit terms, e.g. the per-unit KL estimates of active units. */
export function normalLogDensity(v: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.sub(tf.mul(tf.square(tf.div(tf.sub(v, loc), scale)), -0.5), tf.log(scale)), 0.5 * LOG_2PI));
}
