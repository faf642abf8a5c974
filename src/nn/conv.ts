/**
 * Convolutional building blocks for the convolutional VAE (`004_…` §4.2.2 and appendix A.2): 2-D
 * convolution, transposed ("de-") convolution and batch normalisation (Ioffe & Szegedy 2015).
 *
 * Layout is NHWC throughout (images [N, H, W, C]); filters as in tfjs, [k, k, C_in, C_out] for a
 * convolution and [k, k, C_out, C_in] for a transposed one. With stride s and zero padding p:
 *
 * - convolution: y[n, i, j, o] = Σ_{a, b, c} x̂[n, s·i + a, s·j + b, c] · f[a, b, c, o], x̂ the input
 *   padded by p on every side;
 * - transposed convolution, its adjoint with respect to the input:
 *   y[n, s·i + a − p, s·j + b − p, o] += Σ_c x[n, i, j, c] · f[a, b, o, c].
 *
 * **Everything on the native `Conv2D` kernel.** tfjs-backend-wasm 4.22 has no
 * `Conv2DBackpropFilter` kernel, so `tf.conv2d` cannot be trained there, and its
 * `Conv2DBackpropInput` (the transposed convolution) is a plain loop about ten times slower than its
 * XNNPACK `Conv2D`. So {@link conv2d} and {@link conv2dTranspose} run under custom gradients built
 * from `Conv2D` alone: the transposed convolution is s² stride-1 convolutions, one per output phase,
 * interleaved (the "sub-pixel" form); the input gradient of each operation is the other one (they
 * are adjoint); and the filter gradient ∂L/∂f[a, b, c, o] = Σ_{n,i,j} x̂[n, s·i + a, s·j + b, c] ·
 * δ[n, i, j, o] is a stride-1 convolution dilated by s — of x̂ with the batch as channels,
 * [C, H, W, N], by δ as the filter, [Ho, Wo, N, O] ({@link conv2dFilterGrad}).
 *
 * {@link conv2dIm2col} and {@link conv2dTransposeCol2im} compute the same two operations as one
 * matrix product over image patches (im2col / col2im), from reshape, transpose, slice, pad and
 * concat only, so that tfjs differentiates them by itself. They are 2–15× slower and serve as
 * the independent reference the fast versions are tested against (`conv.test.ts`).
 *
 * Batch normalisation needs a mode: in training it normalises with the statistics of the batch and
 * updates running averages; in evaluation it normalises with the running averages. The running
 * averages are stored in the {@link ParamStore} (so that checkpoints and saved models carry them)
 * but reach the loss only through {@link zeroGradient}, so their gradient is exactly zero and Adam
 * leaves them alone (zero first and second moments give a zero step).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng.js';
import { weight, type ParamStore } from './params.js';

/** Output size of a convolution along one axis: ⌊(n + 2p − k)/s⌋ + 1. */
export function convOutSize(n: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((n + 2 * pad - kernel) / stride) + 1;
}

/** Output size of a transposed convolution along one axis: s·(n − 1) + k − 2p. */
export function convTransposeOutSize(n: number, kernel: number, stride: number, pad: number): number {
  return stride * (n - 1) + kernel - 2 * pad;
}

function checkGeometry(who: string, kernel: number, stride: number, pad: number): void {
  for (const [v, what, lo] of [[kernel, 'kernel', 1], [stride, 'stride', 1], [pad, 'pad', 0]] as const) {
    if (!Number.isInteger(v) || v < lo) throw new Error(`${who}: ${what} must be an integer ≥ ${lo}, got ${v}`);
  }
  if (pad >= kernel) throw new Error(`${who}: pad (${pad}) must be smaller than the kernel (${kernel})`);
}

/**
 * The k × k patches of a convolution with stride s and zero padding p, for x [N, H, W, C]:
 * [N, Ho, Wo, k²·C], the last axis ordered (row offset, column offset, channel) — the row order of
 * a `tf.conv2d` filter [k, k, C, O] reshaped to [k²·C, O].
 */
