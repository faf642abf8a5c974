/**
 * Paper experiments as registered units (issue 23, item 6). Each experiment declares its name, the
 * paper section it reproduces, a one-line summary, its options as a zod object schema (the only
 * place its defaults live; a key `budgetEpochs` is the command-line flag `--budget-epochs`), the
 * options of a tiny budget (seconds, for the test that runs every experiment) and `run`. The CLI's
 * `untapped experiment NAME` reads its flags from the schema. Not part of the library API.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { writeFileAtomic } from '../node/files.js';
import { linkChartSvgs, writeHtmlReport } from '../node/html.js';

/** What an experiment's `run` gets besides its options. */
export interface ExperimentContext {
  /** Output directory (created by the experiment). */
  out: string;
  /** Progress lines (the CLI writes them to stderr). */
  log: (msg: string) => void;
  /** The tensor backend in use, for progress lines. */
  backend?: string;
}

/** One registered experiment; `S` is its options schema. */
export interface ExperimentSpec<S extends z.ZodObject = z.ZodObject> {
  name: string;
  /** Paper reference, e.g. "000_… §4". */
  paper: string;
  summary: string;
  /** Options (keys in camelCase, flags in kebab-case); defaults live here only. */
  options: S;
  /** Options for a tiny budget (a few seconds), merged over the defaults. */
  tiny: z.input<S>;
  /** True when the experiment downloads or reads MNIST. */
  mnist?: boolean;
  /** The report file it writes into `out` (relative), checked by the registry test. */
  report: string;
  /** Checks that span several options (a usage error message), after the schema has parsed them. */
  check?: (options: z.output<S>) => string | undefined;
  run(options: z.output<S>, ctx: ExperimentContext): Promise<{ files: string[] }>;
}

/** An experiment whose option type has been erased (what the registry stores). */
export type AnyExperimentSpec = ExperimentSpec<z.ZodObject>;

const registry = new Map<string, AnyExperimentSpec>();

/** Types a spec from its schema (for the files in `specs/`). */
export function defineExperiment<S extends z.ZodObject>(spec: ExperimentSpec<S>): ExperimentSpec<S> {
  return spec;
}

/** Registers an experiment; a second registration of one name is an error. */
export function registerExperiment<S extends z.ZodObject>(spec: ExperimentSpec<S>): void {
  if (registry.has(spec.name)) throw new Error(`experiment '${spec.name}' is registered twice`);
  registry.set(spec.name, spec as unknown as AnyExperimentSpec);
}

/** The experiment called `name`, or an error naming the registered ones. */
export function getExperiment(name: string): AnyExperimentSpec {
  const s = registry.get(name);
  if (!s) throw new Error(`unknown experiment '${name}'; available: ${experimentNames().join(', ')}`);
  return s;
}

/** Registered names, in registration order. */
export function experimentNames(): string[] {
  return [...registry.keys()];
}

/** The flag of an option key: `budgetEpochs` → `budget-epochs`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Runs `spec` with `options` merged over its defaults (schema-checked). */
export async function runExperiment(spec: AnyExperimentSpec, options: unknown, ctx: ExperimentContext): Promise<{ files: string[] }> {
  const o = spec.options.parse(options);
  const err = spec.check?.(o);
  if (err) throw new Error(err);
  const r = await spec.run(o, ctx);
  const html = writeExperimentHtml(spec, ctx.out);
  return html ? { ...r, files: [...r.files, html] } : r;
}

/**
 * After an experiment: its Markdown report links the SVG of every chart it wrote (a "Charts"
 * section for those it does not show), and `report.html` beside it shows the same report with the
 * charts as interactive views. A JSON report is shown as code. Returns the HTML file, or undefined
 * when the experiment wrote no report.
 */
export function writeExperimentHtml(spec: Pick<AnyExperimentSpec, 'name' | 'summary' | 'report'>, out: string): string | undefined {
  const file = path.join(out, spec.report);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const title = `untapped experiment ${spec.name}`;
  if (file.endsWith('.md')) {
    const md = linkChartSvgs(path.dirname(file), text);
    if (md !== text) writeFileAtomic(file, md);
    return writeHtmlReport(path.dirname(file), md, { title });
  }
  const md = `# ${title}\n\n${spec.summary}\n\n\`${spec.report}\`:\n\n\`\`\`\n${text.trimEnd()}\n\`\`\`\n`;
  return writeHtmlReport(path.dirname(file), md, { title });
}
