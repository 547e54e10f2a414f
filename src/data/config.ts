/**
 * Building augmentation pipelines and preprocessors from plain JSON (experiment files), with
 * errors that say which entry and key is wrong before anything runs.
 *
 * ```ts
 * buildAugmentation([{ type: 'randomAffine', degrees: 10, maxShift: 2 }, { type: 'cutout', size: 8 }]);
 * buildPreprocessor({ type: 'standardize', per: 'channel' });
 * ```
 */
import { GradkitError } from '../core/errors.js';
import { compose, randomApply, type Augmentation } from './augment/augmentation.js';
import { randomAffine, randomCrop, randomFlip, randomRotation, randomScale, randomTranslation } from './augment/geometric.js';
import { colorJitter, cutout, gaussianNoise } from './augment/photometric.js';
import type { Preprocessor } from './preprocess/base.js';
import { MeanSubtraction, Standardize } from './preprocess/center.js';
import { PCA, Whitening } from './preprocess/pca.js';

type Kind = 'number' | 'boolean' | 'string' | 'pair';
type Schema = Record<string, Kind>;

function checkSpec(op: string, where: string, spec: unknown, schema: Schema, required: readonly string[] = []): Record<string, unknown> {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new GradkitError(op, `${where} must be an object like { "type": … }`);
  const obj = spec as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'type') continue;
    const kind = schema[key];
    if (kind === undefined) {
      const known = Object.keys(schema);
      throw new GradkitError(op, `${where}: unknown key "${key}"${known.length ? `; expected one of ${known.join(', ')}` : ' (this type takes no options)'}`);
    }
    const ok = kind === 'pair' ? Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number') : typeof value === kind;
    if (!ok) throw new GradkitError(op, `${where}: "${key}" must be ${kind === 'pair' ? 'a pair of numbers [a, b]' : `a ${kind}`}, got ${JSON.stringify(value)}`);
  }
  for (const key of required) if (!(key in obj)) throw new GradkitError(op, `${where}: missing required key "${key}"`);
  return obj;
}

const augmentations: Record<string, { schema: Schema; required?: string[]; make: (o: Record<string, unknown>) => Augmentation }> = {
  randomFlip: { schema: { horizontal: 'boolean', vertical: 'boolean', p: 'number' }, make: (o) => randomFlip(o) },
  randomAffine: {
    schema: { degrees: 'number', maxShift: 'number', wholePixels: 'boolean', scale: 'pair', fill: 'number' },
    make: (o) => randomAffine(o as never),
  },
  randomRotation: { schema: { degrees: 'number', fill: 'number' }, required: ['degrees'], make: (o) => randomRotation(o as never) },
  randomTranslation: { schema: { maxShift: 'number', wholePixels: 'boolean', fill: 'number' }, required: ['maxShift'], make: (o) => randomTranslation(o as never) },
  randomScale: { schema: { min: 'number', max: 'number', fill: 'number' }, required: ['min', 'max'], make: (o) => randomScale(o as never) },
  randomCrop: { schema: { padding: 'number', size: 'pair', fill: 'number' }, make: (o) => randomCrop(o as never) },
  cutout: { schema: { size: 'number', count: 'number', fill: 'number' }, required: ['size'], make: (o) => cutout(o as never) },
  colorJitter: { schema: { brightness: 'number', contrast: 'number', saturation: 'number' }, make: (o) => colorJitter(o) },
  gaussianNoise: { schema: { std: 'number' }, required: ['std'], make: (o) => gaussianNoise(o as never) },
};

/** A composed augmentation from a list of `{ type, ...options }` entries. */
export function buildAugmentation(specs: unknown): Augmentation {
  const op = 'buildAugmentation';
  if (!Array.isArray(specs)) throw new GradkitError(op, `expected an array of augmentations, got ${JSON.stringify(specs)}`);
  return compose(
    specs.map((spec, i) => {
      const type = (spec as { type?: unknown } | null)?.type;
      const entry = typeof type === 'string' && Object.hasOwn(augmentations, type) ? augmentations[type] : undefined;
      if (!entry) throw new GradkitError(op, `entry ${i}: unknown type ${JSON.stringify(type)}; expected one of ${Object.keys(augmentations).join(', ')}`);
      const { type: _t, applyProbability, ...opts } = checkSpec(op, `entry ${i} (${type as string})`, spec, { ...entry.schema, applyProbability: 'number' }, entry.required);
      try {
        const aug = entry.make(opts);
        // Any entry may carry "applyProbability": the augmentation then hits each image with that probability.
        return applyProbability === undefined ? aug : randomApply(aug, applyProbability as number);
      } catch (e) {
        if (e instanceof GradkitError) throw new GradkitError(op, `entry ${i}: ${e.message}`);
        throw e;
      }
    }),
  );
}

const preprocessors: Record<string, { schema: Schema; make: (o: Record<string, unknown>) => Preprocessor }> = {
  meanSubtraction: { schema: { per: 'string' }, make: (o) => new MeanSubtraction(o as never) },
  standardize: { schema: { per: 'string', eps: 'number' }, make: (o) => new Standardize(o as never) },
  pca: { schema: { components: 'number', varianceKept: 'number' }, make: (o) => new PCA(o) },
  whitening: { schema: { method: 'string', eps: 'number', components: 'number', varianceKept: 'number' }, make: (o) => new Whitening(o as never) },
};

/** An unfitted preprocessor from `{ type: 'meanSubtraction' | 'standardize' | 'pca' | 'whitening', ...options }`. */
export function buildPreprocessor(spec: unknown): Preprocessor {
  const op = 'buildPreprocessor';
  const type = (spec as { type?: unknown } | null)?.type;
  const entry = typeof type === 'string' && Object.hasOwn(preprocessors, type) ? preprocessors[type] : undefined;
  if (!entry) throw new GradkitError(op, `unknown type ${JSON.stringify(type)}; expected one of ${Object.keys(preprocessors).join(', ')}`);
  const { type: _t, ...opts } = checkSpec(op, type as string, spec, entry.schema);
  try {
    return entry.make(opts);
  } catch (e) {
    if (e instanceof GradkitError) throw new GradkitError(op, e.message);
    throw e;
  }
}
