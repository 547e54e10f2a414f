/**
 * A gradkit model file is a safetensors file: the state dict (parameters and persistent
 * buffers, e.g. BatchNorm running statistics) as tensors, and in `__metadata__` the
 * architecture and fitted preprocessing as JSON strings, so a Python reader sees ordinary
 * weights and gradkit can rebuild the whole model.
 *
 * Loading is all-or-nothing: every name, shape and dtype is checked against the model first,
 * and only then are the values copied in.
 *
 * Format gradkit-model/2 adds the CRC-32C integrity record (src/core/integrity.ts), verified on
 * every read: a damaged file is refused naming the tensor or header entry. gradkit-model/1 files
 * (written before the record existed) still load, with one warning; safetensors files not written
 * by gradkit (no format key) load as they are.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { shapesEqual } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AnyModule } from '../nn/module.js';
import type { Storage } from '../train/storage.js';
import { missingRecord, warnOnce, INTEGRITY_KEY, type OnWarning } from '../core/integrity.js';
import { loadSafetensors, saveSafetensors, type SafetensorsMetadata } from './safetensors.js';

/** Any JSON value (what the architecture and preprocessing descriptions are). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Written in `__metadata__.format` so a reader can tell a gradkit model from a bare weight file. */
export const MODEL_FORMAT = 'gradkit-model/2';
/** Written before the integrity record existed: still read, with a warning. */
const LEGACY_MODEL_FORMAT = 'gradkit-model/1';

/** Options of reading a model file: the path named in errors and where the missing-integrity warning goes. */
export interface ReadModelOptions {
  /** The file's path, named in errors and warnings. */
  path?: string;
  /** Where the warning about a gradkit-model/1 file (no integrity record) goes (default: console.warn, once per file). */
  onWarning?: OnWarning;
}

/** Options of saving a model file: the architecture, fitted preprocessing and extra metadata stored with the weights. */
export interface SaveModelOptions {
  /** A JSON description gradkit can rebuild the model from (stored as `__metadata__.architecture`). */
  architecture?: Json;
  /** The fitted preprocessing, e.g. a preprocessor's toJSON() (stored as `__metadata__.preprocessing`). */
  preprocessing?: Json;
  /** Further string pairs for `__metadata__` (keys 'format', 'architecture', 'preprocessing' are reserved). */
  metadata?: SafetensorsMetadata;
}

/** A model file as read: the weights plus the architecture, preprocessing and metadata stored with them. */
export interface ModelFile {
  /** The state dict: dotted parameter/buffer names to tensors. */
  stateDict: Map<string, Tensor>;
  architecture: Json | undefined;
  preprocessing: Json | undefined;
  /** All of `__metadata__`, including the reserved keys (but not the integrity record, which is checked and dropped). */
  metadata: SafetensorsMetadata;
}

const RESERVED = ['format', 'architecture', 'preprocessing', INTEGRITY_KEY];

function checkModule(op: string, model: unknown): asserts model is AnyModule {
  const m = model as AnyModule | null;
  if (m === null || typeof m !== 'object' || typeof m.stateDict !== 'function' || typeof m.namedParameters !== 'function') {
    throw new GradkitError(op, `expected an nn.Module, got ${m === null ? 'null' : typeof m}`);
  }
}

function stringifyJson(op: string, what: string, value: Json): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch (e) {
    throw new GradkitError(op, `${what} is not JSON-serializable (${(e as Error).message})`);
  }
  if (s === undefined) throw new GradkitError(op, `${what} is not JSON-serializable (got ${typeof value})`);
  return s;
}

/**
 * Saves a model's state dict, plus its architecture and preprocessing descriptions, as a
 * safetensors file's bytes.
 *
 * ```ts
 * const bytes = io.saveModel(model, { architecture: { kind: 'mlp', sizes: [4, 8, 2] }, preprocessing: scaler.toJSON() });
 * ```
 */
export function saveModel(model: AnyModule, opts: SaveModelOptions = {}): Uint8Array {
  const op = 'saveModel';
  checkModule(op, model);
  const meta: SafetensorsMetadata = {};
  for (const [k, v] of Object.entries(opts.metadata ?? {})) {
    if (RESERVED.includes(k)) throw new GradkitError(op, `metadata key '${k}' is reserved; pass it as the ${k === 'format' || k === INTEGRITY_KEY ? 'file format (set automatically)' : `'${k}' option`}`);
    meta[k] = v;
  }
  meta.format = MODEL_FORMAT;
  if (opts.architecture !== undefined) meta.architecture = stringifyJson(op, 'architecture', opts.architecture);
  if (opts.preprocessing !== undefined) meta.preprocessing = stringifyJson(op, 'preprocessing', opts.preprocessing);
  return saveSafetensors(model.stateDict(), meta, { integrity: true });
}

