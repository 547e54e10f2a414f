/**
 * Search spaces for `gradkit tune`: a map from a dotted path into an experiment config
 * ('optimizer.lr', 'model.layers.9.p') to a distribution. Validated up front, because a typo in
 * a path would otherwise silently tune nothing for the whole search.
 *
 * ```json
 * { "optimizer.lr": { "logUniform": [1e-4, 1e-1] }, "data.batchSize": { "choice": [32, 64] } }
 * ```
 */
import { GradkitError } from '../core/errors.js';

/** How one hyperparameter is drawn: uniform, log-uniform, whole numbers, or a choice among values. */
export type Distribution =
  | { kind: 'uniform'; low: number; high: number }
  | { kind: 'logUniform'; low: number; high: number }
  /** Whole numbers low..high, both included. */
  | { kind: 'intUniform'; low: number; high: number }
  | { kind: 'choice'; values: unknown[] };

/** A validated search space: path → distribution, in the file's order. */
export type SearchSpace = Map<string, Distribution>;

/** One point of the space: path → value. */
export type Assignment = Record<string, unknown>;

const OP = 'tune space';
/** The distribution names a space file may use for a parameter. */
export const KINDS = ['uniform', 'logUniform', 'intUniform', 'choice'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function bounds(path: string, kind: string, v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new GradkitError(OP, `${path}: ${kind} needs [low, high] with two finite numbers, got ${JSON.stringify(v)}`);
  }
  const [low, high] = v as [number, number];
  if (!(low < high)) throw new GradkitError(OP, `${path}: ${kind} needs low < high, got [${low}, ${high}]`);
  if (kind === 'logUniform' && !(low > 0)) throw new GradkitError(OP, `${path}: logUniform needs 0 < low < high, got [${low}, ${high}]`);
  if (kind === 'intUniform' && !(Number.isInteger(low) && Number.isInteger(high))) throw new GradkitError(OP, `${path}: intUniform needs whole-number bounds, got [${low}, ${high}]`);
  return [low, high];
}

/** Parses `{ path: { uniform | logUniform | intUniform: [low, high] } | { choice: [...] } }`. */
export function parseSpace(raw: unknown): SearchSpace {
  if (!isObject(raw)) throw new GradkitError(OP, `the space must be an object of path → distribution, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  const entries = Object.entries(raw);
  if (entries.length === 0) throw new GradkitError(OP, 'the space is empty: give at least one path to search');
  const space: SearchSpace = new Map();
  for (const [path, d] of entries) {
    if (!isObject(d) || Object.keys(d).length !== 1) {
      throw new GradkitError(OP, `${path}: expected one of { ${KINDS.map((k) => `"${k}": …`).join(' | ')} }, got ${JSON.stringify(d)}`);
    }
    const [kind, v] = Object.entries(d)[0];
    if (kind === 'choice') {
      if (!Array.isArray(v) || v.length === 0) throw new GradkitError(OP, `${path}: choice needs a non-empty array of values, got ${JSON.stringify(v)}`);
      space.set(path, { kind, values: v });
    } else if (kind === 'uniform' || kind === 'logUniform' || kind === 'intUniform') {
      const [low, high] = bounds(path, kind, v);
      space.set(path, { kind, low, high });
    } else {
      throw new GradkitError(OP, `${path}: unknown distribution '${kind}'; expected one of ${KINDS.join(', ')}`);
    }
  }
  return space;
}

function segments(path: string): string[] {
  return path.split('.');
}

/** The value at a dotted path, or `undefined` with the first missing segment. */
export function getPath(obj: unknown, path: string): { found: true; value: unknown } | { found: false; missing: string } {
  let cur: unknown = obj;
  const segs = segments(path);
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (cur === null || typeof cur !== 'object' || !(s in (cur as object))) return { found: false, missing: segs.slice(0, i + 1).join('.') };
    cur = (cur as Record<string, unknown>)[s];
  }
  return { found: true, value: cur };
}

/**
 * Checks every path against a resolved experiment (all defaults filled in), so a path is valid
 * exactly when the experiment has that key. Paths into optional sections that are off (e.g.
 * 'earlyStopping.patience' with earlyStopping null) are reported as such.
 */
export function checkPaths(space: SearchSpace, experiment: unknown): void {
  for (const path of space.keys()) {
    const r = getPath(experiment, path);
    if (!r.found) {
      throw new GradkitError(OP, `${path}: the experiment has no '${r.missing}' (paths are dotted keys of the resolved experiment, e.g. 'optimizer.lr', 'data.batchSize', 'model.layers.9.p')`);
    }
    if (r.value !== null && typeof r.value === 'object' && space.get(path)!.kind !== 'choice') {
      throw new GradkitError(OP, `${path}: points at ${Array.isArray(r.value) ? 'an array' : 'an object'}, not a number; only choice can replace a whole section`);
    }
  }
}

/** A deep copy of `config` with every assigned path replaced. */
export function applyAssignment<T>(config: T, a: Assignment): T {
  const out = structuredClone(config) as unknown;
  for (const [path, value] of Object.entries(a)) {
    const segs = segments(path);
    let cur = out as Record<string, unknown>;
    for (const s of segs.slice(0, -1)) {
      if (cur[s] === null || typeof cur[s] !== 'object') throw new GradkitError(OP, `${path}: '${s}' is not an object in the experiment`);
      cur = cur[s] as Record<string, unknown>;
    }
    cur[segs[segs.length - 1]] = structuredClone(value);
  }
  return out as T;
}
