/**
 * Tensor lifetimes: scopes, keep, dispose, shared buffers, the live-buffer ledger behind
 * memory(), and the FinalizationRegistry safety net. Every test but the last runs on each
 * backend that can run here (a backend added later is covered with no edits); the ledger is only
 * updated synchronously or by finalizers between event-loop turns, so counts taken inside one
 * synchronous test body are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as g from '../../src/index.js';
import { assertClose, assertThrowsMsg } from '../helpers.js';
import { testAllBackends } from '../ops/backends.js';

const live = () => g.memory().tensorBuffers;
const bytes = () => g.memory().tensorBytes;

/** Asserts that using `t` throws one line that says it was disposed and names its shape. */
function assertDisposedError(use: () => unknown, shape: RegExp): void {
  let err: unknown;
  try {
    use();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, 'using a disposed tensor must throw');
  assert.equal(err.name, 'GradkitError');
  assert.match(err.message, /disposed/);
  assert.match(err.message, shape);
  assert.ok(!err.message.includes('\n'), `one line, got: ${JSON.stringify(err.message)}`);
}

testAllBackends('scope disposes what it made except what it returns (tensor, array, object, Map) or keeps', () => {
  const outside = g.tensor([1, 2, 3]);
  const start = live();
  let temp: g.Tensor | undefined;
  let dropped: g.Tensor | undefined;
  const result = g.scope(() => {
    temp = outside.mul(2);
    dropped = g.zeros([5]);
    const kept = g.keep(g.full([2], 7));
    return { sum: temp.add(1), list: [temp.sub(1)], map: new Map([['m', temp.neg()]]), kept };
  });
  assert.ok(temp!.isDisposed && dropped!.isDisposed, 'intermediates are disposed');
  assert.ok(!outside.isDisposed, 'a tensor made before the scope is not the scope\'s to dispose');
  assertClose(outside, [1, 2, 3]);
  assertClose(result.sum, [3, 5, 7]);
  assertClose(result.list[0], [1, 3, 5]);
  assertClose(result.map.get('m')!, [-2, -4, -6]);
  assertClose(result.kept, [7, 7]);
  // Exactly the four survivors hold a buffer now.
  assert.equal(live(), start + 4);
  g.dispose([result.sum, result.list, result.kept]);
  result.map.get('m')!.dispose();
  assert.equal(live(), start);
});

testAllBackends('nested scopes: a tensor returned from the inner scope belongs to the outer one', () => {
  const start = live();
  let fromInner: g.Tensor | undefined;
  let innerTemp: g.Tensor | undefined;
  const survivor = g.scope(() => {
    fromInner = g.scope(() => {
      innerTemp = g.ones([3]);
      return innerTemp.mul(4);
    });
    assert.ok(innerTemp!.isDisposed, 'the inner scope disposed its intermediate');
    assert.ok(!fromInner.isDisposed, 'the returned tensor outlives the inner scope');
    assertClose(fromInner, [4, 4, 4]);
    return fromInner.add(1);
  });
  // The outer scope did not return fromInner, so it disposed it: the tensor moved outward.
  assert.ok(fromInner!.isDisposed, 'the outer scope disposed the tensor the inner one handed it');
  assertClose(survivor, [5, 5, 5]);
  assert.equal(live(), start + 1);

  // Returned all the way out, the inner tensor survives both scopes; keep() survives any depth.
  let deepKept: g.Tensor | undefined;
  const both = g.scope(() => g.scope(() => {
    deepKept = g.keep(g.ones([2]));
    return g.zeros([2]);
  }));
  assert.ok(!both.isDisposed && !deepKept!.isDisposed);
  assertClose(both, [0, 0]);
  assertClose(deepKept!, [1, 1]);
  g.dispose([survivor, both, deepKept]);
  assert.equal(live(), start);
});

