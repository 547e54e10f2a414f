/**
 * Loads an experiment's data: the dataset, a stratified validation split of the training set,
 * preprocessing fitted on the training split only (and applied unchanged to validation and
 * test), and the loaders (augmentation and mixup only on training batches).
 */
import { GradkitError } from '../core/errors.js';
import {
  DataLoader, MeanSubtraction, Standardize, TensorDataset, compose, cutout, gaussianNoise, makeBlobs, makeSpirals,
  mixupTransform, preprocessorFromJSON, randomAffine, randomCrop, stratifiedSplit, type Augmentation, type Preprocessor, type PreprocessorJSON,
} from '../data/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { canReadSync, readSync } from '../tensor/host.js';
import { availableBackends, backendName, setBackend } from '../backend/registry.js';
import type { Experiment } from './experiment.js';
import { loadDigits } from '../digits.js';

export interface ExperimentData {
  train: DataLoader;
  valid: DataLoader | null;
  test: DataLoader;
  /** Shape of one input sample (no batch axis). */
  inputShape: number[];
  numClasses: number;
  /** The fitted preprocessors, saved with the run. */
  preprocessing: PreprocessorJSON[];
  counts: { train: number; valid: number; test: number };
}

function rows(ds: TensorDataset, indices: ArrayLike<number>): Tensor[] {
  return ds.getBatch(indices);
}

async function rawData(e: Experiment): Promise<{ xTrain: Tensor; yTrain: Tensor; xTest: Tensor; yTest: Tensor; numClasses: number }> {
  const d = e.data;
  if (d.dataset === 'digits') {
    const digits = await loadDigits({ trainSize: d.trainSize, testSize: d.testSize, seed: e.seed });
    return { ...digits, numClasses: 10 };
  }
  const make = d.dataset === 'blobs'
    ? (n: number, seed: number) => makeBlobs({ samplesPerClass: n, centers: [[-2, -2], [2, 2], [-2, 2]], std: 1, seed })
    : (n: number, seed: number) => makeSpirals({ samplesPerClass: n, seed });
  const train = make(d.samplesPerClass, e.seed);
  const test = make(Math.max(1, Math.ceil(d.samplesPerClass / 4)), e.seed + 1_000_003);
  const numClasses = Math.max(...Array.from(readSync(train.y))) + 1;
  return { xTrain: train.x, yTrain: train.y, xTest: test.x, yTest: test.y, numClasses };
}

function makePreprocessor(spec: Experiment['preprocessing'][number]): Preprocessor {
  return spec.type === 'standardize' ? new Standardize({ per: spec.per }) : new MeanSubtraction({ per: spec.per });
}

function makeAugmentation(e: Experiment, inputShape: number[]): Augmentation | undefined {
  if (e.augmentation.length === 0) return undefined;
  if (inputShape.length !== 3) throw new GradkitError('experiment', `augmentation needs image data [channels, height, width], but the ${e.data.dataset} samples are ${JSON.stringify(inputShape)}`);
  return compose(
    e.augmentation.map((a) => {
      switch (a.type) {
        case 'affine':
          return randomAffine({ degrees: a.degrees, maxShift: a.maxShift, scale: a.scale });
        case 'crop':
          return randomCrop({ padding: a.padding });
        case 'cutout':
          return cutout({ size: a.size, count: a.count });
        case 'noise':
          return gaussianNoise({ std: a.std });
      }
    }),
  );
}

/**
 * Builds the loaders. With `fitted`, preprocessing uses those saved statistics (evaluating a run)
 * instead of fitting new ones.
 */
export async function buildData(e: Experiment, fitted?: PreprocessorJSON[]): Promise<ExperimentData> {
  // On a backend that reads only asynchronously (a GPU) the pipeline (preprocessing statistics,
  // augmentation) runs on a CPU backend, where it reads values freely, and the loaders upload
  // each finished batch (DataLoader's backend option).
  const target = backendName();
  if (canReadSync()) return buildDataHere(e, fitted, undefined);
  setBackend(availableBackends().includes('wasm') ? 'wasm' : 'reference');
  try {
    return await buildDataHere(e, fitted, target);
  } finally {
    setBackend(target);
  }
}

async function buildDataHere(e: Experiment, fitted: PreprocessorJSON[] | undefined, batchesOn: string | undefined): Promise<ExperimentData> {
  const moved = batchesOn === undefined ? {} : { backend: batchesOn };
  const raw = await rawData(e);
  const full = new TensorDataset(raw.xTrain, raw.yTrain);
  let trainIdx: ArrayLike<number>;
  let validIdx: ArrayLike<number> = [];
  if (e.data.validationFraction > 0) {
    const split = stratifiedSplit(full, { validationFraction: e.data.validationFraction, labels: raw.yTrain, seed: e.seed + 17 });
    trainIdx = split.train.indices;
    validIdx = split.validation.indices;
  } else {
    trainIdx = Array.from({ length: full.length }, (_, i) => i);
  }
  let [xTrain, yTrain] = rows(full, trainIdx);
  let [xValid, yValid] = validIdx.length > 0 ? rows(full, validIdx) : [null, null];
  let xTest = raw.xTest;
  // Fit on the training split only; validation and test get the same transform.
  const preps = fitted ? fitted.map((j) => preprocessorFromJSON(j)) : e.preprocessing.map(makePreprocessor);
  for (const p of preps) {
    if (!fitted) p.fit(xTrain);
    xTrain = p.transform(xTrain);
    if (xValid) xValid = p.transform(xValid);
    xTest = p.transform(xTest);
  }
  const inputShape = xTrain.shape.slice(1);
  const augment = makeAugmentation(e, inputShape);
  const batchTransform = e.mixup ? mixupTransform({ alpha: e.mixup.alpha, mode: e.mixup.mode, numClasses: raw.numClasses }) : undefined;
  if (e.mixup?.mode === 'cutmix' && inputShape.length !== 3) throw new GradkitError('experiment', 'mixup.mode cutmix needs image data');
  const train = new DataLoader(new TensorDataset(xTrain, yTrain), { batchSize: e.data.batchSize, shuffle: true, seed: e.seed + 1, augment, batchTransform, ...moved });
  const valid = xValid && yValid ? new DataLoader(new TensorDataset(xValid, yValid), { batchSize: e.data.evalBatchSize, training: false, ...moved }) : null;
  const test = new DataLoader(new TensorDataset(xTest, raw.yTest), { batchSize: e.data.evalBatchSize, training: false, ...moved });
  return {
    train, valid, test, inputShape, numClasses: raw.numClasses,
    preprocessing: preps.map((p) => p.toJSON()),
    counts: { train: xTrain.shape[0], valid: xValid ? xValid.shape[0] : 0, test: xTest.shape[0] },
  };
}
