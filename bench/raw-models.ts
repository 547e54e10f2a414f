/**
 * Comparison only, never in the default run: the same networks written with raw gradkit ops
 * (matmul with [in, out] weights, conv2d, BatchNorm composed from mean/sub/div, logSoftmax +
 * gather) and a plain-loop Adam, as the benchmark did before nn/optim existed. Selected with
 * `--libs rawops-<backend>`; the ratio column "vs rawops-<backend>" is then nn/optim ÷ raw ops
 * on the same backend, i.e. what the layers, the fused kernels and optim.Adam cost or gain.
 */
import * as g from '../src/index.js';
import type { DataArray, Tensor } from '../src/index.js';
import { readSync } from '../src/tensor/host.js';
import { cnnParams, mlpParams, resnetParams, type Param } from './data.js';
import { ADAM, RESNET, cnnFeatures } from './spec.js';
import { optimizerTime } from './gradkit-models.js';

export interface RawModel {
  params: Map<string, Tensor>;
  /** Mean cross-entropy of the batch; x has the model's input shape, y holds class indices. */
  loss(x: Tensor, y: Tensor): Tensor;
}

function toParams(ps: Param[]): Map<string, Tensor> {
  return new Map(ps.map((p) => [p.name, g.tensor(p.data, { shape: p.shape, requiresGrad: true })]));
}

function get(params: Map<string, Tensor>, name: string): Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`bench model: missing parameter '${name}'`);
  return t;
}

/** Mean negative log-likelihood of the right class: logSoftmax + gather, as the issue suggests. */
export function crossEntropy(logits: Tensor, y: Tensor): Tensor {
  return logits.logSoftmax(1).gather(1, y.reshape([y.shape[0], 1])).neg().mean();
}

export function rawMlpModel(): RawModel {
  const params = toParams(mlpParams());
  const p = (n: string): Tensor => get(params, n);
  return {
    params,
    loss: (x, y) => {
      const h1 = x.matmul(p('w1')).add(p('b1')).relu();
      const h2 = h1.matmul(p('w2')).add(p('b2')).relu();
      return crossEntropy(h2.matmul(p('w3')).add(p('b3')), y);
    },
  };
}

export function rawCnnModel(): RawModel {
  const params = toParams(cnnParams());
  const p = (n: string): Tensor => get(params, n);
  const features = cnnFeatures();
  return {
    params,
    loss: (x, y) => {
      const a = g.conv2d(x, p('conv1.w'), p('conv1.b')).relu().maxPool2d({ kernelSize: 2 });
      const b = g.conv2d(a, p('conv2.w'), p('conv2.b')).relu().maxPool2d({ kernelSize: 2 });
      if (b.shape[1] * b.shape[2] * b.shape[3] !== features) throw new Error(`cnn: expected ${features} features, got ${b.shape}`);
      return crossEntropy(b.reshape([b.shape[0], features]).matmul(p('fc.w')).add(p('fc.b')), y);
    },
  };
}

/** Training-mode BatchNorm over N, H, W with batch statistics (biased variance), composed from ops. */
export function batchNorm2d(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  const c = x.shape[1];
  const mean = x.mean([0, 2, 3], { keepDims: true });
  const centered = x.sub(mean);
  const variance = centered.square().mean([0, 2, 3], { keepDims: true });
  return centered.div(variance.add(eps).sqrt()).mul(gamma.reshape([1, c, 1, 1])).add(beta.reshape([1, c, 1, 1]));
}

export function rawResnetModel(): RawModel {
  const params = toParams(resnetParams());
  const p = (n: string): Tensor => get(params, n);
  const convBn = (x: Tensor, conv: string, bn: string): Tensor =>
    batchNorm2d(g.conv2d(x, p(conv), null, { padding: 1 }), p(`${bn}.gamma`), p(`${bn}.beta`), RESNET.eps);
  return {
    params,
    loss: (x, y) => {
      let h = convBn(x, 'stem.w', 'stem.bn').relu();
      for (let b = 0; b < RESNET.blocks; b++) {
        const r = convBn(convBn(h, `block${b}.conv1.w`, `block${b}.bn1`).relu(), `block${b}.conv2.w`, `block${b}.bn2`);
        h = r.add(h).relu();
      }
      const pooled = h.mean([2, 3]);
      return crossEntropy(pooled.matmul(p('fc.w')).add(p('fc.b')), y);
    },
  };
}

/**
 * Adam (Kingma & Ba) with PyTorch's defaults, updating parameter buffers in place:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − lr·m̂/(√v̂ + ε), m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ).
 * A plain loop over the buffers, as the benchmark used before optim.Adam.
 */
export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export class RawAdam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  /** Scratch for the new weights of each parameter. */
  private readonly w: DataArray[];
  private t = 0;

  constructor(private readonly params: Tensor[], private readonly hp: AdamHyper = ADAM) {
    this.m = params.map((p) => new Float32Array(p.size));
    this.v = params.map((p) => new Float32Array(p.size));
    this.w = params.map((p) => readSync(p).slice()); // same dtype as the parameter
  }

  step(): void {
    const t0 = performance.now();
    this.t++;
    const { lr, beta1, beta2, eps } = this.hp;
    // Bias corrections folded into two constants: p −= (lr/c1)·m / (√v·(1/√c2) + ε).
    const stepSize = lr / (1 - beta1 ** this.t);
    const invSqrtC2 = 1 / Math.sqrt(1 - beta2 ** this.t);
    const b1 = 1 - beta1;
    const b2 = 1 - beta2;
    g.noGrad(() => {
      for (let i = 0; i < this.params.length; i++) {
        const p = this.params[i];
        if (p.grad === null) continue;
        // The plain loop reads the host view and writes the new weights back in one assign
        // (arrays from readSync are read-only).
        const w = this.w[i];
        w.set(readSync(p));
        const gr = readSync(p.grad);
        const m = this.m[i];
        const v = this.v[i];
        for (let j = 0; j < w.length; j++) {
          const gj = gr[j];
          const mj = beta1 * m[j] + b1 * gj;
          const vj = beta2 * v[j] + b2 * gj * gj;
          m[j] = mj;
          v[j] = vj;
          w[j] -= (stepSize * mj) / (Math.sqrt(vj) * invSqrtC2 + eps);
        }
        p.assign(w);
      }
    });
    optimizerTime.ms += performance.now() - t0;
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }
}

/** One training step: forward, backward, Adam; returns the loss before the update. */
export function rawTrainStep(model: RawModel, opt: RawAdam, x: Tensor, y: Tensor): number {
  opt.zeroGrad();
  const loss = model.loss(x, y);
  loss.backward();
  opt.step();
  return loss.item();
}
