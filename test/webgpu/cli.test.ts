/**
 * `gradkit train --backend webgpu`: the whole command (preprocessing and augmentation on a CPU
 * backend, batches uploaded by the loaders, checkpoints, metrics, the test evaluation) on the
 * webgpu backend; the run folder's checkpoint then evaluates on wasm to the same test accuracy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { train } from '../../src/index.js';
import { initWebGPU } from '../../src/backends/webgpu/index.js';
import { TINY } from '../cli/tiny-experiment.js';

const got = await initWebGPU();
const skip = 'error' in got ? `${got.error}: webgpu CLI test skipped` : false;
if (skip) console.log(skip);

function memEnv() {
  const out: string[] = [];
  return { storage: train.memoryStorage(), sink: { write: (s: string) => void out.push(s) }, out };
}

test('gradkit train --backend webgpu trains, checkpoints and tests on the GPU; gradkit eval --backend wasm reads the same run', { skip, timeout: 300_000 }, async () => {
  const env = memEnv();
  const experiment = {
    ...TINY, epochs: 2,
    preprocessing: [{ type: 'standardize', per: 'channel' }],
    augmentation: [{ type: 'noise', std: 0.05 }],
  };
  env.storage.writeAtomic('tiny.json', JSON.stringify(experiment));
  assert.equal(await main(['train', 'tiny.json', '--out', 'run', '--backend', 'webgpu'], env), 0, env.out.join(''));
  const said = env.out.join('');
  assert.match(said, /backend webgpu/);
  const summary = JSON.parse(new TextDecoder().decode(env.storage.read('run/summary.json') as Uint8Array));
  assert.equal(summary.backend, 'webgpu');
  assert.equal(summary.status, 'completed');
  assert.equal(summary.history.length, 2);
  assert.ok(summary.history[1].loss < summary.history[0].loss, `the loss falls: ${summary.history.map((h: { loss: number }) => h.loss).join(' → ')}`);
  assert.ok(summary.test.accuracy > 0.3, `test accuracy ${summary.test.accuracy} (10 classes, 180 images, 2 epochs)`);
  // The checkpoint is backend-neutral: evaluated on wasm it gives the accuracy the GPU measured.
  const evalEnv = { ...memEnv(), storage: env.storage };
  assert.equal(await main(['eval', 'run', '--backend', 'wasm'], evalEnv), 0, evalEnv.out.join(''));
  const line = evalEnv.out.join('');
  const acc = Number(/test accuracy ([\d.]+)%/.exec(line)?.[1]);
  assert.ok(Math.abs(acc - summary.test.accuracy * 100) <= 100 / 80 + 1e-9, `wasm: ${line.trim()}; webgpu: ${summary.test.accuracy}`);
});
