/**
 * The experiment file of `gradkit train <experiment.json>`: its schema, its defaults, and the
 * default experiment (`gradkit train` with no file) — a small CNN on the shipped digits.
 * Every key is optional; missing keys take the defaults below (the model: the default CNN).
 */
import { GradkitError } from '../core/errors.js';
import { closestName } from '../train/callbacks/monitor.js';
import { arr, bool, int, num, obj, pair, pairOrZero, str, validate, type Spec } from './schema.js';

export type Pair = number | [number, number];

export type LayerSpec =
  | { type: 'conv2d'; outChannels: number; kernelSize: Pair; stride?: Pair; padding?: Pair | 'same' | 'valid'; bias?: boolean }
  | { type: 'linear'; outFeatures: number; bias?: boolean }
  | { type: 'batchNorm2d' | 'batchNorm1d'; momentum?: number; eps?: number }
  | { type: 'relu' | 'tanh' | 'sigmoid' | 'gelu' | 'flatten' | 'globalAvgPool2d' }
  | { type: 'leakyRelu'; negativeSlope?: number }
  | { type: 'maxPool2d' | 'avgPool2d'; kernelSize: Pair; stride?: Pair; padding?: Pair }
  | { type: 'dropout'; p?: number };

export type AugmentSpec =
  | { type: 'affine'; degrees?: number; maxShift?: number; scale?: [number, number] }
  | { type: 'crop'; padding: number }
  | { type: 'cutout'; size: number; count?: number }
  | { type: 'noise'; std: number };

export interface Experiment {
  name?: string;
  seed: number;
  epochs: number;
  data: {
    dataset: 'digits' | 'blobs' | 'spirals';
    /** digits: training/test images; blobs/spirals: samples per class (test set = 25% more, disjoint). */
    trainSize: number;
    testSize: number;
    samplesPerClass: number;
    /** Fraction of the training set held out (stratified) for validation. */
    validationFraction: number;
    batchSize: number;
    evalBatchSize: number;
  };
  preprocessing: { type: 'standardize' | 'meanSubtraction'; per?: 'feature' | 'channel' | 'image' }[];
  augmentation: AugmentSpec[];
  mixup: { alpha: number; mode: 'mixup' | 'cutmix' } | null;
  model: { init: 'he' | 'heUniform' | 'xavier' | 'xavierUniform' | 'lecun' | 'orthogonal'; layers: LayerSpec[] };
  optimizer: { type: 'sgd' | 'adam' | 'adamw' | 'rmsprop'; lr: number; weightDecay: number; momentum: number; nesterov: boolean; betas: [number, number] };
  schedule: { type: 'none' | 'cosine' | 'step' | 'exponential' | 'oneCycle' | 'plateau'; warmupEpochs: number; stepEpochs: number; gamma: number; minLr: number; patience: number };
  /** labelSmoothing of the cross-entropy; l1/l2: coefficients of penalties added to the loss. */
  regularization: { gradClipNorm: number | null; emaDecay: number | null; labelSmoothing: number; l1: number; l2: number };
  earlyStopping: { monitor: string; patience: number; minDelta: number; restoreBestWeights: boolean } | null;
  checkpoint: { everySteps: number | null };
}

const unitInterval = num({ min: 0, max: 1, maxExclusive: true });

const layerSpec: Spec = {
  kind: 'tagged',
  variants: {
    conv2d: {
      fields: { outChannels: int(1), kernelSize: pair, stride: pair, padding: { kind: 'anyOf', options: [pairOrZero, str(['same', 'valid'])], describe: "a padding (number, [h, w], 'same' or 'valid')" }, bias: bool },
      required: ['outChannels', 'kernelSize'],
    },
    linear: { fields: { outFeatures: int(1), bias: bool }, required: ['outFeatures'] },
    batchNorm2d: { fields: { momentum: num({ min: 0, max: 1 }), eps: num({ min: 0, minExclusive: true }) } },
    batchNorm1d: { fields: { momentum: num({ min: 0, max: 1 }), eps: num({ min: 0, minExclusive: true }) } },
    relu: { fields: {} },
    tanh: { fields: {} },
    sigmoid: { fields: {} },
    gelu: { fields: {} },
    flatten: { fields: {} },
    globalAvgPool2d: { fields: {} },
    leakyRelu: { fields: { negativeSlope: num({ min: 0 }) } },
    maxPool2d: { fields: { kernelSize: pair, stride: pair, padding: pairOrZero }, required: ['kernelSize'] },
    avgPool2d: { fields: { kernelSize: pair, stride: pair, padding: pairOrZero }, required: ['kernelSize'] },
    dropout: { fields: { p: unitInterval } },
  },
};

