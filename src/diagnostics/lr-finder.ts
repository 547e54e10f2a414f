/**
 * Learning-rate range test (the "LR finder"): train for a few hundred steps while the rate grows
 * exponentially from tiny to huge, watch the smoothed loss, and read off a good rate. The model,
 * optimizer, data order and global RNG are put back afterwards, so it can run before fit().
 */
import { GradkitError } from '../core/errors.js';
import { getGlobalRng } from '../core/rng.js';
import type { Batch } from '../data/collate.js';
import type { AnyModule } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { scope } from '../tensor/lifetime.js';
import { defaultClassificationLoss } from '../train/loss.js';
import type { TrainData } from '../train/trainer.js';
import { lineSvg } from './svg.js';

/** Options of the learning-rate finder: model, optimizer, data, loss and the range and number of rates tried. */
export interface LrFinderOptions {
  model: AnyModule;
  optimizer: Optimizer<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- any optimizer subclass
  /** Training batches ([inputs…, target]); iterated again from the start when exhausted. */
  data: Iterable<Batch> | TrainData;
  /** (output, target) → scalar loss; default cross-entropy from logits. */
  loss?: (output: Tensor, target: Tensor) => Tensor;
  /** First rate (default 1e-7). */
  startLr?: number;
  /** Last rate (default 10). */
  endLr?: number;
  /** Steps from startLr to endLr (default 100). */
  numSteps?: number;
  /**
   * Smoothing of the exponential moving average, bias-corrected (default 0.9). The average lags
   * by about 1/(1 − beta) steps; fastai's 0.98 lags 50 steps, half of a 100-step run (three
   * decades of rate here), which shifts the curve and its suggestion to the right.
   */
  beta?: number;
  /** Stop once the smoothed loss exceeds this multiple of its best value (default 4). */
  divergeFactor?: number;
}

/** The learning-rate finder's output: the rates tried, the raw and smoothed losses, and the suggested rate. */
export interface LrFinderResult {
  /** Rate used at each step taken. */
  lrs: number[];
  /** Raw loss at each step. */
  losses: number[];
  /** Bias-corrected EMA of the loss. */
  smoothed: number[];
  /**
   * The suggested rate: minLossLr / 10 (Smith's rule). Chosen over steepestLr because on our
   * small problems it landed 2–10× from the best fixed rate of a grid, where the steepest point
   * landed 7–40× below it: the steepest fall is where training *starts* to work, while a
   * several-epoch run wants the largest rate that is still stable.
   */
  suggestedLr: number;
  /** Where the smoothed loss falls fastest per unit of log lr (a conservative choice; see suggestLr). */
  steepestLr: number;
  /** Rate at the minimum of the smoothed loss (too high to train with). */
  minLossLr: number;
  /** True when the loss diverged before numSteps. */
  stoppedEarly: boolean;
  /** The curve (loss against log lr) with the suggestion marked. */
  svg(): string;
}

function check(op: string, what: string, v: number, ok: boolean): number {
  if (!ok) throw new GradkitError(op, `${what} is invalid: ${String(v)}`);
  return v;
}

/**
 * The rate suggestions (exported for testing on hand-made curves). suggestedLr = minLossLr / 10.
 * steepestLr: the steepest descent of the smoothed loss per unit of log lr, measured over a
 * window of ±`window` points (default: 1/20 of the curve) so that single noisy batches do not
 * win, ignoring the first `skip` points (default 1/10 of the curve: the bias-corrected average of
 * a handful of losses is mostly noise) and everything after the minimum; minLossLr / 10 when the
 * loss never falls.
 */
export function suggestLr(lrs: readonly number[], smoothed: readonly number[], opts: { skip?: number; window?: number } = {}): { suggestedLr: number; steepestLr: number; minLossLr: number } {
  const n = smoothed.length;
  let iMin = 0;
  for (let i = 1; i < n; i++) if (smoothed[i] < smoothed[iMin]) iMin = i;
  const minLossLr = lrs[iMin];
  const skip = Math.min(opts.skip ?? Math.floor(n / 10), Math.max(0, iMin - 1));
  const w = Math.max(1, opts.window ?? Math.round(n / 20));
  let best = 0;
  let iBest = -1;
  for (let i = skip; i <= iMin; i++) {
    const a = Math.max(skip, i - w);
    const b = Math.min(iMin, i + w);
    if (a === b) continue;
    const slope = (smoothed[b] - smoothed[a]) / (Math.log(lrs[b]) - Math.log(lrs[a]));
    if (slope < best) {
      best = slope;
      iBest = i;
    }
  }
  return { suggestedLr: minLossLr / 10, steepestLr: iBest >= 0 ? lrs[iBest] : minLossLr / 10, minLossLr };
}

