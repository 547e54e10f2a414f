/**
 * Issue 11 item 7: limits that used to crash deep inside (a RangeError from a typed array, a stack
 * overflow in the validator, a monitor rejected after epoch 1) are checked up front with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { zeros } from '../../src/index.js';
import { allocArray } from '../../src/core/dtype.js';
import { resolveExperiment } from '../../src/cli/experiment.js';
import { buildModel } from '../../src/cli/model-builder.js';
import { main } from '../../src/cli/main.js';
import { nodeStorage } from '../../src/platform/fs-node.js';

test('a layer too large for memory is named with its byte size before anything is allocated', () => {
  const layers = [{ type: 'conv2d' as const, outChannels: 1e9, kernelSize: 3 }, { type: 'flatten' as const }, { type: 'linear' as const, outFeatures: 10 }];
  assert.throws(() => buildModel(layers, [1, 8, 8], 'he', 10), (e: Error) => {
    assert.equal(e.name, 'GradkitError');
    assert.match(e.message, /^experiment: model\.layers\[0\] \(conv2d\): its weight \[1000000000, 1, 3, 3\] needs 36\.0 GB; one tensor can hold at most 2 GiB/);
    return true;
  });
  // Activations count too: 100,000 channels of 8x8 per sample are 25.6 MB, x a batch of 100 = 2.6 GB.
  const wide = [{ type: 'conv2d' as const, outChannels: 100000, kernelSize: 1 }, { type: 'globalAvgPool2d' as const }, { type: 'linear' as const, outFeatures: 10 }];
  assert.throws(() => buildModel(wide, [1, 8, 8], 'he', 10, 100), /model\.layers\[0\] \(conv2d\): its output for a batch of 100 \[100, 100000, 8, 8\] needs 2\.6 GB; one tensor can hold at most 2 GiB/);
});

test('a model whose training state exceeds the machine memory is refused up front', () => {
  // Each tensor fits, but weights [1000, 64] (+ gradients, 2 optimizer slots) and activations do not fit 1 MB.
  const layers = [{ type: 'flatten' as const }, { type: 'linear' as const, outFeatures: 1000 }, { type: 'linear' as const, outFeatures: 10 }];
  assert.throws(() => buildModel(layers, [1, 8, 8], 'he', 10, 32, 1e6), /^GradkitError: experiment: training this model needs about 1\.5 MB \(weights, gradients, optimizer state and activations for a batch of 32\) but this machine has 1\.0 MB of memory/);
  assert.doesNotThrow(() => buildModel(layers, [1, 8, 8], 'he', 10, 32, 1e9));
});

test('typed arrays beyond 2 GiB are refused with a clear message, not a RangeError', () => {
  assert.throws(() => allocArray('float32', 1e9), /^GradkitError: alloc: a float32 tensor of 1000000000 elements needs 4\.0 GB; one tensor can hold at most 2 GiB/);
  assert.throws(() => zeros([1e5, 1e5]), (e: Error) => e.name === 'GradkitError' && /10000000000 elements needs 40\.0 GB/.test(e.message));
  assert.equal(allocArray('float32', 1000).length, 1000);
});

function nested(depth: number): string {
  return `{"model":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
}

test('deeply nested experiment JSON is refused before the recursive validator runs', () => {
  const raw = JSON.parse(nested(100000)) as unknown;
  assert.throws(() => resolveExperiment(raw, 'experiment.json'), /^GradkitError: experiment\.json: nesting deeper than 32 levels at model(\.a){31}/);
  const arrays = JSON.parse(`{"augmentation":${'['.repeat(50000)}${']'.repeat(50000)}}`) as unknown;
  assert.throws(() => resolveExperiment(arrays), /nesting deeper than 32 levels at augmentation(\[0\]){31}/);
  // Ordinary files are far below the limit.
  assert.doesNotThrow(() => resolveExperiment({ model: { layers: [{ type: 'linear', outFeatures: 10 }] } }));
});

test('earlyStopping.monitor is checked when the experiment is validated, with a did-you-mean', () => {
  assert.throws(() => resolveExperiment({ earlyStopping: { monitor: 'valAcc' } }), /earlyStopping\.monitor: unknown metric 'valAcc' \(did you mean 'valAccuracy'\?\); the run logs: loss, accuracy, lr, valLoss, valAccuracy/);
  assert.equal(resolveExperiment({ earlyStopping: { monitor: 'valAccuracy' } }).earlyStopping?.monitor, 'valAccuracy');
});

test('gradkit train: bad monitor, deep nesting and huge layers fail with one line and write no run folder', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-limits-'));
  const cases: [string, string, RegExp][] = [
    ['monitor.json', JSON.stringify({ earlyStopping: { monitor: 'valAcc' } }), /did you mean 'valAccuracy'/],
    ['deep.json', nested(100000), /deep\.json: nesting deeper than 32 levels at model\.a/],
    ['huge.json', JSON.stringify({ data: { dataset: 'blobs', samplesPerClass: 10 }, model: { layers: [{ type: 'linear', outFeatures: 1e9 }, { type: 'linear', outFeatures: 3 }] } }), /model\.layers\[0\] \(linear\): its weight \[1000000000, 2\] needs 8\.0 GB/],
  ];
  const stderr = process.stderr.write.bind(process.stderr);
  try {
    for (const [name, text, expected] of cases) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      const out = path.join(dir, `run-${name}`);
      let err = '';
      process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
      let code: number;
      try {
        code = await main(['train', file, '--out', out], { storage: nodeStorage(), sink: { write: () => undefined } });
      } finally {
        process.stderr.write = stderr;
      }
      assert.notEqual(code, 0, name);
      assert.match(err, expected, name);
      assert.equal(err.trim().split('\n').length, 1, `${name}: one line, got ${err}`);
      assert.equal(fs.existsSync(out), false, `${name}: no run folder`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
