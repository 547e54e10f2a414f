/**
 * The benchmark networks for gradkit, built from the public API a user would write with:
 * `nn` layers, `optim.Adam` and `losses.crossEntropy` (so the figures measure what users run,
 * not a hand-rolled imitation). The shared seeded weights of data.ts are copied in through
 * loadStateDict, so every library starts from the very same network.
 *
 * Layout differences are handled here: data.ts stores linear weights as [in, out] (y = x·W + b,
 * the layout tfjs and jax-js use), nn.Linear holds PyTorch's [out, in]; conv weights are OIHW in
 * both. BatchNorm runs in training mode (batch statistics, biased variance, eps 1e-5) like the
 * peers; nn.BatchNorm2d also updates its running averages, a small cost users pay too.
 */
import * as g from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { cnnParams, mlpParams, resnetParams, type Param } from './data.js';
import { ADAM, CNN, MLP, RESNET, cnnFeatures } from './spec.js';

const { nn, optim, losses } = g;

export interface GradkitModel {
  module: g.nn.Module;
  /** Mean cross-entropy of the batch; x has the model's input shape, y holds int32 class indices. */
  loss(x: Tensor, y: Tensor): Tensor;
}

/** How one module parameter is filled from data.ts: its source name, transposed or not. */
interface Source {
  from: string;
  transpose?: boolean;
}

/** [rows, cols] → [cols, rows], for the [in, out] → [out, in] linear weights. */
function transpose2d(p: Param): Float32Array {
  const [r, c] = p.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = p.data[i * c + j];
  return out;
}

/**
 * Copies the shared initial weights into `module` with loadStateDict. Every parameter of the
 * module must be named in `map` and every source must exist and be used, so a renamed layer
 * cannot silently keep its own random init (the loss-agreement check would catch it later, but
 * this says which one). Buffers (BatchNorm running statistics) keep their fresh values.
 */
export function loadShared(module: g.nn.Module, params: Param[], map: Record<string, Source>): void {
  const byName = new Map(params.map((p) => [p.name, p]));
  const state = module.stateDict();
  const used = new Set<string>();
  for (const [name] of module.namedParameters()) {
    const src = map[name];
    if (src === undefined) throw new g.GradkitError('bench model', `parameter '${name}' has no shared initial value`);
    const p = byName.get(src.from);
    if (p === undefined) throw new g.GradkitError('bench model', `no shared parameter '${src.from}' (for '${name}')`);
    const shape = src.transpose ? [p.shape[1], p.shape[0]] : p.shape;
    state.set(name, g.tensor(src.transpose ? transpose2d(p) : p.data, { shape }));
    used.add(src.from);
  }
  const unused = params.filter((p) => !used.has(p.name)).map((p) => p.name);
  if (unused.length > 0) throw new g.GradkitError('bench model', `shared parameters not loaded: ${unused.join(', ')}`);
  module.loadStateDict(state);
}

function withLoss(module: g.nn.Module): GradkitModel {
  return { module, loss: (x, y) => losses.crossEntropy(module.call(x) as Tensor, y) };
}

/** 784-256-256-10 with ReLU. */
export function mlpModel(): GradkitModel {
  const [i, h1, h2, o] = MLP.sizes;
  const module = new nn.Sequential(new nn.Linear(i, h1), new nn.ReLU(), new nn.Linear(h1, h2), new nn.ReLU(), new nn.Linear(h2, o));
  loadShared(module, mlpParams(), {
    '0.weight': { from: 'w1', transpose: true }, '0.bias': { from: 'b1' },
    '2.weight': { from: 'w2', transpose: true }, '2.bias': { from: 'b2' },
    '4.weight': { from: 'w3', transpose: true }, '4.bias': { from: 'b3' },
  });
  // Linear → ReLU pairs as one bias+relu kernel each, as a user would (nn.fuse keeps the names).
  return withLoss(nn.fuse(module).model);
}