/**
 * ```ts
 * const r = await diagnostics.lrFinder({ model, optimizer, data: trainLoader });
 * optimizer.setLr(r.suggestedLr);
 * ```
 */
export async function lrFinder(opts: LrFinderOptions): Promise<LrFinderResult> {
  const op = 'lrFinder';
  if (opts === null || typeof opts !== 'object' || opts.model === undefined || opts.optimizer === undefined || opts.data === undefined) {
    throw new GradkitError(op, 'expected { model, optimizer, data }');
  }
  const startLr = opts.startLr ?? 1e-7;
  const endLr = opts.endLr ?? 10;
  check(op, 'startLr (must be > 0)', startLr, startLr > 0 && Number.isFinite(startLr));
  check(op, `endLr (must be > startLr ${startLr})`, endLr, endLr > startLr && Number.isFinite(endLr));
  const numSteps = opts.numSteps ?? 100;
  check(op, 'numSteps (must be an integer >= 2)', numSteps, Number.isInteger(numSteps) && numSteps >= 2);
  const beta = opts.beta ?? 0.9;
  check(op, 'beta (must be in [0, 1))', beta, beta >= 0 && beta < 1);
  const divergeFactor = opts.divergeFactor ?? 4;
  check(op, 'divergeFactor (must be > 1)', divergeFactor, divergeFactor > 1);
  const { model, optimizer } = opts;
  const lossFn = opts.loss ?? defaultClassificationLoss;
  const data = opts.data as Iterable<Batch> & Partial<Pick<TrainData, 'state' | 'loadState'>>;

  // Everything the test touches, to put back at the end.
  const modelState = model.stateDict();
  const optState = optimizer.stateDict();
  const wasTraining = model.training;
  const rngState = getGlobalRng().getState();
  const loaderState = data.state && data.loadState ? data.state() : null;

  const lrs: number[] = [];
  const losses: number[] = [];
  const smoothed: number[] = [];
  let stoppedEarly = false;
  try {
    model.train();
    let it = data[Symbol.iterator]();
    let avg = 0;
    let best = Infinity;
    for (let i = 0; i < numSteps; i++) {
      // Each step in a scope: its batch, activations and graph are freed when it ends.
      const go = scope(() => {
        let next = it.next();
        if (next.done) {
          it = data[Symbol.iterator]();
          next = it.next();
          if (next.done) throw new GradkitError(op, 'data yielded no batches');
        }
        const batch = next.value;
        if (!Array.isArray(batch) || batch.length < 2) throw new GradkitError(op, `batch ${i} must be [inputs…, target]`);
        const lr = startLr * (endLr / startLr) ** (i / (numSteps - 1));
        optimizer.setLr(lr);
        const out = model.call(...(batch.slice(0, -1) as Tensor[])) as Tensor;
        const loss = lossFn(out, batch[batch.length - 1] as Tensor);
        const value = loss.item();
        lrs.push(lr);
        losses.push(value);
        if (!Number.isFinite(value)) {
          smoothed.push(Infinity);
          stoppedEarly = true;
          return false;
        }
        avg = beta * avg + (1 - beta) * value;
        const s = avg / (1 - beta ** (i + 1));
        smoothed.push(s);
        if (s < best) best = s;
        if (s > divergeFactor * best) {
          stoppedEarly = true;
          return false;
        }
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        return true;
      });
      if (!go) break;
    }
  } finally {
    model.loadStateDict(modelState);
    optimizer.loadStateDict(optState);
    optimizer.zeroGrad();
    getGlobalRng().setState(rngState);
    if (loaderState !== null) data.loadState!(loaderState);
    if (wasTraining) model.train();
    else model.eval();
  }
  const finite = smoothed.map((s, i) => [lrs[i], s] as const).filter(([, s]) => Number.isFinite(s));
  if (finite.length === 0) throw new GradkitError(op, `the loss was not finite even at startLr ${startLr}; check the model and data`);
  const { suggestedLr, steepestLr, minLossLr } = suggestLr(finite.map((p) => p[0]), finite.map((p) => p[1]));
  return {
    lrs, losses, smoothed, suggestedLr, steepestLr, minLossLr, stoppedEarly,
    svg: () => lineSvg(lrs, smoothed, `LR finder (suggested ${suggestedLr.toExponential(1)})`, { logX: true, marker: suggestedLr }),
  };
}
