import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../src/index.js';
import { assertClose, assertThrowsMsg } from './helpers.js';

test('backward accumulates into leaves and a value used twice gets both contributions', () => {
  const x = g.tensor([2, 3], { requiresGrad: true });
  const y = x.mul(x).add(x).sum(); // d/dx (x² + x) = 2x + 1
  y.backward();
  assertClose(x.grad!, [5, 7]);
  x.mul(3).sum().backward(); // accumulates
  assertClose(x.grad!, [8, 10]);
});

test('seed gradient for non-scalar outputs; errors name the problem', () => {
  const x = g.tensor([1, 2, 3], { requiresGrad: true });
  const y = x.mul(2);
  assertThrowsMsg(() => y.backward(), /one-element output/, /\[3\]/);
  y.backward(g.tensor([1, 10, 100]), { retainGraph: true });
  assertClose(x.grad!, [2, 20, 200]);
  assertThrowsMsg(() => y.backward(g.tensor([1, 2])), /seed gradient has shape \[2\]/);
  assertThrowsMsg(() => g.tensor([1]).backward(), /does not require grad/);
});

test('running backward twice without retainGraph is a clear error', () => {
  const x = g.tensor([1, 2], { requiresGrad: true });
  const y = x.exp().sum();
  y.backward();
  assertThrowsMsg(() => y.backward(), /second time/);
});

test('noGrad records nothing; detach cuts the graph', () => {
  const x = g.tensor([1, 2], { requiresGrad: true });
  const y = g.noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  const z = x.detach().mul(2);
  assert.equal(z.requiresGrad, false);
  const w = x.mul(x.detach()).sum();
  w.backward();
  assertClose(x.grad!, [1, 2]); // the detached factor is a constant
});

test('gradients are only kept for leaves that need them (and retainGrad tensors)', () => {
  const a = g.tensor([1, 2], { requiresGrad: true });
  const b = g.tensor([3, 4]);
  const mid = a.mul(b);
  const kept = a.add(1).retainGrad();
  mid.add(kept).sum().backward();
  assert.equal(b.grad, null);
  assert.equal(mid.grad, null);
  assertClose(kept.grad!, [1, 1]);
  assertClose(a.grad!, [4, 5]);
});

test('grad and valueAndGrad do not touch .grad', () => {
  const f = (x: g.Tensor, y: g.Tensor) => x.mul(y).sum();
  const x = g.tensor([1, 2], { requiresGrad: true });
  const y = g.tensor([3, 4]);
  const [gx, gy] = g.grad(f)(x, y);
  assertClose(gx, [3, 4]);
  assertClose(gy, [1, 2]);
  assert.equal(x.grad, null);
  const { value, grads } = g.valueAndGrad(f, [1])(x, y);
  assert.equal(value.item(), 11);
  assert.equal(grads.length, 1);
  assertClose(grads[0], [1, 2]);
});

test('leaf gradients do not share buffers (in-place edits of one grad leave the other alone)', () => {
  const x = g.tensor([1, 2], { requiresGrad: true });
  const y = g.tensor([3, 4], { requiresGrad: true });
  x.add(y).sum().backward();
  const edited = x.grad!.dataSync();
  edited[0] = 99;
  x.grad!.assign(edited);
  assertClose(x.grad!, [99, 1]);
  assertClose(y.grad!, [1, 1]);
});

test('requiresGrad only on float tensors', () => {
  assertThrowsMsg(() => g.tensor([1], { dtype: 'int32', requiresGrad: true }), /only float tensors/);
});

test('deep graphs do not overflow the stack', () => {
  const x = g.tensor([1], { requiresGrad: true });
  let y = x;
  for (let i = 0; i < 20000; i++) y = y.add(0);
  y.sum().backward();
  assertClose(x.grad!, [1]);
});

test('a tensor used in float32 and float64 branches accumulates one float32 gradient', () => {
  const x = g.tensor([1, 2], { requiresGrad: true });
  const y = x.cast('float64').mul(3).sum().add(x.square().sum());
  assert.equal(y.dtype, 'float64');
  y.backward();
  assert.equal(x.grad!.dtype, 'float32');
  assertClose(x.grad!, [3 + 2, 3 + 4]);
});

test('retainGraph lets backward run twice and gradients add up', () => {
  const x = g.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
  const y = x.exp().sum();
  y.backward(undefined, { retainGraph: true });
  y.backward();
  assertClose(x.grad!, [2 * Math.E, 2 * Math.E ** 2, 2 * Math.E ** 3], { atol: 1e-12 });
});

test('empty tensors and 0-d tensors flow through backward', () => {
  const e = g.zeros([0, 3], { requiresGrad: true });
  e.sum().backward();
  assert.deepEqual(e.grad!.shape, [0, 3]);
  const s = g.scalar(2, { dtype: 'float64', requiresGrad: true });
  s.mul(s).mul(g.tensor([1, 2], { dtype: 'float64' })).sum().backward();
  assertClose(s.grad!, [12]);
});

test('gradCheck catches a wrong gradient rule and names where it is', () => {
  // Value x², but the graph only carries (x − x₀)·x₀, whose gradient is x (the true one is 2x).
  const wrong = (x: g.Tensor) => g.square(x).detach().add(g.sub(x, x.detach()).mul(x.detach()));
  const r = g.gradCheck(wrong, [g.tensor([1, 2, 3], { dtype: 'float64' })]);
  assert.equal(r.ok, false);
  assert.match(r.summary, /FAILED/);
  assert.ok(r.worst !== null && r.worst.input === 0);
  assert.ok(g.gradCheck((x) => x.square(), [g.tensor([1, 2, 3])]).ok);
});

test('gradCheck validates its options and its inputs', () => {
  const x = g.tensor([1, 2]);
  assertThrowsMsg(() => g.gradCheck((t) => t.exp(), [x], { eps: 0 }), /^gradCheck:/, /eps must be a finite number > 0, got 0/);
  assertThrowsMsg(() => g.gradCheck((t) => t.exp(), [x], { atol: NaN }), /^gradCheck:/, /atol=NaN/);
  assertThrowsMsg(() => g.gradCheck((t) => t.exp(), [x], { maxElementsPerInput: 0 }), /^gradCheck:/, /maxElementsPerInput/);
  assertThrowsMsg(() => g.gradCheck((t) => t, [g.tensor([1], { dtype: 'int32' })]), /^gradCheck:/, /no float input/);
  // A capped check looks at exactly that many elements.
  assert.equal(g.gradCheck((t) => t.exp(), [g.randn([10], { seed: 1 })], { maxElementsPerInput: 3 }).checked, 3);
});

test('grad/valueAndGrad reject bad argnums and non-tensor arguments by name', () => {
  const f = (x: g.Tensor) => x.sum();
  assertThrowsMsg(() => g.grad(f, [1])(g.tensor([1])), /^valueAndGrad:/, /argnums entry 1/, /0\.\.0/);
  assertThrowsMsg(() => g.valueAndGrad(f)(3 as unknown as g.Tensor), /^valueAndGrad:/, /argument 0 must be a Tensor, got number/);
  assertThrowsMsg(() => g.grad((x: g.Tensor) => x.mul(2))(g.tensor([1, 2])), /one-element output/);
});
