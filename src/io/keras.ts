/**
 * Weight import from a TensorFlow.js / Keras layers model: `model.json` (modelTopology plus
 * weightsManifest) and its binary shards, concatenated in manifest order. Dense, Conv2D and
 * BatchNormalization weights are mapped onto a gradkit model's Linear, Conv2d and BatchNorm
 * layers, converting layouts:
 *
 *   Dense kernel [in, out]                 → Linear weight [out, in]
 *   Conv2D kernel HWIO [kh, kw, in, out]   → Conv2d weight OIHW [out, in, kh, kw]
 *   BatchNormalization gamma, beta, moving_mean, moving_variance
 *                                          → weight, bias, runningMean, runningVar (+ eps, momentum)
 *
 * A Keras Flatten after channels-last conv layers orders features (h, w, c); gradkit's Flatten
 * of NCHW orders them (c, h, w). The first Dense after such a Flatten has its input rows
 * permuted so both models compute the same function.
 *
 * Pure functions over (modelJson object, ArrayBuffer): no Node imports; `importKerasFrom` reads
 * the files through a Storage.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AnyModule } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Conv2d } from '../nn/conv.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/normalization.js';
import type { Storage } from '../train/storage.js';

const OP = 'importKeras';

/** One weight entry of a manifest group (what tfjs writes). */
export interface KerasWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

/** One group of a tfjs/Keras weights manifest: the binary shard files and the weights stored in them. */
export interface KerasManifestGroup {
  paths: string[];
  weights: KerasWeightSpec[];
}

/**
 * The parsed `model.json` of a tfjs layers model. `weightSpecs` (the in-memory artifacts of
 * `model.save(tf.io.withSaveHandler(...))`) is accepted in place of `weightsManifest`.
 */
export interface KerasModelJson {
  modelTopology: unknown;
  weightsManifest?: KerasManifestGroup[];
  weightSpecs?: KerasWeightSpec[];
}

/** Options of the Keras weight import: an optional map from Keras layer names to gradkit module paths. */
export interface KerasImportOptions {
  /**
   * Keras layer name → gradkit module path (dotted, as in namedModules). When given, only the
   * mapped Keras layers are imported; without it, the weighted Keras layers are matched in
   * order with the gradkit model's Linear / Conv2d / BatchNorm layers, and the counts must agree.
   */
  nameMap?: Record<string, string>;
}

/** What the Keras weight import did: which layers were mapped, skipped or permuted, and notes. */
export interface KerasImportResult {
  /** [Keras layer name, gradkit module path] for each imported layer, in Keras order. */
  mapped: Array<[string, string]>;
  /** Weighted Keras layers not imported (only with a nameMap that leaves them out). */
  skipped: string[];
  /** Dense layers whose input rows were permuted for the NHWC → NCHW flatten order. */
  permutedForFlatten: string[];
  /** Notes, e.g. a BatchNorm epsilon carried over from Keras. */
  notes: string[];
}

interface KerasLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
}

