/**
 * Self-supervised pretraining from unlabelled images (issue 6): a rotation-prediction pretext
 * task (Gidaris et al.: predict which of 0/90/180/270° an image was turned by) and SimCLR (two
 * augmented views per image, an encoder plus a projection head, the NT-Xent loss). Both only
 * train an encoder; `selfSupervisedProbe` then measures what they learned with a linear probe on
 * a few labels per class, against a random (untrained) encoder of the same shape. Library code
 * only (no Node imports), so it also runs in a browser.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { Random, manualSeed } from '../core/rng.js';
import { noGrad } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import * as nn from '../nn/index.js';
import { Adam } from '../optim/optimizers.js';
import { crossEntropy } from '../losses/classification.js';
import { ntXent } from '../losses/contrastive.js';
import { compose, cutout, gaussianNoise, randomAffine, type Augmentation } from '../data/augment/index.js';
import { loadDigits, DIGIT_SIZE } from '../data/datasets/digits.js';
import { gatherRows } from '../data/dataset.js';
import { permutation } from '../data/util.js';
import { extractFeatures } from '../transfer/features.js';
import { linearProbe } from '../transfer/probe.js';

function mustBePositiveInt(op: string, what: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new GradkitError(op, `${what} must be a positive integer, got ${v}`);
  return v;
}

function mustBePositive(op: string, what: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new GradkitError(op, `${what} must be a finite number > 0, got ${String(v)}`);
  return v;
}

function checkImageBatch(op: string, x: Tensor): [number, number, number, number] {
  if (!(x instanceof Tensor) || x.rank !== 4 || x.shape[0] === 0) {
    throw new GradkitError(op, `images must be a non-empty NCHW batch [N, C, H, W], got ${x instanceof Tensor ? fmtShape(x.shape) : typeof x}`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new GradkitError(op, `images must be float32 or float64, got ${x.dtype}`);
  const [n, c, h, w] = x.shape;
  return [n, c, h, w];
}

/** A rotation-prediction batch: every image turned by 0°, 90°, 180° and 270°, labelled by its turn. */
export interface RotationBatch {
  /** [4N, C, H, W]: rows k·N .. k·N + N − 1 are the N inputs turned k·90° counter-clockwise. */
  images: Tensor;
  /** int32 [4N]: k for the rows turned k·90°. */
  labels: Tensor;
}

/**
 * The rotation pretext batch: every image at 0°, 90°, 180° and 270° (counter-clockwise, like
 * numpy/torch rot90), labelled 0..3. A quarter turn is exact on a square image — a transpose
 * followed by a vertical flip, i.e. out[y][x] = in[x][W − 1 − y] — so no pixel is interpolated
 * and the network cannot solve the task from resampling artefacts.
 */
export function rotationBatch(x: Tensor): RotationBatch {
  const op = 'rotationBatch';
  const [n, c, h, w] = checkImageBatch(op, x);
  if (h !== w) throw new GradkitError(op, `images must be square for exact quarter turns, got ${h}×${w} (shape ${fmtShape(x.shape)})`);
  const src = x.dataSync() as Float32Array | Float64Array;
  const plane = h * w;
  const block = n * c * plane;
  const dst = x.dtype === 'float64' ? new Float64Array(4 * block) : new Float32Array(4 * block);
  const labels = new Int32Array(4 * n);
  dst.set(src, 0); // k = 0: unchanged
  for (let k = 1; k < 4; k++) {
    const prev = (k - 1) * block;
    const out = k * block;
    // Each quarter turn is applied to the previous one, so 180° and 270° are exact compositions.
    for (let p = 0; p < n * c; p++) {
      const o = p * plane;
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) dst[out + o + y * w + xx] = dst[prev + o + xx * w + (w - 1 - y)];
    }
  }
  for (let k = 0; k < 4; k++) labels.fill(k, k * n, (k + 1) * n);
  return { images: Tensor.fromArray(dst, [4 * n, c, h, w]), labels: Tensor.fromArray(labels, [4 * n]) };
}

/** Options shared by the self-supervised pretraining methods: epochs, learning rate, batch size and seed. */
export interface PretrainOptions {
  /** Passes over the unlabelled images (default 5). */
  epochs?: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /** Images per step (default 64; a rotation step sees 4× as many rows). */
  batchSize?: number;
  /** Seed of the head's init, the shuffling and (for SimCLR) the augmentations (default 0). */
  seed?: number;
}