export function imagePatches(x: tf.Tensor, kernel: number, stride: number, pad: number): tf.Tensor4D {
  checkGeometry('imagePatches', kernel, stride, pad);
  if (x.rank !== 4) throw new Error(`imagePatches: expected images [N, H, W, C], got shape [${x.shape}]`);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const k = kernel;
  const s = stride;
  const Ho = convOutSize(H, k, s, pad);
  const Wo = convOutSize(W, k, s, pad);
  if (Ho < 1 || Wo < 1) throw new Error(`imagePatches: a ${k}×${k} kernel (pad ${pad}) does not fit a ${H}×${W} image`);
  return tf.tidy(() => {
    // Blocks of s rows/columns the patches reach: output row i with offset a reads padded row
    // s·i + a = s·(i + ⌊a/s⌋) + a mod s.
    const Hh = Ho + Math.floor((k - 1) / s);
    const Wh = Wo + Math.floor((k - 1) / s);
    const bottom = s * Hh - H - pad;
    const right = s * Wh - W - pad;
    let xp = tf.pad(x, [[0, 0], [pad, Math.max(0, bottom)], [pad, Math.max(0, right)], [0, 0]]);
    if (bottom < 0 || right < 0) xp = tf.slice(xp, [0, 0, 0, 0], [N, s * Hh, s * Wh, C]);
    // space-to-phase: [N, Hh, s, Wh, s, C] → [s, s, N, Hh, Wh, C] → [s²·N, Hh, Wh, C]
    const phases = s === 1 ? xp : tf.reshape(tf.transpose(tf.reshape(xp, [N, Hh, s, Wh, s, C]), [2, 4, 0, 1, 3, 5]), [s * s * N, Hh, Wh, C]);
    const views: tf.Tensor[] = [];
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        const ph = (a % s) * s + (b % s);
        views.push(tf.slice(phases, [ph * N, Math.floor(a / s), Math.floor(b / s), 0], [N, Ho, Wo, C]));
      }
    }
    return (views.length === 1 ? views[0] : tf.concat(views, 3)) as tf.Tensor4D;
  });
}

/**
 * Reference convolution by im2col (plain ops, differentiated by tfjs): x [N, H, W, C] with `filter`
 * [k, k, C, O], stride s, zero padding p on every side, optional bias [O] → [N, Ho, Wo, O].
 */
export function conv2dIm2col(x: tf.Tensor, filter: tf.Tensor, stride: number, pad: number, bias?: tf.Tensor): tf.Tensor4D {
  if (filter.rank !== 4 || filter.shape[0] !== filter.shape[1]) throw new Error(`conv2dIm2col: filter must be [k, k, C, O], got [${filter.shape}]`);
  const [k, , C, O] = filter.shape as [number, number, number, number];
  if (x.shape[3] !== C) throw new Error(`conv2dIm2col: input has ${x.shape[3]} channels, the filter expects ${C}`);
  return tf.tidy(() => {
    const cols = imagePatches(x, k, stride, pad);
    const [N, Ho, Wo] = cols.shape;
    const a = tf.reshape(cols, [N * Ho * Wo, k * k * C]) as tf.Tensor2D;
    const w = tf.reshape(filter, [k * k * C, O]) as tf.Tensor2D;
    const y = bias ? tf.fused.matMul({ a, b: w, bias }) : tf.matMul(a, w);
    return tf.reshape(y, [N, Ho, Wo, O]) as tf.Tensor4D;
  });
}

/**
 * Reference transposed convolution by col2im (plain ops, differentiated by tfjs): x [N, H, W, C]
 * with `filter` [k, k, O, C], stride s, padding p, optional bias [O] → [N, s(H−1)+k−2p, s(W−1)+k−2p, O].
 */
