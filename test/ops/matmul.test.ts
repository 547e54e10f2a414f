import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, expectClose, expectGrad, flat, FLOAT, NEEDS_FLOAT64, scalar } from '../helpers.js';
import { testAllBackends, testAllBackendsExcept } from './backends.js';

const F = { dtype: FLOAT } as const;
const any = (seed: number, shape: number[]) => g.randn(shape, { seed, ...F });

/** The definition, one output element at a time, on nested arrays: an oracle sharing nothing with the kernel. */
function naiveMatmul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((acc, v, q) => acc + v * b[q][j], 0)));
}

testAllBackends('matmul 2-D: hand case and against the naive definition', async () => {
  const a = g.tensor([[1, 2], [3, 4], [5, 6]]);
  const b = g.tensor([[1, 0, -1], [2, 1, 0]]);
  assert.deepEqual(await g.matmul(a, b).array(), [[5, 2, -1], [11, 4, -3], [17, 6, -5]]);
  assert.deepEqual(a.matmul(b).shape, [3, 3]);
  const x = any(1, [4, 5]);
  const y = any(2, [5, 3]);
  await expectClose(g.matmul(x, y), flat(naiveMatmul(await x.array() as number[][], await y.array() as number[][])), { atol: 1e-12 });
  // Transposed (non-contiguous) operands.
  await expectClose(g.matmul(y.transpose(), x.transpose()), flat(naiveMatmul(await y.T.array() as number[][], await x.T.array() as number[][])), { atol: 1e-12 });
});

