/**
 * The checkpoint file: one tensor file (tensor-file.ts) holding the model's state dict as named
 * tensors (`model/<key>`), every other binary array of the training state (optimizer moments,
 * EMA averages, best weights) as `state/<n>`, and the rest — counters, RNG states, data loader
 * position, callback states, history — as JSON in the metadata entry `gradkit.state`.
 *
 * Version 2 adds the CRC-32C integrity record (src/core/integrity.ts) of every tensor and header
 * entry, checked on every decode: a damaged file is refused naming the tensor or entry. Version 1
 * files (written before the record existed) still decode, with one warning.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import type { DataLoaderState } from '../data/loader.js';
import type { AnyModule, StateDict } from '../nn/module.js';
import type { OptimizerStateDict } from '../optim/optimizer.js';
import { Tensor } from '../tensor/tensor.js';
import { readSync } from '../tensor/host.js';
// Decoding a checkpoint makes tensors, and tensors live on a backend: register the default ones
// (as the package entry does), so a checkpoint can be read with nothing else of gradkit loaded.
import '../backends/reference/index.js';
import '../backends/wasm/index.js';
import { packState, unpackState, type PackedArray } from './state-tree.js';
import { decodeTensorFile, encodeTensorFile } from './tensor-file.js';
import { missingRecord, warnOnce, type OnWarning } from '../core/integrity.js';

/** The format name written into every checkpoint file. */
export const CHECKPOINT_FORMAT = 'gradkit.checkpoint';
/** The checkpoint format version this gradkit writes (version 1 files are still read). */
export const CHECKPOINT_VERSION = 2;
/** Written before the integrity record existed: still read, with a warning. */
const LEGACY_VERSION = 1;

/** Options of `decodeCheckpoint`: where the missing-integrity warning goes. */
export interface DecodeCheckpointOptions {
  /** Where the warning about a file without an integrity record goes (default: console.warn, once per file). */
  onWarning?: OnWarning;
}

/** Where training stands: the epoch and batch to continue at, steps taken and the epoch budget. */
export interface TrainerCounters {
  /** The epoch to run next (or to continue). */
  epoch: number;
  /** The batch of that epoch to continue at (0: the epoch has not started). */
  batch: number;
  /** Optimizer steps taken. */
  step: number;
  /** The epoch budget of the run that saved it. */
  epochs: number;
}

/** Everything a checkpoint holds to resume training: counters, model and optimizer state, generators, loader, callbacks, logs and history. */
export interface CheckpointState {
  counters: TrainerCounters;
  model: StateDict;
  optimizer: OptimizerStateDict;
  /** Generator states by name ('global' is the default generator dropout draws from). */
  rngs: Record<string, number[]>;
  loader: DataLoaderState | null;
  callbacks: Record<string, unknown>;
  logs: Record<string, number>;
  history: Record<string, number>[];
}

/** Encodes a CheckpointState (weights, optimizer and RNG state, history) as the bytes of a checkpoint file. */
export function encodeCheckpoint(s: CheckpointState): Uint8Array {
  const arrays = new Map<string, PackedArray>();
  for (const [k, t] of s.model) arrays.set(`model/${k}`, { shape: [...t.shape], data: readSync(t) });
  const { model: _model, ...rest } = s;
  const json = packState(rest, arrays, 'state/');
  return encodeTensorFile(arrays, { format: CHECKPOINT_FORMAT, version: String(CHECKPOINT_VERSION), 'gradkit.state': JSON.stringify(json) });
}

/** Decodes and validates a checkpoint's structure (not yet whether it fits a model). */
export function decodeCheckpoint(bytes: Uint8Array, what = 'checkpoint', opts: DecodeCheckpointOptions = {}): CheckpointState {
  const op = 'decodeCheckpoint';
  const { tensors, metadata, integrity } = decodeTensorFile(bytes, what, { 'gradkit.state': 'the training state: counters, RNG states, optimizer settings, history' });
  if (metadata.format !== CHECKPOINT_FORMAT) throw new GradkitError(op, `${what} is a tensor file but not a gradkit checkpoint (format ${JSON.stringify(metadata.format)})`);
  if (metadata.version !== String(CHECKPOINT_VERSION) && metadata.version !== String(LEGACY_VERSION)) {
    throw new GradkitError(op, `${what} has checkpoint version ${metadata.version}; this gradkit reads versions ${LEGACY_VERSION} and ${CHECKPOINT_VERSION}`);
  }
  if (integrity === 'absent') {
    if (metadata.version === String(CHECKPOINT_VERSION)) missingRecord(op, what, `a version ${CHECKPOINT_VERSION} checkpoint`);
    (opts.onWarning ?? warnOnce)(`gradkit: warning: ${what} is a version ${LEGACY_VERSION} checkpoint, written before gradkit checked file integrity; loaded without a CRC-32C check (the next save writes version ${CHECKPOINT_VERSION})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(metadata['gradkit.state'] ?? '');
  } catch (e) {
    throw new GradkitError(op, `${what}: the training state is not valid JSON (${(e as Error).message})`);
  }
  const arrays = new Map<string, PackedArray>();
  const model: StateDict = new Map();
  for (const [k, t] of tensors) {
    if (k.startsWith('model/')) model.set(k.slice('model/'.length), Tensor.fromArray(t.data, t.shape));
    else arrays.set(k, { shape: t.shape, data: t.data });
  }
  const rest = unpackState(json, arrays) as Omit<CheckpointState, 'model'>;
  const c = rest?.counters;
  if (c === undefined || ![c.epoch, c.batch, c.step, c.epochs].every((v) => Number.isInteger(v) && v >= 0)) {
    throw new GradkitError(op, `${what}: counters ${JSON.stringify(c)} are not non-negative integers { epoch, batch, step, epochs }`);
  }
  if (rest.rngs === null || typeof rest.rngs !== 'object' || !Array.isArray(rest.rngs.global)) throw new GradkitError(op, `${what}: missing the global RNG state`);
  if (rest.optimizer === null || typeof rest.optimizer !== 'object') throw new GradkitError(op, `${what}: missing the optimizer state`);
  if (rest.callbacks === null || typeof rest.callbacks !== 'object') throw new GradkitError(op, `${what}: missing the callback states`);
  if (!Array.isArray(rest.history)) throw new GradkitError(op, `${what}: missing the history`);
  return { ...rest, model };
}

/**
 * Checks a saved state dict against a model and names every mismatch: keys the checkpoint lacks,
 * keys the model lacks, and shapes that differ (the usual sign of another architecture).
 */
export function checkModelFits(op: string, model: AnyModule, saved: StateDict): void {
  const own = model.stateDict();
  const missing = [...own.keys()].filter((k) => !saved.has(k));
  const unexpected = [...saved.keys()].filter((k) => !own.has(k));
  const shapes: string[] = [];
  for (const [k, t] of own) {
    const v = saved.get(k);
    if (v !== undefined && !shapesEqual(v.shape, t.shape)) shapes.push(`${k} (checkpoint ${fmtShape(v.shape)}, model ${fmtShape(t.shape)})`);
  }
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`keys the checkpoint lacks: ${missing.join(', ')}`);
  if (unexpected.length > 0) problems.push(`keys the model lacks: ${unexpected.join(', ')}`);
  if (shapes.length > 0) problems.push(`shape mismatches: ${shapes.join(', ')}`);
  if (problems.length > 0) {
    throw new GradkitError(op, `the checkpoint was saved from another architecture; ${problems.join('; ')}. Nothing was loaded`);
  }
}
