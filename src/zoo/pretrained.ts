/**
 * Pretrained models shipped inside the package: `zoo.load('digits-cnn')` returns a ready model,
 * its fitted preprocessing and a record of how it was made — no download, no file system.
 *
 * The weights are gradkit model files (safetensors with the architecture and preprocessing in
 * `__metadata__`) that scripts/train-zoo.ts regenerates. The script also writes each file as a
 * base64 string in a generated TypeScript module (zoo/<name>.weights.ts); importing that module
 * works the same under Node, a bundler or a browser, where a `.safetensors` file next to the
 * code would need `fs` or `fetch`. A CRC-32 of the bytes is recorded beside them, so a damaged
 * copy is refused instead of silently yielding a model with wrong weights (safetensors itself
 * has no checksum: a flipped bit in a weight still parses).
 */
import { GradkitError } from '../core/errors.js';
import type { AnyModule } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Preprocessor } from '../data/preprocess/index.js';
import { loadModel } from '../io/load-model.js';
import { buildModel } from '../cli/model-builder.js';
import type { LayerSpec } from '../cli/experiment.js';
import { registerArchitecture, type Architecture } from './architecture.js';
import { DIGITS_CNN } from '../../zoo/digits-cnn.weights.js';
import CRC32 from 'crc-32';

/**
 * The builder for `gradkit train` layer lists (the experiment file's `model.layers`), so a model
 * trained by the CLI can be saved with an architecture that zoo.build / io.loadModel rebuild.
 * Options: { layers, inputShape: [c, h, w] or [n], numClasses, init? }.
 */
export const LAYERS_BUILDER = 'experimentLayers';

registerArchitecture(LAYERS_BUILDER, (o) => {
  const op = `zoo.build (${LAYERS_BUILDER})`;
  const { layers, inputShape, numClasses, init } = o as { layers?: unknown; inputShape?: unknown; numClasses?: unknown; init?: unknown };
  if (!Array.isArray(layers) || layers.length === 0) throw new GradkitError(op, `options.layers must be a non-empty list of layer specs, got ${JSON.stringify(layers)}`);
  if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new GradkitError(op, `options.inputShape must be a list of positive whole numbers (one sample, no batch axis), got ${JSON.stringify(inputShape)}`);
  }
  if (!Number.isInteger(numClasses) || (numClasses as number) < 1) throw new GradkitError(op, `options.numClasses must be a positive whole number, got ${JSON.stringify(numClasses)}`);
  return buildModel(layers as LayerSpec[], inputShape as number[], (init ?? 'he') as never, numClasses as number);
});

/** How a shipped model was made (recorded by scripts/train-zoo.ts in the file's metadata). */
export interface PretrainedInfo {
  name: string;
  description: string;
  /** The seed of the training run (data split, initialization, shuffling). */
  seed: number;
  trainSize: number;
  testSize: number;
  /** Accuracy on the held-out test digits, in [0, 1]. */
  testAccuracy: number;
  testLoss: number;
  epochs: number;
  /** ISO timestamp of the training run. */
  createdAt: string;
  /** The gradkit commit the script ran on. */
  gradkitCommit: string;
  /** One input sample's shape (no batch axis), before preprocessing. */
  inputShape: number[];
  numClasses: number;
  architecture: Architecture;
}

/** The fitted preprocessing, applied in order. */
export interface PretrainedPreprocessing {
  steps: Preprocessor[];
  /** Applies every step to a batch of raw inputs. */
  transform(x: Tensor): Tensor;
}

/** A pretrained model: the network with its weights, the preprocessing its inputs need, and information about it. */
export interface Pretrained {
  /** The model with its trained weights, in eval mode. */
  model: AnyModule;
  preprocessing: PretrainedPreprocessing;
  info: PretrainedInfo;
}

/** A shipped weight file: base64 bytes and their CRC-32, as the generated module exports them. */
export interface ShippedWeights {
  base64: string;
  crc32: number;
  byteLength: number;
}

interface Entry {
  description: string;
  weights: ShippedWeights;
}

const registry = new Map<string, Entry>([
  ['digits-cnn', { description: 'the default `gradkit train` CNN trained on the shipped 28x28 digits (10 classes)', weights: DIGITS_CNN }],
]);

