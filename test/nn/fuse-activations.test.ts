import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, expectClose, FLOAT, NEEDS_FLOAT64, values } from '../helpers.js';
import { testAllBackends } from '../ops/backends.js';

const { nn } = g;
type Dtype = 'float32' | 'float64';

/** Counts ReLU.forward calls while f runs (a fused layer never calls it). */
async function reluCalls(f: () => Promise<void>): Promise<number> {
  const proto = nn.ReLU.prototype;
  const original = proto.forward;
  let calls = 0;
  proto.forward = function (this: g.nn.ReLU, x: g.Tensor) {
    calls++;
    return original.call(this, x);
  };
  try {
    await f();
  } finally {
    proto.forward = original;
  }
  return calls;
}

/** Output, input gradient and parameter gradients of model(x) against a fixed random cotangent. */
async function gradsOf(model: g.nn.Module, x: g.Tensor) {
  model.zeroGrad();
  const xi = x.detach();
  xi.requiresGrad = true;
  const y = model.call(xi) as g.Tensor;
  y.mul(g.randn(y.shape, { seed: 5, dtype: y.dtype as Dtype })).sum().backward();
  return { y: await values(y), dx: await values(xi.grad!), params: await Promise.all(model.parameters().map((p) => values(p.grad!))) };
}