/** What rotation pretraining returns: the rotation head, the per-epoch losses and the pretext accuracy. */
export interface RotationPretrainResult {
  /** The 4-way classifier trained on top of the encoder's flattened output. */
  head: nn.Linear;
  /** Mean cross-entropy of each epoch. */
  losses: number[];
  /** Rotation-prediction accuracy on the training images after pretraining (chance is 0.25). */
  accuracy: number;
}

/** The encoder's flattened output width, from one forward pass in eval mode (BatchNorm-safe for a single row). */
function featureWidth(encoder: nn.AnyModule, images: Tensor): number {
  const wasTraining = encoder.training;
  encoder.eval();
  const out = noGrad(() => encoder.call(ops.slice(images, [0], [1])) as Tensor);
  encoder.train(wasTraining);
  return out.size / out.shape[0];
}

/** Mini-batches of row indices; a trailing batch of one is folded into the previous (BatchNorm needs ≥ 2 rows). */
function batches(n: number, batchSize: number, rng: Random): Int32Array[] {
  const order = permutation(n, rng);
  const out: Int32Array[] = [];
  for (let s = 0; s < n; s += batchSize) {
    const end = n - (s + batchSize) < 2 ? n : s + batchSize;
    out.push(order.subarray(s, end));
    if (end === n) break;
  }
  return out;
}

/** Adam over `epochs` passes of `batchesOf()`, one step per batch; returns the mean loss per epoch and leaves the model in eval mode. */
function trainEpochs<B>(model: nn.AnyModule, lr: number, epochs: number, batchesOf: () => Iterable<B>, lossOf: (batch: B) => Tensor): number[] {
  const optimizer = new Adam(model.parameters(), { lr });
  const losses: number[] = [];
  model.train();
  for (let e = 0; e < epochs; e++) {
    let total = 0;
    let steps = 0;
    for (const batch of batchesOf()) {
      const loss = lossOf(batch);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      total += loss.item();
      steps++;
    }
    losses.push(total / steps);
  }
  model.eval();
  return losses;
}

/**
 * Pretrains `encoder` (images → features) on the rotation task: a fresh linear 4-way head on its
 * flattened output, both trained with Adam on rotated copies of every mini-batch. The encoder is
 * updated in place and left in eval mode.
 */
export function pretrainRotation(encoder: nn.AnyModule, images: Tensor, opts: PretrainOptions = {}): RotationPretrainResult {
  const op = 'pretrainRotation';
  const [n, , h, w] = checkImageBatch(op, images);
  if (h !== w) throw new GradkitError(op, `images must be square for exact quarter turns, got ${h}×${w}`);
  const epochs = mustBePositiveInt(op, 'epochs', opts.epochs ?? 5);
  const batchSize = mustBePositiveInt(op, 'batchSize', opts.batchSize ?? 64);
  const lr = mustBePositive(op, 'lr', opts.lr ?? 1e-3);
  const seed = opts.seed ?? 0;
  const rng = new Random(seed);
  const head = new nn.Linear(featureWidth(encoder, images), 4, { init: 'xavier', rng });
  const model = new nn.Sequential(encoder, new nn.Flatten(), head);
  const losses = trainEpochs(model, lr, epochs, () => batches(n, batchSize, rng), (idx) => {
    const { images: xr, labels } = rotationBatch(gatherRows(images, idx));
    return crossEntropy(model.call(xr) as Tensor, labels);
  });
  const all = rotationBatch(images);
  const logits = extractFeatures(model, all.images);
  const pred = noGrad(() => ops.argmax(logits, 1)).dataSync();
  const t = all.labels.dataSync();
  let hits = 0;
  for (let i = 0; i < t.length; i++) if (pred[i] === t[i]) hits++;
  return { head, losses, accuracy: hits / t.length };
}

/**
 * SimCLR's default view pipeline adapted to small grey digits: crops and colour distortion do
 * not transfer to 28×28 strokes, so random rotation/zoom/shift, a cutout hole and pixel noise
 * play their role (two views of a digit must agree despite all of them).
 */
export function defaultSimclrAugmentation(): Augmentation {
  return compose([
    randomAffine({ degrees: 15, maxShift: 3, scale: [0.8, 1.15] }),
    cutout({ size: 8 }),
    gaussianNoise({ std: 0.1 }),
  ]);
}

/** Two independently augmented views of the same batch (same rows, different random draws). */
export function simclrViews(x: Tensor, aug: Augmentation, rng: Random): [Tensor, Tensor] {
  checkImageBatch('simclrViews', x);
  if (aug === null || typeof aug !== 'object' || typeof aug.apply !== 'function') throw new GradkitError('simclrViews', 'aug must be an augmentation (an object with apply(images, rng))');
  if (!(rng instanceof Random)) throw new GradkitError('simclrViews', 'rng must be a Random');
  return [aug.apply(x, rng), aug.apply(x, rng)];
}

