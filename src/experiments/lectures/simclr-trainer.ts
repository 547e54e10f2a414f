/**
 * SimCLR pretraining through the public Trainer (no private loop): the Trainer's `forward` turns
 * each batch of images into two augmented views (experiments.simclrViews) and runs
 * body → projection head on both at once, so BatchNorm normalises them with shared statistics;
 * its `loss` is NT-Xent (rows i and i + N are the positives). The batch's target is a
 * placeholder the loss ignores: labels are never seen. The projection head is discarded
 * afterwards, as in the paper; `body` is updated in place.
 */
import * as g from '../../index.js';
import type { AnyModule } from '../../nn/module.js';
import type { Tensor } from '../../tensor/tensor.js';

export interface SimclrTrainerOptions {
  epochs: number;
  lr: number;
  /** Images per step (each becomes two views); the others in a batch are an anchor's negatives. */
  batchSize: number;
  /** NT-Xent temperature τ. */
  temperature: number;
  /** Seed of the projection head's init, the shuffling and the views. */
  seed: number;
  /** Output width of the projection head (default 16). */
  projectionDim?: number;
  /** How views are made (default experiments.defaultSimclrAugmentation()). */
  augmentation?: g.data.Augmentation;
}

/** Pretrains `body` (images → [N, features]) with SimCLR on `x`; returns the NT-Xent loss of every step. */
export async function simclrThroughTrainer(body: AnyModule, features: number, x: Tensor, opts: SimclrTrainerOptions): Promise<number[]> {
  if (x.rank !== 4 || x.shape[0] < 2) throw new g.GradkitError('simclrThroughTrainer', `x must be an NCHW batch of at least 2 images, got shape [${x.shape.join(', ')}]`);
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 2) throw new g.GradkitError('simclrThroughTrainer', `batchSize must be an integer >= 2 (the other images are the negatives), got ${opts.batchSize}`);
  const hRng = new g.Random(opts.seed + 3);
  const projection = new g.nn.Sequential(new g.nn.Linear(features, features, { rng: hRng }), new g.nn.ReLU(), new g.nn.Linear(features, opts.projectionDim ?? 16, { rng: hRng }));
  const model = new g.nn.Sequential(body, projection);
  const aug = opts.augmentation ?? g.experiments.defaultSimclrAugmentation();
  const viewRng = new g.Random(opts.seed + 5);
  const n = x.shape[0];
  const placeholder = g.Tensor.fromArray(new Int32Array(n), [n]);
  // A last batch of one image has no negative (and gives BatchNorm a zero variance): drop it.
  const trainData = new g.data.DataLoader(new g.data.TensorDataset(x, placeholder), { batchSize: opts.batchSize, shuffle: true, seed: opts.seed, dropLast: n % opts.batchSize === 1 });
  const losses: number[] = [];
  const trainer = new g.train.Trainer({
    model,
    optimizer: new g.optim.Adam(model.parameters(), { lr: opts.lr }),
    trainData,
    defaultCallbacks: false,
    rngs: { views: viewRng },
    forward: (m, [images]) => {
      const [a, b] = g.experiments.simclrViews(images, aug, viewRng);
      return m.call(g.concat([a, b], 0)) as Tensor;
    },
    loss: (z) => g.losses.ntXent(z, { temperature: opts.temperature }),
    callbacks: [{ name: 'simclrLosses', afterLoss: (t: g.train.Trainer) => void losses.push(t.loss!.item()) }],
  });
  await trainer.fit({ epochs: opts.epochs });
  return losses;
}