export function conv2dTransposeCol2im(x: tf.Tensor, filter: tf.Tensor, stride: number, pad: number, bias?: tf.Tensor): tf.Tensor4D {
  checkGeometry('conv2dTransposeCol2im', filter.shape[0] ?? 0, stride, pad);
  if (x.rank !== 4) throw new Error(`conv2dTransposeCol2im: expected images [N, H, W, C], got shape [${x.shape}]`);
  if (filter.rank !== 4 || filter.shape[0] !== filter.shape[1]) throw new Error(`conv2dTransposeCol2im: filter must be [k, k, O, C], got [${filter.shape}]`);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [k, , O, Cf] = filter.shape as [number, number, number, number];
  if (C !== Cf) throw new Error(`conv2dTransposeCol2im: input has ${C} channels, the filter expects ${Cf}`);
  const s = stride;
  const Ho = convTransposeOutSize(H, k, s, pad);
  const Wo = convTransposeOutSize(W, k, s, pad);
  if (Ho < 1 || Wo < 1) throw new Error(`conv2dTransposeCol2im: output would be ${Ho}×${Wo}`);
  return tf.tidy(() => {
    // Every input pixel's contribution to its k × k output patch: [N, H, W, k²·O].
    const w = tf.transpose(tf.reshape(filter, [k * k * O, C])) as tf.Tensor2D;
    const contrib = tf.reshape(tf.matMul(tf.reshape(x, [N * H * W, C]) as tf.Tensor2D, w), [N, H, W, k * k * O]);
    // Output row s·i + a − p, i.e. padded row s·(i + ⌊a/s⌋) + a mod s: sum per phase (a mod s, b mod s).
    const Hh = H - 1 + Math.ceil(k / s);
    const Wh = W - 1 + Math.ceil(k / s);
    const phases: tf.Tensor[] = [];
    for (let r = 0; r < s; r++) {
      for (let q = 0; q < s; q++) {
        const parts: tf.Tensor[] = [];
        for (let a = r; a < k; a += s) {
          for (let b = q; b < k; b += s) {
            const part = tf.slice(contrib, [0, 0, 0, (a * k + b) * O], [N, H, W, O]);
            const da = Math.floor(a / s);
            const db = Math.floor(b / s);
            parts.push(tf.pad(part, [[0, 0], [da, Hh - H - da], [db, Wh - W - db], [0, 0]]));
          }
        }
        phases.push(parts.length === 0 ? tf.zeros([N, Hh, Wh, O]) : parts.length === 1 ? parts[0] : tf.addN(parts));
      }
    }
    // phase-to-space: [s·s, N, Hh, Wh, O] → [N, Hh, s, Wh, s, O] → [N, s·Hh, s·Wh, O], then crop p.
    const full = s === 1 ? phases[0] : tf.reshape(tf.transpose(tf.reshape(tf.stack(phases), [s, s, N, Hh, Wh, O]), [2, 3, 0, 4, 1, 5]), [N, s * Hh, s * Wh, O]);
    let y = tf.slice(full, [0, pad, pad, 0], [N, Ho, Wo, O]);
    if (bias) y = tf.add(y, bias);
    return y as tf.Tensor4D;
  });
}

/**
 * ∂L/∂f of a convolution (stride s, padding p, kernel k) from its input x [N, H, W, C] and the
 * gradient δ [N, Ho, Wo, O] of its output: [k, k, C, O]. Computed as the stride-1 convolution,
 * dilated by s, of the padded input seen as [C, H, W, N] with δ seen as the filter [Ho, Wo, N, O].
 * Also the filter gradient of a transposed convolution, with the roles of x and δ swapped.
 */