/** Options of SimCLR pretraining: the shared pretraining options plus temperature and the view augmentation. */
export interface SimclrOptions extends PretrainOptions {
  /** NT-Xent temperature τ (default 0.5). */
  temperature?: number;
  /** How views are made (default defaultSimclrAugmentation()). */
  augmentation?: Augmentation;
}

/** What SimCLR pretraining returns: the per-epoch NT-Xent losses. */
export interface SimclrResult {
  /** Mean NT-Xent loss of each epoch. */
  losses: number[];
}

/**
 * Pretrains `encoder` with SimCLR: per mini-batch of N images, two views each go through
 * encoder → flatten → `projectionHead`, and the 2N projections are scored with NT-Xent (rows i
 * and i + N are positives). Encoder and head are updated in place; the encoder is what one keeps
 * (the head is discarded for downstream tasks, as in the paper). Both are left in eval mode.
 */
export function pretrainSimclr(encoder: nn.AnyModule, projectionHead: nn.AnyModule, images: Tensor, opts: SimclrOptions = {}): SimclrResult {
  const op = 'pretrainSimclr';
  const [n] = checkImageBatch(op, images);
  if (n < 2) throw new GradkitError(op, `needs at least 2 images (the others in a batch are the negatives), got ${n}`);
  const epochs = mustBePositiveInt(op, 'epochs', opts.epochs ?? 5);
  const batchSize = mustBePositiveInt(op, 'batchSize', opts.batchSize ?? 64);
  if (batchSize < 2) throw new GradkitError(op, `batchSize must be at least 2 (the other images are the negatives), got ${batchSize}`);
  const lr = mustBePositive(op, 'lr', opts.lr ?? 1e-3);
  const temperature = mustBePositive(op, 'temperature', opts.temperature ?? 0.5);
  const aug = opts.augmentation ?? defaultSimclrAugmentation();
  const rng = new Random(opts.seed ?? 0);
  const model = new nn.Sequential(encoder, new nn.Flatten(), projectionHead);
  const losses = trainEpochs(model, lr, epochs, () => batches(n, batchSize, rng), (idx) => {
    const [a, b] = simclrViews(gatherRows(images, idx), aug, rng);
    // One forward pass over both views, so BatchNorm normalises them with shared statistics.
    const z = model.call(ops.concat([a, b], 0)) as Tensor;
    return ntXent(z, { temperature });
  });
  return { losses };
}

/** The probe's encoder: two conv–BN–ReLU–pool blocks and a hidden layer (fewLabelCnn without its head). */
export function digitEncoder(width: [number, number, number], rng: Random): nn.Sequential {
  const [c1, c2, h] = width;
  const flat = c2 * (DIGIT_SIZE / 4) * (DIGIT_SIZE / 4);
  return new nn.Sequential(
    new nn.Conv2d(1, c1, 3, { padding: 1, bias: false, rng }), new nn.BatchNorm2d(c1), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(c1, c2, 3, { padding: 1, bias: false, rng }), new nn.BatchNorm2d(c2), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(flat, h, { bias: false, rng }), new nn.BatchNorm1d(h), new nn.ReLU(),
  );
}

/** Options of the self-supervised probe experiment: data sizes, encoder width and pretraining settings. */
export interface SelfSupervisedProbeOptions {
  /** Unlabelled training digits for pretraining (default 2000). */
  unlabelledSize?: number;
  /** Labelled examples per class for the linear probe (default 10). */
  shotsPerClass?: number;
  /** Test digits (default 1000). */
  testSize?: number;
  /** Encoder widths: conv channels and hidden width (default [16, 32, 64]). */
  width?: [number, number, number];
  /** Pretraining epochs of each method (default 5). */
  pretrainEpochs?: number;
  /** Pretraining batch size (default 64). */
  batchSize?: number;
  /** Pretraining Adam learning rate (default 1e-3). */
  lr?: number;
  /** NT-Xent temperature (default 0.5). */
  temperature?: number;
  /** Output width of SimCLR's projection head (default 32). */
  projectionDim?: number;
  /** Linear-probe epochs (default 200). */
  probeEpochs?: number;
  /** Seed of the data split, the shared encoder init and everything random (default 0). */
  seed?: number;
}

