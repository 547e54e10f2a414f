import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { BasicBlock, Residual, ResNet, resnet } from '../../src/nn/residual.js';
import { BatchNorm2d } from '../../src/nn/normalization.js';
import { assertThrowsMsg, expectClose, FLOAT, values } from '../helpers.js';
import { expectModuleGrad } from './seq-helpers.js';

const { nn } = g;
const f64 = (shape: number[], seed: number): g.Tensor => g.randn(shape, { dtype: FLOAT, seed });

test('Residual: y = block(x) + x by default, block(x) + shortcut(x) when given', async () => {
  const block = new nn.Linear(3, 3, { dtype: FLOAT, rng: new g.Random(1) });
  const x = f64([2, 3], 2);
  const r = new Residual(block);
  const bx = await block.call(x).data();
  const xs = await x.data();
  await expectClose(r.call(x), Array.from(bx, (v, i) => v + xs[i]), { atol: 1e-15 });
  const proj = new nn.Linear(3, 3, { dtype: FLOAT, rng: new g.Random(3) });
  const px = await proj.call(x).data();
  await expectClose(new Residual(block, proj).call(x), Array.from(bx, (v, i) => v + px[i]), { atol: 1e-15 });
  // A shortcut that changes the width makes a block with a different output size legal.
  const wide = new Residual(new nn.Linear(3, 5, { dtype: FLOAT }), new nn.Linear(3, 5, { dtype: FLOAT }));
  assert.deepEqual(wide.call(x).shape, [2, 5]);
  assert.deepEqual([...r.namedParameters()].map(([n]) => n), ['block.weight', 'block.bias']);
  assert.equal(new Residual(block, proj).numParameters(), 24);
});

test('Residual: a clear error when the branches differ in shape; gradient through both branches', async () => {
  const r = new Residual(new nn.Linear(3, 4));
  assertThrowsMsg(() => r.call(g.zeros([2, 3])), /Residual/, /block output \[2, 4\]/, /identity shortcut \(the input\) \[2, 3\]/, /projection shortcut/);
  const r2 = new Residual(new nn.Linear(3, 4), new nn.Linear(3, 2));
  assertThrowsMsg(() => r2.call(g.zeros([2, 3])), /block output \[2, 4\] and shortcut \[2, 2\]/);
  assertThrowsMsg(() => new Residual({} as never), /block must be a Module/);
  const m = new Residual(new nn.Sequential(new nn.Linear(3, 3), new nn.Tanh(), new nn.Linear(3, 3)), new nn.Linear(3, 3));
  await expectModuleGrad(m, [f64([2, 3], 4)], (a) => m.call(a));
});

/** BatchNorm in eval mode from its own buffers, written out: (t − μ)/√(σ² + ε)·γ + β. */
function bnEval(t: g.Tensor, bn: BatchNorm2d): g.Tensor {
  const c = [1, bn.numFeatures, 1, 1];
  return t.sub(bn.runningMean!.reshape(c)).div(bn.runningVar!.add(bn.eps).sqrt().reshape(c)).mul(bn.weight!.reshape(c)).add(bn.bias!.reshape(c));
}

/** Non-trivial running statistics and affine parameters, so the test sees every BN term. */
function randomizeBn(bn: BatchNorm2d, seed: number): void {
  const n = bn.numFeatures;
  const rng = new g.Random(seed);
  bn.runningMean!.assign(Array.from({ length: n }, () => rng.uniform(-0.5, 0.5)));
  bn.runningVar!.assign(Array.from({ length: n }, () => rng.uniform(0.5, 2)));
  bn.weight!.assign(Array.from({ length: n }, () => rng.uniform(0.5, 1.5)));
  bn.bias!.assign(Array.from({ length: n }, () => rng.uniform(-0.2, 0.2)));
}