const MODELS = {
  'Linear → ReLU': {
    make: (dtype: Dtype) => new nn.Sequential(new nn.Linear(300, 64, { rng: new g.Random(1), dtype, biasInit: 0.01 }), new nn.ReLU(), new nn.Linear(64, 10, { rng: new g.Random(2), dtype })),
    shape: [70, 300], fused: 1,
  },
  'Conv2d → ReLU': {
    make: (dtype: Dtype) => new nn.Sequential(new nn.Conv2d(3, 8, 3, { rng: new g.Random(3), biasInit: 0.05, dtype }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(8 * 14 * 14, 4, { rng: new g.Random(4), dtype })),
    shape: [6, 3, 16, 16], fused: 1,
  },
  'Conv2d → ReLU → MaxPool2d': {
    make: (dtype: Dtype) => new nn.Sequential(
      new nn.Conv2d(2, 6, 3, { rng: new g.Random(6), biasInit: -0.02, dtype }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(6, 4, 3, { padding: 1, rng: new g.Random(7), biasInit: 0.1, dtype }), new nn.ReLU(), new nn.MaxPool2d(3, { stride: 2, padding: 1 }), new nn.Flatten()),
    shape: [5, 2, 19, 21], fused: 2,
  },
} as const;

for (const [name, spec] of Object.entries(MODELS)) {
  for (const dtype of ['float32', 'float64'] as const) {
    const title = `nn.fuse: ${name} (${dtype}) gives the outputs and gradients of the unfused chain, without calling ReLU`;
    // The float64 cases are about the float64 kernels, which a backend without float64 (webgpu) does not have.
    if (dtype === 'float64' && FLOAT === 'float32') {
      test(title, NEEDS_FLOAT64, () => {});
      continue;
    }
    testAllBackends(title, async () => {
      const model = spec.make(dtype);
      const x = g.randn([...spec.shape], { seed: 9, dtype });
      const relus = [...model].filter((m) => m instanceof nn.ReLU).length;
      let plain!: Awaited<ReturnType<typeof gradsOf>>;
      assert.equal(await reluCalls(async () => { plain = await gradsOf(model, x); }), relus, 'unfused: Sequential calls every ReLU');
      const params = model.parameters();
      const keys = [...model.stateDict().keys()];
      const { model: same, fused: count } = nn.fuse(model);
      assert.equal(same, model, 'fuses in place');
      assert.equal(count, spec.fused);
      assert.deepEqual([...model.stateDict().keys()], keys, 'state-dict keys unchanged');
      assert.ok(model.parameters().every((p, i) => p === params[i]), 'the same Parameter objects');
      let fused!: Awaited<ReturnType<typeof gradsOf>>;
      assert.equal(await reluCalls(async () => { fused = await gradsOf(model, x); }), 0, 'fused: no ReLU.forward call');
      assert.deepEqual(fused.y, plain.y, 'outputs bit for bit');
      assert.deepEqual(fused.dx, plain.dx, 'input gradient bit for bit');
      for (const [i, p] of params.entries()) {
        // Bias gradients are sums whose order may differ between the fused and the plain kernels.
        if (p.shape.length === 1) await expectClose(fused.params[i], plain.params[i], { atol: 1e-5, rtol: 1e-5, msg: `grad of parameter ${i}` });
        else assert.deepEqual(fused.params[i], plain.params[i], `grad of parameter ${i} bit for bit`);
      }
      assert.equal(nn.fuse(model).fused, 0, 'a second pass finds nothing left to fuse');
    });
  }
}

testAllBackends('Linear/Conv2d activation option equals the layer followed by ReLU (with and without bias)', async () => {
  const x = g.randn([7, 12], { seed: 2 });
  for (const bias of [true, false]) {
    const plain = new nn.Linear(12, 6, { rng: new g.Random(5), bias, biasInit: 0.1 });
    const fusedLin = new nn.Linear(12, 6, { rng: new g.Random(5), bias, biasInit: 0.1, activation: 'relu' });
    assert.deepEqual(await gradsOf(fusedLin, x), await gradsOf(new nn.Sequential(plain, new nn.ReLU()), x), `Linear bias=${bias}`);
  }
  const xi = g.randn([2, 3, 9, 9], { seed: 4 });
  const conv = new nn.Conv2d(3, 4, 3, { rng: new g.Random(8), activation: 'relu', maxPool: { kernelSize: 2 } });
  const ref = new nn.Sequential(new nn.Conv2d(3, 4, 3, { rng: new g.Random(8) }), new nn.ReLU(), new nn.MaxPool2d(2));
  assert.deepEqual((await gradsOf(conv, xi)).y, (await gradsOf(ref, xi)).y);
  assert.match(conv.toString(), /activation='relu', maxPool=\[2,2\]/);
  assertThrowsMsg(() => new nn.Linear(2, 2, { activation: 'tanh' as never }), /activation must be one of 'none', 'relu', got "tanh"/);
});

test('nn.fuse leaves hooked modules, layers without bias and subclasses alone; plain Sequential shows pre-activation outputs to hooks', async () => {
  const x = g.randn([5, 12], { seed: 2 });
  const lin = new nn.Linear(12, 6, { rng: new g.Random(5) });
  const relu = new nn.ReLU();
  const seen: g.Tensor[] = [];
  const remove = lin.registerForwardHook((_m, _i, out) => void seen.push(out as g.Tensor));
  const model = new nn.Sequential(lin, relu);
  assert.equal(nn.fuse(model).fused, 0, 'a hook on the Linear keeps it unfused');
  model.call(x);
  assert.ok(Math.min(...(await values(seen[0]))) < 0, 'the hook sees the pre-activation output (negative values)');
  remove();
  const removeRelu = relu.registerForwardHook(() => {});
  assert.equal(nn.fuse(model).fused, 0, 'a hook on the ReLU keeps the pair unfused');
  removeRelu();
  assert.equal(nn.fuse(new nn.Sequential(new nn.Linear(12, 6, { bias: false }), new nn.ReLU())).fused, 0, 'no bias to fuse');
  class Doubled extends nn.Linear {
    override forward(h: g.Tensor): g.Tensor { return super.forward(h).mul(2); }
  }
  assert.equal(nn.fuse(new nn.Sequential(new Doubled(12, 6), new nn.ReLU())).fused, 0, 'a Linear subclass is not fused');
  class MyRelu extends nn.ReLU {}
  assert.equal(nn.fuse(new nn.Sequential(new nn.Linear(12, 6), new MyRelu())).fused, 0, 'a ReLU subclass is not fused');
  class MyPool extends nn.MaxPool2d {}
  const conv = new nn.Sequential(new nn.Conv2d(3, 5, 3), new nn.ReLU(), new MyPool(2));
  assert.equal(nn.fuse(conv).fused, 1);
  assert.ok(conv.at(2) instanceof MyPool, 'conv + relu fuse, the pool subclass stays');
  assert.equal((conv.at(0) as g.nn.Conv2d).maxPool, null);
  assert.ok(conv.at(1) instanceof nn.FusedAway);
  assert.match(conv.toString(), /ReLU, fused into 0/);
});

test('nn.fuse reaches nested Sequentials; an optimizer made before keeps training the same parameters; state dicts load both ways', async () => {
  const make = () => g.zoo.mlp({ sizes: [20, 16, 8, 3] });
  g.manualSeed(1);
  const a = make();
  const opt = new g.optim.SGD(a.parameters(), { lr: 0.1, momentum: 0.9 });
  const before = a.stateDict();
  const wrapper = new nn.Sequential(a);
  assert.equal(nn.fuse(wrapper).fused, 2, 'both hidden Linear → ReLU pairs, inside the nested Sequential');
  const x = g.randn([4, 20], { seed: 3 });
  const w0 = await values(a.parameters()[0]);
  g.losses.crossEntropy(a.call(x), g.tensor([0, 1, 2, 0], { dtype: 'int32' })).backward();
  opt.step();
  assert.notDeepEqual(await values(a.parameters()[0]), w0, 'the optimizer still updates the fused model');
  // Unfused ← fused and fused ← unfused, strict (every key present, none extra).
  const b = make();
  b.loadStateDict(a.stateDict());
  assert.deepEqual(await values(b.call(x)), await values(a.call(x)), 'fused weights load into an unfused model');
  a.loadStateDict(before);
  assert.deepEqual([...a.stateDict().keys()], [...before.keys()]);
});

test('fuseBatchNorm refuses a layer that already applies its own activation', () => {
  const m = new nn.Sequential(new nn.Linear(4, 4, { activation: 'relu' }), new nn.BatchNorm1d(4)).eval();
  assertThrowsMsg(() => nn.fuseBatchNorm(m), /applies its own activation or pooling/);
});
