/**
 * `untapped experiment NAME [options]`: one subcommand per registered experiment
 * (`experiments/specs`), its flags read from the experiment's options schema.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { z } from 'zod';
import { experimentNames, flagName, getExperiment, type AnyExperimentSpec } from '../../experiments/specs/index.js';
import { writeExperimentHtml } from '../../experiments/registry.js';
import { UsageError, defaultRunDir, engine, intArg, log, numArg } from '../common.js';
import { writeFileAtomic } from '../../node/files.js';
import { holdsCwd, RefusedOutputError } from '../../node/replace.js';

/** "a", "a and b", "a, b and c". */
const joinAnd = (xs: string[]): string => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);

interface FlagInfo {
  key: string;
  /** The long flag as typed: `--budget-epochs`, or `--no-batch-norm` for a boolean that defaults to true. */
  flag: string;
  option: Option;
}

/** The command-line option of one schema key. */
function flagOf(key: string, schema: z.ZodType): FlagInfo {
  let inner = schema as z.ZodType & { unwrap?: () => z.ZodType };
  let description = schema.description;
  let def: unknown = undefined;
  for (;;) {
    const t = inner._zod.def.type;
    if (t === 'default') def = (inner._zod.def as unknown as { defaultValue: unknown }).defaultValue;
    else if (t !== 'optional') break;
    inner = inner.unwrap!() as typeof inner;
    description ??= inner.description;
  }
  const name = flagName(key);
  const t = inner._zod.def.type;
  const help = description ?? '';
  if (t === 'boolean') {
    const flag = def === true ? `--no-${name}` : `--${name}`;
    return { key, flag, option: new Option(flag, help) };
  }
  if (t === 'number') {
    const n = inner as unknown as z.ZodNumber;
    const option = n.isInt ? new Option(`--${name} <n>`, help).argParser(intArg(`--${name}`, (n.minValue ?? 0) >= 1 ? 1 : 0)) : new Option(`--${name} <x>`, help).argParser(numArg(`--${name}`));
    if (def !== undefined) option.default(def);
    return { key, flag: `--${name}`, option };
  }
  if (t === 'enum') {
    const option = new Option(`--${name} <kind>`, help).choices((inner as unknown as z.ZodEnum).options.map(String));
    if (def !== undefined) option.default(def);
    return { key, flag: `--${name}`, option };
  }
  if (t === 'array') {
    // a comma-separated list; numbers are read as numbers (the schema checks each element)
    const element = (inner._zod.def as unknown as { element: z.ZodType }).element._zod.def.type;
    const option = new Option(`--${name} <list>`, help).argParser((v: string) => v.split(',').map((e) => (element === 'number' ? Number(e.trim()) : e.trim())));
    if (def !== undefined) option.default(def, (def as unknown[]).join(','));
    return { key, flag: `--${name}`, option };
  }
  const option = new Option(`--${name} <value>`, help);
  if (def !== undefined) option.default(def);
  return { key, flag: `--${name}`, option };
}

/** The flags of an experiment, in the order of its schema. */
function flagsOf(spec: AnyExperimentSpec): FlagInfo[] {
  return Object.entries(spec.options.shape).map(([k, s]) => flagOf(k, s as z.ZodType));
}

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : String(v));

