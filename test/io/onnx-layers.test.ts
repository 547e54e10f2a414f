/**
 * Every supported layer, exported on its own (or in a tiny model) and run by ONNX Runtime: the
 * outputs must match gradkit's eval forward within 1e-4 (max abs diff). Inputs are seeded N(0, 1)
 * (scaled where a branch needs large values); exports use batch 1 and run with batch 3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, zoo, manualSeed, Random, randn } from '../../src/index.js';
import type { AnyModule } from '../../src/nn/module.js';
import { compareWithOrt, randomizeStats } from './onnx-helpers.js';

interface Case {
  name: string;
  make: () => AnyModule;
  /** One sample's shape (no batch axis). */
  sample: number[];
  /** Input scale (default 1). */
  scale?: number;
}

const conv = (o: nn.Conv2dOptions & { k?: number; cin?: number; cout?: number } = {}): AnyModule => new nn.Conv2d(o.cin ?? 2, o.cout ?? 4, o.k ?? 3, o);

const CASES: Case[] = [
  { name: 'Linear (Gemm)', make: () => new nn.Linear(6, 5), sample: [6] },
  { name: 'Linear without bias', make: () => new nn.Linear(6, 5, { bias: false }), sample: [6] },
  { name: 'Linear on 3-D input (MatMul + Add)', make: () => new nn.Linear(4, 3), sample: [2, 4] },
  { name: 'Linear with weightNorm (the computed weight is exported)', make: () => nn.weightNorm(new nn.Linear(4, 3)), sample: [4] },
  { name: 'Conv2d with weightNorm', make: () => nn.weightNorm(new nn.Conv2d(2, 3, 3)), sample: [2, 5, 5] },
  { name: 'Conv2d 3x3 padding 1', make: () => conv({ padding: 1 }), sample: [2, 7, 7] },
  { name: 'Conv2d stride 2, padding [1, 0], no bias', make: () => conv({ stride: 2, padding: [1, 0], bias: false }), sample: [2, 9, 8] },
  { name: 'Conv2d dilation 2, stride [1, 2]', make: () => conv({ dilation: 2, stride: [1, 2], padding: 2 }), sample: [2, 9, 9] },
  { name: 'Conv2d groups 2', make: () => conv({ groups: 2, padding: 1 }), sample: [2, 6, 6] },
  { name: "Conv2d depthwise 'valid'", make: () => conv({ cin: 4, groups: 4, padding: 'valid' }), sample: [4, 6, 6] },
  { name: "Conv2d 'same' with an even kernel (asymmetric pads)", make: () => conv({ k: 4, padding: 'same' }), sample: [2, 7, 7] },
  { name: "Conv2d 'same' with dilation 2", make: () => conv({ k: 2, dilation: 2, padding: 'same' }), sample: [2, 6, 5] },
  { name: 'BatchNorm2d (running statistics)', make: () => new nn.BatchNorm2d(3, { eps: 1e-3 }), sample: [3, 4, 4] },
  { name: 'BatchNorm2d without affine', make: () => new nn.BatchNorm2d(3, { affine: false }), sample: [3, 4, 4] },
  { name: 'BatchNorm2d without running statistics (batch statistics in eval)', make: () => new nn.BatchNorm2d(3, { trackRunningStats: false }), sample: [3, 4, 4] },
  { name: 'BatchNorm1d on [N, C]', make: () => new nn.BatchNorm1d(5), sample: [5] },
  { name: 'BatchNorm1d on [N, C, L]', make: () => new nn.BatchNorm1d(3), sample: [3, 6] },
  { name: 'LayerNorm over the last axis', make: () => new nn.LayerNorm(6), sample: [6] },
  { name: 'LayerNorm over two axes, no affine', make: () => new nn.LayerNorm([3, 4], { elementwiseAffine: false }), sample: [2, 3, 4] },
  { name: 'GroupNorm', make: () => new nn.GroupNorm(2, 4), sample: [4, 3, 3] },
  { name: 'InstanceNorm2d', make: () => new nn.InstanceNorm2d(3), sample: [3, 4, 5] },
  { name: 'InstanceNorm2d with affine', make: () => new nn.InstanceNorm2d(3, { affine: true }), sample: [3, 4, 5] },
  { name: 'ReLU', make: () => new nn.ReLU(), sample: [3, 4] },
  { name: 'LeakyReLU', make: () => new nn.LeakyReLU(0.2), sample: [3, 4] },
  { name: 'PReLU (one slope)', make: () => new nn.PReLU({ init: 0.3 }), sample: [3, 4] },
  { name: 'PReLU (per channel)', make: () => new nn.PReLU({ numParameters: 3 }), sample: [3, 2, 2] },
  { name: 'ELU', make: () => new nn.ELU(0.7), sample: [3, 4] },
  { name: 'SELU', make: () => new nn.SELU(), sample: [3, 4] },
  { name: 'Sigmoid', make: () => new nn.Sigmoid(), sample: [3, 4] },
  { name: 'Tanh', make: () => new nn.Tanh(), sample: [3, 4] },
  { name: 'GELU (exact, erf)', make: () => new nn.GELU(), sample: [3, 4], scale: 3 },
  { name: 'GELU (tanh approximation)', make: () => new nn.GELU({ approximate: 'tanh' }), sample: [3, 4], scale: 3 },
  { name: 'SiLU', make: () => new nn.SiLU(), sample: [3, 4], scale: 3 },
  { name: 'Swish with β = 1.5', make: () => new nn.Swish({ beta: 1.5 }), sample: [3, 4], scale: 3 },
  { name: 'Swish with learnable β', make: () => new nn.Swish({ beta: 0.8, learnable: true }), sample: [3, 4], scale: 3 },
  { name: 'Softplus (β 2, threshold 5: both branches)', make: () => new nn.Softplus({ beta: 2, threshold: 5 }), sample: [4, 4], scale: 4 },
  { name: 'Softplus (defaults)', make: () => new nn.Softplus(), sample: [4, 4], scale: 8 },
  { name: 'Softmax (axis 1)', make: () => new nn.Softmax(1), sample: [4, 3] },
  { name: 'LogSoftmax', make: () => new nn.LogSoftmax(), sample: [5] },
  { name: 'Maxout', make: () => new nn.Maxout(4, 3, { k: 3 }), sample: [4] },
  { name: 'MaxPool2d 3x3 stride 2 padding 1', make: () => new nn.MaxPool2d(3, { stride: 2, padding: 1 }), sample: [2, 7, 7] },
  { name: 'MaxPool2d 2x2', make: () => new nn.MaxPool2d(2), sample: [2, 6, 5] },
  { name: 'AvgPool2d with padding (countIncludePad true)', make: () => new nn.AvgPool2d(3, { stride: 2, padding: 1 }), sample: [2, 7, 7] },
  { name: 'AvgPool2d with padding (countIncludePad false)', make: () => new nn.AvgPool2d([3, 2], { stride: [2, 1], padding: [1, 1], countIncludePad: false }), sample: [2, 7, 6] },
  { name: 'GlobalAvgPool2d (flatten)', make: () => new nn.GlobalAvgPool2d(), sample: [3, 4, 5] },
  { name: 'GlobalAvgPool2d (keep [N, C, 1, 1])', make: () => new nn.GlobalAvgPool2d({ flatten: false }), sample: [3, 4, 5] },
  { name: 'AdaptiveAvgPool2d to 1x1', make: () => new nn.AdaptiveAvgPool2d(1), sample: [3, 5, 5] },
  { name: 'AdaptiveAvgPool2d to 2x3 (even bins)', make: () => new nn.AdaptiveAvgPool2d([2, 3]), sample: [3, 4, 6] },
  { name: 'Flatten', make: () => new nn.Flatten(), sample: [2, 3, 4] },
  { name: 'Flatten axes 2..3 (Reshape)', make: () => new nn.Flatten(2, 3), sample: [2, 3, 4] },
  { name: 'Identity', make: () => new nn.Identity(), sample: [3] },
  { name: 'Dropout, AlphaDropout, GaussianNoise are the identity (model left in training mode)', make: () => new nn.Sequential(new nn.Linear(4, 4), new nn.Dropout({ p: 0.5 }), new nn.AlphaDropout({ p: 0.3 }), new nn.GaussianNoise({ std: 1 })).train(), sample: [4] },
  { name: 'DropConnect uses the full weight in eval', make: () => new nn.DropConnect(new nn.Linear(4, 3), { p: 0.5 }).train(), sample: [4] },
  { name: 'Residual (identity shortcut)', make: () => new nn.Residual(new nn.Sequential(new nn.Linear(5, 5), new nn.Tanh(), new nn.Linear(5, 5))), sample: [5] },
  { name: 'Residual (projection shortcut)', make: () => new nn.Residual(new nn.Sequential(conv({ padding: 1 }), new nn.ReLU()), conv({ k: 1 })), sample: [2, 5, 5] },
  { name: 'BasicBlock (identity shortcut)', make: () => new nn.BasicBlock(3, 3), sample: [3, 6, 6] },
  { name: 'BasicBlock (stride 2, projection shortcut)', make: () => new nn.BasicBlock(3, 5, { stride: 2 }), sample: [3, 7, 7] },
  { name: 'ResNet (small stem)', make: () => nn.resnet({ inChannels: 1, numClasses: 4, widths: [4, 8], blocksPerStage: 1 }), sample: [1, 8, 8] },
  { name: 'ResNet (imagenet stem)', make: () => nn.resnet({ inChannels: 3, numClasses: 5, widths: [4, 6], blocksPerStage: [1, 2], stem: 'imagenet' }), sample: [3, 16, 16] },
  { name: 'zoo.vgg with BatchNorm and dropout', make: () => zoo.vgg({ inChannels: 1, numClasses: 3, inputSize: 8, widths: [4, 6], batchNorm: true, hidden: [8] }), sample: [1, 8, 8] },
  { name: 'zoo InceptionBlock (Concat)', make: () => new zoo.InceptionBlock(3, { ch1x1: 2, ch3x3Reduce: 2, ch3x3: 3, ch5x5Reduce: 1, ch5x5: 2, poolProj: 2 }), sample: [3, 6, 6] },
  { name: 'zoo InceptionBlock with BatchNorm', make: () => new zoo.InceptionBlock(3, { ch1x1: 2, ch3x3Reduce: 2, ch3x3: 3, ch5x5Reduce: 1, ch5x5: 2, poolProj: 2, batchNorm: true }), sample: [3, 6, 6] },
  { name: 'zoo.mlp with BatchNorm1d, GELU and dropout', make: () => zoo.mlp({ sizes: [6, 8, 8, 3], activation: 'gelu', batchNorm: true, dropout: 0.2 }), sample: [6] },
];

