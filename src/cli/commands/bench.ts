/** `untapped bench`: training-step benchmarks. */
import { Command, Option } from 'commander';
import { describeEngine } from '../../engine/backend.js';
import { UsageError, engine, intArg, log } from '../common.js';
import { benchNames, benchProfileTable, compareNativeLosses, getBench, runBench, type BenchResult, type LossComparison } from '../../bench/bench.js';
import { setNativeKernels } from '../../engine/native.js';

/** Adds `untapped bench`. */
export function addBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(`time training steps of reference models (${benchNames().join(', ')}) with native kernels on and off`)
    .option('--only <names>', `comma-separated benchmarks (default: all of ${benchNames().join(', ')})`)
    .addOption(new Option('--native <mode>', 'native kernels: on, off, or both (default: both when they load)').choices(['on', 'off', 'both']))
    .option('--steps <n>', 'timed steps after warm-up', intArg('--steps'), 50)
    .option('--warmup <n>', 'untimed warm-up steps', intArg('--warmup'), 10)
    .option('--profile', 'also time every kernel and print where a step spends its time')
    .option('--check-losses <n>', 'train each benchmark n steps with native kernels on and off from one seed and report the largest relative loss difference', intArg('--check-losses'))
    .option('--json', 'print one JSON object on stdout')
    .action(async (o: { only?: string; native?: 'on' | 'off' | 'both'; steps: number; warmup: number; profile?: boolean; checkLosses?: number; json?: boolean }, cmd: Command) => {
      const info = await engine(cmd);
      const defs = (o.only ? o.only.split(',').map((s) => s.trim()).filter(Boolean) : benchNames()).map((n) => {
        try {
          return getBench(n);
        } catch (e) {
          throw new UsageError(`--only: ${(e as Error).message}`);
        }
      });
      const mode = o.native ?? (info.native.active ? 'both' : 'off');
      if (mode !== 'off' && !info.native.active) throw new UsageError(`--native ${mode}: native kernels are not available (${info.native.reason})`);
      const modes = mode === 'both' ? [true, false] : [mode === 'on'];
      if (!o.json && !(cmd.optsWithGlobals() as { verbose?: boolean }).verbose) log(`engine: ${describeEngine(info)}`);
      const results: BenchResult[] = [];
      for (const def of defs) {
        for (const on of modes) {
          setNativeKernels(on);
          const r = runBench(def, { steps: o.steps, warmup: o.warmup, profile: o.profile });
          setNativeKernels(true);
          results.push(r);
          if (!o.json) {
            log(`${r.name} [${r.backend}, native ${r.native ? 'on' : 'off'}]: ${r.description}`);
            log(`  median ${r.medianMs.toFixed(1)} ms/step (p10 ${r.p10Ms.toFixed(1)}, p90 ${r.p90Ms.toFixed(1)}), ${r.samplesPerSecond.toFixed(0)} samples/s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB, ${r.steps} steps after ${r.warmup} warm-up`);
            if (o.profile) log(benchProfileTable(r));
          }
        }
      }
      const checks: LossComparison[] = [];
      if (o.checkLosses) {
        if (!info.native.active) throw new UsageError(`--check-losses: native kernels are not available (${info.native.reason})`);
        for (const def of defs) {
          const c = compareNativeLosses(def, o.checkLosses);
          checks.push(c);
          if (!o.json) log(`${c.name}: ${c.steps} steps from one seed, native on vs off: largest relative loss difference ${c.maxRelDiff.toExponential(2)} (loss ${c.firstLoss.toFixed(2)} → ${c.lastLoss.toFixed(2)})`);
        }
      }
      if (o.json) process.stdout.write(JSON.stringify({ engine: info, results, ...(checks.length ? { lossChecks: checks } : {}) }) + '\n');
    });
}