/** Layers that hold no weights and do not change the channel count or layout. */
const PASSTHROUGH = new Set([
  'InputLayer', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'Dropout', 'SpatialDropout2D',
  'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'MaxPooling2D', 'AveragePooling2D', 'MaxPool2D', 'AvgPool2D',
  'ZeroPadding2D', 'Cropping2D', 'UpSampling2D',
]);
/** Weightless layers after which the activation is no longer a channels-last image. */
const UNSPATIAL = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'GlobalAvgPool2D', 'GlobalMaxPool2D']);
const WEIGHTED = new Set(['Dense', 'Conv2D', 'BatchNormalization']);

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The layer list of a Sequential or functional topology, in either tfjs or Keras nesting. */
function topologyLayers(topology: unknown): KerasLayer[] {
  if (!isObj(topology)) throw new GradkitError(OP, `modelTopology must be an object, got ${topology === null ? 'null' : typeof topology}`);
  // tensorflowjs_converter nests the model under model_config; tfjs' own save does not.
  const model = isObj(topology.model_config) ? topology.model_config : topology;
  const config = model.config;
  // Old Keras Sequential stores the layer list directly as config.
  const raw = Array.isArray(config) ? config : isObj(config) && Array.isArray(config.layers) ? config.layers : undefined;
  if (raw === undefined) {
    throw new GradkitError(OP, `modelTopology has no layer list (expected config.layers of a '${String(model.class_name ?? 'Sequential')}' model)`);
  }
  return raw.map((l, i) => {
    if (!isObj(l) || typeof l.class_name !== 'string') throw new GradkitError(OP, `modelTopology layer ${i} has no class_name`);
    const cfg = isObj(l.config) ? l.config : {};
    const name = typeof cfg.name === 'string' ? cfg.name : typeof l.name === 'string' ? l.name : `layer_${i}`;
    return { className: l.class_name, name, config: cfg };
  });
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** Decodes every weight of the manifest from the concatenated shards, checking the byte count. */
function decodeWeights(json: KerasModelJson, data: ArrayBuffer): Map<string, { shape: number[]; values: Float32Array }> {
  let specs: KerasWeightSpec[];
  if (Array.isArray(json.weightsManifest)) specs = json.weightsManifest.flatMap((g, i) => {
    if (!isObj(g) || !Array.isArray(g.weights)) throw new GradkitError(OP, `weightsManifest[${i}] has no weights list`);
    return g.weights;
  });
  else if (Array.isArray(json.weightSpecs)) specs = json.weightSpecs;
  else throw new GradkitError(OP, 'model.json has neither weightsManifest nor weightSpecs');
  if (!(data instanceof ArrayBuffer)) throw new GradkitError(OP, `weight data must be an ArrayBuffer, got ${data === null ? 'null' : typeof data}`);
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  let offset = 0;
  for (const s of specs) {
    if (!isObj(s) || typeof s.name !== 'string' || !Array.isArray(s.shape)) throw new GradkitError(OP, `malformed weight spec ${JSON.stringify(s)}`);
    if (s.quantization !== undefined) throw new GradkitError(OP, `weight '${s.name}' is quantized; only unquantized float32 weights are supported`);
    const size = BYTES[s.dtype];
    if (size === undefined) throw new GradkitError(OP, `weight '${s.name}' has dtype '${s.dtype}'; expected float32, int32 or bool`);
    if (!s.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new GradkitError(OP, `weight '${s.name}' has an invalid shape ${JSON.stringify(s.shape)}`);
    const n = s.shape.reduce((a, b) => a * b, 1);
    const end = offset + n * size;
    if (end > data.byteLength) {
      throw new GradkitError(OP, `the weight shards hold ${data.byteLength} bytes but the manifest needs ${end} up to weight '${s.name}' ${fmtShape(s.shape)} (truncated or missing shard?)`);
    }
    let values: Float32Array;
    if (s.dtype === 'float32') values = new Float32Array(data.slice(offset, end));
    else if (s.dtype === 'int32') values = Float32Array.from(new Int32Array(data.slice(offset, end)));
    else values = Float32Array.from(new Uint8Array(data, offset, n));
    out.set(s.name.replace(/:\d+$/, ''), { shape: s.shape, values });
    offset = end;
  }
  if (offset !== data.byteLength) {
    throw new GradkitError(OP, `the weight shards hold ${data.byteLength} bytes but the manifest describes ${offset}; the shards do not match this model.json`);
  }
  return out;
}

/** Finds `<layer>/<param>`, allowing scope prefixes such as 'sequential/conv2d/kernel'. */
function findWeight(weights: Map<string, { shape: number[]; values: Float32Array }>, layer: string, param: string): { shape: number[]; values: Float32Array } | undefined {
  const exact = weights.get(`${layer}/${param}`);
  if (exact !== undefined) return exact;
  for (const [k, v] of weights) if (k.endsWith(`/${layer}/${param}`)) return v;
  return undefined;
}

function isTarget(m: AnyModule): boolean {
  return m instanceof Linear || m instanceof Conv2d || m instanceof BatchNorm2d || m instanceof BatchNorm1d;
}

const kindOf = (m: AnyModule): string => m.constructor.name;
const expectedKind: Record<string, string> = { Dense: 'Linear', Conv2D: 'Conv2d', BatchNormalization: 'BatchNorm' };

/** Keras kernel [in, out] → [out, in]; with `channels` set, rows ordered (p, c) become columns (c, p). */
function denseWeight(k: Float32Array, nIn: number, nOut: number, channels: number | null): Float32Array {
  const w = new Float32Array(nIn * nOut);
  const hw = channels === null ? 0 : nIn / channels;
  for (let r = 0; r < nIn; r++) {
    const col = channels === null ? r : (r % channels) * hw + Math.floor(r / channels);
    for (let o = 0; o < nOut; o++) w[o * nIn + col] = k[r * nOut + o];
  }
  return w;
}

/** HWIO → OIHW. */
function convWeight(k: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const w = new Float32Array(k.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
    w[((o * ci + i) * kh + y) * kw + x] = k[((y * kw + x) * ci + i) * co + o];
  }
  return w;
}

/**
 * Imports the weights of a tfjs / Keras layers model into `model`, in place, all or nothing:
 * every Keras weight is found, converted and shape-checked before any value is assigned.
 *
 * ```ts
 * const json = JSON.parse(modelJsonText);
 * const { mapped } = io.importKerasWeights(net, json, concatenatedShards);
 * ```
 */
export function importKerasWeights(model: AnyModule, modelJson: KerasModelJson, weightData: ArrayBuffer, opts: KerasImportOptions = {}): KerasImportResult {
  if (model === null || typeof model !== 'object' || typeof model.namedModules !== 'function') {
    throw new GradkitError(OP, `expected an nn.Module, got ${model === null ? 'null' : typeof model}`);
  }
  if (!isObj(modelJson)) throw new GradkitError(OP, `expected the parsed model.json object, got ${modelJson === null ? 'null' : typeof modelJson}`);
  const layers = topologyLayers(modelJson.modelTopology);
  const weights = decodeWeights(modelJson, weightData);
  const modules = new Map([...model.namedModules()]);
  const targets = [...modules].filter(([, m]) => isTarget(m));

  // Walk the Keras layers, tracking the channel count of a channels-last image activation so a
  // Dense after Flatten knows how to reorder its input rows.
  const first = layers[0]?.config;
  const inShape = (first?.batch_input_shape ?? first?.batchInputShape ?? first?.batch_shape) as unknown;
  let channels: number | null = Array.isArray(inShape) && inShape.length === 4 && typeof inShape[3] === 'number' ? inShape[3] : null;
  let flattenedChannels: number | null = null;
  const weighted: Array<{ layer: KerasLayer; flattenChannels: number | null }> = [];
  for (const layer of layers) {
    const cls = layer.className;
    if (cls === 'Flatten') {
      flattenedChannels = layer.config.data_format === 'channels_first' ? null : channels;
      channels = null;
    } else if (cls === 'Conv2D') {
      if (layer.config.data_format === 'channels_first') channels = null;
      else channels = typeof layer.config.filters === 'number' ? layer.config.filters : null;
      weighted.push({ layer, flattenChannels: null });
    } else if (cls === 'Dense') {
      weighted.push({ layer, flattenChannels: flattenedChannels });
      flattenedChannels = null;
    } else if (cls === 'BatchNormalization') {
      weighted.push({ layer, flattenChannels: null });
    } else if (UNSPATIAL.has(cls)) {
      channels = null;
      flattenedChannels = null;
    } else if (!PASSTHROUGH.has(cls)) {
      throw new GradkitError(OP, `unsupported Keras layer type '${cls}' (layer '${layer.name}'); supported: ${[...WEIGHTED].join(', ')} and weightless ${['Flatten', ...PASSTHROUGH, ...UNSPATIAL].join(', ')}`);
    }
  }

  // Pair Keras layers with gradkit modules.
  const pairs: Array<{ layer: KerasLayer; flattenChannels: number | null; path: string; module: AnyModule }> = [];
  const skipped: string[] = [];
  if (opts.nameMap !== undefined) {
    const known = new Set(layers.map((l) => l.name));
    for (const k of Object.keys(opts.nameMap)) if (!known.has(k)) throw new GradkitError(OP, `nameMap names Keras layer '${k}', which the model.json does not have (layers: ${[...known].join(', ')})`);
    for (const w of weighted) {
      const path = opts.nameMap[w.layer.name];
      if (path === undefined) { skipped.push(w.layer.name); continue; }
      const m = modules.get(path);
      if (m === undefined) throw new GradkitError(OP, `nameMap maps Keras layer '${w.layer.name}' to '${path}', which is not a module of ${model.constructor.name}`);
      pairs.push({ ...w, path, module: m });
    }
  } else {
    if (weighted.length !== targets.length) {
      throw new GradkitError(OP, `the Keras model has ${weighted.length} weighted layers (${weighted.map((w) => `${w.layer.name}:${w.layer.className}`).join(', ')}) but ${model.constructor.name} has ${targets.length} Linear/Conv2d/BatchNorm layers (${targets.map(([p, m]) => `${p}:${kindOf(m)}`).join(', ')}); pass a nameMap to import a subset`);
    }
    weighted.forEach((w, i) => pairs.push({ ...w, path: targets[i][0], module: targets[i][1] }));
  }

  const dict = new Map<string, Tensor>();
  const notes: string[] = [];
  const permuted: string[] = [];
  const bnSettings: Array<{ module: AnyModule; eps: number; momentum: number | null }> = [];
  const prefix = (p: string): string => (p === '' ? '' : `${p}.`);
  const need = (layer: KerasLayer, param: string): { shape: number[]; values: Float32Array } => {
    const w = findWeight(weights, layer.name, param);
    if (w === undefined) throw new GradkitError(OP, `missing weight '${layer.name}/${param}' of ${layer.className} layer '${layer.name}' in the manifest (it has: ${[...weights.keys()].join(', ')})`);
    return w;
  };
  const put = (path: string, param: string, target: Tensor | null, layer: KerasLayer, kerasName: string, kerasShape: number[], values: Float32Array, shape: number[]): void => {
    if (target === null) throw new GradkitError(OP, `Keras layer '${layer.name}' has '${kerasName}' but gradkit module '${path}' has no ${param}`);
    if (!shapesEqual(shape, target.shape)) {
      throw new GradkitError(OP, `shape mismatch for Keras '${layer.name}/${kerasName}' ${fmtShape(kerasShape)} (→ ${fmtShape(shape)} in gradkit layout) vs gradkit '${prefix(path)}${param}' ${fmtShape(target.shape)}`);
    }
    dict.set(`${prefix(path)}${param}`, tensor(values, { shape, dtype: 'float32' }));
  };

  for (const { layer, flattenChannels, path, module: m } of pairs) {
    const want = expectedKind[layer.className];
    const useBias = layer.config.use_bias !== false;
    if (layer.className === 'Dense') {
      if (!(m instanceof Linear)) throw new GradkitError(OP, `Keras ${layer.className} layer '${layer.name}' maps to '${path}', a ${kindOf(m)}; expected a ${want}`);
      const k = need(layer, 'kernel');
      if (k.shape.length !== 2) throw new GradkitError(OP, `Keras '${layer.name}/kernel' has shape ${fmtShape(k.shape)}; expected [in, out]`);
      const [nIn, nOut] = k.shape;
      const perm = flattenChannels !== null && flattenChannels > 1 && nIn % flattenChannels === 0 ? flattenChannels : null;
      if (perm !== null) permuted.push(layer.name);
      put(path, 'weight', m.weight, layer, 'kernel', k.shape, denseWeight(k.values, nIn, nOut, perm), [nOut, nIn]);
      if (useBias) { const b = need(layer, 'bias'); put(path, 'bias', m.bias, layer, 'bias', b.shape, b.values, b.shape); }
      else if (m.bias !== null) throw new GradkitError(OP, `Keras '${layer.name}' has no bias (use_bias false) but '${path}' has one; build the Linear with bias: false`);
    } else if (layer.className === 'Conv2D') {
      if (!(m instanceof Conv2d)) throw new GradkitError(OP, `Keras ${layer.className} layer '${layer.name}' maps to '${path}', a ${kindOf(m)}; expected a ${want}`);
      const k = need(layer, 'kernel');
      if (k.shape.length !== 4) throw new GradkitError(OP, `Keras '${layer.name}/kernel' has shape ${fmtShape(k.shape)}; expected HWIO [kh, kw, in, out]`);
      const [kh, kw, ci, co] = k.shape;
      put(path, 'weight', m.weight, layer, 'kernel', k.shape, convWeight(k.values, k.shape), [co, ci, kh, kw]);
      if (useBias) { const b = need(layer, 'bias'); put(path, 'bias', m.bias, layer, 'bias', b.shape, b.values, b.shape); }
      else if (m.bias !== null) throw new GradkitError(OP, `Keras '${layer.name}' has no bias (use_bias false) but '${path}' has one; build the Conv2d with bias: false`);
    } else {
      if (!(m instanceof BatchNorm2d || m instanceof BatchNorm1d)) throw new GradkitError(OP, `Keras ${layer.className} layer '${layer.name}' maps to '${path}', a ${kindOf(m)}; expected a ${want}`);
      const scale = layer.config.scale !== false;
      const center = layer.config.center !== false;
      if (scale !== (m.weight !== null) || center !== (m.bias !== null)) {
        throw new GradkitError(OP, `Keras '${layer.name}' has scale=${scale}, center=${center} but '${path}' has affine=${m.affine}`);
      }
      if (scale) { const g = need(layer, 'gamma'); put(path, 'weight', m.weight, layer, 'gamma', g.shape, g.values, g.shape); }
      if (center) { const b = need(layer, 'beta'); put(path, 'bias', m.bias, layer, 'beta', b.shape, b.values, b.shape); }
      const mean = need(layer, 'moving_mean');
      const variance = need(layer, 'moving_variance');
      put(path, 'runningMean', m.runningMean, layer, 'moving_mean', mean.shape, mean.values, mean.shape);
      put(path, 'runningVar', m.runningVar, layer, 'moving_variance', variance.shape, variance.values, variance.shape);
      // Keras defaults to epsilon 1e-3 (gradkit/PyTorch: 1e-5); a different epsilon changes every
      // output, so it is carried over. Keras momentum weights the old statistics (0.99),
      // PyTorch-style momentum the new batch: m_gradkit = 1 − m_keras.
      const eps = typeof layer.config.epsilon === 'number' ? layer.config.epsilon : 1e-3;
      const momentum = typeof layer.config.momentum === 'number' ? 1 - layer.config.momentum : m.momentum;
      if (eps !== m.eps) notes.push(`${path}: eps ${m.eps} → ${eps} (Keras '${layer.name}' epsilon)`);
      bnSettings.push({ module: m, eps, momentum });
    }
  }

  // Everything converted and checked: assign.
  model.loadStateDict(dict, { strict: false });
  for (const { module, eps, momentum } of bnSettings) {
    // eps/momentum are readonly for users; an import replaces the layer's hyper-parameters with the source's.
    Object.assign(module, { eps, momentum });
  }
  return { mapped: pairs.map((p) => [p.layer.name, p.path]), skipped, permutedForFlatten: permuted, notes };
}

/** Joins the shard buffers into one ArrayBuffer (manifest order). */
export function concatShards(shards: ArrayLike<ArrayBuffer | Uint8Array>): ArrayBuffer {
  const parts = Array.from(shards, (s) => (s instanceof Uint8Array ? s : new Uint8Array(s)));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out.buffer;
}

/**
 * Reads `model.json` and its shards (paths relative to the json's folder) through a Storage
 * (nodeStorage() on Node) and imports them into `model`.
 */
export async function importKerasFrom(storage: Storage, modelJsonPath: string, model: AnyModule, opts: KerasImportOptions = {}): Promise<KerasImportResult> {
  const text = new TextDecoder().decode(await storage.read(modelJsonPath));
  let json: KerasModelJson;
  try {
    json = JSON.parse(text) as KerasModelJson;
  } catch (e) {
    throw new GradkitError(OP, `${modelJsonPath} is not valid JSON (${(e as Error).message})`);
  }
  if (!isObj(json) || !Array.isArray(json.weightsManifest)) throw new GradkitError(OP, `${modelJsonPath} has no weightsManifest`);
  const dir = modelJsonPath.includes('/') ? modelJsonPath.slice(0, modelJsonPath.lastIndexOf('/') + 1) : '';
  const shards: Uint8Array[] = [];
  for (const g of json.weightsManifest) {
    for (const p of g.paths ?? []) {
      if (!(await storage.exists(dir + p))) throw new GradkitError(OP, `weight shard '${dir + p}' named in ${modelJsonPath} does not exist`);
      shards.push(await storage.read(dir + p));
    }
  }
  return importKerasWeights(model, json, concatShards(shards), opts);
}
