import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, optim, losses, manualSeed, randn, randint, Random, type Tensor } from '../../src/index.js';
import { freeze, unfreeze, trainableParameters, isHeldInEval, select } from '../../src/transfer/index.js';
import { saveModel, loadModelWeights } from '../../src/io/index.js';
import { assertThrowsMsg } from '../helpers.js';

function cnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(),
    new nn.Conv2d(4, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(),
    new nn.GlobalAvgPool2d({ flatten: true }), new nn.Linear(4, 3),
  );
}

const snapshot = (ts: Iterable<[string, Tensor]>): Map<string, number[]> => new Map([...ts].map(([k, t]) => [k, [...t.dataSync()]]));

test('freeze: selectors by prefix, module, predicate and { upTo }', () => {
  manualSeed(1);
  const m = cnn();
  const names = (r: { parameters: [string, unknown][] }): string[] => r.parameters.map(([n]) => n);
  assert.deepEqual(names(select('t', m, '1')), ['1.weight', '1.bias']);
  assert.deepEqual(select('t', m, '1').modules.map(([n]) => n), ['1']);
  assert.deepEqual(names(select('t', m, '7.weight')), ['7.weight'], 'a prefix can name one parameter');
  assert.deepEqual(names(select('t', m, m.at(3))), ['3.weight', '3.bias']);
  assert.deepEqual(names(select('t', m, (n) => n === '0' || n === '4')), ['0.weight', '0.bias', '4.weight', '4.bias']);
  assert.deepEqual(names(select('t', m, { upTo: 2 })), ['0.weight', '0.bias', '1.weight', '1.bias']);
  assert.deepEqual(names(select('t', m, { upTo: -1 })), ['0.weight', '0.bias', '1.weight', '1.bias', '3.weight', '3.bias', '4.weight', '4.bias']);
  assert.deepEqual(names(select('t', m, { upTo: '3' })), ['0.weight', '0.bias', '1.weight', '1.bias']);
  assert.deepEqual(names(select('t', m, { upTo: 1, unit: 'layer' })), ['0.weight', '0.bias']);
  assert.deepEqual(names(select('t', m, { upTo: 0 })), [], '{ upTo: 0 } selects nothing, without error');
  // '1' must not match '10.x'-style names of a longer prefix: only exact or dotted continuation.
  const big = new nn.Sequential(...Array.from({ length: 11 }, () => new nn.Linear(2, 2)));
  assert.deepEqual(names(select('t', big, '1')), ['1.weight', '1.bias']);
});

test('freeze: selector errors name the problem', () => {
  const m = cnn();
  assertThrowsMsg(() => freeze(m, 'features'), /freeze/, /'features' matches nothing/, /children are 0, 1, 2/);
  assertThrowsMsg(() => freeze(m, new nn.Linear(2, 2)), /Linear\) is not part of this Sequential/);
  assertThrowsMsg(() => freeze(m, { upTo: 9 }), /between -8 and 8/);
  assertThrowsMsg(() => freeze(m, { upTo: 'head' }), /no child of that name; have 0, 1/);
  assertThrowsMsg(() => freeze(m, 3 as never), /selector must be/);
  assertThrowsMsg(() => freeze(m, '0', { batchNorm: 'off' as never }), /batchNorm must be 'eval' or 'train'/);
  assertThrowsMsg(() => freeze(null as never), /expected an nn.Module/);
});

test('freeze: Adam leaves frozen weights and frozen BatchNorm statistics bit-identical; the rest trains', () => {
  manualSeed(2);
  const model = cnn();
  const r = freeze(model, { upTo: 5 });
  assert.deepEqual(r.batchNorms, ['1', '4']);
  assert.equal(trainableParameters(model).length, 2);
  assert.equal(model.numParameters({ trainableOnly: true }), 4 * 3 + 3);
  model.train();
  const bn = model.at(1) as nn.BatchNorm2d;
  assert.equal(bn.training, false, 'model.train() does not wake a frozen BatchNorm');
  assert.equal(model.at(7).training, true);
  const frozenBefore = snapshot([...model.stateDict()].filter(([k]) => !k.startsWith('7.')));
  const headBefore = [...(model.at(7) as nn.Linear).weight.dataSync()];
  // All parameters go to the optimizer, as a user typically does; frozen ones must sit out.
  const opt = new optim.Adam(model.parameters(), { lr: 0.05, weightDecay: 0.01 });
  const rng = new Random(3);
  for (let step = 0; step < 3; step++) {
    const x = randn([4, 1, 5, 5], { rng });
    const y = randint(0, 3, [4], { rng });
    opt.zeroGrad();
    losses.crossEntropy(model.call(x), y).backward();
    assert.equal((model.at(0) as nn.Conv2d).weight.grad, null, 'no gradient is computed for a frozen weight');
    opt.step();
  }
  const frozenAfter = snapshot([...model.stateDict()].filter(([k]) => !k.startsWith('7.')));
  assert.deepEqual(frozenAfter, frozenBefore, 'weights, running mean/var and batch counter unchanged');
  assert.notDeepEqual([...(model.at(7) as nn.Linear).weight.dataSync()], headBefore, 'the head trained');
});

