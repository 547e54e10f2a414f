import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderExperimentFormat, renderSpaceFormat, undocumentedSpaceKeys } from '../../scripts/format-docs.js';
import { resolveExperiment } from '../../src/cli/experiment.js';
import { resolveTune } from '../../src/cli/tune.js';
import { nodeStorage } from '../../src/platform/fs-node.js';

const ROOT = new URL('../../', import.meta.url);
const read = (p: string): string => readFileSync(new URL(p, ROOT), 'utf8');

test('docs/experiment-format.md and docs/space-format.md match the validating code (npm run docs:formats)', () => {
  assert.equal(read('docs/experiment-format.md'), renderExperimentFormat(), 'docs/experiment-format.md is stale: run npm run docs:formats');
  assert.equal(read('docs/space-format.md'), renderSpaceFormat(), 'docs/space-format.md is stale: run npm run docs:formats');
});

test('the generated formats cover every key and typed entry the validators accept', () => {
  const exp = renderExperimentFormat();
  for (const key of ['data.validationFraction', 'optimizer.betas', 'schedule.type', 'regularization.emaDecay', 'checkpoint.everySteps']) assert.ok(exp.includes(`\`${key}\``), key);
  for (const layer of ['conv2d', 'batchNorm2d', 'dropout', 'maxPool2d']) assert.match(exp, new RegExp(`\\| \`${layer}\` \\|`));
  assert.deepEqual(undocumentedSpaceKeys(), []);
  for (const key of ['method', 'trials', 'eta', 'space']) assert.match(renderSpaceFormat(), new RegExp(`\\| \`${key}\` \\| \\S`));
});

test('the shipped examples/experiment.json and examples/space.json are valid', async () => {
  const e = resolveExperiment(JSON.parse(read('examples/experiment.json')));
  assert.equal(e.name, 'digits-cnn-augmented');
  assert.equal(e.augmentation.length, 1);
  const setup = await resolveTune(JSON.parse(read('examples/space.json')), nodeStorage(), fileURLToPath(new URL('examples/', ROOT)));
  assert.equal(setup.search.method, 'halving');
  assert.deepEqual([...setup.space.keys()].sort(), ['data.batchSize', 'model.layers.9.p', 'optimizer.lr', 'optimizer.weightDecay']);
});
