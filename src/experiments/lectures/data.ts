/**
 * The experiments' data: small seeded subsets of the shipped digits, flattened to 784 features
 * for the MLP experiments. Small on purpose: the whole suite must fit in minutes on two cores.
 */
import * as g from '../../index.js';
import { loadDigits } from '../../data/datasets/digits.js';
import type { Tensor } from '../../tensor/tensor.js';

export interface FlatDigits {
  xTrain: Tensor;
  yTrain: Tensor;
  xTest: Tensor;
  yTest: Tensor;
}

/** Digits in [0, 1] (all inputs positive, as the lecture's warning assumes), flattened to [n, 784]. */
export async function flatDigits(trainSize: number, testSize: number, seed = 0): Promise<FlatDigits> {
  const d = await loadDigits({ trainSize, testSize, seed });
  return { xTrain: d.xTrain.reshape([trainSize, 784]), yTrain: d.yTrain, xTest: d.xTest.reshape([testSize, 784]), yTest: d.yTest };
}

/** Training and validation loaders for a seed (the seed fixes the shuffle order). */
export function loaders(x: Tensor, y: Tensor, xv: Tensor, yv: Tensor, seed: number, batchSize = 32): { trainData: g.data.DataLoader; validData: g.data.DataLoader } {
  return {
    trainData: new g.data.DataLoader(new g.data.TensorDataset(x, y), { batchSize, shuffle: true, seed }),
    validData: new g.data.DataLoader(new g.data.TensorDataset(xv, yv), { batchSize: 500 }),
  };
}

/**
 * Digits average-pooled to 14×14 and flattened to [n, 196]: for the whitening experiment, whose
 * eigendecomposition of the 784×784 covariance takes ~40 s here but of 196×196 well under one.
 */
export async function smallDigits(trainSize: number, testSize: number, seed = 0): Promise<FlatDigits> {
  const d = await loadDigits({ trainSize, testSize, seed });
  const pool = (x: Tensor, n: number): Tensor => g.avgPool2d(x, { kernelSize: 2, stride: 2 }).reshape([n, 196]);
  return { xTrain: pool(d.xTrain, trainSize), yTrain: d.yTrain, xTest: pool(d.xTest, testSize), yTest: d.yTest };
}
