/**
 * `gradkit export-onnx <model-file|run-folder> <out.onnx> [--input-shape 1,1,28,28] [--opset 17] [--static-batch]`:
 * load a trained model and write it as ONNX for ONNX Runtime, atomically (temp file + rename).
 *
 * A run folder is rebuilt from its config.json and best.ckpt (last.ckpt when there is no best),
 * with the EMA weights when the run kept them, as `gradkit eval` does; its input shape follows
 * from the dataset (digits: [1, 28, 28]; blobs, spirals: [2]). A model file is rebuilt by
 * io.loadModel; the shape is taken from its architecture when it records one (`gradkit train`
 * layer lists do), else --input-shape is required. The fitted preprocessing is not part of the
 * graph: the command says so, and inputs must be preprocessed as for gradkit.
 */
import '../index.js'; // registers the tensor methods and the backends (main.ts no longer loads the library)
import { GradkitError } from '../core/errors.js';
import { DIGIT_SIZE } from '../data/index.js';
import { exportOnnx, type ExportOnnxOptions } from '../io/onnx/index.js';
import { decodeOnnxModel } from '../io/onnx/schema.js';
import { loadModel } from '../io/load-model.js';
import type { AnyModule } from '../nn/module.js';
import { nodeStorage } from '../platform/fs-node.js';
import { decodeCheckpoint } from '../train/checkpoint.js';
import { joinPath, type Storage } from '../train/storage.js';
import { LAYERS_BUILDER } from '../zoo/pretrained.js';
import { loadRunWeights, type CommandEnv } from './commands.js';
import { resolveExperiment } from './experiment.js';
import { readJsonFile } from './json-file.js';
import { buildModel } from './model-builder.js';

const OP = 'gradkit export-onnx';

/**
 * Node convenience: exports `model` and writes the bytes to `path` atomically (a reader never
 * sees half a file). In a browser, call exportOnnx (from 'gradkit/onnx') and store the bytes yourself.
 */
export async function saveOnnx(model: AnyModule, path: string, options: ExportOnnxOptions, storage: Storage = nodeStorage()): Promise<Uint8Array> {
  const bytes = exportOnnx(model, options);
  await storage.writeAtomic(path, bytes);
  return bytes;
}

/** Parses `1,1,28,28` (the batch axis included). */
export function parseShapeFlag(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const dims = parts.map(Number);
  if (parts.length === 0 || parts.some((s) => s === '') || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    throw new GradkitError(OP, `--input-shape must be positive whole numbers separated by commas, batch axis first (e.g. 1,1,28,28), got '${value}'`);
  }
  return dims;
}

export interface ExportOnnxCommandOptions {
  /** A model file (io.saveModel with an architecture) or a `gradkit train` run folder. */
  source: string;
  /** Where to write the .onnx file. */
  out: string;
  /** Full input shape with the batch axis; default: from the run's dataset or the file's architecture, batch 1. */
  inputShape?: number[];
  opsetVersion?: number;
  /** Fix the batch axis at inputShape[0] (default: symbolic). */
  staticBatch?: boolean;
}

export interface ExportOnnxSummary {
  from: string;
  out: string;
  inputShape: number[];
  bytes: number;
  nodes: number;
  initializers: number;
}

interface Source {
  model: AnyModule;
  from: string;
  /** One sample's shape when the source records it. */
  sampleShape?: number[];
  hasPreprocessing: boolean;
}

async function loadSource(storage: Storage, source: string): Promise<Source> {
  const config = joinPath(source, 'config.json');
  if (await storage.exists(config)) {
    const e = resolveExperiment(await readJsonFile(storage, config, OP));
    let path = joinPath(source, 'best.ckpt');
    if (!(await storage.exists(path))) path = joinPath(source, 'last.ckpt');
    if (!(await storage.exists(path))) throw new GradkitError(OP, `${source} has no checkpoint (best.ckpt or last.ckpt); did its run finish an epoch?`);
    const layers = e.model.layers;
    const last = layers[layers.length - 1];
    if (last.type !== 'linear') throw new GradkitError(OP, `${source}: the model does not end in a linear layer`);
    const sampleShape = e.data.dataset === 'digits' ? [1, DIGIT_SIZE, DIGIT_SIZE] : [2];
    const model = buildModel(layers, sampleShape, e.model.init, last.outFeatures);
    loadRunWeights(model, decodeCheckpoint(await storage.read(path), path), path, OP);
    return { model, from: path, sampleShape, hasPreprocessing: e.preprocessing.length > 0 };
  }
  if (!(await storage.exists(source))) throw new GradkitError(OP, `${source} is neither a run folder (with config.json) nor a model file`);
  const loaded = loadModel(await storage.read(source), { path: source });
  const options = loaded.architecture.options as { inputShape?: unknown } | undefined;
  const recorded = loaded.architecture.builder === LAYERS_BUILDER && Array.isArray(options?.inputShape) ? (options.inputShape as number[]) : undefined;
  return { model: loaded.model, from: source, sampleShape: recorded, hasPreprocessing: loaded.preprocessing !== null };
}

export async function exportOnnxCommand(opts: ExportOnnxCommandOptions, env: CommandEnv): Promise<ExportOnnxSummary> {
  const { storage, sink } = env;
  const src = await loadSource(storage, opts.source);
  const inputShape = opts.inputShape ?? (src.sampleShape === undefined ? undefined : [1, ...src.sampleShape]);
  if (inputShape === undefined) {
    throw new GradkitError(OP, `${opts.source} does not record its input shape; pass --input-shape (batch axis first, e.g. 1,1,28,28)`);
  }
  const bytes = await saveOnnx(src.model, opts.out, { inputShape, opsetVersion: opts.opsetVersion, dynamicBatch: !opts.staticBatch }, storage);
  const graph = decodeOnnxModel(bytes).graph;
  const summary: ExportOnnxSummary = { from: src.from, out: opts.out, inputShape, bytes: bytes.length, nodes: graph.node.length, initializers: graph.initializer.length };
  const batch = opts.staticBatch ? String(inputShape[0]) : 'batch';
  sink.write(`gradkit export-onnx · ${src.from} → ${opts.out} · input [${[batch, ...inputShape.slice(1)].join(', ')}] · ${summary.nodes} nodes, ${summary.initializers} initializers, ${bytes.length} bytes\n`);
  if (src.hasPreprocessing) sink.write('note: the fitted preprocessing is not part of the ONNX graph; apply it to the inputs first (as gradkit does)\n');
  return summary;
}