test('BasicBlock (eval) equals conv-BN-ReLU-conv-BN + shortcut, ReLU, written with plain ops', async () => {
  const x = f64([2, 3, 5, 5], 10);
  for (const [cout, stride] of [[3, 1], [4, 2], [4, 1]] as const) {
    const b = new BasicBlock(3, cout, { stride, dtype: FLOAT, rng: new g.Random(11) });
    randomizeBn(b.bn1, 1);
    randomizeBn(b.bn2, 2);
    if (b.shortcut) randomizeBn(b.shortcut.at(1) as BatchNorm2d, 3);
    b.eval();
    const h = bnEval(g.conv2d(x, b.conv1.weight, null, { stride, padding: 1 }), b.bn1).relu();
    const f = bnEval(g.conv2d(h, b.conv2.weight, null, { padding: 1 }), b.bn2);
    const s = b.shortcut === null ? x : bnEval(g.conv2d(x, (b.shortcut.at(0) as g.nn.Conv2d).weight, null, { stride }), b.shortcut.at(1) as BatchNorm2d);
    const y = b.call(x);
    const side = stride === 2 ? 3 : 5;
    assert.deepEqual(y.shape, [2, cout, side, side]);
    await expectClose(y, await values(f.add(s).relu()), { atol: 1e-12, msg: `cout=${cout} stride=${stride}` });
    // The projection exists exactly when the shape changes.
    assert.equal(b.shortcut === null, cout === 3 && stride === 1);
  }
});

test('BasicBlock: shapes, parameter count, no conv biases, zero-init residual starts as relu(x)', async () => {
  const b = new BasicBlock(4, 8, { stride: 2 });
  assert.deepEqual(b.call(g.randn([2, 4, 7, 7], { seed: 20 })).shape, [2, 8, 4, 4]);
  // conv1 + bn1 + conv2 + bn2 + (conv1×1 + bn)
  assert.equal(b.numParameters(), 9 * 4 * 8 + 16 + 9 * 8 * 8 + 16 + 4 * 8 + 16);
  assert.equal(b.conv1.bias, null);
  assert.deepEqual([...b.namedParameters()].map(([n]) => n), [
    'conv1.weight', 'bn1.weight', 'bn1.bias', 'conv2.weight', 'bn2.weight', 'bn2.bias', 'shortcut.0.weight', 'shortcut.1.weight', 'shortcut.1.bias',
  ]);
  const id = new BasicBlock(3, 3, { zeroInitResidual: true, dtype: FLOAT });
  const x = f64([2, 3, 4, 4], 21);
  await expectClose(id.call(x), await values(x.relu()), { atol: 1e-15 });
  await expectClose(id.eval().call(x), await values(x.relu()), { atol: 1e-15 });
  assertThrowsMsg(() => b.call(g.zeros([2, 3, 7, 7])), /BasicBlock/, /\[N, 4, H, W\]/, /\[2, 3, 7, 7\]/);
  assertThrowsMsg(() => new BasicBlock(4, 8, { stride: 0 }), /stride must be a positive integer/);
});

test('BasicBlock gradients w.r.t. input and every parameter, in training (batch stats) and eval (gradCheck, float64)', async () => {
  const x = f64([2, 2, 4, 4], 30);
  const b = new BasicBlock(2, 3, { stride: 2, rng: new g.Random(31) });
  await expectModuleGrad(b, [x], (a) => b.call(a), { maxElementsPerInput: 24 });
  const e = new BasicBlock(2, 2, { rng: new g.Random(32) });
  e.to(FLOAT);
  randomizeBn(e.bn1, 4);
  randomizeBn(e.bn2, 5);
  e.eval();
  await expectModuleGrad(e, [x], (a) => e.call(a), { maxElementsPerInput: 24 });
});

