/**
 * What `--force` may replace. An output that exists is refused unless `--force`; and even with it,
 * only something this tool wrote is replaced: a model directory (`fit.json` of kind `untapped-fit`
 * next to `model.utp`) for `fit --out`, a file for the commands that write files. Never the current
 * directory or one above it, never a file the same command reads, never a directory in place of a
 * file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** An output the command will not write over; the message says which and why. */
export class RefusedOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedOutputError';
  }
}

/** Whether `a` and `b` name the same file (same device and inode), both existing. */
export function sameFile(a: string, b: string): boolean {
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Whether `dir` is the current directory or one of its ancestors. */
export function holdsCwd(dir: string): boolean {
  const d = path.resolve(dir);
  const cwd = process.cwd();
  return cwd === d || cwd.startsWith(d.endsWith(path.sep) ? d : d + path.sep);
}

/** Whether `file` lies inside `dir` (at any depth). */
function inside(file: string, dir: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Whether `dir` is a model directory written by `untapped fit`. */
export function isModelDir(dir: string): boolean {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'fit.json'), 'utf8')) as { kind?: unknown };
    return info.kind === 'untapped-fit' && fs.statSync(path.join(dir, 'model.utp')).isFile();
  } catch {
    return false;
  }
}

/** The files an interrupted fit leaves in `DIR.partial` (and its own temporary files). */
const PARTIAL_FILES = new Set(['options.json', 'config.json', 'checkpoint.utp', 'model.utp', 'fit.json', 'loss.png', 'validation.png']);

/** Whether `dir` holds nothing but what an unfinished fit writes (empty counts). */
export function isPartialFitDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).every((n) => PARTIAL_FILES.has(n) || /^\..*\.tmp-\d+$/.test(n));
  } catch {
    return false;
  }
}

/**
 * Checks that output files may be written: each existing one is refused without `force`; with it,
 * still refused when it is a directory, the current directory, or one of `inputs` (the files the
 * command reads).
 */
export function checkOutputFiles(files: (string | undefined)[], force: boolean | undefined, inputs: (string | undefined)[] = []): void {
  const outs = files.filter((f): f is string => f !== undefined);
  // two outputs of one command on one path: the second would replace the first
  const seen = new Map<string, string>();
  for (const f of outs) {
    const prev = seen.get(path.resolve(f));
    if (prev !== undefined) throw new RefusedOutputError(`${prev} and ${f} are the same file; give each output its own name (a chart also writes NAME.svg and NAME.vl.json beside NAME.png)`);
    seen.set(path.resolve(f), f);
  }
  for (const f of outs) {
    const input = inputs.find((i) => i !== undefined && (path.resolve(i) === path.resolve(f) || sameFile(i, f)));
    if (input !== undefined) throw new RefusedOutputError(`${f} is an input of this command (${input}); write the output to another file`);
  }
  for (const f of outs) {
    if (fs.existsSync(f) && fs.statSync(f).isDirectory()) throw new RefusedOutputError(`${f} is a directory; give a file name to write`);
  }
  if (force) return;
  // a device or pipe (/dev/null, /dev/stdout) is written into, not replaced: no --force needed
  const there = outs.filter((f) => fs.existsSync(f) && fs.statSync(f).isFile());
  if (there.length) throw new RefusedOutputError(`${there.join(' and ')} already ${there.length === 1 ? 'exists' : 'exist'}; choose another name or pass --force to replace`);
}

/**
 * Checks that a model directory may be written at `out`: if something is there, it is refused
 * without `force`, and with it unless it is a model directory `untapped fit` wrote — never the
 * current directory (or above), a file, or a directory holding one of `inputs`.
 */
export function checkModelDirOut(out: string, force: boolean | undefined, inputs: string[] = []): void {
  if (holdsCwd(out)) throw new RefusedOutputError(`--out ${out} is the current directory${path.resolve(out) === process.cwd() ? '' : ' or holds it'}; give a new directory name for the model`);
  for (const i of inputs) {
    if (path.resolve(i) === path.resolve(out) || sameFile(i, out)) throw new RefusedOutputError(`--out ${out} is an input file of this fit; give a new directory name for the model`);
    if (inside(i, out)) throw new RefusedOutputError(`--out ${out} holds an input of this fit (${i}); give a new directory name for the model`);
  }
  if (!fs.existsSync(out)) return;
  if (!force) throw new RefusedOutputError(`${out} already exists; choose another --out or pass --force to replace it`);
  if (!fs.statSync(out).isDirectory()) throw new RefusedOutputError(`--out ${out} is a file, not a model directory; --force replaces only a model directory written by \`untapped fit\``);
  if (!isModelDir(out)) throw new RefusedOutputError(`--out ${out} is not a model directory written by \`untapped fit\` (no fit.json of one); --force replaces only those: choose another --out`);
  // a model directory that also holds the user's own files is not replaced (they would be deleted with it)
  const other = fs.readdirSync(out).filter((n) => !isFitOutput(n));
  if (other.length) throw new RefusedOutputError(`--out ${out} is a model directory but also holds files fit did not write (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}); --force would delete them: move them away or choose another --out`);
}

/** Whether a file name is one that `untapped fit` writes into its model directory (charts with their SVG and spec, temporaries). */
export function isFitOutput(name: string): boolean {
  if (PARTIAL_FILES.has(name) || /^\..*\.tmp-\d+$/.test(name)) return true;
  return /^(loss|validation|validation-pv|validation-pv-residuals|endmembers)\.(png|svg|vl\.json)$/.test(name) || name === 'report.html' || name === 'report.md';
}

/**
 * The files of a model or run directory that a command reading it must never overwrite, even with
 * `--force`: every regular file directly in `dir` (weights, config, fit.json, the report and its
 * charts), so an output named into the directory cannot replace what the fit or run wrote.
 */
export function modelDirFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

/** A chart's companion files (`NAME.svg`, `NAME.vl.json`) beside `NAME.png`: outputs too, to be checked like it. */
export function chartFiles(png: string | undefined): string[] {
  if (png === undefined) return [];
  const base = png.replace(/\.png$/i, '');
  return [png, `${base}.svg`, `${base}.vl.json`];
}