const augmentSpec: Spec = {
  kind: 'tagged',
  variants: {
    affine: { fields: { degrees: num({ min: 0, max: 180 }), maxShift: num({ min: 0 }), scale: arr(num({ min: 0, minExclusive: true }), { length: 2 }) } },
    crop: { fields: { padding: int(0) }, required: ['padding'] },
    cutout: { fields: { size: int(1), count: int(1) }, required: ['size'] },
    noise: { fields: { std: num({ min: 0 }) }, required: ['std'] },
  },
};

export const experimentSpec: Spec = obj({
  name: str(),
  seed: int(0),
  epochs: int(1),
  data: obj({
    dataset: str(['digits', 'blobs', 'spirals']),
    trainSize: int(1),
    testSize: int(1),
    samplesPerClass: int(2),
    validationFraction: num({ min: 0, max: 1, maxExclusive: true }),
    batchSize: int(1),
    evalBatchSize: int(1),
  }),
  preprocessing: arr({ kind: 'tagged', variants: { standardize: { fields: { per: str(['feature', 'channel', 'image']) } }, meanSubtraction: { fields: { per: str(['feature', 'channel', 'image']) } } } }),
  augmentation: arr(augmentSpec),
  mixup: obj({ alpha: num({ min: 0, minExclusive: true }), mode: str(['mixup', 'cutmix']) }),
  model: obj({ init: str(['he', 'heUniform', 'xavier', 'xavierUniform', 'lecun', 'orthogonal']), layers: arr(layerSpec, { minLength: 1 }) }),
  optimizer: obj({
    type: str(['sgd', 'adam', 'adamw', 'rmsprop']),
    lr: num({ min: 0, minExclusive: true }),
    weightDecay: num({ min: 0 }),
    momentum: num({ min: 0, max: 1, maxExclusive: true }),
    nesterov: bool,
    betas: arr(unitInterval, { length: 2 }),
  }),
  schedule: obj({
    type: str(['none', 'cosine', 'step', 'exponential', 'oneCycle', 'plateau']),
    warmupEpochs: num({ min: 0 }),
    stepEpochs: int(1),
    gamma: num({ min: 0, max: 1, minExclusive: true }),
    minLr: num({ min: 0 }),
    patience: int(0),
  }),
  regularization: obj({
    gradClipNorm: num({ min: 0, minExclusive: true }),
    emaDecay: num({ min: 0, max: 1, maxExclusive: true }),
    labelSmoothing: num({ min: 0, max: 1 }),
    l1: num({ min: 0 }),
    l2: num({ min: 0 }),
  }),
  earlyStopping: { kind: 'anyOf', options: [obj({ monitor: str(), patience: int(0), minDelta: num({ min: 0 }), restoreBestWeights: bool }), { kind: 'boolean' }], describe: 'an object { monitor, patience, minDelta, restoreBestWeights } or false' },
  checkpoint: obj({ everySteps: int(1) }),
});

/**
 * The CNN `gradkit train` runs when given no file. Pooling comes right after each convolution,
 * before BatchNorm and ReLU: max-pooling commutes with ReLU, and BatchNorm then normalizes 4×
 * fewer positions. The convolutions have no bias: BatchNorm's shift makes it redundant. Measured
 * CPU time per batch of 64 on the wasm backend: 164 ms for conv-bias-BN-ReLU-pool, 108 ms with
 * pooling first, 81 ms with pooling first and no conv bias. 6 epochs reach ~98% test accuracy.
 */
export const DEFAULT_LAYERS: LayerSpec[] = [
  { type: 'conv2d', outChannels: 16, kernelSize: 3, padding: 1, bias: false },
  { type: 'maxPool2d', kernelSize: 2 },
  { type: 'batchNorm2d' },
  { type: 'relu' },
  { type: 'conv2d', outChannels: 32, kernelSize: 3, padding: 1, bias: false },
  { type: 'maxPool2d', kernelSize: 2 },
  { type: 'batchNorm2d' },
  { type: 'relu' },
  { type: 'flatten' },
  { type: 'dropout', p: 0.25 },
  { type: 'linear', outFeatures: 10 },
];