/** Adds `experiment` and its subcommands to `program`. */
export function addExperimentCommand(program: Command): void {
  const names = experimentNames();
  const exp = program
    .command('experiment')
    .description(`run a named paper experiment with a budget and write its curves, pictures and report (${names.join(', ')}); \`untapped experiment NAME --help\` lists its options`)
    .argument('[name]', 'experiment')
    .allowUnknownOption()
    .allowExcessArguments()
    .action((name?: string) => {
      throw new UsageError(name === undefined ? `experiment needs a name; available: ${names.join(', ')}` : `unknown experiment '${name}'; available: ${names.join(', ')}`);
    });
  for (const name of names) {
    const spec = getExperiment(name);
    const flags = flagsOf(spec);
    const sub = new UsageCommand(name, flags, names);
    exp.addCommand(sub);
    sub.description(`${spec.summary} (${spec.paper})`);
    sub.copyInheritedSettings(exp);
    sub.option('-o, --out <dir>', `output directory (default: runs/${name}-<time>)`);
    for (const f of flags) sub.addOption(f.option);
    sub.action(async (o: Record<string, unknown> & { out?: string }, cmd: Command) => {
      const input: Record<string, unknown> = {};
      for (const f of flags) if (o[f.key] !== undefined) input[f.key] = o[f.key];
      const parsed = spec.options.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const key = String(issue.path[0] ?? '');
        const flag = flags.find((f) => f.key === key)?.flag ?? key;
        throw new UsageError(`${flag} ${issue.message}, got ${show(input[key])}`);
      }
      const options = parsed.data as Record<string, unknown>;
      if (options.resume === true && o.out === undefined) throw new UsageError('--resume needs --out DIR, the run to continue');
      const err = spec.check?.(options);
      if (err) throw new UsageError(err);
      if (o.out !== undefined && options.resume !== true) checkExperimentOut(o.out, name);
      const info = await engine(cmd);
      const out = o.out ?? defaultRunDir(name);
      const r = await spec.run(options, { out, log, backend: info.backend });
      writeFileAtomic(path.join(out, EXPERIMENT_MARK), JSON.stringify({ experiment: name, finished: new Date().toISOString() }) + '\n');
      const html = writeExperimentHtml(spec, out);
      log(`wrote ${[...r.files, ...(html ? [html] : [])].join(', ')}`);
    });
  }
}

/** The file that marks a directory as the output of an experiment (written when it finishes). */
const EXPERIMENT_MARK = '.untapped-experiment.json';

/**
 * Refuses an `--out` that exists but is not this experiment's output: a file, a train run or a fit,
 * another experiment's output, or a directory holding files but neither the mark of a finished
 * experiment nor a checkpoint of an interrupted one (the user's own `report.md` would otherwise be
 * replaced).
 */
function checkExperimentOut(out: string, name: string): void {
  if (!fs.existsSync(out)) return;
  if (holdsCwd(out)) throw new RefusedOutputError(`--out ${out} is the current directory${path.resolve(out) === process.cwd() ? '' : ' or holds it'}; give a new directory name for the experiment`);
  if (!fs.statSync(out).isDirectory()) throw new RefusedOutputError(`--out ${out} is a file, not a directory`);
  const names = fs.readdirSync(out).filter((n) => !/^\..*\.tmp-\d+$/.test(n));
  if (names.length === 0) return;
  if (names.includes(EXPERIMENT_MARK)) {
    // the output of a finished experiment: this one's may be written again, another's not
    let other: unknown;
    try {
      other = (JSON.parse(fs.readFileSync(path.join(out, EXPERIMENT_MARK), 'utf8')) as { experiment?: unknown }).experiment;
    } catch {
      other = undefined;
    }
    if (other === name) return;
    throw new RefusedOutputError(`--out ${out} holds the output of ${typeof other === 'string' ? `experiment ${other}` : 'another experiment'}, not of ${name}; choose a new or empty directory`);
  }
  // an interrupted experiment left its checkpoint; a train run (config.json) or a fit (fit.json) is not one
  if (names.includes('checkpoint.utp') && !names.includes('config.json') && !names.includes('fit.json')) return;
  if (names.includes('config.json') || names.includes('fit.json')) throw new RefusedOutputError(`--out ${out} holds a model (${names.includes('fit.json') ? 'written by fit' : 'a train run'}), not the output of an experiment; choose a new or empty directory for experiment ${name}`);
  throw new RefusedOutputError(`--out ${out} holds files that are not the output of an untapped experiment (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}); choose a new or empty directory for experiment ${name}`);
}

/** An experiment's subcommand: an unknown option names the experiments that have it, and this one's options. */
class UsageCommand extends Command {
  constructor(
    name: string,
    private readonly flags: FlagInfo[],
    private readonly names: string[],
  ) {
    super(name);
  }

  unknownOption(raw: string): never {
    const flag = raw.replace(/=.*$/, '');
    const name = this.name();
    const valid = ['--out', ...this.flags.map((f) => f.flag)].join(', ');
    const others = this.names.filter((n) => n !== name && flagsOf(getExperiment(n)).some((f) => f.flag === flag));
    if (others.length) throw new UsageError(`${flag} applies to ${joinAnd(others)}, not ${name}; options of ${name}: ${valid}`);
    throw new UsageError(`unknown option '${flag}' for experiment ${name}; options of ${name}: ${valid}`);
  }
}