test('resnet builder: output shape, parameter count, stage layout, imagenet stem', async () => {
  const m = resnet({ inChannels: 3, numClasses: 10, widths: [4, 8, 16], blocksPerStage: [1, 2, 1], rng: new g.Random(40) });
  assert.ok(m instanceof ResNet);
  const y = m.call(g.randn([2, 3, 8, 8], { seed: 41 }));
  assert.deepEqual(y.shape, [2, 10]);
  const block = (cin: number, cout: number): number => 9 * cin * cout + 2 * cout + 9 * cout * cout + 2 * cout + (cin !== cout ? cin * cout + 2 * cout : 0);
  const expected = (9 * 3 * 4 + 2 * 4) // stem conv + BN
    + block(4, 4) // stage 0
    + block(4, 8) + block(8, 8) // stage 1
    + block(8, 16) // stage 2
    + 16 * 10 + 10; // head
  assert.equal(m.numParameters(), expected);
  // Resolution halves at the start of every stage after the first: 8 → 8 → 4 → 2.
  const shapes: number[][] = [];
  for (const stage of m.stages) stage.registerForwardHook((_m, _i, out: g.Tensor) => void shapes.push([...out.shape]));
  m.call(g.randn([1, 3, 8, 8], { seed: 42 }));
  assert.deepEqual(shapes, [[1, 4, 8, 8], [1, 8, 4, 4], [1, 16, 2, 2]]);
  assert.ok([...m.namedParameters()].some(([n]) => n === 'stages.1.0.shortcut.0.weight'));
  assert.ok(![...m.namedParameters()].some(([n]) => n.startsWith('stages.1.1.shortcut')));
  // Defaults: three stages 16/32/64 of two blocks.
  const d = resnet({ inChannels: 1, numClasses: 3 });
  assert.deepEqual([...d.stages].map((s) => (s as g.nn.Sequential).length), [2, 2, 2]);
  assert.equal(d.fc.inFeatures, 64);
  // The ImageNet stem divides the resolution by 4 before the stages.
  const big = resnet({ inChannels: 3, numClasses: 5, widths: [4, 8], blocksPerStage: 1, stem: 'imagenet', rng: new g.Random(43) });
  const seen: number[][] = [];
  big.stem.registerForwardHook((_m, _i, out: g.Tensor) => void seen.push([...out.shape]));
  assert.deepEqual(big.call(g.randn([1, 3, 32, 32], { seed: 44 })).shape, [1, 5]);
  assert.deepEqual(seen, [[1, 4, 8, 8]]);
});

test('resnet trains end to end: every parameter gets a gradient; eval is deterministic', async () => {
  const m = resnet({ inChannels: 1, numClasses: 3, widths: [2, 4], blocksPerStage: 1, rng: new g.Random(50) });
  const x = g.randn([4, 1, 6, 6], { seed: 51 });
  m.call(x).logSoftmax().mean().neg().backward();
  for (const [name, p] of m.namedParameters()) assert.ok(p.grad !== null && (await p.grad.data()).some((v) => v !== 0), `${name} has no gradient`);
  m.eval();
  await expectClose(m.call(x), await values(m.call(x)), { atol: 0 });
  // BatchNorm running statistics were updated by the training step.
  assert.ok((await (m.stem.at(1) as BatchNorm2d).runningMean!.data()).some((v) => v !== 0));
});

test('resnet builder errors', async () => {
  assertThrowsMsg(() => resnet({ inChannels: 3, numClasses: 10, widths: [8, 16], blocksPerStage: [1, 1, 1] }), /blocksPerStage lists 3 stages but widths lists 2/);
  assertThrowsMsg(() => resnet({ inChannels: 3, numClasses: 10, widths: [] }), /at least one stage/);
  assertThrowsMsg(() => resnet({ inChannels: 0, numClasses: 10 }), /inChannels must be a positive integer/);
  assertThrowsMsg(() => resnet({ inChannels: 3, numClasses: 10, stem: 'huge' as never }), /stem must be 'small' or 'imagenet'/);
  const m = resnet({ inChannels: 3, numClasses: 2, widths: [2], blocksPerStage: 1 });
  assertThrowsMsg(() => m.call(g.zeros([1, 1, 4, 4])), /ResNet/, /\[N, 3, H, W\]/, /\[1, 1, 4, 4\]/);
});
