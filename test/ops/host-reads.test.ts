import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectClose, expectThrowsMsg, FLOAT } from '../helpers.js';
import { testAllBackends } from './backends.js';

/**
 * Counts the elements the current backend hands to the host (readSync and read) while fn runs.
 * Ops that used to compute on the host (logSumExp's patch, oneHot, the int-cast check) must
 * now leave values on the backend: on a GPU each read is a download.
 */
function hostElementsRead(fn: () => void): number {
  const backend = g.getBackend();
  const readSync = backend.readSync;
  const read = backend.read;
  let elements = 0;
  backend.readSync = (h) => {
    const values = readSync.call(backend, h);
    elements += values.length;
    return values;
  };
  backend.read = (h) => {
    elements += backend.sizeOf(h);
    return read.call(backend, h);
  };
  try {
    fn();
  } finally {
    backend.readSync = readSync;
    backend.read = read;
  }
  return elements;
}

/** Elements a check reads at once: its flags on a CPU backend; none on a GPU, which settles checks at the next read. */
function checkedNow(flagElements: number): number {
  return g.getBackend().syncReads === false ? 0 : flagElements;
}

testAllBackends('logSumExp patches all -inf rows on the backend, reading nothing on the host', async () => {
  const x = g.tensor([[1, 2, 3], [-Infinity, -Infinity, -Infinity]], { dtype: FLOAT });
  let y: g.Tensor | undefined;
  assert.equal(hostElementsRead(() => (y = g.logSumExp(x, 1))), 0);
  await expectClose(y!, [3 + Math.log(1 + Math.exp(-1) + Math.exp(-2)), -Infinity], { atol: 1e-15 });
});

testAllBackends('oneHot reads only the verdict of its label check and gives exact float32 ones and zeros', async () => {
  const labels = g.tensor([2, 0, 1, 2], { dtype: 'int32' });
  let y: g.Tensor | undefined;
  // The verdict of the label check (int32 [2]) on a CPU; nothing yet on a GPU, which reads it with the result.
  assert.equal(hostElementsRead(() => (y = g.oneHot(labels, 3))), checkedNow(2));
  assert.deepEqual(await y!.array(), [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.equal(y!.dtype, 'float32');
});

testAllBackends('a float → int32 cast checks finiteness with a one-element flag; values are read only to name a bad one', async () => {
  const x = g.tensor([1.5, -2, 3e6, 0]);
  let y: g.Tensor | undefined;
  assert.equal(hostElementsRead(() => (y = g.cast(x, 'int32'))), checkedNow(1));
  assert.deepEqual(await y!.array(), [1, -2, 3000000, 0]);
  await expectThrowsMsg(() => g.cast(g.tensor([0, 1, Infinity]), 'int32'), /cannot convert Infinity at position 2 to int32/);
  await expectThrowsMsg(() => g.cast(g.tensor([-Infinity]), 'int32'), /cannot convert -Infinity at position 0/);
});

testAllBackends('int pow checks for negative exponents with a one-element flag', async () => {
  const base = g.tensor([2, 3, 4], { dtype: 'int32' });
  const exps = g.tensor([0, 1, 2], { dtype: 'int32' });
  let y: g.Tensor | undefined;
  assert.equal(hostElementsRead(() => (y = g.pow(base, exps))), checkedNow(1));
  assert.deepEqual(await y!.array(), [1, 3, 16]);
  await expectThrowsMsg(() => g.pow(base, g.tensor([1, -2, 0], { dtype: 'int32' })), /exponent -2 at position 1/);
});
