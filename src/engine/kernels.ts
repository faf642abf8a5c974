/**
 * Kernel fixes applied once, at the engine layer, so that no model has to know about them.
 *
 * **The wasm transposed-matMul trap.** tfjs-backend-wasm 4.x runs `BatchMatMul` (and `_FusedMatMul`)
 * with `transposeA`/`transposeB` set about 10–15× slower than the plain product (measured here:
 * 100×784 · 784×500 takes 2.1 ms plain, 24.5 ms with `transposeB`, while an explicit `Transpose`
 * costs well under 1 ms). Every gradient of a dense layer asks for a transposed product, so the fix
 * matters for every model. We wrap the registered wasm kernels: when a transpose flag is set, the
 * operand is transposed explicitly with the backend's own `Transpose` kernel and the plain product is
 * called. Results are the same numbers (the same sums in the same order; tested against the unwrapped
 * kernel in `kernels.test.ts`).
 *
 * **Slow Tile.** The wasm `Tile` kernel takes 15 ms to repeat a 100×784 batch ten times (the
 * enumeration over classes of M2/ADGM does exactly that). We tile with block copies on the wasm
 * heap instead (`TypedArray.set` and `copyWithin`, i.e. memcpy): the innermost axis is copied
 * row by row, and every repetition of an outer axis is one copy of the block already built.
 *
 * **Identity copies.** The wasm `Identity` kernel copies its input, and tfjs calls it for every
 * tensor it saves for the backward pass (about 120 copies per VAE step). No tfjs kernel writes into
 * its inputs, so, as the cpu backend does, we share the data and count a reference instead.
 */
import * as tf from '@tensorflow/tfjs';

/** A tfjs kernel function. */
export type KernelFunc = tf.KernelConfig['kernelFunc'];
type TensorInfo = tf.TensorInfo;

let fixEnabled = true;
let installed = false;

/** Turns the wasm kernel fixes (transposed matMul, shared Identity, block-copy Tile) on or off at run time (for tests and benchmarks). */
export function setMatMulFix(enabled: boolean): void {
  fixEnabled = enabled;
}

/** Whether the transposed-matMul fix is installed and on. */
export function matMulFixActive(): boolean {
  return installed && fixEnabled;
}

/**
 * Replaces the kernel `kernelName` of `backendName` by `make(previous)`, keeping its `setupFunc`
 * (tfjs calls it when the backend starts). Returns false when the backend has no such kernel. The
 * one mechanism behind every kernel fix here and the native kernels.
 */
export function replaceKernel(kernelName: string, backendName: string, make: (previous: KernelFunc) => KernelFunc): boolean {
  const original = tf.getKernel(kernelName, backendName);
  if (original == null) return false;
  const fn = make(original.kernelFunc);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...original, kernelFunc: fn });
  return true;
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function wrapMatMul(kernelName: string, backendName: string): void {
  const transpose = tf.getKernel('Transpose', backendName);
  if (transpose == null) return;
  replaceKernel(kernelName, backendName, (inner) => (args) => {
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!fixEnabled || (!attrs.transposeA && !attrs.transposeB)) return inner(args);
    const inputs = { ...(args.inputs as Record<string, TensorInfo>) };
    const backend = args.backend as unknown as { disposeData(id: object): void };
    const temps: TensorInfo[] = [];
    for (const [key, flag] of [['a', attrs.transposeA], ['b', attrs.transposeB]] as const) {
      if (!flag) continue;
      const x = inputs[key];
      const t = transpose.kernelFunc({
        inputs: { x },
        backend: args.backend,
        attrs: { perm: swapLastTwo(x.shape.length) },
      }) as TensorInfo;
      temps.push(t);
      inputs[key] = t;
    }
    const out = inner({
      inputs,
      backend: args.backend,
      attrs: { ...(args.attrs as object), transposeA: false, transposeB: false } as unknown as tf.NamedAttrMap,
    });
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  });
}

/** Writes `src` (shape `shape`) tiled by `reps` into `dst` (row-major), by block copies. */
export function tileInto(src: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, dst: { set(a: ArrayLike<number>, o: number): void; copyWithin(t: number, s: number, e: number): unknown }, shape: number[], reps: number[]): void {
  const n = shape.length;
  const innerSrc: number[] = new Array<number>(n + 1).fill(1);
  const innerDst: number[] = new Array<number>(n + 1).fill(1);
  for (let a = n - 1; a >= 0; a--) {
    innerSrc[a] = innerSrc[a + 1] * shape[a];
    innerDst[a] = innerDst[a + 1] * shape[a] * reps[a];
  }
  const rec = (axis: number, srcOff: number, dstOff: number): void => {
    if (axis === n - 1) {
      const row = src.subarray(srcOff, srcOff + shape[axis]);
      for (let r = 0; r < reps[axis]; r++) dst.set(row, dstOff + r * shape[axis]);
      return;
    }
    for (let i = 0; i < shape[axis]; i++) rec(axis + 1, srcOff + i * innerSrc[axis + 1], dstOff + i * innerDst[axis + 1]);
    const block = shape[axis] * innerDst[axis + 1];
    for (let r = 1; r < reps[axis]; r++) dst.copyWithin(dstOff + r * block, dstOff, dstOff + block);
  };
  if (n === 0 || innerDst[0] === 0) return;
  rec(0, 0, 0);
}

function fastTile(backendName: string): void {
  replaceKernel('Tile', backendName, (inner) => (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { reps } = args.attrs as unknown as { reps: number[] };
    if (!fixEnabled || x.dtype === 'string' || x.shape.length === 0 || reps.length !== x.shape.length) return inner(args);
    const backend = args.backend as unknown as { makeOutput(s: number[], d: tf.DataType): TensorInfo; typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array };
    const out = backend.makeOutput(x.shape.map((d, i) => d * reps[i]), x.dtype);
    // views taken after the allocation: the heap may have grown
    tileInto(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), x.shape, reps);
    return out;
  });
}

function shareIdentity(backendName: string): void {
  replaceKernel('Identity', backendName, (inner) => (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (!fixEnabled || x.dtype === 'string') return inner(args);
    (args.backend as unknown as { incRef(id: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}

/**
 * Installs the kernel fixes for `backendName`. Must run before the backend is first initialised
 * (the wrapped kernels keep the original `setupFunc`, which tfjs calls at initialisation).
 * Idempotent.
 */
export function installKernelFixes(backendName: string): void {
  if (backendName !== 'wasm' || installed) return;
  wrapMatMul('BatchMatMul', 'wasm');
  wrapMatMul('_FusedMatMul', 'wasm');
  shareIdentity('wasm');
  fastTile('wasm');
  installed = true;
}
