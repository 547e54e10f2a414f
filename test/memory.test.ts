import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as g from '../src/index.js';

// Expose gc() without a command-line flag, so the test runs under plain `npm test`.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// Tensors that nobody disposed are released by a FinalizationRegistry, whose cleanup runs between
// tasks: a synchronous loop keeps ~100 bytes of bookkeeping per dropped tensor (never its buffer)
// until the event loop turns, so measure after letting it turn.
async function used(): Promise<number> {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
}

test('memory stays flat in a loop that creates and drops tensors (no dispose needed)', async () => {
  const w = g.randn([64, 64], { seed: 1, requiresGrad: true });
  const step = () => {
    const x = g.randn([32, 64]);
    const loss = x.matmul(w).relu().square().mean();
    loss.backward();
    w.grad = null;
  };
  for (let i = 0; i < 200; i++) step();
  const before = await used();
  const liveBefore = g.memory().tensorBuffers;
  for (let i = 0; i < 3000; i++) step();
  const after = await used();
  // 3000 iterations allocate ~300 MB in total; only a small drift is allowed.
  assert.ok(after - before < 8e6, `heap grew by ${((after - before) / 1e6).toFixed(1)} MB`);
  // ...and the ledger saw every dropped tensor's buffer released (a few may await the next GC).
  assert.ok(g.memory().tensorBuffers - liveBefore < 50, `live tensor buffers went from ${liveBefore} to ${g.memory().tensorBuffers}`);
});
