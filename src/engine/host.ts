/**
 * The host: what the core needs from the program it runs in, and nothing more. The core (the
 * package's main entry) runs in a browser as well as in Node, so it never reads `process`, the file
 * system or native modules itself; it asks the host. Without a registered host it uses
 * {@link browserHost}: no environment variables, no native kernels, no files, messages on the
 * console. The Node entry (`untapped/node`) registers a host, when it is imported, that reads
 * `process.env`, writes to `process.stderr`, loads the native addon and stores files on disk.
 */
import type { RunStorage } from '../io/storage.js';

/** Where text such as progress lines and warnings goes (a Node stream satisfies it). */
/** The functions of the addon (see `packages/native/index.d.cts`). */
export interface NativeAddon {
  info(): { config: string; procs: number; threads: number; isa: string };
  setThreads(n: number): void;
  gemm(heap: ArrayBuffer, aOff: number, bOff: number, cOff: number, batch: number, M: number, N: number, K: number, transA: number, transB: number, strideA: number, strideB: number, biasOff: number, biasLen: number, act: number, alpha: number): void;
  unary(heap: ArrayBuffer, op: number, xOff: number, yOff: number, n: number): void;
  adam(heap: ArrayBuffer, n: number, gOff: number, mOff: number, vOff: number, pOff: number, mOut: number, vOut: number, pOut: number, beta1: number, beta2: number, eps: number, stepSize: number, gScale: number): void;
  sumSquares(heap: ArrayBuffer, off: number, n: number): number;
  reduceSum(heap: ArrayBuffer, xOff: number, yOff: number, outer: number, n: number, inner: number): void;
}

export interface TextSink {
  write(text: string): unknown;
  /** Whether it is a terminal (progress bars redraw in place only then). */
  isTTY?: boolean;
}

/** What the core asks of its host. */
export interface Host {
  /** An environment variable (`UNTAPPED_BACKEND`, `UNTAPPED_NATIVE`, `UNTAPPED_THREADS`); undefined when unset. */
  env(name: string): string | undefined;
  /** The runtime's version, recorded in {@link EngineInfo} (`node` field) and in run logs. */
  readonly runtime: string;
  /** Processor cores available (the default native thread count). */
  cores(): number;
  /** Where progress and warnings go. */
  readonly stderr: TextSink;
  /** Loads the native kernels' addon, throwing when it cannot; absent where there is none. */
  loadNative?: () => NativeAddon;
  /** Storage for checkpoints and logs named by path (used when a trainer is given no storage); absent where there is none. */
  readonly storage?: RunStorage;
}

/** A sink writing whole lines to the console (text is buffered up to each newline). */
function consoleSink(): TextSink {
  let pending = '';
  return {
    isTTY: false,
    write(text: string) {
      pending += text;
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        console.error(pending.slice(0, i));
        pending = pending.slice(i + 1);
      }
      return true;
    },
  };
}

/** The host of a browser (or any runtime without a registered one). */
export const browserHost: Host = {
  env: () => undefined,
  runtime: 'none',
  cores: () => {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    return n !== undefined && n > 0 ? n : 1;
  },
  stderr: consoleSink(),
};

let current: Host = browserHost;

/**
 * Registers the host (the Node entry does this when imported). Register it before
 * `initEngine`: the native kernels are loaded once, when the engine starts.
 */
export function setHost(h: Host): void {
  current = h;
}

/** The registered host ({@link browserHost} when none was). */
export function host(): Host {
  return current;
}
