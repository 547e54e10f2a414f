import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, manualSeed, randn, Random, type Tensor } from '../../src/index.js';
import type { AnyModule } from '../../src/nn/index.js';
import { vgg, VGG, InceptionBlock, mlp, resnet18, resnet34, resnet } from '../../src/zoo/index.js';
import { assertGrad, assertThrowsMsg } from '../helpers.js';

/** Every parameter gets a gradient with at least one non-zero entry. */
function assertGradsFlow(model: AnyModule, x: Tensor): void {
  model.zeroGrad();
  const y = model.call(x) as Tensor;
  // A loss with varied weights, so no symmetry makes a gradient vanish.
  y.mul(randn(y.shape as number[], { rng: new Random(99) })).sum().backward();
  for (const [name, p] of model.namedParameters()) {
    assert.ok(p.grad !== null, `${name} has no gradient`);
    assert.ok([...p.grad.dataSync()].some((g) => g !== 0), `${name} has an all-zero gradient`);
  }
}

test('vgg: shapes and a hand-counted parameter total, with and without BatchNorm', () => {
  manualSeed(1);
  const net = vgg({ inChannels: 1, numClasses: 10, inputSize: 8, widths: [4, 8], convsPerBlock: [1, 2], hidden: [16], dropout: 0 });
  // conv 1→4: 4·1·9+4 = 40; conv 4→8: 8·4·9+8 = 296; conv 8→8: 8·8·9+8 = 584;
  // two pools: 8×8 → 2×2, so 8·2·2 = 32 features; fc 32→16: 528; fc 16→10: 170.
  assert.equal(net.numParameters(), 40 + 296 + 584 + 528 + 170);
  assert.deepEqual(net.call(randn([3, 1, 8, 8])).shape, [3, 10]);
  assert.equal((net.features.at(1) as nn.Sequential).length, 5, 'block 1: conv, relu, conv, relu, pool');
  const bn = vgg({ inChannels: 1, numClasses: 10, inputSize: 8, widths: [4, 8], convsPerBlock: [1, 2], hidden: [16], batchNorm: true });
  // Convs lose their bias (36 + 288 + 576), BatchNorms add γ, β: 2·4 + 2·8 + 2·8.
  assert.equal(bn.numParameters(), 36 + 288 + 576 + 40 + 528 + 170);
  const rect = vgg({ inChannels: 3, numClasses: 2, inputSize: [8, 12], widths: [4, 8, 16], convsPerBlock: 1, hidden: [] });
  // 8×12 → 1×1 after three halvings: 16·1·1 features straight into the output layer.
  assert.equal((rect.classifier.at(0) as nn.Linear).inFeatures, 16);
  assert.deepEqual(rect.call(randn([2, 3, 8, 12])).shape, [2, 2]);
  assert.ok(net instanceof VGG);
});

test('vgg: gradients reach every parameter', () => {
  manualSeed(2);
  const net = vgg({ inChannels: 2, numClasses: 3, inputSize: 8, widths: [4, 8], convsPerBlock: 2, hidden: [8], dropout: 0, batchNorm: true });
  assertGradsFlow(net, randn([4, 2, 8, 8], { rng: new Random(3) }));
});

test('vgg: option errors', () => {
  assertThrowsMsg(() => vgg({ inChannels: 1, numClasses: 10, inputSize: 4, widths: [4, 8, 16] }), /vgg/, /3 blocks halve 4×4 inputs to nothing/);
  assertThrowsMsg(() => vgg({ inChannels: 1, numClasses: 10 } as never), /inputSize .* is required/);
  assertThrowsMsg(() => vgg({ inChannels: 1, numClasses: 10, inputSize: 8, widths: [4, 8], convsPerBlock: [1] }), /convsPerBlock lists 1 blocks but widths lists 2/);
  assertThrowsMsg(() => vgg({ inChannels: 1, numClasses: 10, inputSize: 8, dropout: 1 }), /p must be in \[0, 1\)/);
  const net = vgg({ inChannels: 1, numClasses: 10, inputSize: 8, widths: [4] });
  assertThrowsMsg(() => net.call(randn([1, 1, 9, 9])), /VGG/, /expected images \[N, 1, 8, 8\], got \[1, 1, 9, 9\]/);
});

