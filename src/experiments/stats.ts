/** Summaries of results over seeds, shared by the experiments. */
import path from 'node:path';
import { writeFileAtomic } from '../node/files.js';

/** Mean and sample standard deviation (n − 1; 0 for a single value) of `v`. */
export function meanSd(v: number[]): { mean: number; sd: number } {
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)) : 0;
  return { mean: m, sd };
}

/** `mean ± sd` of `v` with `digits` decimals. */
export function fmtMeanSd(v: number[], digits = 3): string {
  const { mean, sd } = meanSd(v);
  return `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`;
}

/**
 * Writes an experiment's `report.md` (atomically), adds it and `results.json` to `files`, prints it
 * with `log`, and returns `files`.
 */
export function finishReport(out: string, md: string, files: string[], log: (s: string) => void): string[] {
  const mdFile = path.join(out, 'report.md');
  writeFileAtomic(mdFile, md);
  files.push(path.join(out, 'results.json'), mdFile);
  log(md);
  return files;
}

/** The models an experiment can compare: M2 (α_r = 0) and the untapped model. */
export type ComparedModel = 'm2' | 'untapped';

/** True when `models` is a non-empty list of {@link ComparedModel} names (the check behind `--models`). */
export function isModelList(models: readonly string[]): models is ComparedModel[] {
  return models.length > 0 && models.every((m) => m === 'm2' || m === 'untapped');
}
