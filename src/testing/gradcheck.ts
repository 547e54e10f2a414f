import { isFloat } from '../core/dtype.js';
import { GradkitError } from '../core/errors.js';
import { Random } from '../core/rng.js';
import { noGrad, valueAndGrad } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { readSync } from '../tensor/host.js';
import { cast, mul, sum } from '../ops/index.js';

/** Options of `gradcheck`: finite-difference step, tolerances, precision and sampling. */
export interface GradCheckOptions {
  /** Finite-difference step (default 1e-6 in float64, 1e-3 in float32). */
  eps?: number;
  /** Pass when |analytic − numeric| <= atol + rtol·|numeric| for every checked element. */
  atol?: number;
  rtol?: number;
  /** Evaluate in float64 (default true): finite differences in float32 lose half the digits. */
  float64?: boolean;
  /** Check at most this many elements per input, picked at random (default: all). */
  maxElementsPerInput?: number;
  /** Seed for the output projection and the element sampling. */
  seed?: number;
}

export interface GradCheckWorst {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

/** The outcome of `gradcheck`: pass/fail, the largest errors, the worst element and a one-line summary. */
export interface GradCheckResult {
  ok: boolean;
  /** Largest |a − n| / max(|a|, |n|, 1e-12) seen. */
  maxRelError: number;
  maxAbsError: number;
  /** The element that failed worst (by the pass criterion); null when nothing was checked. */
  worst: GradCheckWorst | null;
  checked: number;
  /** One line for humans: where the worst disagreement is. */
  summary: string;
}

/**
 * Compares the autograd gradient of f at `inputs` with centered finite differences
 * (f(x+ε) − f(x−ε)) / 2ε. A non-scalar output is reduced with a fixed random projection, so
 * every output element takes part. Int/bool inputs are passed through unchecked.
 */
export function gradCheck(f: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: GradCheckOptions = {}): GradCheckResult {
  const f64 = opts.float64 ?? true;
  const eps = opts.eps ?? (f64 ? 1e-6 : 1e-3);
  const atol = opts.atol ?? (f64 ? 1e-6 : 1e-3);
  const rtol = opts.rtol ?? (f64 ? 1e-5 : 1e-2);
  // A zero/NaN step or tolerance would make every comparison fail (or pass) for no reason.
  if (!(eps > 0) || !Number.isFinite(eps)) throw new GradkitError('gradCheck', `eps must be a finite number > 0, got ${eps}`);
  if (!(atol >= 0) || !(rtol >= 0)) throw new GradkitError('gradCheck', `atol and rtol must be >= 0, got atol=${atol}, rtol=${rtol}`);
  const cap = opts.maxElementsPerInput;
  if (cap !== undefined && !(Number.isInteger(cap) && cap > 0)) {
    throw new GradkitError('gradCheck', `maxElementsPerInput must be a positive integer, got ${cap}`);
  }
  const rng = new Random(opts.seed ?? 1234);
  const xs = inputs.map((t) => {
    if (!(t instanceof Tensor)) throw new GradkitError('gradCheck', 'inputs must be tensors');
    const c = isFloat(t.dtype) && f64 ? cast(t.detach(), 'float64') : t.detach();
    return Tensor.fromArray(readSync(c).slice(), c.shape);
  });
  const floatIdx = xs.map((t, i) => (isFloat(t.dtype) ? i : -1)).filter((i) => i >= 0);
  if (floatIdx.length === 0) throw new GradkitError('gradCheck', 'no float input to check');

  let projection: Tensor | null = null;
  const objective = (...args: Tensor[]): Tensor => {
    const y = f(...args);
    if (!(y instanceof Tensor)) throw new GradkitError('gradCheck', 'f must return a Tensor');
    if (projection === null) {
      const buf = new Float64Array(y.size);
      for (let i = 0; i < buf.length; i++) buf[i] = rng.uniform(0.5, 1.5) * (rng.next() < 0.5 ? -1 : 1);
      projection = Tensor.fromArray(isFloat(y.dtype) && y.dtype === 'float32' ? Float32Array.from(buf) : buf, y.shape);
    }
    return sum(mul(y, projection));
  };

  const { grads } = valueAndGrad(objective, floatIdx)(...xs);
  let maxRel = 0;
  let maxAbs = 0;
  let worst: GradCheckWorst | null = null;
  let worstScore = -Infinity;
  let checked = 0;
  let ok = true;
  floatIdx.forEach((inputIdx, gi) => {
    const x = xs[inputIdx];
    const analytic = readSync(grads[gi]);
    // A host copy to perturb one element at a time; each perturbation is written back with assign.
    const values = readSync(x).slice();
    let elems = Array.from({ length: x.size }, (_, i) => i);
    if (opts.maxElementsPerInput !== undefined && elems.length > opts.maxElementsPerInput) {
      elems = rng.shuffle(elems).slice(0, opts.maxElementsPerInput);
    }
    for (const i of elems) {
      const orig = values[i];
      values[i] = orig + eps;
      x.assign(values);
      const plus = noGrad(() => objective(...xs).item());
      values[i] = orig - eps;
      x.assign(values);
      const minus = noGrad(() => objective(...xs).item());
      values[i] = orig;
      x.assign(values);
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[i];
      const absErr = Math.abs(a - numeric);
      const rel = absErr / Math.max(Math.abs(a), Math.abs(numeric), 1e-12);
      const allowed = atol + rtol * Math.abs(numeric);
      const pass = absErr <= allowed && Number.isFinite(a) === Number.isFinite(numeric);
      if (!pass) ok = false;
      checked++;
      maxRel = Math.max(maxRel, rel);
      maxAbs = Math.max(maxAbs, absErr);
      const score = Number.isFinite(absErr) ? absErr / allowed : Infinity;
      if (score > worstScore) {
        worstScore = score;
        worst = { input: inputIdx, index: i, analytic: a, numeric };
      }
    }
  });
  const w = worst as GradCheckWorst | null;
  const summary = w === null
    ? 'nothing checked'
    : `${ok ? 'ok' : 'FAILED'}: ${checked} elements; worst at input ${w.input}, flat index ${w.index}: analytic ${w.analytic}, numeric ${w.numeric} (max rel error ${maxRel.toExponential(2)}, max abs error ${maxAbs.toExponential(2)})`;
  return { ok, maxRelError: maxRel, maxAbsError: maxAbs, worst: w, checked, summary };
}
