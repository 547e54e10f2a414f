/**
 * exportOnnx: a gradkit model → ONNX bytes that ONNX Runtime (or any ONNX consumer) can serve.
 *
 * How: the model runs once, in eval mode and without gradients, on zeros of `inputShape`, with
 * forward hooks recording every module call's output shape. Then the module tree is walked from
 * the root, each module translated by the converter registered for its class (registry.ts);
 * containers convert their children in forward order, so the recorded shapes line up with the
 * calls. Weights become float32 initializers named by their state-dict keys.
 */
import { GradkitError, fmtShape } from '../../core/errors.js';
import { noGrad } from '../../autograd/engine.js';
import { zeros } from '../../tensor/creation.js';
import { Tensor } from '../../tensor/tensor.js';
import type { AnyModule } from '../../nn/module.js';
import { GraphBuilder, type OnnxAttrValue } from './graph.js';
import { findOnnxConverter, type OnnxConverterContext, type OnnxValue } from './registry.js';
import { encodeOnnxModel, OnnxDataType, type OnnxDimension, type OnnxModel, type OnnxValueInfo } from './schema.js';
import './converters/index.js';
import { readSync } from '../../tensor/host.js';

const OP = 'exportOnnx';

/** Opsets whose operators the converters use with one meaning (17 introduced LayerNormalization). */
export const ONNX_OPSETS = [17, 18, 19, 20, 21] as const;

/** The ONNX IR version that goes with each opset (from the ONNX versioning table). */
const IR_VERSION: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

/** Options of `exportOnnx`: the input shape, dynamic batch, opset, graph names and model description. */
export interface ExportOnnxOptions {
  /** Shape of one input batch, e.g. [1, 1, 28, 28]; the model runs once on zeros of this shape. */
  inputShape: readonly number[];
  /** Axis 0 of the input and output is the symbolic 'batch' (default true), so any batch size runs. */
  dynamicBatch?: boolean;
  /** ONNX opset, 17 to 21 (default 17). */
  opsetVersion?: number;
  /** Graph input name (default 'input'). */
  inputName?: string;
  /** Graph output name (default 'output'). */
  outputName?: string;
  /** ModelProto.producer_name (default 'gradkit'). */
  producerName?: string;
  /** ModelProto.doc_string. */
  docString?: string;
}

/** Where a module sits in the tree, for messages: `module 'stages.0.1' (BasicBlock)`. */
export function describeModule(path: string, module: AnyModule): string {
  return `${path === '' ? 'the root module' : `module '${path}'`} (${module.constructor.name})`;
}

function checkOptions(opts: ExportOnnxOptions): Required<Omit<ExportOnnxOptions, 'docString'>> & { docString?: string } {
  if (opts === null || typeof opts !== 'object') throw new GradkitError(OP, 'needs options { inputShape: [batch, ...] }');
  const shape = opts.inputShape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new GradkitError(OP, `inputShape must be a non-empty list of positive whole numbers including the batch axis (e.g. [1, 1, 28, 28]), got ${JSON.stringify(shape)}`);
  }
  const opset = opts.opsetVersion ?? 17;
  if (!(ONNX_OPSETS as readonly number[]).includes(opset)) throw new GradkitError(OP, `opsetVersion must be one of ${ONNX_OPSETS.join(', ')}, got ${String(opset)}`);
  const inputName = opts.inputName ?? 'input';
  const outputName = opts.outputName ?? 'output';
  for (const [k, v] of [['inputName', inputName], ['outputName', outputName]] as const) {
    if (typeof v !== 'string' || v === '') throw new GradkitError(OP, `${k} must be a non-empty string, got ${JSON.stringify(v)}`);
  }
  if (inputName === outputName) throw new GradkitError(OP, `inputName and outputName must differ, both are '${inputName}'`);
  return { inputShape: [...shape], dynamicBatch: opts.dynamicBatch ?? true, opsetVersion: opset, inputName, outputName, producerName: opts.producerName ?? 'gradkit', docString: opts.docString };
}

/** Output shapes of every module call, in call order, from one eval-mode run on zeros. */
function recordShapes(model: AnyModule, inputShape: number[]): { calls: Map<AnyModule, (readonly number[] | null)[]>; output: Tensor } {
  const calls = new Map<AnyModule, (readonly number[] | null)[]>();
  const names = new Map<AnyModule, string>();
  for (const [name, m] of model.namedModules()) names.set(m, name);
  const stack: AnyModule[] = [];
  let failedIn: AnyModule | null = null;
  const removers: (() => void)[] = [];
  for (const m of names.keys()) {
    removers.push(m.registerForwardPreHook(() => void stack.push(m)));
    removers.push(m.registerForwardHook((_m, _in, out) => {
      stack.pop();
      const list = calls.get(m) ?? [];
      list.push(out instanceof Tensor ? [...out.shape] : null);
      calls.set(m, list);
    }));
  }
  const dtype = model.parameters().some((p) => p.dtype === 'float64') ? 'float64' : 'float32';
  try {
    const output = noGrad(() => {
      try {
        return model.call(zeros(inputShape, { dtype }));
      } catch (e) {
        failedIn = stack[stack.length - 1] ?? model;
        throw e;
      }
    });
    if (!(output instanceof Tensor)) throw new GradkitError(OP, `the model returned ${output === null ? 'null' : typeof output}, not a Tensor; only single-tensor outputs can be exported`);
    return { calls, output };
  } catch (e) {
    if (failedIn === null || !(e instanceof Error)) throw e;
    // A module without a converter is the more basic problem (e.g. an LSTM fed images): report it first.
    for (const [path, m] of model.namedModules()) {
      if (findOnnxConverter(m) === undefined) throw unsupported(path, m);
    }
    const where = describeModule(names.get(failedIn) ?? '', failedIn);
    throw new GradkitError(OP, `the model cannot run on inputShape ${fmtShape(inputShape)} (failed in ${where}): ${e.message}`);
  } finally {
    for (const r of removers) r();
  }
}

