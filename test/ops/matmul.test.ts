import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertClose, assertGrad, assertThrowsMsg, flat } from '../helpers.js';
import { testAllBackends } from './backends.js';

const f64 = { dtype: 'float64' } as const;
const any = (seed: number, shape: number[]) => g.randn(shape, { seed, ...f64 });

/** The definition, one output element at a time, on nested arrays: an oracle sharing nothing with the kernel. */
function naiveMatmul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((acc, v, q) => acc + v * b[q][j], 0)));
}

testAllBackends('matmul 2-D: hand case and against the naive definition', () => {
  const a = g.tensor([[1, 2], [3, 4], [5, 6]]);
  const b = g.tensor([[1, 0, -1], [2, 1, 0]]);
  assert.deepEqual(g.matmul(a, b).toArray(), [[5, 2, -1], [11, 4, -3], [17, 6, -5]]);
  assert.deepEqual(a.matmul(b).shape, [3, 3]);
  const x = any(1, [4, 5]);
  const y = any(2, [5, 3]);
  assertClose(g.matmul(x, y), flat(naiveMatmul(x.toArray() as number[][], y.toArray() as number[][])), { atol: 1e-12 });
  // Transposed (non-contiguous) operands.
  assertClose(g.matmul(y.transpose(), x.transpose()), flat(naiveMatmul(y.T.toArray() as number[][], x.T.toArray() as number[][])), { atol: 1e-12 });
});