testAllBackends('a returned tensor with a graph keeps the graph alive: backward after the scope works', () => {
  const w = g.tensor([1, 2, 3], { requiresGrad: true, dtype: 'float64' });
  let hidden: g.Tensor | undefined;
  const loss = g.scope(() => {
    hidden = w.mul(w); // saved by the graph of the returned loss
    return hidden.sum();
  });
  assert.ok(!hidden!.isDisposed, 'the graph\'s tensors live until backward');
  loss.backward();
  assertClose(w.grad!, [2, 4, 6], { atol: 0, rtol: 0 });
  assertClose(loss, [14], { atol: 0, rtol: 0 });

  // Without a graph in the result, the same intermediates are disposed at the end of the scope.
  let again: g.Tensor | undefined;
  const value = g.scope(() => {
    again = w.mul(w);
    return again.sum().detach();
  });
  assert.ok(again!.isDisposed, 'no recorded result: intermediates are freed');
  assertClose(value, [14], { atol: 0, rtol: 0 });
});

testAllBackends('backward inside a scope: .grad survives the scope, the graph does not', () => {
  const w = g.tensor([1, -2], { requiresGrad: true, dtype: 'float64' });
  let hidden: g.Tensor | undefined;
  const start = live();
  const lossValue = g.scope(() => {
    hidden = w.mul(3);
    const loss = hidden.square().sum();
    loss.backward();
    return loss.item();
  });
  assert.equal(lossValue, 45);
  assert.ok(hidden!.isDisposed);
  assert.ok(w.grad !== null && !w.grad.isDisposed, 'gradients are kept out of scopes');
  assertClose(w.grad, [18, -36], { atol: 0, rtol: 0 });
  assert.equal(live(), start + 1, 'only the gradient is left');
  w.grad.dispose();
  w.grad = null;
  assert.equal(live(), start);
});

testAllBackends('a disposed tensor used again throws one clear line naming its shape', () => {
  const t = g.ones([2, 3]);
  t.dispose();
  assert.ok(t.isDisposed);
  assertDisposedError(() => t.add(1), /\[2, 3\]/);
  assertDisposedError(() => t.dataSync(), /\[2, 3\]/);
  assertDisposedError(() => t.view([3, 2]), /\[2, 3\]/);
  const one = g.ones([1]);
  one.dispose();
  assertDisposedError(() => one.item(), /\[1\]/);
  // The same for one that leaked out of its scope through a variable, and the name is given when known.
  let leaked: g.Tensor | undefined;
  g.scope(() => {
    leaked = g.zeros([4]);
    leaked.name = 'probe';
  });
  assertDisposedError(() => leaked!.mul(2), /\[4\]/);
  assertDisposedError(() => leaked!.mul(2), /'probe'/);
});

testAllBackends('dispose() twice is harmless and frees the buffer once', () => {
  const start = live();
  const startBytes = bytes();
  const t = g.zeros([3], { dtype: 'float64' });
  assert.equal(live(), start + 1);
  assert.equal(bytes(), startBytes + 24);
  t.dispose();
  t.dispose();
  g.dispose(t);
  assert.equal(live(), start);
  assert.equal(bytes(), startBytes);
  // A second tensor on its own buffer is unaffected by the repeated dispose.
  const u = g.ones([2]);
  t.dispose();
  assertClose(u, [1, 1]);
  u.dispose();
  assert.equal(live(), start);
});

testAllBackends('views and detach share the buffer: disposing one keeps the others alive', () => {
  const start = live();
  const a = g.tensor([1, 2, 3, 4]);
  const v = a.view([2, 2]);
  const d = a.detach();
  assert.equal(live(), start + 1, 'a view is not a new buffer');
  a.dispose();
  assert.ok(a.isDisposed && !v.isDisposed && !d.isDisposed);
  assert.equal(live(), start + 1, 'the buffer lives while a view holds it');
  assert.deepEqual(v.toArray(), [[1, 2], [3, 4]]);
  assertClose(d, [1, 2, 3, 4]);
  // They share storage: writing through one is seen through the other.
  d.assign([5, 6, 7, 8]);
  assert.deepEqual(v.toArray(), [[5, 6], [7, 8]]);
  v.dispose();
  assert.equal(live(), start + 1);
  d.dispose();
  assert.equal(live(), start, 'freed with the last tensor that shared it');
  // A view made inside a scope that returns the original shares its buffer and is disposed alone.
  const kept = g.scope(() => {
    const base = g.ones([6]);
    base.view([2, 3]).mul(1);
    return base;
  });
  assert.equal(live(), start + 1);
  assertClose(kept, [1, 1, 1, 1, 1, 1]);
  kept.dispose();
  assert.equal(live(), start);
});

