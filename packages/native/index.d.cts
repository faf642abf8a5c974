/** The OpenBLAS configuration, processor count and current thread count. */
export function info(): { config: string; procs: number; threads: number; isa: string };
/** Sets the number of OpenBLAS threads (the only native thread pool). */
export function setThreads(n: number): void;
/** Batched row-major C = act(op(A)·op(B) + bias) on the wasm heap; offsets in bytes, strides in floats. */
export function gemm(heap: ArrayBuffer, aOff: number, bOff: number, cOff: number, batch: number, M: number, N: number, K: number, transA: number, transB: number, strideA: number, strideB: number, biasOff: number, biasLen: number, act: number, alpha: number): void;
/** y = op(x) for op 0 softplus, 1 sigmoid, 2 exp. */
export function unary(heap: ArrayBuffer, op: number, xOff: number, yOff: number, n: number): void;
/** One Adam update of n values; outputs must not overlap the inputs. */
export function adam(heap: ArrayBuffer, n: number, gOff: number, mOff: number, vOff: number, pOff: number, mOut: number, vOut: number, pOut: number, beta1: number, beta2: number, eps: number, stepSize: number, gScale: number): void;
/** Σ x² in double precision. */
export function sumSquares(heap: ArrayBuffer, off: number, n: number): number;
/** y[o, k] = Σ_i x[o, i, k] for x viewed as [outer, n, inner]. */
export function reduceSum(heap: ArrayBuffer, xOff: number, yOff: number, outer: number, n: number, inner: number): void;
