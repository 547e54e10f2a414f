/**
 * Model-file integrity (issue 11, item 1): a flipped byte in a tensor or a changed header entry
 * is refused by every loader with one line naming the file and the tensor or entry; files
 * written before the integrity record existed load with one warning; zoo.load stays quiet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io, nn, zoo } from '../../src/index.js';
import { memoryStorage } from '../../src/train/index.js';
import { currentModelFile, flip, layout, oneLineError, readLegacy, replaceInHeader } from './integrity-helpers.js';

const PATH = 'models/net.safetensors';

function silentConsoleWarn<T>(fn: () => T): { result: T; warned: string[] } {
  const orig = console.warn;
  const warned: string[] = [];
  console.warn = (...a: unknown[]) => void warned.push(a.join(' '));
  try {
    return { result: fn(), warned };
  } finally {
    console.warn = orig;
  }
}

test('model files are gradkit-model/2 and carry a CRC-32C record that readers do not see as metadata', () => {
  const bytes = currentModelFile();
  const meta = layout(bytes).header.__metadata__ as Record<string, string>;
  assert.equal(io.MODEL_FORMAT, 'gradkit-model/2');
  assert.equal(meta.format, 'gradkit-model/2');
  const record = JSON.parse(meta['gradkit.integrity']);
  assert.equal(record.algorithm, 'crc32c');
  assert.deepEqual(Object.keys(record.tensors).sort(), [...layout(bytes).tensors.keys()].sort());
  const { result, warned } = silentConsoleWarn(() => io.readModelFile(bytes, { path: PATH }));
  assert.deepEqual(warned, []);
  assert.equal(result.metadata['gradkit.integrity'], undefined);
  assert.equal(result.metadata.format, 'gradkit-model/2');
});

test('a flipped byte in a weight is refused by readModelFile, loadModel and loadModelWeights, naming file and tensor', async () => {
  const bytes = currentModelFile();
  const t = layout(bytes).tensors.get('5.weight')!;
  const bad = flip(bytes, t.begin + 7, 0x10);
  const re = [/models\/net\.safetensors/, /tensor '5\.weight' fails its CRC-32C check/, /corrupt/];
  oneLineError(() => io.readModelFile(bad, { path: PATH }), ...re);
  oneLineError(() => io.loadModel(bad, { path: PATH }), ...re);
  const model = io.loadModel(bytes).model;
  const before = model.stateDict().get('5.weight')!.dataSync().slice();
  oneLineError(() => io.loadModelWeights(model, bad, { path: PATH }), ...re);
  assert.deepEqual(model.stateDict().get('5.weight')!.dataSync(), before, 'nothing loaded');
  // Through a Storage the error names the path without being told.
  const storage = memoryStorage();
  storage.writeAtomic(PATH, bad);
  await assert.rejects(io.loadModelFrom(storage, PATH), /models\/net\.safetensors: tensor '5\.weight' fails its CRC-32C check/);
  await assert.rejects(io.loadModelFile(storage, PATH, model), /models\/net\.safetensors: tensor '5\.weight'/);
});

test('a changed header entry (architecture, a shape) is refused', () => {
  const bytes = currentModelFile();
  assert.match(layout(bytes).headerText, /\\"outChannels\\":2/);
  const arch = replaceInHeader(bytes, '\\"outChannels\\":2', '\\"outChannels\\":3');
  oneLineError(() => io.loadModel(arch, { path: PATH }), /models\/net\.safetensors/, /'architecture'/, /CRC-32C/);
  // BatchNorm's two-channel vectors: swap the dtype of one for another 4-byte type.
  const dtype = replaceInHeader(bytes, '"2.runningVar":{"dtype":"F32"', '"2.runningVar":{"dtype":"I32"');
  oneLineError(() => io.readModelFile(dtype, { path: PATH }), /models\/net\.safetensors/, /CRC-32C/);
});

test('a gradkit-model/2 file without its integrity record is refused', () => {
  const stripped = replaceInHeader(currentModelFile(), 'gradkit.integrity', 'gradkit.integritx');
  oneLineError(() => io.readModelFile(stripped, { path: PATH }), /models\/net\.safetensors/, /integrity record/);
});

test('a model file of an unknown gradkit-model version is refused, not read as a plain safetensors file', () => {
  const w = io.readModelFile(currentModelFile()).stateDict.get('5.bias')!;
  const newer = io.saveSafetensors({ w }, { format: 'gradkit-model/9' });
  oneLineError(() => io.readModelFile(newer, { path: PATH }), /models\/net\.safetensors is gradkit-model\/9/, /upgrade gradkit/);
});

test('a legacy model file (gradkit-model/1) loads with one warning; loadModel warns once, not per pass', () => {
  const legacy = readLegacy('model.safetensors');
  const warnings: string[] = [];
  const { model } = io.loadModel(legacy, { path: 'old/net.safetensors', onWarning: (w) => warnings.push(w) });
  assert.ok(model instanceof nn.Module);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /old\/net\.safetensors/);
  assert.match(warnings[0], /gradkit-model\/1/);
  // Re-saving gives the checked format, with identical weights.
  const again = io.saveModel(model, { architecture: io.readModelFile(legacy, { onWarning: () => {} }).architecture });
  const w2: string[] = [];
  const back = io.readModelFile(again, { onWarning: (w) => w2.push(w) });
  assert.deepEqual(w2, []);
  for (const [k, t] of io.readModelFile(legacy, { onWarning: () => {} }).stateDict) assert.deepEqual(back.stateDict.get(k)!.dataSync(), t.dataSync(), k);
});

test('plain safetensors (no gradkit format) load without a warning; saveSafetensors can add the record', () => {
  const w = io.readModelFile(currentModelFile()).stateDict.get('5.bias')!;
  const plain = io.saveSafetensors({ w }, { framework: 'pt' });
  const { warned } = silentConsoleWarn(() => io.readModelFile(plain, { path: 'p.safetensors' }));
  assert.deepEqual(warned, []);
  const checked = io.saveSafetensors({ w }, { framework: 'pt' }, { integrity: true });
  const t = layout(checked).tensors.get('w')!;
  assert.throws(() => io.loadSafetensors(flip(checked, t.begin), { path: 'p.safetensors' }), /p\.safetensors: tensor 'w' fails its CRC-32C check/);
  assert.deepEqual(io.loadSafetensors(checked).metadata, { framework: 'pt' });
});

test("zoo.load does not warn about its shipped (old-format) weights: it checks their CRC-32 itself", () => {
  const { warned } = silentConsoleWarn(() => zoo.load('digits-cnn'));
  assert.deepEqual(warned, []);
});