testAllBackends('memory(): tensorBuffers and tensorBytes follow allocation and disposal per dtype', () => {
  const start = g.memory();
  assert.equal(start.backend, g.getBackend().name);
  const f32 = g.zeros([10]);
  const f64 = g.zeros([5], { dtype: 'float64' });
  const i32 = g.zeros([3], { dtype: 'int32' });
  const b8 = g.tensor([true, false]);
  const now = g.memory();
  assert.equal(now.tensorBuffers, start.tensorBuffers + 4);
  assert.equal(now.tensorBytes, start.tensorBytes + 10 * 4 + 5 * 8 + 3 * 4 + 2 * 1);
  f64.dispose();
  assert.equal(live(), start.tensorBuffers + 3);
  assert.equal(bytes(), start.tensorBytes + 40 + 12 + 2);
  g.dispose({ f32, rest: [i32, b8] });
  assert.deepEqual([live(), bytes()], [start.tensorBuffers, start.tensorBytes]);
  // A scope that returns nothing leaves the counts where they were.
  g.scope(() => {
    const x = g.randn([8, 8], { seed: 1 });
    x.matmul(x).relu().sum();
  });
  assert.deepEqual([live(), bytes()], [start.tensorBuffers, start.tensorBytes]);
});

testAllBackends('an exception inside a scope disposes its tensors and propagates', () => {
  const start = live();
  let made: g.Tensor | undefined;
  let kept: g.Tensor | undefined;
  assert.throws(() => g.scope(() => {
    made = g.ones([4]).add(1);
    kept = g.keep(g.ones([1]));
    throw new Error('boom');
  }), /^Error: boom$/);
  assert.ok(made!.isDisposed);
  assert.ok(!kept!.isDisposed, 'kept tensors survive the failure too');
  assert.equal(live(), start + 1);
  kept!.dispose();
  // The scope stack is back to normal: a later tensor is not swallowed by the failed scope.
  const after = g.ones([2]);
  assert.ok(!after.isDisposed);
  after.dispose();
  assert.equal(live(), start);
});

testAllBackends('scope(async fn) throws one clear line saying scopes bracket synchronous work', () => {
  let err: unknown;
  try {
    g.scope(async () => g.ones([1]));
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, 'an async function must be refused');
  assertThrowsMsg(() => {
    throw err;
  }, /^scope:/, /promise/, /synchronous/);
  assert.ok(!(err as Error).message.includes('\n'));
  // The refused scope did not stay open: tensors made afterwards are not disposed by anyone.
  const t = g.scope(() => g.ones([1]));
  const u = g.ones([1]);
  assert.ok(!t.isDisposed && !u.isDisposed);
  g.dispose([t, u]);
});

// Expose gc() without a command-line flag (as test/memory.test.ts does).
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full collections with event-loop turns in between, so finalizers run; until the count is stable. */
async function settle(count: () => number, target?: number): Promise<number> {
  let prev = -1;
  for (let round = 0; round < 100; round++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
    const now = count();
    if (target !== undefined ? now <= target : now === prev) return now;
    prev = now;
  }
  return count();
}

/** Makes tensors and drops every reference (a separate function so no frame keeps them). */
function makeGarbage(n: number): void {
  for (let i = 0; i < n; i++) {
    const x = g.randn([16, 16], { seed: i });
    x.matmul(x).relu().sum();
  }
}

test('FinalizationRegistry: tensors nobody disposed are freed once collected, on every backend', async () => {
  for (const b of g.listBackends().filter((e) => e.available)) {
    const count = () => g.withBackend(b.name, live);
    // Garbage from earlier tests is collected first, so the start is the truly live count.
    const start = await settle(count);
    g.withBackend(b.name, () => makeGarbage(50));
    assert.ok(count() >= start + 50, `[${b.name}] the garbage is counted before collection (${count()} vs ${start})`);
    const end = await settle(count, start);
    assert.equal(end, start, `[${b.name}] live tensor buffers return to their start after gc`);
  }
});