/** conv-ReLU-pool, conv-ReLU-pool, flatten (NCHW order, as the shared fc.w rows), linear. */
export function cnnModel(): GradkitModel {
  const { inC, c1, c2, k, classes } = CNN;
  const module = new nn.Sequential(
    new nn.Conv2d(inC, c1, k), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(c1, c2, k), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(cnnFeatures(), classes),
  );
  loadShared(module, cnnParams(), {
    '0.weight': { from: 'conv1.w' }, '0.bias': { from: 'conv1.b' },
    '3.weight': { from: 'conv2.w' }, '3.bias': { from: 'conv2.b' },
    '7.weight': { from: 'fc.w', transpose: true }, '7.bias': { from: 'fc.b' },
  });
  // conv → relu → pool triples as conv → pool → fused bias+relu, as a user would.
  return withLoss(nn.fuse(module).model);
}

/**
 * nn.resnet with one stage of `blocks` basic blocks at `width` channels is exactly the spec's
 * network: small stem conv3×3(pad 1, no bias)-BN-ReLU, identity-shortcut blocks, global
 * average pool, linear head.
 */
export function resnetModel(): GradkitModel {
  const { inC, width, blocks, classes, eps } = RESNET;
  const module = nn.resnet({ inChannels: inC, numClasses: classes, widths: [width], blocksPerStage: blocks });
  // nn.BatchNorm2d's default eps; the spec's is checked here so a change on either side shows.
  for (const m of module.modules()) {
    if (m instanceof nn.BatchNorm2d && m.eps !== eps) throw new g.GradkitError('bench resnet', `BatchNorm eps ${m.eps}, spec ${eps}`);
  }
  const map: Record<string, Source> = {
    'stem.0.weight': { from: 'stem.w' }, 'stem.1.weight': { from: 'stem.bn.gamma' }, 'stem.1.bias': { from: 'stem.bn.beta' },
    'fc.weight': { from: 'fc.w', transpose: true }, 'fc.bias': { from: 'fc.b' },
  };
  for (let b = 0; b < blocks; b++) {
    for (const j of [1, 2]) {
      map[`stages.0.${b}.conv${j}.weight`] = { from: `block${b}.conv${j}.w` };
      map[`stages.0.${b}.bn${j}.weight`] = { from: `block${b}.bn${j}.gamma` };
      map[`stages.0.${b}.bn${j}.bias`] = { from: `block${b}.bn${j}.beta` };
    }
  }
  loadShared(module, resnetParams(), map);
  return withLoss(module);
}

/** optim.Adam with the spec's hyper-parameters (PyTorch's defaults, spelled out). */
export function makeAdam(model: GradkitModel): g.optim.Adam {
  return new optim.Adam(model.module.parameters(), { lr: ADAM.lr, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
}

/** Wall time spent in optimizer steps, for --profile's split of the time outside kernels. */
export const optimizerTime = { ms: 0 };

/** zeroGrad, forward, backward, step; returns the loss tensor (before the update), unread. */
function trainStepLoss(model: GradkitModel, opt: g.optim.Adam, x: Tensor, y: Tensor): Tensor {
  opt.zeroGrad();
  const loss = model.loss(x, y);
  loss.backward();
  const t0 = performance.now();
  opt.step();
  optimizerTime.ms += performance.now() - t0;
  return loss;
}

/** One training step as a user writes it: zeroGrad, forward, backward, step; returns the loss before the update. */
export function trainStep(model: GradkitModel, opt: g.optim.Adam, x: Tensor, y: Tensor): number {
  return trainStepLoss(model, opt, x, y).item();
}

/**
 * The same step on a backend that reads asynchronously (webgpu): the loss is read with
 * `await loss.data()`, which is queued after every kernel of the step (the optimizer's update
 * included), so the step resolves when the device has finished all of its work.
 */
export async function trainStepAsync(model: GradkitModel, opt: g.optim.Adam, x: Tensor, y: Tensor): Promise<number> {
  const loss = trainStepLoss(model, opt, x, y);
  return (await loss.data())[0];
}