function unsupported(path: string, m: AnyModule): GradkitError {
  return new GradkitError(OP, `no ONNX converter for ${path === '' ? 'the root module' : `module '${path}'`} (${m.constructor.name}); register one with registerOnnxConverter`);
}

/**
 * Exports a model to ONNX (protobuf bytes) for ONNX Runtime and other ONNX consumers.
 *
 * The graph computes the model's eval-mode forward: BatchNorm uses its running statistics,
 * Dropout, AlphaDropout, GaussianNoise and DropConnect are the identity. The model's train/eval
 * flags are restored afterwards, module by module. Weights are float32 initializers named by
 * their state-dict keys (`stem.0.weight`); a float64 model is exported as float32 (its weights
 * are rounded, and the graph's input and output are float32). Preprocessing is not part of the
 * graph: feed the model's inputs as gradkit would receive them.
 *
 * ```ts
 * const bytes = exportOnnx(model, { inputShape: [1, 1, 28, 28] });   // batch axis symbolic (from 'gradkit/onnx')
 * const session = await ort.InferenceSession.create(bytes);            // onnxruntime-node / -web
 * ```
 */
export function exportOnnx(model: AnyModule, options: ExportOnnxOptions): Uint8Array {
  return encodeOnnxModel(buildOnnxModel(model, options));
}

/** The ModelProto as a plain object (what exportOnnx encodes). */
export function buildOnnxModel(model: AnyModule, options: ExportOnnxOptions): OnnxModel {
  if (model === null || typeof model !== 'object' || typeof (model as AnyModule).namedModules !== 'function') {
    throw new GradkitError(OP, `expected an nn.Module, got ${model === null ? 'null' : typeof model}`);
  }
  const opts = checkOptions(options);
  const modes = [...model.modules()].map((m) => [m, m.training] as const);
  model.eval();
  try {
    const { calls, output } = recordShapes(model, [...opts.inputShape]);
    const graph = new GraphBuilder();
    graph.uniqueName(opts.inputName);
    graph.uniqueName(opts.outputName);
    const cursor = new Map<AnyModule, number>();
    const tensorNames = new Map<Tensor, string>();

    const convert = (module: AnyModule, input: OnnxValue, path: string): OnnxValue => {
      const converter = findOnnxConverter(module);
      if (converter === undefined) throw unsupported(path, module);
      const recorded = calls.get(module) ?? [];
      const k = cursor.get(module) ?? 0;
      const shape = recorded[k];
      if (shape === undefined) throw new GradkitError(OP, `${describeModule(path, module)} is converted more often than the model called it (${recorded.length} calls on inputShape ${fmtShape(opts.inputShape)})`);
      if (shape === null) throw new GradkitError(OP, `${describeModule(path, module)} does not return a single Tensor; it cannot be exported`);
      cursor.set(module, k + 1);
      const base = path === '' ? 'model' : path;
      const ctx: OnnxConverterContext = {
        path,
        outputShape: shape,
        opsetVersion: opts.opsetVersion,
        dynamicBatch: opts.dynamicBatch,
        convert: (child, x, name) => convert(child, x, path === '' ? name : `${path}.${name}`),
        node: (opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttrValue> = {}) => graph.node(opType, inputs, attrs, `${base}/${opType}`),
        weight: (t, field) => {
          let name = tensorNames.get(t);
          if (name === undefined) {
            name = graph.floatInitializer(path === '' ? field : `${path}.${field}`, t.shape, readSync(t));
            tensorNames.set(t, name);
          }
          return name;
        },
        initializer: (field, dims, values) => graph.floatInitializer(path === '' ? field : `${path}.${field}`, dims, values),
        scalar: (v) => graph.scalar(v),
        int64s: (v) => graph.int64s(v),
        fail: (message) => {
          throw new GradkitError(OP, `${describeModule(path, module)}: ${message}`);
        },
      };
      const name = converter(module, input, ctx);
      if (typeof name !== 'string' || name === '') throw new GradkitError(OP, `the converter for ${describeModule(path, module)} must return the output value's name, got ${JSON.stringify(name)}`);
      return { name, shape };
    };

    const result = convert(model, { name: opts.inputName, shape: opts.inputShape }, '');
    if (graph.isNodeOutput(result.name)) graph.rename(result.name, opts.outputName);
    else graph.rename(graph.node('Identity', [result.name], {}, 'model/Identity'), opts.outputName); // the model returns its input
    const dims = (shape: readonly number[]): OnnxDimension[] => shape.map((d, i) => (i === 0 && opts.dynamicBatch ? { dimParam: 'batch' } : { dimValue: d }));
    const valueInfo = (name: string, shape: readonly number[]): OnnxValueInfo => ({ name, type: { tensorType: { elemType: OnnxDataType.FLOAT, shape: { dim: dims(shape) } } } });
    return {
      irVersion: IR_VERSION[opts.opsetVersion],
      producerName: opts.producerName,
      producerVersion: '0.1.0',
      ...(opts.docString === undefined ? {} : { docString: opts.docString }),
      opsetImport: [{ domain: '', version: opts.opsetVersion }],
      graph: {
        name: model.constructor.name,
        node: graph.nodes,
        initializer: graph.initializers,
        input: [valueInfo(opts.inputName, opts.inputShape)],
        output: [valueInfo(opts.outputName, output.shape)],
      },
    };
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
}
