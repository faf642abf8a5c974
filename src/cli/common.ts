/** Helpers shared by the command files of the CLI: usage errors, argument parsers, progress, engine set-up. */
import type { Command } from 'commander';
import { initEngine, describeEngine, type EngineInfo } from '../engine/backend.js';
import { fmtTime } from '../train/progress.js';
import type { EvalRecord } from '../train/trainer.js';
import { checkOutputFiles } from '../node/replace.js';

/** An error in how the command was called: printed as `untapped: error: …`, exit status 2. */
export class UsageError extends Error {}

/**
 * Refuses (usage error) to write over any of `files` that exists, unless `force`; and, even with
 * it, over a directory or one of `inputs` (the files the command reads: data, the model's files).
 */
export function refuseOverwrite(files: (string | undefined)[], force: boolean | undefined, inputs: (string | undefined)[] = []): void {
  try {
    checkOutputFiles(files, force, inputs);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A commander parser for an integer flag ≥ `min` (0 or 1). */
export function intArg(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be ${min === 0 ? 'an integer ≥ 0' : 'a positive integer'}, got '${v}'`);
    return n;
  };
}

/** A commander parser for a number flag: anything that is not a finite number is a usage error naming the flag. */
export function numArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name} must be a number, got '${v}'`);
    return n;
  };
}

/** A progress line on stderr. */
export function log(msg: string): void {
  process.stderr.write(msg + '\n');
}

/** One evaluation of a training run as a progress line. */
export function printEval(r: EvalRecord): void {
  const m = Object.entries(r.metrics)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
  log(`epoch ${r.epoch}: train loss ${r.trainLoss.toFixed(2)}${m ? `, ${m}` : ''} (${fmtTime(r.trainSeconds)} training)`);
}

/** Starts the tensor engine with the global --backend / --threads; --verbose prints the choice. */
export async function engine(cmd: Command): Promise<EngineInfo> {
  const g = cmd.optsWithGlobals() as { backend?: string; verbose?: boolean; threads?: number };
  const info = await initEngine({ ...(g.backend ? { backend: g.backend } : {}), ...(g.threads ? { threads: g.threads } : {}) });
  if (g.verbose) log(`engine: ${describeEngine(info)}`);
  return info;
}

/** `runs/<name>-<yyyymmdd-hhmmss>`, the default output directory of a run. */
export function defaultRunDir(name: string): string {
  return `runs/${name}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
}