export function conv2dFilterGrad(x: tf.Tensor, dy: tf.Tensor, kernel: number, stride: number, pad: number): tf.Tensor4D {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [, Ho, Wo] = dy.shape as [number, number, number, number];
  const k = kernel;
  const s = stride;
  return tf.tidy(() => {
    const needH = (Ho - 1) * s + k;
    const needW = (Wo - 1) * s + k;
    let xp = tf.pad(x, [[0, 0], [pad, Math.max(0, needH - H - pad)], [pad, Math.max(0, needW - W - pad)], [0, 0]]);
    if (xp.shape[1] !== needH || xp.shape[2] !== needW) xp = tf.slice(xp, [0, 0, 0, 0], [N, needH, needW, C]);
    const xt = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [C, needH, needW, N]
    const gt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, N, O]
    const r = tf.conv2d(xt, gt, 1, 'valid', 'NHWC', s === 1 ? 1 : [s, s]); // [C, k, k, O]
    return tf.transpose(r, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** Taps of one output phase of a transposed convolution along one axis (see {@link transposeByPhases}). */
function phaseTaps(phase: number, k: number, s: number, p: number, inSize: number, outSize: number) {
  const a0 = (phase + p) % s; // kernel offsets a0, a0 + s, … reach this phase
  const c = Math.floor((phase + p) / s);
  const J = a0 < k ? Math.ceil((k - a0) / s) : 0; // taps
  const M = phase < outSize ? Math.ceil((outSize - phase) / s) : 0; // output rows in this phase
  const start = c - (J - 1); // first input row read by output row 0
  const padLo = Math.max(0, -start);
  const padHi = Math.max(0, M - 1 + c - (inSize - 1));
  // kernel offsets in correlation order (the taps run backwards over the input)
  const offsets = Array.from({ length: J }, (_, u) => a0 + s * (J - 1 - u));
  return { J, M, start, padLo, padHi, offsets };
}

/**
 * Transposed convolution of x [N, H, W, C] with `filter` [k, k, O, C] (stride s, padding p) into an
 * output of outH × outW rows and columns (at least the usual s(H−1)+k−2p; extra rows are those a
 * convolution's input has when (H + 2p − k) is not a multiple of s). Computed as s² stride-1
 * convolutions, one per output phase (r mod s, c mod s), each with the ⌈k/s⌉² taps of the filter that
 * reach that phase, then interleaved ("sub-pixel" form): the native `Conv2D` kernel does the work,
 * which on wasm is several times faster than `Conv2DBackpropInput`. No gradient of its own.
 */
function transposeByPhases(x: tf.Tensor4D, filter: tf.Tensor4D, s: number, p: number, outH: number, outW: number): tf.Tensor4D {
  const [N, H, W, C] = x.shape;
  const [k, , O] = filter.shape;
  return tf.tidy(() => {
    const f = tf.transpose(filter, [0, 1, 3, 2]); // [k, k, C, O]
    const Mh = Math.ceil(outH / s);
    const Mw = Math.ceil(outW / s);
    const phases: tf.Tensor[] = [];
    for (let rh = 0; rh < s; rh++) {
      const th = phaseTaps(rh, k, s, p, H, outH);
      for (let rw = 0; rw < s; rw++) {
        const tw = phaseTaps(rw, k, s, p, W, outW);
        let y: tf.Tensor;
        if (th.J === 0 || tw.J === 0 || th.M === 0 || tw.M === 0) {
          y = tf.zeros([N, th.M, tw.M, O]);
        } else {
          const g = tf.gather(tf.gather(f, th.offsets, 0), tw.offsets, 1) as tf.Tensor4D; // [Jh, Jw, C, O]
          let xp = tf.pad(x, [[0, 0], [th.padLo, th.padHi], [tw.padLo, tw.padHi], [0, 0]]);
          const r0 = Math.max(0, th.start);
          const c0 = Math.max(0, tw.start);
          const rows = th.M + th.J - 1;
          const cols = tw.M + tw.J - 1;
          if (r0 > 0 || c0 > 0 || xp.shape[1] !== rows || xp.shape[2] !== cols) xp = tf.slice(xp, [0, r0, c0, 0], [N, rows, cols, C]);
          y = tf.conv2d(xp as tf.Tensor4D, g, 1, 'valid');
        }
        if (th.M < Mh || tw.M < Mw) y = tf.pad(y, [[0, 0], [0, Mh - th.M], [0, Mw - tw.M], [0, 0]]);
        phases.push(y);
      }
    }
    // interleave with concat + reshape (both cheap): phases side by side on the channel axis
    // become neighbouring columns, rows side by side on the column axis become neighbouring rows
    let full = phases[0];
    if (s > 1) {
      const rowsOf = Array.from({ length: s }, (_, rh) => tf.reshape(tf.concat(phases.slice(rh * s, (rh + 1) * s), 3), [N, Mh, Mw * s, O]));
      full = tf.reshape(tf.concat(rowsOf, 2), [N, Mh * s, Mw * s, O]);
    }
    return (full.shape[1] === outH && full.shape[2] === outW ? full : tf.slice(full, [0, 0, 0, 0], [N, outH, outW, O])) as tf.Tensor4D;
  });
}

const explicitPad = (p: number): [[number, number], [number, number], [number, number], [number, number]] => [[0, 0], [p, p], [p, p], [0, 0]];

/**
 * Convolution of x [N, H, W, C] with `filter` [k, k, C, O] (stride s, zero padding p on every side),
 * plus an optional bias [O]: [N, Ho, Wo, O] with Ho = ⌊(H + 2p − k)/s⌋ + 1. Native forward kernel,
 * trainable on every backend (see the module comment).
 */
export function conv2d(x: tf.Tensor, filter: tf.Tensor, stride: number, pad: number, bias?: tf.Tensor): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`conv2d: expected images [N, H, W, C], got shape [${x.shape}]`);
  if (filter.rank !== 4 || filter.shape[0] !== filter.shape[1]) throw new Error(`conv2d: filter must be [k, k, C, O], got [${filter.shape}]`);
  const k = filter.shape[0];
  checkGeometry('conv2d', k, stride, pad);
  if (x.shape[3] !== filter.shape[2]) throw new Error(`conv2d: input has ${x.shape[3]} channels, the filter expects ${filter.shape[2]}`);
  const [, H, W] = x.shape as [number, number, number, number];
  if (convOutSize(H, k, stride, pad) < 1 || convOutSize(W, k, stride, pad) < 1) {
    throw new Error(`conv2d: a ${k}×${k} kernel (pad ${pad}) does not fit a ${H}×${W} image`);
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, ff, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xx, ff]);
    return {
      value: tf.conv2d(xx, ff, stride, explicitPad(pad)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, fs] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dx = transposeByPhases(dy as tf.Tensor4D, fs, stride, pad, xs.shape[1], xs.shape[2]);
        return [dx, conv2dFilterGrad(xs, dy, k, stride, pad)];
      },
    };
  });
  const y = op(x, filter) as tf.Tensor4D;
  if (!bias) return y;
  const out = tf.add(y, bias) as tf.Tensor4D;
  y.dispose();
  return out;
}

