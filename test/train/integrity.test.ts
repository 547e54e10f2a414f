/**
 * Checkpoint integrity (issue 11, item 1): a flipped byte in a checkpoint's data block or a
 * changed counter is refused with one line naming the file and the tensor or header entry, by
 * decodeCheckpoint and by every path that loads one (--resume, eval, the Trainer). Checkpoints
 * written before the integrity record existed still load, with one warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evalCommand, trainCommand, type CommandEnv } from '../../src/cli/commands.js';
import { CHECKPOINT_VERSION, decodeCheckpoint, memoryStorage } from '../../src/train/index.js';
import { currentCheckpoint, currentRunFolder, flip, layout, oneLineError, readLegacy, replaceInHeader } from '../io/integrity-helpers.js';
import { setup, makeTrainer, weightBytes } from './fixtures.js';

const PATH = 'runs/x/last.ckpt';

function envOf(storage: ReturnType<typeof memoryStorage>): CommandEnv {
  return { storage, sink: { write: () => {} } };
}

test('checkpoints are version 2 and carry a CRC-32C integrity record', () => {
  const bytes = currentCheckpoint();
  const meta = layout(bytes).header.__metadata__ as Record<string, string>;
  assert.equal(CHECKPOINT_VERSION, 2);
  assert.equal(meta.version, '2');
  const record = JSON.parse(meta['gradkit.integrity']);
  assert.equal(record.algorithm, 'crc32c');
  assert.ok(Object.keys(record.tensors).includes('model/0.weight'));
  // An intact file decodes without complaint.
  const warnings: string[] = [];
  decodeCheckpoint(bytes, PATH, { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings, []);
});

test('a flipped byte in a model tensor of last.ckpt names the file and the tensor', () => {
  const bytes = currentCheckpoint();
  const t = layout(bytes).tensors.get('model/0.weight')!;
  oneLineError(() => decodeCheckpoint(flip(bytes, t.begin + 5), PATH), /runs\/x\/last\.ckpt/, /tensor 'model\/0\.weight' fails its CRC-32C check/, /corrupt/);
});

test('a flipped byte in an optimizer moment of best.ckpt names the file and the tensor', () => {
  const bytes = currentCheckpoint();
  const [name, t] = [...layout(bytes).tensors].find(([k]) => k.startsWith('state/'))!;
  // The lowest bit of a float's last byte: a tiny change a loader would never notice by itself.
  oneLineError(() => decodeCheckpoint(flip(bytes, t.end - 1), 'runs/x/best.ckpt'), /runs\/x\/best\.ckpt/, new RegExp(`tensor '${name}' fails its CRC-32C check`));
});

test('a changed epoch counter is refused, naming the training state entry', () => {
  const bytes = currentCheckpoint();
  assert.match(layout(bytes).headerText, /\\"epoch\\":1,/);
  const bumped = replaceInHeader(bytes, '\\"epoch\\":1,', '\\"epoch\\":2,');
  oneLineError(() => decodeCheckpoint(bumped, PATH), /runs\/x\/last\.ckpt/, /'gradkit\.state'/, /counters/, /CRC-32C/);
});

test('a version-2 checkpoint without its integrity record is refused', () => {
  const bytes = currentCheckpoint();
  // Rename the key (same length): the record is gone, the version still says 2.
  const stripped = replaceInHeader(bytes, 'gradkit.integrity', 'gradkit.integritx');
  oneLineError(() => decodeCheckpoint(stripped, PATH), /runs\/x\/last\.ckpt/, /integrity record/);
});

test('--resume refuses a corrupted last.ckpt and leaves the run folder alone; intact, it resumes', async () => {
  const storage = currentRunFolder();
  const good = storage.read('run/last.ckpt') as Uint8Array;
  const t = layout(good).tensors.get('model/5.weight')!;
  storage.writeAtomic('run/last.ckpt', flip(good, t.begin + 2, 0x80));
  const before = new Map([...storage.files].map(([k, v]) => [k, v.slice()]));
  await assert.rejects(trainCommand({ resume: 'run', epochs: 2 }, envOf(storage)), /run\/last\.ckpt: tensor 'model\/5\.weight' fails its CRC-32C check/);
  for (const [k, v] of before) assert.deepEqual(storage.files.get(k), v, `${k} changed`);
  storage.writeAtomic('run/last.ckpt', good);
  await trainCommand({ resume: 'run', epochs: 2 }, envOf(storage));
  assert.equal(decodeCheckpoint(storage.read('run/last.ckpt') as Uint8Array).counters.epoch, 2);
});

test('eval refuses a corrupted checkpoint', async () => {
  const storage = currentRunFolder();
  const good = storage.read('run/last.ckpt') as Uint8Array;
  storage.writeAtomic('run/last.ckpt', replaceInHeader(good, '\\"epoch\\":1,', '\\"epoch\\":2,'));
  await assert.rejects(evalCommand({ run: 'run' }, envOf(storage)), /run\/last\.ckpt: .*'gradkit\.state'.*CRC-32C/);
});

test('Trainer.loadCheckpoint refuses a corrupted checkpoint and keeps its own state', async () => {
  const s = setup(0);
  const tr = makeTrainer(s);
  const storage = memoryStorage();
  await tr.saveCheckpoint(storage, 'a/last.ckpt');
  const bytes = storage.read('a/last.ckpt') as Uint8Array;
  const t = layout(bytes).tensors.get('model/0.bias')!;
  storage.writeAtomic('a/last.ckpt', flip(bytes, t.begin));
  const before = await weightBytes(s.model);
  await assert.rejects(tr.loadCheckpoint(storage, 'a/last.ckpt'), /a\/last\.ckpt: tensor 'model\/0\.bias' fails its CRC-32C check/);
  assert.deepEqual(await weightBytes(s.model), before);
});

test('a legacy checkpoint (version 1, no record) loads with one warning naming the file', () => {
  const legacy = readLegacy('run/last.ckpt');
  assert.equal((layout(legacy).header.__metadata__ as Record<string, string>).version, '1');
  const warnings: string[] = [];
  const s = decodeCheckpoint(legacy, 'old/last.ckpt', { onWarning: (w) => warnings.push(w) });
  assert.equal(s.counters.epoch, 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /old\/last\.ckpt/);
  assert.match(warnings[0], /integrity/);
  assert.ok(!warnings[0].includes('\n'));
});

test('by default the legacy warning goes to console.warn once per file', () => {
  const legacy = readLegacy('run/last.ckpt');
  const orig = console.warn;
  const seen: string[] = [];
  console.warn = (...a: unknown[]) => void seen.push(a.join(' '));
  try {
    decodeCheckpoint(legacy, 'once/last.ckpt');
    decodeCheckpoint(legacy, 'once/last.ckpt');
    decodeCheckpoint(legacy, 'once/best.ckpt');
  } finally {
    console.warn = orig;
  }
  assert.equal(seen.length, 2, seen.join('\n'));
  assert.match(seen[0], /once\/last\.ckpt/);
  assert.match(seen[1], /once\/best\.ckpt/);
});
