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
 * **Identity copies.** The wasm `Identity` kernel copies its input, and tfjs calls it for every
 * tensor it saves for the backward pass (about 120 copies per VAE step). No tfjs kernel writes into
 * its inputs, so, as the cpu backend does, we share the data and count a reference instead.
 */
import * as tf from '@tensorflow/tfjs';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type TensorInfo = tf.TensorInfo;

let fixEnabled = true;
let installed = false;

/** Turns the wasm kernel fixes (transposed matMul, shared Identity) on or off at run time (for tests and benchmarks). */
export function setMatMulFix(enabled: boolean): void {
  fixEnabled = enabled;
}

/** Whether the transposed-matMul fix is installed and on. */
export function matMulFixActive(): boolean {
  return installed && fixEnabled;
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function wrapMatMul(kernelName: string, backendName: string): void {
  const original = tf.getKernel(kernelName, backendName);
  const transpose = tf.getKernel('Transpose', backendName);
  if (original == null || transpose == null) return;
  const inner: KernelFunc = original.kernelFunc;
  const wrapped: KernelFunc = (args) => {
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
  };
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...original, kernelFunc: wrapped });
}

function shareIdentity(backendName: string): void {
  const original = tf.getKernel('Identity', backendName);
  if (original == null) return;
  const inner: KernelFunc = original.kernelFunc;
  const shared: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (!fixEnabled || x.dtype === 'string') return inner(args);
    (args.backend as unknown as { incRef(id: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel('Identity', backendName);
  tf.registerKernel({ ...original, kernelFunc: shared });
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
  installed = true;
}
