/**
 * gradCheck on a whole model: backprop's gradient of the loss against centered finite
 * differences for a few randomly chosen parameter entries. The test that catches a wrong
 * backward rule in a custom layer, run on the real model and loss.
 */
import { GradkitError } from '../core/errors.js';
import { isFloat, type FloatDType } from '../core/dtype.js';
import { getGlobalRng, Random } from '../core/rng.js';
import { noGrad } from '../autograd/engine.js';
import type { AnyModule } from '../nn/module.js';
import { cast } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { readSync } from '../tensor/host.js';
import { defaultClassificationLoss } from '../train/loss.js';

/** Options of the model gradient check: loss, number of sampled entries, finite-difference step, tolerances and precision. */
export interface ModelGradCheckOptions {
  /** (output, target) → scalar loss; default cross-entropy from logits. */
  loss?: (output: Tensor, target: Tensor) => Tensor;
  /** Parameter entries to check in total, spread over the parameters at random (default 20). */
  samples?: number;
  /** Finite-difference step (default 1e-6 in float64, 1e-2 in float32). */
  eps?: number;
  /** Pass when |analytic − numeric| <= atol + rtol·|numeric| (defaults 1e-6 / 1e-4 in float64, 1e-3 / 5e-2 in float32). */
  atol?: number;
  rtol?: number;
  /** Run in float64 (default true): the model is converted and converted back afterwards, losslessly. */
  float64?: boolean;
  seed?: number;
}

/** One checked parameter entry: its analytic and numeric gradients and whether they agree. */
export interface ModelGradCheckEntry {
  param: string;
  index: number;
  analytic: number;
  numeric: number;
  ok: boolean;
}

/** The model gradient check's outcome: pass/fail, every checked entry, the worst relative error and a summary line. */
export interface ModelGradCheckResult {
  ok: boolean;
  entries: ModelGradCheckEntry[];
  maxRelError: number;
  /** One line: the worst entry. */
  summary: string;
}

/**
 * ```ts
 * const r = diagnostics.modelGradCheck(model, xb, yb, { samples: 30 });
 * if (!r.ok) console.log(r.summary);
 * ```
 * Dropout and other random layers see the same random numbers in every evaluation (the global
 * generator is rewound before each), so the loss is a fixed function of the weights.
 */
export function modelGradCheck(model: AnyModule, x: Tensor | Tensor[], target: Tensor, opts: ModelGradCheckOptions = {}): ModelGradCheckResult {
  const op = 'diagnostics.modelGradCheck';
  const samples = opts.samples ?? 20;
  if (!(Number.isInteger(samples) && samples > 0)) throw new GradkitError(op, `samples must be a positive integer, got ${samples}`);
  const params = [...model.namedParameters()].filter(([, p]) => p.requiresGrad && p.size > 0);
  if (params.length === 0) throw new GradkitError(op, 'the model has no trainable parameters');
  const f64 = opts.float64 ?? true;
  const eps = opts.eps ?? (f64 ? 1e-6 : 1e-2);
  const atol = opts.atol ?? (f64 ? 1e-6 : 1e-3);
  const rtol = opts.rtol ?? (f64 ? 1e-4 : 5e-2);
  const lossFn = opts.loss ?? defaultClassificationLoss;
  const dtype = params[0][1].dtype as FloatDType;
  // Train-mode layers (BatchNorm's running statistics) change state on every call; put it all back.
  const snapshot = model.stateDict();
  const inputs0 = Array.isArray(x) ? x : [x];
  const inputs = f64 ? inputs0.map((t) => (isFloat(t.dtype) ? cast(t, 'float64') : t)) : inputs0;
  const rngState = getGlobalRng().getState();
  const evalLoss = (): number => {
    getGlobalRng().setState(rngState);
    return noGrad(() => lossFn(model.call(...inputs) as Tensor, target).item());
  };
  if (f64) model.to('float64');
  try {
    // Analytic gradients of every parameter, from one backward.
    for (const [, p] of params) p.grad = null;
    getGlobalRng().setState(rngState);
    const loss = lossFn(model.call(...inputs) as Tensor, target);
    if (loss.size !== 1) throw new GradkitError(op, `the loss must be a scalar, got shape [${loss.shape.join(', ')}]`);
    loss.backward();
    const grads = params.map(([, p]) => (p.grad ? Float64Array.from(p.grad.dataSync()) : new Float64Array(p.size)));
    // Pick entries: parameter with probability ∝ its size, then a uniform index.
    const rng = new Random(opts.seed ?? 0);
    const total = params.reduce((s, [, p]) => s + p.size, 0);
    const entries: ModelGradCheckEntry[] = [];
    let maxRel = 0;
    let worst: ModelGradCheckEntry | null = null;
    let worstExcess = -Infinity;
    for (let s = 0; s < samples; s++) {
      let r = rng.int(0, total);
      let k = 0;
      while (r >= params[k][1].size) r -= params[k++][1].size;
      const [name, p] = params[k];
      // Perturb one entry on a host copy and write the whole parameter back (host reads and
      // writes go through the host module; this is a diagnostic, not a hot path).
      const buf = readSync(p).slice();
      const v = buf[r];
      buf[r] = v + eps;
      p.assign(buf);
      const up = evalLoss();
      buf[r] = v - eps;
      p.assign(buf);
      const down = evalLoss();
      buf[r] = v;
      p.assign(buf);
      const numeric = (up - down) / (2 * eps);
      const analytic = grads[k][r];
      const err = Math.abs(analytic - numeric);
      const ok = err <= atol + rtol * Math.abs(numeric);
      const e = { param: name, index: r, analytic, numeric, ok };
      entries.push(e);
      maxRel = Math.max(maxRel, err / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-12));
      const excess = err - (atol + rtol * Math.abs(numeric));
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = e;
      }
    }
    const ok = entries.every((e) => e.ok);
    const w = worst!;
    const summary = `${ok ? 'ok' : 'FAILED'}: ${entries.length} entries checked, worst ${w.param}[${w.index}]: backprop ${w.analytic.toExponential(4)} vs finite differences ${w.numeric.toExponential(4)}`;
    return { ok, entries, maxRelError: maxRel, summary };
  } finally {
    for (const [, p] of params) p.grad = null;
    getGlobalRng().setState(rngState);
    if (f64) model.to(dtype);
    model.loadStateDict(snapshot);
  }
}