function parseJsonMeta(op: string, where: string, key: string, s: string | undefined): Json | undefined {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s) as Json;
  } catch (e) {
    throw new GradkitError(op, `${where}__metadata__.${key} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Decodes a model file (or any safetensors file) without a model: weights, architecture,
 * preprocessing. Verifies the integrity record (gradkit-model/2); warns once for gradkit-model/1.
 */
export function readModelFile(bytes: Uint8Array, opts: ReadModelOptions = {}): ModelFile {
  const op = 'readModelFile';
  const where = opts.path === undefined ? '' : `${opts.path}: `;
  const { tensors, metadata, integrity } = loadSafetensors(bytes, { path: opts.path });
  const what = opts.path ?? 'the model file';
  const fmt = metadata.format;
  if (typeof fmt === 'string' && fmt.startsWith('gradkit-model/') && fmt !== MODEL_FORMAT && fmt !== LEGACY_MODEL_FORMAT) {
    throw new GradkitError(op, `${what} is ${fmt}; this gradkit reads ${LEGACY_MODEL_FORMAT} and ${MODEL_FORMAT} (upgrade gradkit to load it)`);
  }
  if (integrity === 'absent') {
    if (metadata.format === MODEL_FORMAT) missingRecord(op, what, MODEL_FORMAT);
    if (metadata.format === LEGACY_MODEL_FORMAT) {
      (opts.onWarning ?? warnOnce)(`gradkit: warning: ${what} is ${LEGACY_MODEL_FORMAT}, written before gradkit checked file integrity; loaded without a CRC-32C check (save it again to add one)`);
    }
  }
  return {
    stateDict: new Map(Object.entries(tensors)),
    architecture: parseJsonMeta(op, where, 'architecture', metadata.architecture),
    preprocessing: parseJsonMeta(op, where, 'preprocessing', metadata.preprocessing),
    metadata,
  };
}

/**
 * Loads weights from model-file (or plain safetensors) bytes into `model`, in place, strictly:
 * every tensor the model has must be in the file with the same shape, the file may hold no
 * other tensor, and float weights cannot come from integer data. All problems are listed in
 * one error and nothing is assigned unless everything matches. Returns the decoded file.
 */
export function loadModelWeights(model: AnyModule, bytes: Uint8Array, opts: ReadModelOptions = {}): ModelFile {
  checkModule('loadModelWeights', model);
  return assignWeights(model, readModelFile(bytes, opts), opts.path);
}

/** Loads an already decoded (and verified) model file into `model`, all or nothing. */
export function assignWeights(model: AnyModule, file: ModelFile, path?: string): ModelFile {
  const op = 'loadModelWeights';
  checkModule(op, model);
  const targets = model.stateDict();
  const problems: string[] = [];
  const missing = [...targets.keys()].filter((k) => !file.stateDict.has(k));
  const unexpected = [...file.stateDict.keys()].filter((k) => !targets.has(k));
  if (missing.length > 0) problems.push(`missing from the file: ${missing.join(', ')}`);
  if (unexpected.length > 0) problems.push(`in the file but not in the model: ${unexpected.join(', ')}`);
  for (const [k, t] of targets) {
    const v = file.stateDict.get(k);
    if (v === undefined) continue;
    if (!shapesEqual(v.shape, t.shape)) problems.push(`'${k}' has shape ${fmtShape(v.shape)} in the file but ${fmtShape(t.shape)} in the model`);
    else if (isFloat(t.dtype) && !isFloat(v.dtype)) problems.push(`'${k}' is ${v.dtype} in the file but ${t.dtype} in the model`);
  }
  if (problems.length > 0) {
    throw new GradkitError(op, `${path ?? 'the file'} does not fit ${model.constructor.name}; ${problems.join('; ')}. Nothing was loaded.`);
  }
  // Everything checked: loadStateDict would find nothing left to reject, so this assigns all or nothing.
  model.loadStateDict(file.stateDict);
  return file;
}

/** Writes a model file atomically through a Storage (nodeStorage() on Node, memoryStorage() in a browser). */
export async function saveModelFile(storage: Storage, path: string, model: AnyModule, opts: SaveModelOptions = {}): Promise<void> {
  await storage.writeAtomic(path, saveModel(model, opts));
}

/** Reads a model file through a Storage and loads its weights into `model` (see loadModelWeights). */
export async function loadModelFile(storage: Storage, path: string, model: AnyModule, opts: Omit<ReadModelOptions, 'path'> = {}): Promise<ModelFile> {
  return loadModelWeights(model, await storage.read(path), { ...opts, path });
}