export const DEFAULT_EXPERIMENT: Experiment = {
  name: 'digits-cnn',
  seed: 0,
  epochs: 6,
  data: { dataset: 'digits', trainSize: 8000, testSize: 2000, samplesPerClass: 200, validationFraction: 0.1, batchSize: 64, evalBatchSize: 500 },
  preprocessing: [{ type: 'standardize', per: 'channel' }],
  augmentation: [],
  mixup: null,
  model: { init: 'he', layers: DEFAULT_LAYERS },
  optimizer: { type: 'adamw', lr: 3e-3, weightDecay: 1e-2, momentum: 0.9, nesterov: false, betas: [0.9, 0.999] },
  schedule: { type: 'cosine', warmupEpochs: 0, stepEpochs: 1, gamma: 0.5, minLr: 0, patience: 2 },
  regularization: { gradClipNorm: null, emaDecay: null, labelSmoothing: 0, l1: 0, l2: 0 },
  earlyStopping: { monitor: 'valLoss', patience: 3, minDelta: 0, restoreBestWeights: true },
  checkpoint: { everySteps: null },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deeper than any real experiment file (the deepest key is 4 levels down). */
export const MAX_NESTING = 32;

/**
 * Throws when `v` nests objects/arrays more than MAX_NESTING levels deep. Iterative on purpose:
 * the validator and the null-dropping below recurse, and a 100,000-deep file would overflow the
 * stack there with a bare RangeError.
 */
export function checkNesting(v: unknown, file: string): void {
  const stack: [unknown, string, number][] = [[v, '', 0]];
  while (stack.length > 0) {
    const [x, path, depth] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (depth >= MAX_NESTING) throw new GradkitError(file, `nesting deeper than ${MAX_NESTING} levels at ${path.length > 300 ? `${path.slice(0, 300)}…` : path}; an experiment file is a few levels deep`);
    if (Array.isArray(x)) x.forEach((y, i) => stack.push([y, `${path}[${i}]`, depth + 1]));
    else for (const [k, y] of Object.entries(x)) stack.push([y, path === '' ? k : `${path}.${k}`, depth + 1]);
  }
}

/**
 * What a `gradkit train` run logs each epoch (MetricsCallback's loss, accuracy and lr, and their
 * val* twins), the names earlyStopping.monitor may use. Without a validation split the CLI
 * watches the training twin of a val* name.
 */
export const RUN_METRICS = ['loss', 'accuracy', 'lr', 'valLoss', 'valAccuracy'] as const;

/**
 * Validates a parsed experiment file and fills in defaults. Errors name the key path.
 * A file for another dataset keeps the digits defaults only where they make sense.
 * `file` names the source in errors about the file as a whole.
 */
export function resolveExperiment(raw: unknown, file = 'experiment'): Experiment {
  if (!isObject(raw)) throw new GradkitError('experiment', `the file must hold a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  checkNesting(raw, file);
  // null is allowed for the optional sections ("mixup": null, "earlyStopping": null).
  const cleaned = { ...raw };
  for (const k of ['mixup', 'earlyStopping'] as const) if (cleaned[k] === null) cleaned[k] = false;
  if (cleaned.mixup === false) delete cleaned.mixup;
  // Elsewhere null means "the default" (config.json writes unset options as null).
  const dropNulls = (o: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null).map(([k, v]) => [k, isObject(v) ? dropNulls(v) : v]));
  for (const [k, v] of Object.entries(cleaned)) {
    if (v === null) delete cleaned[k];
    else if (isObject(v)) cleaned[k] = dropNulls(v);
  }
  validate(cleaned, experimentSpec);
  const monitor = isObject(cleaned.earlyStopping) ? cleaned.earlyStopping.monitor : undefined;
  if (typeof monitor === 'string' && !(RUN_METRICS as readonly string[]).includes(monitor)) {
    const hint = closestName(monitor, RUN_METRICS);
    throw new GradkitError('experiment', `earlyStopping.monitor: unknown metric '${monitor}'${hint ? ` (did you mean '${hint}'?)` : ''}; the run logs: ${RUN_METRICS.join(', ')}`);
  }
  const d = DEFAULT_EXPERIMENT;
  const r = cleaned as Record<string, Record<string, unknown> | undefined> & Record<string, unknown>;
  const es = cleaned.earlyStopping;
  const model = (r.model ?? {}) as { init?: Experiment['model']['init']; layers?: LayerSpec[] };
  return {
    name: cleaned.name as string | undefined,
    seed: (cleaned.seed as number | undefined) ?? d.seed,
    epochs: (cleaned.epochs as number | undefined) ?? d.epochs,
    data: { ...d.data, ...(r.data ?? {}) } as Experiment['data'],
    preprocessing: (cleaned.preprocessing as Experiment['preprocessing'] | undefined) ?? [],
    augmentation: (cleaned.augmentation as AugmentSpec[] | undefined) ?? [],
    mixup: isObject(cleaned.mixup) ? { alpha: (cleaned.mixup.alpha as number | undefined) ?? 0.2, mode: (cleaned.mixup.mode as 'mixup' | 'cutmix' | undefined) ?? 'mixup' } : null,
    model: { init: model.init ?? d.model.init, layers: model.layers ?? d.model.layers },
    optimizer: { ...d.optimizer, ...(r.optimizer ?? {}) } as Experiment['optimizer'],
    schedule: { ...d.schedule, type: 'none', ...(r.schedule ?? {}) } as Experiment['schedule'],
    regularization: { ...d.regularization, ...(r.regularization ?? {}) } as Experiment['regularization'],
    earlyStopping: es === false || es === undefined ? null : { ...d.earlyStopping!, ...(es === true ? {} : (es as object)) },
    checkpoint: { ...d.checkpoint, ...(r.checkpoint ?? {}) } as Experiment['checkpoint'],
  };
}