/** The self-supervised probe experiment's results: linear-probe accuracy on random, rotation and SimCLR encoders, with their losses. */
export interface SelfSupervisedProbeResult {
  /** Linear-probe test accuracy on the frozen encoder's features, per encoder. */
  random: number;
  rotation: number;
  simclr: number;
  /** Per-epoch pretraining losses, to see that pretraining ran. */
  rotationLosses: number[];
  simclrLosses: number[];
  /** Rotation-prediction accuracy of the rotation-pretrained encoder + head on its training images. */
  rotationPretextAccuracy: number;
  shotsPerClass: number;
  unlabelledSize: number;
  testSize: number;
}

/**
 * Compares a linear probe with k labels per class on three encoders of the same architecture
 * and the same initial weights: untouched (random), rotation-pretrained, SimCLR-pretrained.
 * Pretraining sees only images (labels discarded); the k-shot sample comes from the rest of the
 * training split.
 */
export async function selfSupervisedProbe(opts: SelfSupervisedProbeOptions = {}): Promise<SelfSupervisedProbeResult> {
  const op = 'selfSupervisedProbe';
  const unlabelledSize = mustBePositiveInt(op, 'unlabelledSize', opts.unlabelledSize ?? 2000);
  const k = mustBePositiveInt(op, 'shotsPerClass', opts.shotsPerClass ?? 10);
  const testSize = mustBePositiveInt(op, 'testSize', opts.testSize ?? 1000);
  const width = opts.width ?? [16, 32, 64];
  width.forEach((v) => mustBePositiveInt(op, 'width entry', v));
  const pretrainEpochs = mustBePositiveInt(op, 'pretrainEpochs', opts.pretrainEpochs ?? 5);
  const probeEpochs = mustBePositiveInt(op, 'probeEpochs', opts.probeEpochs ?? 200);
  const projectionDim = mustBePositiveInt(op, 'projectionDim', opts.projectionDim ?? 32);
  const seed = opts.seed ?? 0;
  const trainSize = unlabelledSize + 10 * Math.max(k, 50);
  if (trainSize + testSize > 10000) throw new GradkitError(op, `unlabelledSize ${unlabelledSize} + labelled pool + testSize ${testSize} exceed the shipped digits`);

  const digits = await loadDigits({ trainSize, testSize, seed });
  const unlabelled = ops.slice(digits.xTrain, [0], [unlabelledSize]);
  // The k-shot sample is drawn from the training rows pretraining did not see.
  const labels = digits.yTrain.dataSync();
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = unlabelledSize; i < labels.length; i++) byClass[labels[i]].push(i);
  const rarest = Math.min(...byClass.map((c) => c.length));
  if (k > rarest) throw new GradkitError(op, `shotsPerClass ${k} exceeds the ${rarest} labelled images of the rarest digit`);
  const pickRng = new Random(seed + 101);
  const picked: number[] = [];
  for (const members of byClass) {
    const p = permutation(members.length, pickRng);
    for (let i = 0; i < k; i++) picked.push(members[p[i]]);
  }
  const xs = gatherRows(digits.xTrain, picked);
  const ys = gatherRows(digits.yTrain, picked);

  manualSeed(seed);
  const randomEncoder = digitEncoder(width, new Random(seed + 1));
  const init = randomEncoder.stateDict();
  const rotationEncoder = digitEncoder(width, new Random(seed + 1));
  rotationEncoder.loadStateDict(init);
  const simclrEncoder = digitEncoder(width, new Random(seed + 1));
  simclrEncoder.loadStateDict(init);

  const common = { epochs: pretrainEpochs, batchSize: opts.batchSize ?? 64, lr: opts.lr ?? 1e-3, seed: seed + 2 };
  const rot = pretrainRotation(rotationEncoder, unlabelled, common);
  const hRng = new Random(seed + 3);
  const projection = new nn.Sequential(new nn.Linear(width[2], width[2], { rng: hRng }), new nn.ReLU(), new nn.Linear(width[2], projectionDim, { rng: hRng }));
  const sim = pretrainSimclr(simclrEncoder, projection, unlabelled, { ...common, temperature: opts.temperature ?? 0.5 });

  const probe = (encoder: nn.AnyModule): number => {
    const lp = linearProbe(extractFeatures(encoder, xs, { flatten: true }), ys, { epochs: probeEpochs, lr: 0.01, numClasses: 10, seed });
    return lp.accuracy(extractFeatures(encoder, digits.xTest, { flatten: true }), digits.yTest);
  };
  return {
    random: probe(randomEncoder),
    rotation: probe(rotationEncoder),
    simclr: probe(simclrEncoder),
    rotationLosses: rot.losses,
    simclrLosses: sim.losses,
    rotationPretextAccuracy: rot.accuracy,
    shotsPerClass: k,
    unlabelledSize,
    testSize,
  };
}
