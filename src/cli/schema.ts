/**
 * A tiny declarative validator for JSON config files: every error names the path of the bad
 * value ('model.layers[3].kernelSize'), what it got and what was expected, and unknown keys
 * are errors (with a "did you mean" when a known key is close), because a misspelled option that
 * is silently ignored costs a whole training run.
 */
import { GradkitError } from '../core/errors.js';

export type Spec =
  | { kind: 'number'; integer?: boolean; min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean }
  | { kind: 'string'; enum?: readonly string[] }
  | { kind: 'boolean' }
  | { kind: 'array'; items: Spec; minLength?: number; length?: number }
  | { kind: 'object'; fields: Record<string, Spec>; required?: readonly string[] }
  /** An object whose `type` field picks the fields allowed. */
  | { kind: 'tagged'; variants: Record<string, { fields: Record<string, Spec>; required?: readonly string[] }> }
  | { kind: 'anyOf'; options: readonly Spec[]; describe: string };

const OP = 'experiment';

function fail(path: string, msg: string): never {
  throw new GradkitError(OP, `${path === '' ? 'the file' : path}: ${msg}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (${JSON.stringify(v).slice(0, 40)})`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

function checkFields(v: unknown, fields: Record<string, Spec>, required: readonly string[], path: string, extraAllowed: readonly string[] = []): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `expected an object, got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  const known = [...extraAllowed, ...Object.keys(fields)];
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) {
      const close = known.filter((c) => editDistance(c, k) <= Math.max(1, Math.floor(c.length / 4)));
      const at = path === '' ? k : `${path}.${k}`;
      throw new GradkitError(OP, `unknown key '${k}' at ${at}${close.length > 0 ? ` (did you mean '${close[0]}'?)` : ''}; allowed here: ${known.join(', ')}`);
    }
  }
  for (const r of required) if (o[r] === undefined) fail(path, `missing required key '${r}'`);
  for (const [k, spec] of Object.entries(fields)) if (o[k] !== undefined) validate(o[k], spec, path === '' ? k : `${path}.${k}`);
}

/** Throws a GradkitError naming the first problem found. */
export function validate(v: unknown, spec: Spec, path = ''): void {
  switch (spec.kind) {
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, `expected a ${spec.integer ? 'whole ' : ''}number, got ${describe(v)}`);
      if (spec.integer && !Number.isInteger(v)) fail(path, `expected a whole number, got ${v}`);
      if (spec.min !== undefined && (spec.minExclusive ? v <= spec.min : v < spec.min)) fail(path, `must be ${spec.minExclusive ? '>' : '>='} ${spec.min}, got ${v}`);
      if (spec.max !== undefined && (spec.maxExclusive ? v >= spec.max : v > spec.max)) fail(path, `must be ${spec.maxExclusive ? '<' : '<='} ${spec.max}, got ${v}`);
      return;
    }
    case 'string':
      if (typeof v !== 'string') fail(path, `expected a string, got ${describe(v)}`);
      if (spec.enum && !spec.enum.includes(v)) fail(path, `expected one of ${spec.enum.map((e) => `'${e}'`).join(', ')}, got '${v}'`);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') fail(path, `expected true or false, got ${describe(v)}`);
      return;
    case 'array':
      if (!Array.isArray(v)) fail(path, `expected an array, got ${describe(v)}`);
      if (spec.length !== undefined && v.length !== spec.length) fail(path, `expected ${spec.length} entries, got ${v.length}`);
      if (spec.minLength !== undefined && v.length < spec.minLength) fail(path, `expected at least ${spec.minLength} entries, got ${v.length}`);
      v.forEach((x, i) => validate(x, spec.items, `${path}[${i}]`));
      return;
    case 'object':
      checkFields(v, spec.fields, spec.required ?? [], path);
      return;
    case 'tagged': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `expected an object with a 'type', got ${describe(v)}`);
      const type = (v as { type?: unknown }).type;
      const names = Object.keys(spec.variants);
      if (typeof type !== 'string') fail(path, `missing 'type' (one of ${names.join(', ')})`);
      const variant = spec.variants[type];
      if (variant === undefined) {
        const close = names.filter((c) => editDistance(c, type) <= 2);
        fail(`${path}.type`, `unknown type '${type}'${close.length > 0 ? ` (did you mean '${close[0]}'?)` : ''}; expected one of ${names.join(', ')}`);
      }
      checkFields(v, variant.fields, variant.required ?? [], path, ['type']);
      return;
    }
    case 'anyOf': {
      for (const o of spec.options) {
        try {
          validate(v, o, path);
          return;
        } catch {
          /* try the next form */
        }
      }
      fail(path, `expected ${spec.describe}, got ${describe(v)}`);
    }
  }
}

// Shorthands for building specs.
export const num = (o: Omit<Extract<Spec, { kind: 'number' }>, 'kind'> = {}): Spec => ({ kind: 'number', ...o });
export const int = (min = 0): Spec => ({ kind: 'number', integer: true, min });
export const str = (values?: readonly string[]): Spec => ({ kind: 'string', enum: values });
export const bool: Spec = { kind: 'boolean' };
export const arr = (items: Spec, o: { minLength?: number; length?: number } = {}): Spec => ({ kind: 'array', items, ...o });
export const obj = (fields: Record<string, Spec>, required: readonly string[] = []): Spec => ({ kind: 'object', fields, required });
/** A positive integer or a pair of them (kernel sizes, strides). */
export const pair: Spec = { kind: 'anyOf', options: [int(1), arr(int(1), { length: 2 })], describe: 'a positive whole number or a pair [h, w] of them' };
export const pairOrZero: Spec = { kind: 'anyOf', options: [int(0), arr(int(0), { length: 2 })], describe: 'a whole number >= 0 or a pair [h, w] of them' };
