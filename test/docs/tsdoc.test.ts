import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publicExports } from './public-api.js';

// One compiler pass over the entries (a few seconds), shared by the tests below.
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

test('every public interface and type alias has a TSDoc summary', () => {
  const types = all.filter((e) => e.kind === 'interface' || e.kind === 'type');
  assert.ok(types.length > 200, `only ${types.length} public types found; is the walk of the entries broken?`);
  for (const name of ['DType', 'nn.LinearOptions', 'optim.ScaleByAdamOptions', 'data.Dataset', 'train.TrainerOptions', 'onnx:OnnxModel', 'tensorboard:HistogramData']) {
    assert.ok(types.some((e) => e.name === name), `${name} is not among the public types found`);
  }
  const missing = types.filter((e) => !e.hasSummary).map((e) => `${e.name} (${e.file})`);
  assert.deepEqual(missing, [], `public interfaces and types without a /** summary */:\n  ${missing.join('\n  ')}`);
});

test('the summary check sees a missing comment (a fixture with undocumented exports)', () => {
  // With every real export documented, a fixture shows the check still reports hasSummary: false
  // where the comment is absent, is only a line comment, or holds only a tag.
  const fixture = new Map(publicExports(['test/docs/fixtures/undocumented.ts']).map((e) => [e.name.replace(/^.*:/, ''), e]));
  const expected: Record<string, [string, boolean]> = {
    Documented: ['interface', true],
    Bare: ['interface', false],
    LineCommented: ['type', false],
    OnlyTag: ['type', false],
    DocumentedAlias: ['type', true],
    bareFunction: ['function', false],
  };
  assert.deepEqual([...fixture.keys()].sort(), Object.keys(expected).sort());
  for (const [name, [kind, hasSummary]] of Object.entries(expected)) {
    assert.equal(fixture.get(name)?.kind, kind, `${name}: kind`);
    assert.equal(fixture.get(name)?.hasSummary, hasSummary, `${name}: hasSummary`);
  }
});