/**
 * Transposed convolution of x [N, H, W, C] with `filter` [k, k, O, C] (the layout of
 * `tf.conv2dTranspose`), stride s and padding p: [N, s(H−1)+k−2p, s(W−1)+k−2p, O], plus an optional
 * bias [O]. It is the gradient of {@link conv2d} (same filter, stride and padding) with respect to
 * its input. Native forward kernel, trainable on every backend (see the module comment).
 */
export function conv2dTranspose(x: tf.Tensor, filter: tf.Tensor, stride: number, pad: number, bias?: tf.Tensor): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`conv2dTranspose: expected images [N, H, W, C], got shape [${x.shape}]`);
  if (filter.rank !== 4 || filter.shape[0] !== filter.shape[1]) throw new Error(`conv2dTranspose: filter must be [k, k, O, C], got [${filter.shape}]`);
  const k = filter.shape[0];
  checkGeometry('conv2dTranspose', k, stride, pad);
  const [, H, W, C] = x.shape as [number, number, number, number];
  if (C !== filter.shape[3]) throw new Error(`conv2dTranspose: input has ${C} channels, the filter expects ${filter.shape[3]}`);
  const Ho = convTransposeOutSize(H, k, stride, pad);
  const Wo = convTransposeOutSize(W, k, stride, pad);
  if (Ho < 1 || Wo < 1) throw new Error(`conv2dTranspose: output would be ${Ho}×${Wo}`);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, ff, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xx, ff]);
    return {
      value: transposeByPhases(xx, ff, stride, pad, Ho, Wo),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, fs] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [tf.conv2d(dy as tf.Tensor4D, fs, stride, explicitPad(pad)), conv2dFilterGrad(dy, xs, k, stride, pad)];
      },
    };
  });
  const y = op(x, filter) as tf.Tensor4D;
  if (!bias) return y;
  const out = tf.add(y, bias) as tf.Tensor4D;
  y.dispose();
  return out;
}

