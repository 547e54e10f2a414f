import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publicExports } from './public-api.js';

// One compiler pass over the three entries (a few seconds), shared by the tests below.
const all = publicExports();

test('every public class, function and constant (ops and namespaces included) has a TSDoc summary', () => {
  const values = all.filter((e) => e.kind === 'class' || e.kind === 'function' || e.kind === 'variable' || e.kind === 'enum');
  assert.ok(values.length > 300, `only ${values.length} public values found; is the walk of the entries broken?`);
  for (const name of ['add', 'mul', 'nn.Linear', 'optim.AdamW', 'train.Trainer', 'onnx:exportOnnx', 'digits:loadDigits', 'tensorboard:TensorBoard']) {
    assert.ok(values.some((e) => e.name === name), `${name} is not among the public exports found`);
  }
  const missing = values.filter((e) => !e.hasSummary).map((e) => `${e.name} (${e.file})`);
  assert.deepEqual(missing, [], `public exports without a /** summary */:\n  ${missing.join('\n  ')}`);
});

test('the summary check sees a missing comment (types without one are reported, not hidden)', () => {
  // Interfaces and type aliases are not required to have summaries yet; some lack one, which
  // shows the walk does report hasSummary: false when the comment is absent.
  assert.ok(all.some((e) => (e.kind === 'interface' || e.kind === 'type') && !e.hasSummary));
  assert.ok(all.some((e) => e.kind === 'interface' && e.hasSummary));
});
