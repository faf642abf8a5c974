/**
 * A per-kernel profiler: wraps every kernel registered for a backend with a wall-clock timer, so that
 * a training step can be split into time spent inside each kernel and time spent outside any kernel
 * (tfjs bookkeeping, tape, JavaScript). Kernels on the wasm and native paths are synchronous, so the
 * timer measures the work itself. The timer costs about 0.1 µs per call.
 */
import * as tf from '@tensorflow/tfjs';

/** Time spent in one kernel. */
export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

/** Wraps the kernels of one backend with timers until {@link KernelProfiler.uninstall}. */
export class KernelProfiler {
  private readonly totals = new Map<string, { calls: number; ms: number }>();
  private readonly originals: tf.KernelConfig[] = [];
  private depth = 0;

  constructor(readonly backendName: string) {}

  /** Installs the timers (idempotent while installed). */
  install(): void {
    if (this.originals.length) return;
    for (const k of tf.getKernelsForBackend(this.backendName)) {
      this.originals.push(k);
      const inner = k.kernelFunc;
      const name = k.kernelName;
      const wrapped: tf.KernelConfig['kernelFunc'] = (args) => {
        // Kernels that call other kernels through the registry are counted once, at the outside.
        if (this.depth > 0) return inner(args);
        this.depth++;
        const t0 = performance.now();
        try {
          return inner(args);
        } finally {
          const dt = performance.now() - t0;
          this.depth--;
          const e = this.totals.get(name) ?? { calls: 0, ms: 0 };
          e.calls++;
          e.ms += dt;
          this.totals.set(name, e);
        }
      };
      tf.unregisterKernel(name, this.backendName);
      tf.registerKernel({ ...k, kernelFunc: wrapped });
    }
  }

  /** Restores the kernels as they were at {@link install}. */
  uninstall(): void {
    for (const k of this.originals) {
      tf.unregisterKernel(k.kernelName, this.backendName);
      tf.registerKernel(k);
    }
    this.originals.length = 0;
  }

  /** Forgets the times gathered so far. */
  reset(): void {
    this.totals.clear();
  }

  /** Times per kernel, largest first. */
  report(): KernelTime[] {
    return [...this.totals.entries()].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms);
  }
}

/** A profile as a Markdown table, with times per step when `steps` is given. */
export function profileTable(times: KernelTime[], stepMs: number, steps: number, top = 25): string {
  const inKernels = times.reduce((s, t) => s + t.ms, 0) / steps;
  const lines = [
    `| kernel | calls/step | ms/step | share of step |`,
    `|---|---:|---:|---:|`,
  ];
  for (const t of times.slice(0, top)) {
    lines.push(`| ${t.kernel} | ${(t.calls / steps).toFixed(0)} | ${(t.ms / steps).toFixed(2)} | ${((100 * t.ms) / steps / stepMs).toFixed(1)}% |`);
  }
  const rest = times.slice(top);
  if (rest.length) {
    const ms = rest.reduce((s, t) => s + t.ms, 0) / steps;
    const calls = rest.reduce((s, t) => s + t.calls, 0) / steps;
    lines.push(`| (${rest.length} others) | ${calls.toFixed(0)} | ${ms.toFixed(2)} | ${((100 * ms) / stepMs).toFixed(1)}% |`);
  }
  const calls = times.reduce((s, t) => s + t.calls, 0) / steps;
  lines.push(`| **all kernels** | ${calls.toFixed(0)} | ${inKernels.toFixed(2)} | ${((100 * inKernels) / stepMs).toFixed(1)}% |`);
  lines.push(`| **outside kernels** (tfjs engine, tape, JS) | | ${(stepMs - inKernels).toFixed(2)} | ${((100 * (stepMs - inKernels)) / stepMs).toFixed(1)}% |`);
  return lines.join('\n');
}