/** Options of {@link Conv2d} and {@link ConvTranspose2d}. */
export interface ConvOptions {
  kernel: number;
  stride?: number;
  pad?: number;
  /** Learn a bias per output channel (default true; leave it out before a batch norm). */
  bias?: boolean;
}

/** Glorot-uniform filter of the given shape with fans k²·C_in and k²·C_out. */
function glorotFilter(rng: Rng, shape: number[], fanIn: number, fanOut: number): tf.Tensor {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return rng.uniform(shape, -a, a);
}

/**
 * What a convolution layer and a transposed one share: geometry checks, a Glorot-uniform filter
 * (its last two axes [C_in, C_out] for a convolution, [C_out, C_in] for a transposed one, as tfjs
 * lays them out) and an optional bias per output channel.
 */
abstract class ConvLayer {
  readonly filter: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;

  protected constructor(who: string, store: ParamStore, name: string, readonly inChannels: number, readonly outChannels: number, rng: Rng, opts: ConvOptions, transposed: boolean) {
    this.kernel = opts.kernel;
    this.stride = opts.stride ?? 1;
    this.pad = opts.pad ?? 0;
    checkGeometry(`${who} '${name}'`, this.kernel, this.stride, this.pad);
    if (!(inChannels >= 1 && outChannels >= 1)) throw new Error(`${who} '${name}': channels must be ≥ 1, got ${inChannels}→${outChannels}`);
    const k = this.kernel;
    const shape = transposed ? [k, k, outChannels, inChannels] : [k, k, inChannels, outChannels];
    this.filter = store.add(`${name}.W`, glorotFilter(rng, shape, k * k * inChannels, k * k * outChannels));
    this.bias = opts.bias === false ? null : store.add(`${name}.b`, tf.zeros([outChannels]));
  }

  /** Output height (or width) for an input of height (width) n. */
  abstract outSize(n: number): number;

  /** x [N, H, W, C_in] → [N, Ho, Wo, C_out]. */
  abstract apply(x: tf.Tensor): tf.Tensor4D;
}

/** A 2-D convolution layer, filter [k, k, C_in, C_out] (Glorot uniform), optional bias. */
export class Conv2d extends ConvLayer {
  constructor(store: ParamStore, name: string, inChannels: number, outChannels: number, rng: Rng, opts: ConvOptions) {
    super('Conv2d', store, name, inChannels, outChannels, rng, opts, false);
  }

  outSize(n: number): number {
    return convOutSize(n, this.kernel, this.stride, this.pad);
  }

  apply(x: tf.Tensor): tf.Tensor4D {
    return conv2d(x, this.filter, this.stride, this.pad, this.bias ?? undefined);
  }
}

/** A 2-D transposed convolution layer, filter [k, k, C_out, C_in] (Glorot uniform), optional bias. */
export class ConvTranspose2d extends ConvLayer {
  constructor(store: ParamStore, name: string, inChannels: number, outChannels: number, rng: Rng, opts: ConvOptions) {
    super('ConvTranspose2d', store, name, inChannels, outChannels, rng, opts, true);
  }

  outSize(n: number): number {
    return convTransposeOutSize(n, this.kernel, this.stride, this.pad);
  }

  apply(x: tf.Tensor): tf.Tensor4D {
    return conv2dTranspose(x, this.filter, this.stride, this.pad, this.bias ?? undefined);
  }
}

/**
 * Identity whose gradient is zero: lets a variable reach the loss (so that gradient code that asks
 * for every parameter's gradient gets a tensor, not null) without ever being moved by it.
 */
export const zeroGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = inputs[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: () => tf.zerosLike(x) };
}) as (x: tf.Tensor) => tf.Tensor;