/** Names of the shipped pretrained models. */
export function list(): string[] {
  return [...registry.keys()];
}

/** CRC-32 (IEEE 802.3, as zip and png use), by the `crc-32` package the project already uses for PNG chunks. */
export function crc32(bytes: Uint8Array): number {
  return CRC32.buf(bytes) >>> 0;
}

/** Base64 to bytes with atob (a global in browsers and in Node >= 16), so no Buffer. */
function decodeBase64(op: string, s: string): Uint8Array {
  let bin: string;
  try {
    bin = atob(s);
  } catch (e) {
    throw new GradkitError(op, `the embedded weights are not valid base64 (${(e as Error).message})`);
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function parseInfo(op: string, raw: string | undefined): Omit<PretrainedInfo, 'name' | 'description' | 'architecture'> {
  if (raw === undefined) throw new GradkitError(op, "the model file has no '__metadata__.zoo' record (seed, data, accuracy); regenerate it with scripts/train-zoo.ts");
  let info: unknown;
  try {
    info = JSON.parse(raw);
  } catch (e) {
    throw new GradkitError(op, `'__metadata__.zoo' is not valid JSON (${(e as Error).message})`);
  }
  const rec = info as Record<string, unknown>;
  for (const k of ['seed', 'trainSize', 'testSize', 'testAccuracy']) {
    if (typeof rec?.[k] !== 'number') throw new GradkitError(op, `'__metadata__.zoo.${k}' must be a number, got ${JSON.stringify(rec?.[k])}`);
  }
  return rec as unknown as Omit<PretrainedInfo, 'name' | 'description' | 'architecture'>;
}

/**
 * Decodes shipped model bytes: checks their length and CRC-32 first, then rebuilds the model
 * (strict safetensors reader, architecture, weights, preprocessing). `zoo.load` calls this with
 * the embedded bytes; it is exported for checking copies of a shipped file.
 */
export function fromBytes(name: string, bytes: Uint8Array, expected: { crc32: number; byteLength: number }, description = ''): Pretrained {
  const op = `zoo.load('${name}')`;
  if (!(bytes instanceof Uint8Array)) throw new GradkitError(op, `expected the model bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length !== expected.byteLength) {
    throw new GradkitError(op, `the weights are ${bytes.length} bytes but the shipped file has ${expected.byteLength}; the copy is truncated or damaged (regenerate with scripts/train-zoo.ts)`);
  }
  const got = crc32(bytes);
  if (got !== expected.crc32) {
    throw new GradkitError(op, `the weights fail their checksum (CRC-32 ${hex(got)}, expected ${hex(expected.crc32)}); the copy is damaged (regenerate with scripts/train-zoo.ts)`);
  }
  // The shipped weights predate the integrity record (gradkit-model/1); the whole-file CRC-32
  // above already proves them intact, so the legacy-format warning would only be noise.
  const loaded = loadModel(bytes, { path: `zoo '${name}'`, onWarning: () => {} });
  const steps = loaded.preprocessing === null ? [] : Array.isArray(loaded.preprocessing) ? loaded.preprocessing : [loaded.preprocessing];
  const recorded = parseInfo(op, loaded.metadata.zoo);
  const info: PretrainedInfo = { ...recorded, name, description, architecture: loaded.architecture };
  const preprocessing: PretrainedPreprocessing = {
    steps,
    transform: (x) => steps.reduce((t, p) => p.transform(t), x),
  };
  loaded.model.eval();
  return { model: loaded.model, preprocessing, info };
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * Loads a shipped pretrained model, ready for inference.
 *
 * ```ts
 * const { model, preprocessing, info } = zoo.load('digits-cnn');
 * const logits = noGrad(() => model.call(preprocessing.transform(images)));   // images: [n, 1, 28, 28] in [0, 1]
 * console.log(info.testAccuracy, info.seed);
 * ```
 */
export function load(name: string): Pretrained {
  const entry = typeof name === 'string' ? registry.get(name) : undefined;
  if (entry === undefined) {
    throw new GradkitError('zoo.load', `no pretrained model named ${JSON.stringify(name)}; available: ${list().join(', ')}`);
  }
  const op = `zoo.load('${name}')`;
  return fromBytes(name, decodeBase64(op, entry.weights.base64), entry.weights, entry.description);
}
