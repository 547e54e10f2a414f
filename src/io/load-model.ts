/**
 * One call from a model file to a ready model: rebuild the architecture from the file's
 * metadata (zoo.build), load the weights strictly, restore the fitted preprocessing, and put
 * the model in eval mode for inference.
 */
import { GradkitError } from '../core/errors.js';
import type { AnyModule } from '../nn/module.js';
import { build, type Architecture } from '../zoo/architecture.js';
import { preprocessorFromJSON, type Preprocessor, type PreprocessorJSON } from '../data/preprocess/index.js';
import type { Storage } from '../train/storage.js';
import { assignWeights, readModelFile, type Json, type ReadModelOptions } from './model-file.js';
import type { SafetensorsMetadata } from './safetensors.js';

/** A model loaded from a file and ready to use: the rebuilt model, its architecture, preprocessing and metadata. */
export interface LoadedModel {
  /** The rebuilt model with the file's weights, in eval mode. */
  model: AnyModule;
  architecture: Architecture;
  /** The preprocessors restored from the file (one, a list, or null when the file has none). */
  preprocessing: Preprocessor | Preprocessor[] | null;
  metadata: SafetensorsMetadata;
}

function restorePreprocessing(json: Json | undefined): Preprocessor | Preprocessor[] | null {
  if (json === undefined || json === null) return null;
  if (Array.isArray(json)) return json.map((j) => preprocessorFromJSON(j as unknown as PreprocessorJSON));
  return preprocessorFromJSON(json as unknown as PreprocessorJSON);
}

/**
 * Rebuilds a model saved with `saveModel(model, { architecture: { builder, options }, preprocessing })`.
 *
 * ```ts
 * const { model, preprocessing } = io.loadModel(bytes);
 * const y = model.call(preprocessing.transform(x));
 * ```
 */
export function loadModel(bytes: Uint8Array, opts: ReadModelOptions = {}): LoadedModel {
  const op = 'loadModel';
  // Decoded (and its integrity checked) once, then built and assigned from that.
  const file = readModelFile(bytes, opts);
  if (file.architecture === undefined) {
    throw new GradkitError(op, `${opts.path ?? 'the file'} has no architecture in its metadata (it holds weights only); build the model yourself and call loadModelWeights(model, bytes)`);
  }
  const arch = file.architecture as unknown as Architecture;
  const model = build(arch);
  assignWeights(model, file, opts.path);
  model.eval();
  return { model, architecture: arch, preprocessing: restorePreprocessing(file.preprocessing), metadata: file.metadata };
}

/** loadModel through a Storage (nodeStorage() on Node). */
export async function loadModelFrom(storage: Storage, path: string, opts: Omit<ReadModelOptions, 'path'> = {}): Promise<LoadedModel> {
  return loadModel(await storage.read(path), { ...opts, path });
}
