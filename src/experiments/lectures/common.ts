/** Small helpers the families share: model builders, seed-file references. */
import * as g from '../../index.js';
import type { AnyModule } from '../../nn/module.js';
import type { InitScheme, Nonlinearity } from '../../nn/init.js';

/** Where a quote comes from: the seed file under shared/seeds/ and its line. */
export const SEEDS = {
  fauInit: 'shared/seeds/000_9876189246942d73.txt',
  fauInitTalk: 'shared/seeds/001_82bd4a2033435b40.txt',
  tsinghua: 'shared/seeds/002_bf08bba4671917c3.txt',
  cs231n: 'shared/seeds/003_049d61ced688ef2c.txt',
  lund: 'shared/seeds/004_ed788759de2c9a6f.txt',
} as const;

export const at = (file: keyof typeof SEEDS, line: number): string => `${SEEDS[file]}:${line}`;

/** Gaussian weights of a fixed standard deviation (the lecture's "0.01 * np.random.randn"). */
export function gaussian(std: number): InitScheme {
  return (w, rng) => void g.nn.init.normal(w, { std, rng });
}

export interface MlpOptions {
  init?: InitScheme;
  /** A module inserted after each hidden Linear, before the activation (normalization). */
  norm?: (width: number) => AnyModule;
  /** A module inserted after each activation (dropout). */
  after?: () => AnyModule;
  nonlinearity?: Nonlinearity;
  /** Input features (default 784). */
  inputs?: number;
}

/** inputs (784) → hidden… → 10; the output layer is Xavier (it feeds a softmax, not a ReLU). */
export function mlp(hidden: readonly number[], act: () => AnyModule, opts: MlpOptions = {}): g.nn.Sequential {
  const layers: AnyModule[] = [];
  let prev = opts.inputs ?? 784;
  for (const h of hidden) {
    layers.push(new g.nn.Linear(prev, h, { init: opts.init ?? 'he', nonlinearity: opts.nonlinearity }));
    if (opts.norm) layers.push(opts.norm(h));
    layers.push(act());
    if (opts.after) layers.push(opts.after());
    prev = h;
  }
  layers.push(new g.nn.Linear(prev, 10, { init: 'xavier' }));
  return new g.nn.Sequential(...layers);
}

/**
 * Fraction of hidden ReLU units that output 0 for every input in `x` ("dead": no gradient flows
 * through them again). Runs the Sequential's children one by one in eval mode, without gradients.
 */
export function deadReluFraction(model: g.nn.Sequential, x: g.Tensor): number {
  let dead = 0;
  let total = 0;
  const was = model.training;
  model.eval();
  g.noGrad(() => {
    let h = x;
    for (const child of model.children()) {
      h = child.call(h) as g.Tensor;
      if (child instanceof g.nn.ReLU) {
        const [n, w] = h.shape;
        const v = h.dataSync();
        for (let j = 0; j < w; j++) {
          let alive = false;
          for (let i = 0; i < n && !alive; i++) alive = v[i * w + j] > 0;
          if (!alive) dead++;
        }
        total += w;
      }
    }
  });
  model.train(was);
  return total === 0 ? 0 : dead / total;
}
