import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as g from '../../src/index.js';
import { assertThrowsMsg } from '../helpers.js';

// An op on tensors of two backends is one clear error naming both (PyTorch: "Expected all
// tensors to be on the same device"), never a foreign handle inside a kernel; reading, writing,
// moving and disposing a tensor work whichever backend is current.

test('an op mixing backends names the shape, both backends and the fix', () => {
  const a = g.withBackend('wasm', () => g.tensor([1, 2, 3]));
  const b = g.withBackend('reference', () => g.tensor([1, 2, 3]));
  g.withBackend('wasm', () => {
    assertThrowsMsg(() => a.add(b), /on backend 'reference' was used while the current backend is 'wasm'/, /toBackend\(t, 'wasm'\)/);
    assertThrowsMsg(() => g.matmul(a.reshape([1, 3]), b.reshape([3, 1])), /on backend 'reference'/);
  });
  g.withBackend('reference', () => assertThrowsMsg(() => a.mul(2), /of shape \[3\] on backend 'wasm' was used while the current backend is 'reference'/));
});

test('a tensor of another backend still reads, moves, assigns from its own backend and disposes', async () => {
  const b = g.withBackend('reference', () => g.tensor([4, 5, 6]));
  g.withBackend('wasm', () => {
    assert.deepEqual(Array.from(b.dataSync()), [4, 5, 6]);
    assert.equal(b.toString().includes('4'), true);
    const moved = g.toBackend(b, 'wasm');
    assert.equal(moved.backend.name, 'wasm');
    assert.deepEqual(Array.from(moved.add(1).dataSync()), [5, 6, 7]);
    b.assign([7, 8, 9]);
  });
  assert.deepEqual(Array.from(await b.data()), [7, 8, 9]);
  g.withBackend('wasm', () => b.dispose());
  assert.equal(b.isDisposed, true);
});
