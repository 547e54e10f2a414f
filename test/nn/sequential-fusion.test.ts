import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertClose } from '../helpers.js';

const { nn } = g;

/** Counts ReLU.forward calls while f runs (a fused pair never calls it). */
function reluCalls(f: () => void): number {
  const proto = nn.ReLU.prototype;
  const original = proto.forward;
  let calls = 0;
  proto.forward = function (this: g.nn.ReLU, x: g.Tensor) {
    calls++;
    return original.call(this, x);
  };
  try {
    f();
  } finally {
    proto.forward = original;
  }
  return calls;
}

function gradsOf(model: g.nn.Sequential, x: g.Tensor, forward: (h: g.Tensor) => g.Tensor) {
  model.zeroGrad();
  const xi = x.detach();
  xi.requiresGrad = true;
  const y = forward(xi);
  y.mul(g.randn(y.shape, { seed: 5 })).sum().backward();
  return { y: Array.from(y.dataSync()), dx: Array.from(xi.grad!.dataSync()), params: model.parameters().map((p) => Array.from(p.grad!.dataSync())) };
}

const chained = (model: g.nn.Sequential) => (h: g.Tensor) => {
  for (const m of model) h = m.call(h) as g.Tensor;
  return h;
};

for (const [name, make, shape] of [
  ['Linear → ReLU', () => new nn.Sequential(new nn.Linear(300, 64, { rng: new g.Random(1) }), new nn.ReLU(), new nn.Linear(64, 10, { rng: new g.Random(2) })), [70, 300]],
  ['Conv2d → ReLU', () => new nn.Sequential(new nn.Conv2d(3, 8, 3, { rng: new g.Random(3), biasInit: 0.05 }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(8 * 14 * 14, 4, { rng: new g.Random(4) })), [6, 3, 16, 16]],
  ['Conv2d → ReLU → MaxPool2d', () => new nn.Sequential(new nn.Conv2d(2, 6, 3, { rng: new g.Random(6), biasInit: -0.02 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Conv2d(6, 4, 3, { padding: 1, rng: new g.Random(7), biasInit: 0.1 }), new nn.ReLU(), new nn.MaxPool2d(3, { stride: 2, padding: 1 }), new nn.Flatten()), [5, 2, 19, 21]],
] as const) {
  test(`Sequential fuses ${name} (one biasAct kernel): the same outputs and input/weight gradients as the layer-by-layer chain`, () => {
    const model = (make as () => g.nn.Sequential)();
    const x = g.randn(shape as unknown as number[], { seed: 9 });
    let fused!: ReturnType<typeof gradsOf>;
    assert.equal(reluCalls(() => { fused = gradsOf(model, x, (h) => model.call(h)); }), 0, 'ReLU.forward is not called: the pair ran fused');
    let plain!: ReturnType<typeof gradsOf>;
    const relus = [...model].filter((m) => m instanceof nn.ReLU).length;
    assert.equal(reluCalls(() => { plain = gradsOf(model, x, chained(model)); }), relus);
    assert.deepEqual(fused.y, plain.y, 'outputs bit for bit');
    assert.deepEqual(fused.dx, plain.dx, 'input gradient bit for bit');
    model.parameters().forEach((p, i) => {
      // Bias gradients are sums whose order may differ between the fused and the plain kernels.
      if (p.shape.length === 1) assertClose(fused.params[i], plain.params[i], { atol: 1e-5, rtol: 1e-5, msg: `grad of parameter ${i}` });
      else assert.deepEqual(fused.params[i], plain.params[i], `grad of parameter ${i} bit for bit`);
    });
  });
}

test('Sequential does not fuse when a hook must see the calls, for a layer without bias, or a subclass', () => {
  const x = g.randn([5, 12], { seed: 2 });
  const lin = new nn.Linear(12, 6, { rng: new g.Random(5) });
  const relu = new nn.ReLU();
  const model = new nn.Sequential(lin, relu);
  const seen: string[] = [];
  const remove = relu.registerForwardHook(() => void seen.push('relu'));
  assert.equal(reluCalls(() => model.call(x)), 1, 'a hook on the ReLU keeps the call');
  assert.deepEqual(seen, ['relu']);
  remove();
  const removeLin = lin.registerForwardHook((_m, _i, out) => void seen.push(`linear ${(out as g.Tensor).shape.join('x')}`));
  assert.equal(reluCalls(() => model.call(x)), 1, 'a hook on the Linear sees its own (pre-activation) output');
  assert.deepEqual(seen, ['relu', 'linear 5x6']);
  removeLin();
  assert.equal(reluCalls(() => model.call(x)), 0, 'no hooks: fused');

  const noBias = new nn.Sequential(new nn.Linear(12, 6, { bias: false, rng: new g.Random(5) }), new nn.ReLU());
  assert.equal(reluCalls(() => noBias.call(x)), 1, 'no bias to fuse');

  class Doubled extends nn.Linear {
    override forward(h: g.Tensor): g.Tensor { return super.forward(h).mul(2); }
  }
  const sub = new nn.Sequential(new Doubled(12, 6, { rng: new g.Random(5) }), new nn.ReLU());
  let y!: g.Tensor;
  assert.equal(reluCalls(() => { y = sub.call(x); }), 1, 'a subclass (its own forward) is not fused');
  assertClose(y, g.relu(lin.call(x).mul(2)).dataSync());

  class Leaky extends nn.ReLU {}
  assert.equal(reluCalls(() => new nn.Sequential(lin, new Leaky()).call(x)), 1, 'a ReLU subclass is not fused');
});

test('Sequential: Conv2d → ReLU → MaxPool2d pools before the bias and relu, with the same values; hooks or a subclass keep the plain path', () => {
  const conv = new nn.Conv2d(3, 5, 3, { rng: new g.Random(8), biasInit: 0.01 });
  const pool = new nn.MaxPool2d(2);
  const model = new nn.Sequential(conv, new nn.ReLU(), pool);
  const x = g.randn([4, 3, 12, 12], { seed: 3 });
  let poolCalls = 0;
  const remove = pool.registerForwardPreHook(() => void poolCalls++);
  const hooked = model.call(x);
  assert.equal(poolCalls, 1, 'a hook on the pool sees its call');
  remove();
  let fused!: g.Tensor;
  assert.equal(reluCalls(() => { fused = model.call(x); }), 0, 'the triple ran fused');
  assert.deepEqual(Array.from(fused.dataSync()), Array.from(hooked.dataSync()), 'pool-first gives the same values bit for bit');
  assert.deepEqual(fused.shape, [4, 5, 5, 5]);
  class MyPool extends nn.MaxPool2d {}
  const sub = new nn.Sequential(conv, new nn.ReLU(), new MyPool(2));
  let y!: g.Tensor;
  assert.equal(reluCalls(() => { y = sub.call(x); }), 0, 'conv + relu still fuse');
  assert.deepEqual(Array.from(y.dataSync()), Array.from(hooked.dataSync()));
});