testAllBackends('matmul 1-D cases: vec·mat, mat·vec, vec·vec (0-d)', () => {
  const m = g.tensor([[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(g.matmul(g.tensor([1, 0, 2]), m).toArray(), [11, 14]);
  assert.deepEqual(g.matmul(m, g.tensor([1, -1])).toArray(), [-1, -1, -1]);
  const dot = g.matmul(g.tensor([1, 2, 3]), g.tensor([4, 5, 6]));
  assert.deepEqual(dot.shape, []);
  assert.equal(dot.item(), 32);
  // A 1-D operand with a batched one: the vector broadcasts over the batch.
  const batch = g.arange(12).reshape([2, 3, 2]);
  assert.deepEqual(g.matmul(g.tensor([1, 1, 1]), batch).toArray(), [[6, 9], [24, 27]]);
  assert.deepEqual(g.matmul(batch, g.tensor([1, -1])).toArray(), [[-1, -1, -1], [-1, -1, -1]]);
});

testAllBackends('matmul batched and broadcasting over leading axes', () => {
  const a = any(3, [2, 3, 4]);
  const b = any(4, [2, 4, 5]);
  const y = g.matmul(a, b);
  assert.deepEqual(y.shape, [2, 3, 5]);
  const arr = a.toArray() as number[][][];
  const brr = b.toArray() as number[][][];
  assertClose(y, flat([0, 1].map((t) => naiveMatmul(arr[t], brr[t]))), { atol: 1e-12 });
  // [2,1,3,4] @ [3,4,2] → [2,3,3,2]; batch (i, j) pairs a[i,0] with b[j].
  const p = any(5, [2, 1, 3, 4]);
  const q = any(6, [3, 4, 2]);
  const r = g.matmul(p, q);
  assert.deepEqual(r.shape, [2, 3, 3, 2]);
  const prr = p.toArray() as number[][][][];
  const qrr = q.toArray() as number[][][];
  const expected = [0, 1].flatMap((i) => [0, 1, 2].map((j) => naiveMatmul(prr[i][0], qrr[j])));
  assertClose(r, flat(expected), { atol: 1e-12 });
  assertClose(g.bmmOp(a, b), y.dataSync(), { atol: 0 });
  assertClose(g.bmm(a, b), y.dataSync(), { atol: 0 });
  // A 2-D right operand broadcasts to every batch.
  const s = any(7, [4, 2]);
  assertClose(g.matmul(a, s), flat([0, 1].map((t) => naiveMatmul(arr[t], s.toArray() as number[][]))), { atol: 1e-12 });
  // Empty dimensions give empty or zero results, as in NumPy.
  assert.deepEqual(g.matmul(g.zeros([0, 3]), g.zeros([3, 2])).shape, [0, 2]);
  assert.deepEqual(g.matmul(g.zeros([2, 0]), g.zeros([0, 2])).toArray(), [[0, 0], [0, 0]]);
});

testAllBackends('matmul gradients: 2-D, 1-D, batched, broadcast batches, transposed inputs', () => {
  const cases: [number[], number[]][] = [
    [[3, 4], [4, 2]],
    [[4], [4, 2]],
    [[3, 4], [4]],
    [[4], [4]],
    [[2, 3, 4], [2, 4, 2]],
    [[2, 3, 4], [4, 2]],
    [[3, 4], [2, 4, 2]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[1, 3, 4], [2, 4, 2]],
    [[4], [2, 4, 3]],
  ];
  cases.forEach(([sa, sb], i) => assertGrad(g.matmul, [any(10 + i, sa), any(30 + i, sb)], { seed: i }));
  assertGrad((a, b) => g.matmul(a.transpose(), b.transpose()), [any(50, [4, 3]), any(51, [2, 4])]);
  assertGrad((a, b) => g.matmul(a.slice([0, 1], [3, 5]), b.permute([2, 0, 1])), [any(52, [3, 5]), any(53, [4, 2, 2])]);
});

testAllBackends('matmul of float32 with float64 computes in float64 and still reaches both inputs', () => {
  const a = g.tensor([[1, 2]], { requiresGrad: true });
  const b = g.tensor([[3], [4]], { ...f64, requiresGrad: true });
  const y = g.matmul(a, b);
  assert.equal(y.dtype, 'float64');
  assert.equal(y.item(), 11);
  y.sum().backward();
  assert.ok(a.grad !== null, 'the float32 operand got no gradient');
  assert.equal(a.grad!.dtype, 'float32');
  assertClose(a.grad!, [3, 4]);
  assertClose(b.grad!, [1, 2]);
});

testAllBackends('linearProduct: x·Wᵀ over leading axes, its gradients, mixed dtypes and clear errors', () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6]]);
  const w = g.tensor([[1, 0, -1], [2, 1, 0]]); // [out 2, in 3]
  assert.deepEqual(g.linearProduct(x, w).toArray(), [[-2, 4], [-2, 13]]);
  const xb = any(3, [2, 3, 4]);
  const wb = any(4, [5, 4]);
  const y = g.linearProduct(xb, wb);
  assert.deepEqual(y.shape, [2, 3, 5]);
  assertClose(y, flat(naiveMatmul(xb.reshape([6, 4]).toArray() as number[][], wb.T.toArray() as number[][])), { atol: 1e-12 });
  assertGrad((a, b) => g.linearProduct(a, b), [any(5, [2, 3, 4]), any(6, [5, 4])]);
  // A float32 weight with a float64 input: the product is float64 and each gradient has its input's dtype.
  const x64 = g.tensor([[1, 2]], { dtype: 'float64', requiresGrad: true });
  const w32 = g.tensor([[3, 4]], { requiresGrad: true });
  const out = g.linearProduct(x64, w32);
  assert.equal(out.dtype, 'float64');
  out.sum().backward();
  assert.deepEqual(x64.grad!.toArray(), [[3, 4]]);
  assert.equal(w32.grad!.dtype, 'float32');
  assert.deepEqual(w32.grad!.toArray(), [[1, 2]]);
  assertThrowsMsg(() => g.linearProduct(x, g.tensor([1, 2, 3])), /^linear: weight must be 2-D/);
  assertThrowsMsg(() => g.linearProduct(x, g.tensor([[1, 2]])), /^linear: input \[2, 3\] does not match weight \[1, 2\]/);
});
