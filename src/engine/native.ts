/**
 * Optional native kernels (the workspace package `@untapped/native`: OpenBLAS and fused loops in C++,
 * built by node-gyp at install when `libopenblas-dev` is present).
 *
 * They run on the **wasm** backend's own memory: a kernel reads its inputs where the wasm backend
 * keeps them (byte offsets into the WebAssembly heap), allocates its output through the backend, and
 * writes it there, so nothing is copied and every other kernel of the wasm backend goes on working
 * on the same tensors. Registered at engine start-up only when the addon loads; each replaced
 * kernel keeps the kernel it replaced and falls back to it for any case it does not handle
 * (non-float32 dtypes, general batch broadcasting, PReLU, rank-2+ bias), or when native kernels
 * are switched off at run time ({@link setNativeKernels}).
 *
 * Kernels: `BatchMatMul` and `_FusedMatMul` (OpenBLAS `sgemm`, every transpose and batch case, bias
 * and activation fused); `Sum` over any contiguous block of axes (float32 accumulation, as tfjs);
 * `Softplus`, `Sigmoid`, `Exp` (branch-free vectorised loops, a degree-7 polynomial after range
 * reduction: within a few ulp of libm); and, outside the kernel registry, the fused Adam update and
 * the gradient norm ({@link nativeAdam}).
 *
 * Threads: OpenBLAS's pool is the only native pool (the element-wise loops run on the calling
 * thread), sized by {@link setNativeThreads}: `--threads`, else `UNTAPPED_THREADS`, else all cores.
 * `UNTAPPED_NATIVE=0` keeps the addon from loading at all.
 *
 * The addon is loaded by the host ({@link Host.loadNative}): the Node entry (`untapped/node`)
 * registers a loader; in a browser there is none and the engine runs without native kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { host, type NativeAddon } from './host.js';
import { replaceKernel, type KernelFunc } from './kernels.js';

/** The functions of the addon (see `packages/native/index.d.cts`); declared in `host.ts`, which loads it. */
export type { NativeAddon } from './host.js';

/** State of the native layer, reported by `--verbose`, the logs and `untapped bench`. */
export interface NativeInfo {
  /** Whether native kernels are registered and switched on. */
  active: boolean;
  /** Why they are not active (absent when active). */
  reason?: string;
  /** OpenBLAS threads in use. */
  threads?: number;
  /** OpenBLAS build configuration. */
  blas?: string;
  /** Instruction set of the element-wise loops (`avx2+fma` or `baseline`). */
  isa?: string;
  /** Kernels replaced. */
  kernels?: string[];
}

/** Internals of the wasm backend that the native kernels use. */
interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(id: object): void;
}


let addon: NativeAddon | null = null;
let loadReason = '';
let loaded = false;
let installed = false;
let enabled = true;
const replaced: string[] = [];

/** Loads the addon once; returns it, or null with the reason in {@link nativeInfo}. */
export function loadNative(): NativeAddon | null {
  if (loaded) return addon;
  loaded = true;
  const env = host().env('UNTAPPED_NATIVE');
  if (env !== undefined && ['0', 'off', 'false', 'no'].includes(env.toLowerCase())) {
    loadReason = `switched off by UNTAPPED_NATIVE=${env}`;
    return null;
  }
  const load = host().loadNative;
  if (!load) {
    loadReason = 'no native kernels in this runtime (they load through the Node entry, untapped/node)';
    return null;
  }
  try {
    addon = load();
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    loadReason = /Cannot find module '@untapped\/native'/.test(msg) ? 'the @untapped/native package is not installed' : `@untapped/native did not load: ${msg.split('\n')[0]}`;
    addon = null;
  }
  return addon;
}

/** Threads requested by the environment: `UNTAPPED_THREADS`, else every core. */
export function defaultThreads(): number {
  const env = host().env('UNTAPPED_THREADS');
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`UNTAPPED_THREADS must be a positive integer, got '${env}'`);
    return n;
  }
  return host().cores();
}

/** Sets the OpenBLAS thread count (no effect without the addon). */
export function setNativeThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`threads must be a positive integer, got ${n}`);
  const a = loadNative();
  if (!a) return;
  a.setThreads(n);
}

/** Switches the registered native kernels (and the native Adam) on or off at run time. */
export function setNativeKernels(on: boolean): void {
  enabled = on;
}

/** Whether native kernels are registered and on. */
export function nativeActive(): boolean {
  return installed && enabled && addon !== null;
}

/** What the native layer is doing, and why not when it is not. */
export function nativeInfo(): NativeInfo {
  if (!loaded) return { active: false, reason: 'not loaded (the engine has not started)' };
  if (!addon) return { active: false, reason: loadReason };
  if (!installed) return { active: false, reason: 'native kernels run only on the wasm backend' };
  const info = addon.info();
  const facts = { threads: info.threads, blas: info.config.trim(), isa: info.isa, kernels: [...replaced] };
  if (!enabled) return { active: false, reason: 'switched off at run time', ...facts };
  return { active: true, ...facts };
}

function offsetOf(backend: WasmBackend, t: tf.TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('native kernel: tensor data not found on the wasm backend');
  return d.memoryOffset;
}

function size(shape: number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5 };

/**
 * One batched product through `gemm`, or null when the case is not handled natively (the caller
 * then runs the kernel it replaced).
 */