const diffs: string[] = [];

for (const [i, c] of CASES.entries()) {
  test(`ONNX Runtime matches gradkit: ${c.name}`, async () => {
    manualSeed(100 + i);
    const model = c.make();
    randomizeStats(model, 200 + i);
    const x = randn([3, ...c.sample], { rng: new Random(300 + i), std: c.scale ?? 1 });
    const { maxDiff } = await compareWithOrt(model, [1, ...c.sample], { input: x });
    diffs.push(`${maxDiff.toExponential(2)}  ${c.name}`);
    assert.ok(maxDiff < 1e-4, `${c.name}: max abs diff ${maxDiff}`);
  });
}

test('opset 18 (reduce axes as inputs): Maxout, batch-statistics BatchNorm, LayerNorm', async () => {
  manualSeed(5);
  const model = new nn.Sequential(new nn.Maxout(4, 6), new nn.BatchNorm1d(6, { trackRunningStats: false }), new nn.LayerNorm(6));
  randomizeStats(model);
  // Exported at batch 2: batch statistics need more than one sample.
  const { maxDiff } = await compareWithOrt(model, [2, 4], { runShape: [4, 4], export: { opsetVersion: 18 } });
  diffs.push(`${maxDiff.toExponential(2)}  opset 18 model`);
  assert.ok(maxDiff < 1e-4, `max abs diff ${maxDiff}`);
});

test('report the max abs differences', () => {
  // Printed for the record (node --test shows it as a diagnostic); the assertions are above.
  console.log(`max |onnxruntime − gradkit| per case:\n${diffs.join('\n')}`);
  assert.equal(diffs.length, CASES.length + 1);
});
