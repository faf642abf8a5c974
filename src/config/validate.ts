/**
 * Config validation with clear messages: each problem names its key path, and an unknown key names
 * the valid keys at that level. (Reading a config file is the Node entry's `readConfigFile`.)
 */
import { z } from 'zod';

/** Raised for an invalid config; `issues` lists every problem found. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`${source}: invalid config\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Walks schema and value together down `path`, resolving discriminated unions by the value. */
function keysAt(schema: z.ZodType, path: PropertyKey[], value: unknown): string[] | null {
  let s: z.ZodType | undefined = schema;
  let v: unknown = value;
  const step = (cur: z.ZodType, val: unknown): z.ZodType => {
    let u = unwrap(cur);
    if (u instanceof z.ZodDiscriminatedUnion) {
      const key = u.def.discriminator;
      const tag = (val as Record<string, unknown> | null)?.[key];
      const opt = (u.options as z.ZodType[]).find((o) => {
        const lit = (unwrap(o) as z.ZodObject).shape[key];
        return lit instanceof z.ZodLiteral && lit.values.has(tag as never);
      });
      if (opt) u = unwrap(opt);
    }
    return u;
  };
  for (const p of path) {
    const cur: z.ZodType = step(s, v);
    if (cur instanceof z.ZodObject) s = (cur.shape as Record<string, z.ZodType>)[String(p)];
    else if (cur instanceof z.ZodArray) s = cur.element as z.ZodType;
    else return null;
    if (!s) return null;
    v = (v as Record<PropertyKey, unknown> | null)?.[p];
  }
  const last = step(s, v);
  return last instanceof z.ZodObject ? Object.keys(last.shape) : null;
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur: z.ZodType = s;
  for (let i = 0; i < 10; i++) {
    if (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional || cur instanceof z.ZodNullable) cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType; // a transformed object: its input's keys
    else break;
  }
  return cur;
}

/** Formats one zod issue as "path: message", naming valid keys for unknown ones. */
function describe(schema: z.ZodType, issue: z.core.$ZodIssue, value: unknown): string {
  const at = issue.path.length ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const valid = keysAt(schema, issue.path, value);
    return `${at}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}${valid ? `; valid keys: ${valid.join(', ')}` : ''}`;
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue && Array.isArray((issue as { options?: unknown[] }).options)) {
    // an unknown discriminator value (e.g. model.type): echo it and list the valid ones
    let v: unknown = value;
    for (const p of issue.path) v = (v as Record<PropertyKey, unknown> | null)?.[p];
    const opts = (issue as unknown as { options: unknown[] }).options.map((o) => `'${String(o)}'`).join(', ');
    return `${at}: ${v === undefined ? 'missing' : `'${String(v)}' is not one of the valid values`}; valid: ${opts}`;
  }
  return `${at}: ${issue.message}`;
}

/** Validates `value` against `schema`, throwing a {@link ConfigError} naming `source` and every problem. */
export function validateConfig<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ConfigError(
    source,
    r.error.issues.map((i) => describe(schema, i, value)),
  );
}

/** Parses JSON `text` and validates it; errors name `source` (and the JSON position). Node: `readConfigFile` reads a file. */
export function parseConfig<S extends z.ZodType>(schema: S, text: string, source: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(source, [`not valid JSON: ${(e as Error).message}`]);
  }
  return validateConfig(schema, value, source);
}