test('freeze: unfreeze restores training and the mode train()/eval() asked for meanwhile', () => {
  const model = cnn();
  const bn = model.at(1) as nn.BatchNorm2d;
  freeze(model, '1');
  assert.ok(isHeldInEval(bn));
  model.train();
  assert.equal(bn.training, false);
  const r = unfreeze(model, '1');
  assert.deepEqual(r.batchNorms, ['1']);
  assert.equal(bn.training, true, 'the model was put in train mode while held');
  assert.equal(bn.weight!.requiresGrad, true);
  freeze(model);
  model.eval();
  unfreeze(model);
  assert.equal(bn.training, false, 'the model was put in eval mode while held');
  model.train();
  assert.equal(bn.training, true, 'a released BatchNorm follows train() again');
  assert.ok(model.parameters().every((p) => p.requiresGrad));
});

test('freeze: batchNorm "train" keeps statistics adapting; frozen BN running stats move otherwise', () => {
  manualSeed(4);
  const model = cnn();
  freeze(model, { upTo: 2 }, { batchNorm: 'train' });
  model.train();
  const bn = model.at(1) as nn.BatchNorm2d;
  assert.equal(bn.training, true);
  const before = [...bn.runningMean!.dataSync()];
  model.call(randn([4, 1, 5, 5], { rng: new Random(5) }).add(3));
  assert.notDeepEqual([...bn.runningMean!.dataSync()], before, 'statistics adapted, as asked');
});

test('freeze: a frozen model still passes gradients to its input and to unfrozen earlier layers', () => {
  manualSeed(6);
  const model = cnn();
  freeze(model, '3');
  const x = randn([2, 1, 4, 4], { rng: new Random(7) });
  x.requiresGrad = true;
  model.call(x).sum().backward();
  assert.ok(x.grad !== null);
  assert.ok((model.at(0) as nn.Conv2d).weight.grad !== null, 'layer 0 (before the frozen layer) still learns');
  assert.equal((model.at(3) as nn.Conv2d).weight.grad, null);
});

test('freeze: held BatchNorms save and load normally', () => {
  manualSeed(8);
  const a = cnn();
  freeze(a, { upTo: 3 });
  a.train();
  a.call(randn([2, 1, 4, 4], { rng: new Random(9) }));
  const b = cnn();
  loadModelWeights(b, saveModel(a));
  a.eval();
  b.eval();
  const x = randn([2, 1, 4, 4], { rng: new Random(10) });
  assert.deepEqual([...b.call(x).dataSync()], [...a.call(x).dataSync()]);
  assert.match(a.toString(), /BatchNorm2d/);
});

test('freeze: AdamW (decoupled decay) and SGD with momentum also leave frozen weights bit-identical, even with a stale gradient', () => {
  for (const make of [
    (ps: ReturnType<nn.Sequential['parameters']>) => new optim.AdamW(ps, { lr: 0.1, weightDecay: 0.1 }),
    (ps: ReturnType<nn.Sequential['parameters']>) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }),
  ]) {
    manualSeed(12);
    const model = cnn();
    const opt = make(model.parameters());
    const rng = new Random(13);
    const stepOnce = (): void => {
      opt.zeroGrad();
      losses.crossEntropy(model.call(randn([4, 1, 5, 5], { rng })), randint(0, 3, [4], { rng })).backward();
      opt.step();
    };
    stepOnce(); // momentum/Adam state now exists for every parameter
    model.call(randn([4, 1, 5, 5], { rng })).sum().backward(); // leave gradients behind
    freeze(model, { upTo: 2 });
    const before = snapshot([...model.stateDict()].filter(([k]) => k.startsWith('0.') || k.startsWith('1.')));
    for (let i = 0; i < 3; i++) stepOnce();
    const after = snapshot([...model.stateDict()].filter(([k]) => k.startsWith('0.') || k.startsWith('1.')));
    assert.deepEqual(after, before, opt.name);
  }
});