test('InceptionBlock: concatenated branch channels, same resolution, hand-counted parameters, gradients', () => {
  manualSeed(4);
  const opts = { ch1x1: 2, ch3x3Reduce: 2, ch3x3: 4, ch5x5Reduce: 1, ch5x5: 2, poolProj: 2 };
  const block = new InceptionBlock(3, opts);
  assert.equal(block.outChannels, 10);
  assert.deepEqual(block.call(randn([2, 3, 7, 5])).shape, [2, 10, 7, 5]);
  // 1×1: 3·2+2 = 8; 3×3 branch: 3·2+2 + 2·4·9+4 = 84; 5×5 branch: 3·1+1 + 1·2·25+2 = 56; pool proj: 3·2+2 = 8.
  assert.equal(block.numParameters(), 8 + 84 + 56 + 8);
  // The first channels are the 1×1 branch on its own.
  const x = randn([1, 3, 4, 4], { rng: new Random(5) });
  const first = [...block.call(x).dataSync()].slice(0, 2 * 16);
  assert.deepEqual(first, [...block.branch1.call(x).dataSync()]);
  assertGradsFlow(block, randn([2, 3, 5, 5], { rng: new Random(6) }));
  const bnBlock = new InceptionBlock(3, { ...opts, batchNorm: true, dtype: 'float64' });
  assert.equal(bnBlock.numParameters(), 6 + (6 + 72) + (3 + 50) + 6 + 2 * (2 + 2 + 4 + 1 + 2 + 2));
  bnBlock.eval();
  assertGrad((t) => bnBlock.call(t).square().sum(), [randn([1, 3, 4, 4], { rng: new Random(7), dtype: 'float64' })]);
  assertThrowsMsg(() => new InceptionBlock(3, { ...opts, ch5x5: 0 }), /InceptionBlock/, /ch5x5 must be a positive integer/);
  assertThrowsMsg(() => block.call(randn([1, 4, 4, 4])), /expected input \[N, 3, H, W\]/);
});

test('mlp: layer layout, parameter counts, activations, gradients', () => {
  manualSeed(8);
  const net = mlp({ sizes: [5, 8, 3] });
  assert.equal(net.length, 3);
  assert.ok(net.at(1) instanceof nn.ReLU);
  assert.equal(net.numParameters(), 5 * 8 + 8 + 8 * 3 + 3);
  assert.deepEqual(net.call(randn([4, 5])).shape, [4, 3]);
  const full = mlp({ sizes: [5, 8, 6, 3], activation: 'tanh', dropout: 0.2, batchNorm: true });
  assert.deepEqual([...full].map((m) => m.constructor.name), ['Linear', 'BatchNorm1d', 'Tanh', 'Dropout', 'Linear', 'BatchNorm1d', 'Tanh', 'Dropout', 'Linear']);
  // Hidden Linears have no bias before a BatchNorm: 40 + 16 + 48 + 12 + (18 + 3).
  assert.equal(full.numParameters(), 40 + 16 + 48 + 12 + 18 + 3);
  assert.ok(mlp({ sizes: [2, 2, 2], activation: () => new nn.LeakyReLU(0.2) }).at(1) instanceof nn.LeakyReLU);
  assertGradsFlow(mlp({ sizes: [5, 8, 6, 3], activation: 'gelu', batchNorm: true }), randn([6, 5], { rng: new Random(9) }));
  assertThrowsMsg(() => mlp({ sizes: [5] }), /mlp/, /at least the input and output/);
  assertThrowsMsg(() => mlp({ sizes: [5, 3], activation: 'swish' as never }), /unknown activation 'swish'/);
  assertThrowsMsg(() => mlp({ sizes: [5, 0, 3] }), /sizes\[i\] must be a positive integer/);
});

/** Parameter count of a basic-block ResNet with the 'small' stem, written out from the layer list. */
function resnetParams(inC: number, widths: number[], blocks: number[], classes: number): number {
  let n = inC * widths[0] * 9 + 2 * widths[0];
  let cin = widths[0];
  widths.forEach((w, s) => {
    for (let b = 0; b < blocks[s]; b++) {
      n += cin * w * 9 + 2 * w + w * w * 9 + 2 * w;
      if (cin !== w || (s > 0 && b === 0)) n += cin * w + 2 * w;
      cin = w;
    }
  });
  return n + cin * classes + classes;
}

test('resnet18/34 layouts: block counts, parameters, shapes, gradients', () => {
  manualSeed(10);
  const r18 = resnet18({ inChannels: 3, numClasses: 5, baseWidth: 4 });
  const blocks = (r: AnyModule): number => [...r.modules()].filter((m) => m instanceof nn.BasicBlock).length;
  assert.equal(blocks(r18), 8);
  assert.equal(r18.numParameters(), resnetParams(3, [4, 8, 16, 32], [2, 2, 2, 2], 5));
  assert.deepEqual(r18.call(randn([2, 3, 16, 16])).shape, [2, 5]);
  const r34 = resnet34({ inChannels: 1, numClasses: 2, baseWidth: 2 });
  assert.equal(blocks(r34), 16);
  assert.equal(r34.numParameters(), resnetParams(1, [2, 4, 8, 16], [3, 4, 6, 3], 2));
  assert.equal(resnet({ inChannels: 1, numClasses: 2 }).constructor.name, 'ResNet');
  assertGradsFlow(resnet18({ inChannels: 1, numClasses: 3, baseWidth: 2 }), randn([4, 1, 8, 8], { rng: new Random(11) }));
  assertThrowsMsg(() => resnet18({ inChannels: 1, numClasses: 2, baseWidth: 0 }), /resnet18/, /baseWidth must be a positive integer/);
});
