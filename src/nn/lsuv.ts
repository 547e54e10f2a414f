import { GradkitError } from '../core/errors.js';
import type { Random } from '../core/rng.js';
import { noGrad } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { canReadSync, item } from '../tensor/host.js';
import * as ops from '../ops/index.js';
import { Conv2d } from './conv.js';
import { orthogonal } from './init.js';
import { Linear } from './linear.js';
import type { AnyModule } from './module.js';

/** Options of LSUV initialization: the variance tolerance, rescaling rounds and which layers to process. */
export interface LsuvOptions {
  /** Stop when |Var(output) − 1| < tolerance (default 0.1, the paper's value). */
  tolerance?: number;
  /** Rescaling rounds per layer (default 10). */
  maxIterations?: number;
  /** Orthogonal pre-initialization of every layer first (default true). */
  orthogonalInit?: boolean;
  /** Which layers to process (default: every Linear and Conv2d, in module order). */
  filter?: (module: AnyModule, name: string) => boolean;
  rng?: Random;
}

/** What LSUV did to one layer: its final output variance, rescalings applied and whether it converged. */
export interface LsuvLayerReport {
  name: string;
  /** Output variance on the batch after the last rescaling. */
  variance: number;
  /** Rescalings applied. */
  iterations: number;
  converged: boolean;
}

/**
 * Layer-sequential unit-variance initialization (Mishkin & Matas 2016). Every weight layer is
 * first given an orthogonal init; then, layer by layer from the input, the model is run on
 * `batch` and the layer's weight divided by the standard deviation of its output until that
 * variance is within `tolerance` of 1 (or `maxIterations` is reached). The model runs in eval
 * mode during the procedure (no dropout noise, no BatchNorm buffer updates) and is restored to
 * its previous modes afterwards. Biases are left as they are. Returns one report per layer.
 *
 * The model is called as `model.call(batch)`. Reads each variance synchronously: on a GPU
 * backend use `lsuvAsync`.
 *
 * ```ts
 * const reports = nn.lsuv(model, xBatch, { tolerance: 0.05 });
 * // [{ name: '0', variance: 0.98, iterations: 2, converged: true }, …]
 * ```
 */
export function lsuv(model: AnyModule, batch: Tensor, opts: LsuvOptions = {}): LsuvLayerReport[] {
  if (!canReadSync(batch)) {
    throw new GradkitError('lsuv', `the ${batch.backend.name} backend reads asynchronously; use await nn.lsuvAsync(model, batch, opts)`);
  }
  const run = lsuvSteps(model, batch, opts);
  let step = noGrad(() => run.next());
  while (!step.done) {
    const variance = item(step.value);
    step = noGrad(() => run.next(variance));
  }
  return step.value;
}

/**
 * `lsuv` on any backend (a GPU's reads are asynchronous): the same procedure and reports, each
 * measured variance awaited.
 *
 * ```ts
 * const reports = await nn.lsuvAsync(model, xBatch);
 * ```
 */
export async function lsuvAsync(model: AnyModule, batch: Tensor, opts: LsuvOptions = {}): Promise<LsuvLayerReport[]> {
  const run = lsuvSteps(model, batch, opts);
  let step = noGrad(() => run.next());
  while (!step.done) {
    const variance = (await step.value.data())[0];
    step = noGrad(() => run.next(variance));
  }
  return step.value;
}

/**
 * The procedure once, for both drivers: it yields each output variance as a 0-d tensor and is
 * resumed with its value (read synchronously by lsuv, awaited by lsuvAsync); each resumption
 * runs under noGrad. The model's modes are restored when it finishes or throws.
 */
function* lsuvSteps(model: AnyModule, batch: Tensor, opts: LsuvOptions): Generator<Tensor, LsuvLayerReport[], number> {
  const tolerance = opts.tolerance ?? 0.1;
  const maxIterations = opts.maxIterations ?? 10;
  if (!(tolerance > 0)) throw new GradkitError('lsuv', `tolerance must be positive, got ${tolerance}`);
  if (!Number.isInteger(maxIterations) || maxIterations < 0) throw new GradkitError('lsuv', `maxIterations must be a non-negative integer, got ${maxIterations}`);
  const filter = opts.filter ?? ((m: AnyModule) => m instanceof Linear || m instanceof Conv2d);
  const layers = [...model.namedModules()].filter(([name, m]) => filter(m, name) && 'weight' in m) as [string, AnyModule & { weight: Tensor }][];
  if (layers.length === 0) throw new GradkitError('lsuv', 'the model has no layers to initialize (no Linear or Conv2d matched)');
  const modes = new Map([...model.modules()].map((m) => [m, m.training]));
  model.eval();
  try {
    if (opts.orthogonalInit ?? true) for (const [, m] of layers) orthogonal(m.weight, { rng: opts.rng });
    const reports: LsuvLayerReport[] = [];
    for (const [name, layer] of layers) {
      let out: Tensor | null = null;
      const remove = layer.registerForwardHook((_m, _in, o) => {
        out = o as Tensor;
      });
      const outputVariance = (): Tensor => {
        out = null;
        model.call(batch);
        if (out === null) throw new GradkitError('lsuv', `layer '${name}' was not called by the model's forward`);
        return ops.variance(out as Tensor, undefined, { correction: 0 });
      };
      try {
        let v = yield outputVariance();
        let it = 0;
        while (Math.abs(v - 1) >= tolerance && it < maxIterations) {
          if (!(v > 0) || !Number.isFinite(v)) throw new GradkitError('lsuv', `layer '${name}' output variance is ${v}; cannot rescale`);
          layer.weight.assign(ops.div(layer.weight, Math.sqrt(v)));
          it++;
          v = yield outputVariance();
        }
        reports.push({ name, variance: v, iterations: it, converged: Math.abs(v - 1) < tolerance });
      } finally {
        remove();
      }
    }
    return reports;
  } finally {
    for (const [m, t] of modes) m.training = t;
  }
}