/** Options of {@link BatchNorm}. */
export interface BatchNormOptions {
  /** Weight of the old value in the running averages: r ← m·r + (1 − m)·batch (default 0.9). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  epsilon?: number;
}

/** Depth of {@link withoutStatUpdates} scopes now open. */
let frozenStats = 0;

/**
 * Runs `fn` with the running averages of every {@link BatchNorm} held fixed: layers in training
 * mode still normalise with the batch's own statistics, but do not move their running mean and
 * variance towards them. The ADGM reference code (Maaløe et al., `models/sdgmssl.py`) collects the
 * statistics on unlabelled batches only, because the labelled batch is the same few examples at
 * every step and would pull the averages that evaluation uses towards them.
 */
export function withoutStatUpdates<T>(fn: () => T): T {
  frozenStats += 1;
  try {
    return fn();
  } finally {
    frozenStats -= 1;
  }
}

/**
 * Batch normalisation over every axis but the last (features of a dense layer, channels of an
 * image): y = γ·(x − μ)/√(σ² + ε) + β. In training μ, σ² are the batch's mean and (biased)
 * variance, and the running averages move towards them (the variance with the unbiased n/(n−1)
 * correction); in evaluation the running averages are used, so outputs do not depend on the batch.
 * Parameters: `γ` (1), `β` (0), and the running mean (0) and variance (1), named `<name>.gamma`,
 * `.beta`, `.runMean`, `.runVar`; the running ones have zero gradient (see the module comment).
 */
export class BatchNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runMean: tf.Variable;
  readonly runVar: tf.Variable;
  readonly momentum: number;
  readonly epsilon: number;

  constructor(store: ParamStore, name: string, readonly channels: number, opts: BatchNormOptions = {}) {
    this.momentum = opts.momentum ?? 0.9;
    this.epsilon = opts.epsilon ?? 1e-5;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new Error(`BatchNorm '${name}': momentum must lie in [0, 1), got ${this.momentum}`);
    if (!(this.epsilon > 0)) throw new Error(`BatchNorm '${name}': epsilon must be > 0, got ${this.epsilon}`);
    if (!(channels >= 1)) throw new Error(`BatchNorm '${name}': channels must be ≥ 1, got ${channels}`);
    this.gamma = store.add(`${name}.gamma`, tf.ones([channels]));
    this.beta = store.add(`${name}.beta`, tf.zeros([channels]));
    this.runMean = store.add(`${name}.runMean`, tf.zeros([channels]));
    this.runVar = store.add(`${name}.runVar`, tf.ones([channels]));
  }

  /**
   * Normalises x [..., channels]. With `training` the batch statistics are used (at least two
   * values per channel are needed) and the running averages updated (unless inside
   * {@link withoutStatUpdates}); otherwise the running averages.
   */
  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    const C = this.channels;
    if (x.shape[x.rank - 1] !== C) throw new Error(`BatchNorm: expected ${C} features on the last axis, got shape [${x.shape}]`);
    return tf.tidy(() => {
      const rm = zeroGradient(this.runMean);
      const rv = zeroGradient(this.runVar);
      // γ and β as the layers take their weights (`weight`), so withFrozen / withGradientScale reach them
      const gamma = weight(this.gamma);
      const beta = weight(this.beta);
      if (!training) {
        const scale = tf.mul(gamma, tf.rsqrt(tf.add(rv, this.epsilon)));
        return tf.add(tf.mul(tf.sub(x, rm), scale), beta);
      }
      const n = x.size / C;
      if (n < 2) throw new Error(`BatchNorm: training mode needs at least 2 values per channel, got ${n} (a batch of one?)`);
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      const { mean, variance } = tf.moments(x, axes);
      const y = tf.add(tf.mul(tf.sub(x, mean), tf.mul(gamma, tf.rsqrt(tf.add(variance, this.epsilon)))), beta);
      // running averages (no gradient flows through the assignment), unless held by withoutStatUpdates
      if (frozenStats === 0) {
        const m = this.momentum;
        this.runMean.assign(tf.add(tf.mul(this.runMean, m), tf.mul(mean, 1 - m)));
        this.runVar.assign(tf.add(tf.mul(this.runVar, m), tf.mul(variance, (1 - m) * (n / (n - 1)))));
      }
      // keep the running statistics connected to the loss with a zero gradient
      return tf.add(y, tf.mul(tf.add(tf.sum(rm), tf.sum(rv)), 0));
    });
  }
}
