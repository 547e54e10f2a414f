/** Shared by the ONNX tests: export a model, run it in ONNX Runtime, compare with gradkit's eval forward. */
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { noGrad, randn, Random, type Tensor } from '../../src/index.js';
import type { AnyModule } from '../../src/nn/module.js';
import { exportOnnx, type ExportOnnxOptions } from '../../src/io/onnx/index.js';

/** Max |a − b| over two equally long arrays (NaN if either has a NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    m = Math.max(m, d);
  }
  return m;
}

/** Runs exported bytes in ONNX Runtime on one float32 input; returns the output values and dims. */
export async function runOrt(bytes: Uint8Array, x: Tensor, names: { input?: string; output?: string } = {}): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const input = new ort.Tensor('float32', Float32Array.from(x.dataSync()), [...x.shape]);
  const out = await session.run({ [names.input ?? 'input']: input });
  const y = out[names.output ?? 'output'];
  return { data: y.data as Float32Array, dims: y.dims };
}

export interface CompareResult {
  maxDiff: number;
  bytes: Uint8Array;
  expected: Tensor;
}

/**
 * Exports `model` with `inputShape` (default options otherwise), feeds ONNX Runtime and the
 * model (eval mode) the same seeded N(0, 1) input of `runShape` (default: inputShape), and returns
 * the largest absolute difference. Asserts the output shapes agree and the modes are restored.
 */
export async function compareWithOrt(model: AnyModule, inputShape: number[], opts: { runShape?: number[]; seed?: number; input?: Tensor; export?: Partial<ExportOnnxOptions> } = {}): Promise<CompareResult> {
  const modes = [...model.modules()].map((m) => m.training);
  const bytes = exportOnnx(model, { inputShape, ...opts.export });
  assert.deepEqual([...model.modules()].map((m) => m.training), modes, 'exportOnnx must leave every module in its train/eval mode');
  const x = opts.input ?? randn(opts.runShape ?? inputShape, { rng: new Random(opts.seed ?? 7) });
  const wasTraining = modes;
  model.eval();
  const expected = noGrad(() => model.call(x) as Tensor);
  [...model.modules()].forEach((m, i) => { m.training = wasTraining[i]; });
  const got = await runOrt(bytes, x, { input: opts.export?.inputName, output: opts.export?.outputName });
  assert.deepEqual([...got.dims], [...expected.shape], 'ONNX Runtime output shape');
  return { maxDiff: maxAbsDiff(got.data, expected.dataSync()), bytes, expected };
}

/**
 * Gives every norm layer random running statistics and affine parameters, and PReLU random
 * slopes, so the export is checked against non-default values (mean ≠ 0, var ≠ 1, γ ≠ 1, β ≠ 0).
 */
export function randomizeStats(model: AnyModule, seed = 3): void {
  const rng = new Random(seed);
  for (const [name, b] of model.namedBuffers()) {
    if (name.endsWith('runningMean')) b.assign(randn(b.shape, { rng, std: 0.5 }).dataSync());
    if (name.endsWith('runningVar')) b.assign(Float32Array.from(randn(b.shape, { rng }).dataSync(), (v) => 0.5 + Math.abs(v)));
  }
  for (const [name, p] of model.namedParameters()) {
    if (p.rank === 1 && /(^|\.)(weight|bias)$/.test(name) && !/conv|Conv/.test(name)) p.assign(randn(p.shape, { rng, std: 0.5, mean: name.endsWith('weight') ? 1 : 0 }).dataSync());
  }
}