function matMul(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, transA: boolean, transB: boolean, bias: tf.TensorInfo | undefined, act: number, alpha: number): tf.TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const M = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) return null; // the replaced kernel raises tfjs's own error
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  let outBatch: number[];
  try {
    outBatch = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return null;
  }
  const batch = size(outBatch);
  if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || (size(bias.shape) !== N && size(bias.shape) !== 1))) return null;
  const out = backend.makeOutput([...outBatch, M, N], 'float32');
  const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer; // after the allocation: the heap may have grown
  addon!.gemm(
    heap, offsetOf(backend, a), offsetOf(backend, b), offsetOf(backend, out),
    batch, M, N, K, transA ? 1 : 0, transB ? 1 : 0,
    batchA === 1 && batch > 1 ? 0 : M * K, batchB === 1 && batch > 1 ? 0 : K * N,
    bias ? offsetOf(backend, bias) : -1, bias ? size(bias.shape) : 0, act, alpha,
  );
  return out;
}

/** Replaces a wasm kernel by a native one that defers to the previous kernel while switched off. */
function replace(kernelName: string, make: (prev: KernelFunc) => KernelFunc): void {
  const done = replaceKernel(kernelName, 'wasm', (inner) => {
    const fn = make(inner);
    return (args) => (enabled ? fn(args) : inner(args));
  });
  if (done) replaced.push(kernelName);
}

/**
 * Registers the native kernels on the wasm backend when the addon loads; sets the OpenBLAS threads.
 * Call after the wasm kernel fixes and before or after backend start-up. Returns {@link nativeInfo}.
 */
export function installNativeKernels(backendName: string, opts: { threads?: number } = {}): NativeInfo {
  if (backendName !== 'wasm') return nativeInfo();
  const a = loadNative();
  if (!a) return nativeInfo();
  setNativeThreads(opts.threads ?? defaultThreads());
  if (installed) return nativeInfo();
  replace('BatchMatMul', (prev) => (args) => {
    const { a: x, b: y } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const at = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    return matMul(args.backend as unknown as WasmBackend, x, y, at.transposeA, at.transposeB, undefined, 0, 0) ?? prev(args);
  });
  replace('_FusedMatMul', (prev) => (args) => {
    const inp = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
    const at = args.attrs as unknown as { transposeA: boolean; transposeB: boolean; activation: string; leakyreluAlpha?: number };
    const act = ACTIVATIONS[at.activation ?? 'linear'];
    if (act === undefined || inp.preluActivationWeights) return prev(args);
    return matMul(args.backend as unknown as WasmBackend, inp.a, inp.b, at.transposeA, at.transposeB, inp.bias ?? undefined, act, at.leakyreluAlpha ?? 0.2) ?? prev(args);
  });
  const unary = (kernelName: string, op: number): void =>
    replace(kernelName, (prev) => (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype !== 'float32') return prev(args);
      const backend = args.backend as unknown as WasmBackend;
      const out = backend.makeOutput(x.shape.slice(), 'float32');
      addon!.unary(backend.wasm.HEAPU8.buffer as ArrayBuffer, op, offsetOf(backend, x), offsetOf(backend, out), size(x.shape));
      return out;
    });
  replace('Sum', (prev) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const at = args.attrs as unknown as { axis: number | number[] | null; keepDims: boolean };
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || rank === 0) return prev(args);
    const asked = at.axis == null ? x.shape.map((_, i) => i) : Array.isArray(at.axis) ? at.axis : [at.axis];
    const axes = [...new Set(asked.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
    if (axes.length === 0 || axes.some((a) => a < 0 || a >= rank) || axes[axes.length - 1] - axes[0] !== axes.length - 1) return prev(args);
    const first = axes[0];
    const last = axes[axes.length - 1];
    const outShape = at.keepDims ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : x.shape.filter((_, i) => i < first || i > last);
    const backend = args.backend as unknown as WasmBackend;
    const out = backend.makeOutput(outShape, 'float32');
    addon!.reduceSum(backend.wasm.HEAPU8.buffer as ArrayBuffer, offsetOf(backend, x), offsetOf(backend, out),
      size(x.shape.slice(0, first)), size(x.shape.slice(first, last + 1)), size(x.shape.slice(last + 1)));
    return out;
  });
  unary('Softplus', 0);
  unary('Sigmoid', 1);
  unary('Exp', 2);
  installed = true;
  return nativeInfo();
}

/**
 * The fused Adam update and gradient norm on the wasm heap, or null when native kernels are not
 * active on the current backend. Used by {@link Adam}; outputs are fresh tensors (nothing that may
 * share data with a variable is written in place).
 */
export function nativeAdam(): {
  sumSquares(t: tf.Tensor): number;
  update(g: tf.Tensor, m: tf.Variable, v: tf.Variable, p: tf.Variable, hp: { beta1: number; beta2: number; epsilon: number; stepSize: number; gScale: number }): void;
} | null {
  if (!nativeActive() || tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as WasmBackend;
  const a = addon!;
  return {
    sumSquares(t) {
      if (t.dtype !== 'float32') return tf.tidy(() => tf.sum(tf.square(t)).dataSync()[0]);
      return a.sumSquares(backend.wasm.HEAPU8.buffer as ArrayBuffer, offsetOf(backend, t), t.size);
    },
    update(g, m, v, p, hp) {
      const outs = [m, v, p].map((x) => backend.makeOutput(x.shape.slice(), 'float32'));
      const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
      a.adam(heap, p.size, offsetOf(backend, g), offsetOf(backend, m), offsetOf(backend, v), offsetOf(backend, p),
        offsetOf(backend, outs[0]), offsetOf(backend, outs[1]), offsetOf(backend, outs[2]),
        hp.beta1, hp.beta2, hp.epsilon, hp.stepSize, hp.gScale);
      const engine = tf.engine();
      [m, v, p].forEach((x, i) => {
        const t = engine.makeTensorFromTensorInfo(outs[i]);
        x.assign(t);
        t.dispose();
      });
    },
  };
}