testAllBackends('matmul 1-D cases: vec·mat, mat·vec, vec·vec (0-d)', async () => {
  const m = g.tensor([[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(await g.matmul(g.tensor([1, 0, 2]), m).array(), [11, 14]);
  assert.deepEqual(await g.matmul(m, g.tensor([1, -1])).array(), [-1, -1, -1]);
  const dot = g.matmul(g.tensor([1, 2, 3]), g.tensor([4, 5, 6]));
  assert.deepEqual(dot.shape, []);
  assert.equal(await scalar(dot), 32);
  // A 1-D operand with a batched one: the vector broadcasts over the batch.
  const batch = g.arange(12).reshape([2, 3, 2]);
  assert.deepEqual(await g.matmul(g.tensor([1, 1, 1]), batch).array(), [[6, 9], [24, 27]]);
  assert.deepEqual(await g.matmul(batch, g.tensor([1, -1])).array(), [[-1, -1, -1], [-1, -1, -1]]);
});

testAllBackends('matmul batched and broadcasting over leading axes', async () => {
  const a = any(3, [2, 3, 4]);
  const b = any(4, [2, 4, 5]);
  const y = g.matmul(a, b);
  assert.deepEqual(y.shape, [2, 3, 5]);
  const arr = await a.array() as number[][][];
  const brr = await b.array() as number[][][];
  await expectClose(y, flat([0, 1].map((t) => naiveMatmul(arr[t], brr[t]))), { atol: 1e-12 });
  // [2,1,3,4] @ [3,4,2] → [2,3,3,2]; batch (i, j) pairs a[i,0] with b[j].
  const p = any(5, [2, 1, 3, 4]);
  const q = any(6, [3, 4, 2]);
  const r = g.matmul(p, q);
  assert.deepEqual(r.shape, [2, 3, 3, 2]);
  const prr = await p.array() as number[][][][];
  const qrr = await q.array() as number[][][];
  const expected = [0, 1].flatMap((i) => [0, 1, 2].map((j) => naiveMatmul(prr[i][0], qrr[j])));
  await expectClose(r, flat(expected), { atol: 1e-12 });
  await expectClose(g.bmmOp(a, b), await y.data(), { atol: 0 });
  await expectClose(g.bmm(a, b), await y.data(), { atol: 0 });
  // A 2-D right operand broadcasts to every batch.
  const s = any(7, [4, 2]);
  const srr = await s.array() as number[][];
  await expectClose(g.matmul(a, s), flat([0, 1].map((t) => naiveMatmul(arr[t], srr))), { atol: 1e-12 });
  // Empty dimensions give empty or zero results, as in NumPy.
  assert.deepEqual(g.matmul(g.zeros([0, 3]), g.zeros([3, 2])).shape, [0, 2]);
  assert.deepEqual(await g.matmul(g.zeros([2, 0]), g.zeros([0, 2])).array(), [[0, 0], [0, 0]]);
});

testAllBackends('matmul gradients: 2-D, 1-D, batched, broadcast batches, transposed inputs', async () => {
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
  for (const [i, [sa, sb]] of cases.entries()) await expectGrad(g.matmul, [any(10 + i, sa), any(30 + i, sb)], { seed: i });
  await expectGrad((a, b) => g.matmul(a.transpose(), b.transpose()), [any(50, [4, 3]), any(51, [2, 4])]);
  await expectGrad((a, b) => g.matmul(a.slice([0, 1], [3, 5]), b.permute([2, 0, 1])), [any(52, [3, 5]), any(53, [4, 2, 2])]);
});

// Its subject is float32 × float64 promotion: float64 itself.
testAllBackendsExcept('matmul of float32 with float64 computes in float64 and still reaches both inputs', { webgpu: NEEDS_FLOAT64.skip }, async () => {
  const a = g.tensor([[1, 2]], { requiresGrad: true });
  const b = g.tensor([[3], [4]], { dtype: 'float64', requiresGrad: true });
  const y = g.matmul(a, b);
  assert.equal(y.dtype, 'float64');
  assert.equal(await scalar(y), 11);
  y.sum().backward();
  assert.ok(a.grad !== null, 'the float32 operand got no gradient');
  assert.equal(a.grad!.dtype, 'float32');
  await expectClose(a.grad!, [3, 4]);
  await expectClose(b.grad!, [1, 2]);
});

testAllBackends('linearProduct: x·Wᵀ over leading axes, its gradients and clear errors', async () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6]]);
  const w = g.tensor([[1, 0, -1], [2, 1, 0]]); // [out 2, in 3]
  assert.deepEqual(await g.linearProduct(x, w).array(), [[-2, 4], [-2, 13]]);
  const xb = any(3, [2, 3, 4]);
  const wb = any(4, [5, 4]);
  const y = g.linearProduct(xb, wb);
  assert.deepEqual(y.shape, [2, 3, 5]);
  await expectClose(y, flat(naiveMatmul(await xb.reshape([6, 4]).array() as number[][], await wb.T.array() as number[][])), { atol: 1e-12 });
  await expectGrad((a, b) => g.linearProduct(a, b), [any(5, [2, 3, 4]), any(6, [5, 4])]);
  assertThrowsMsg(() => g.linearProduct(x, g.tensor([1, 2, 3])), /^linear: weight must be 2-D/);
  assertThrowsMsg(() => g.linearProduct(x, g.tensor([[1, 2]])), /^linear: input \[2, 3\] does not match weight \[1, 2\]/);
});

// Its subject is float32 × float64 promotion: float64 itself.
testAllBackendsExcept('linearProduct: a float32 weight with a float64 input gives float64, each gradient in its input\'s dtype', { webgpu: NEEDS_FLOAT64.skip }, async () => {
  const x64 = g.tensor([[1, 2]], { dtype: 'float64', requiresGrad: true });
  const w32 = g.tensor([[3, 4]], { requiresGrad: true });
  const out = g.linearProduct(x64, w32);
  assert.equal(out.dtype, 'float64');
  out.sum().backward();
  assert.deepEqual(await x64.grad!.array(), [[3, 4]]);
  assert.equal(w32.grad!.dtype, 'float32');
  assert.deepEqual(await w32.grad!.array(), [[1, 2]]);
});
