import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { nodeStorage } from '../../src/platform/fs-node.js';
import { decodeCheckpoint } from '../../src/train/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A few hundred digits, one small conv layer, 1 epoch: seconds, not minutes. */
const TINY = {
  name: 'tiny',
  seed: 3,
  epochs: 1,
  data: { dataset: 'digits', trainSize: 240, testSize: 80, batchSize: 40, validationFraction: 0.25, evalBatchSize: 100 },
  preprocessing: [{ type: 'standardize', per: 'channel' }],
  augmentation: [{ type: 'affine', maxShift: 1 }],
  model: { layers: [
    { type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1 }, { type: 'maxPool2d', kernelSize: 4 }, { type: 'batchNorm2d' }, { type: 'relu' },
    { type: 'flatten' }, { type: 'dropout', p: 0.1 }, { type: 'linear', outFeatures: 10 },
  ] },
  optimizer: { type: 'adamw', lr: 0.01 },
  schedule: { type: 'cosine' },
  regularization: { labelSmoothing: 0.1, l2: 1e-4, gradClipNorm: 5 },
  earlyStopping: { patience: 2 },
};

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-cli-'));
}

function env(): { storage: ReturnType<typeof nodeStorage>; sink: { write: (s: string) => void }; out: string[] } {
  const out: string[] = [];
  return { storage: nodeStorage(), sink: { write: (s: string) => void out.push(s) }, out };
}

test('gradkit train on a tiny config writes the run folder; gradkit eval reproduces its test accuracy', async () => {
  const dir = tmp();
  const file = path.join(dir, 'tiny.json');
  fs.writeFileSync(file, JSON.stringify(TINY));
  const run = path.join(dir, 'run');
  const e = env();
  assert.equal(await main(['train', file, '--out', run], e), 0);
  assert.deepEqual(fs.readdirSync(run).sort(), ['best.ckpt', 'config.json', 'curves.png', 'curves.svg', 'last.ckpt', 'metrics.jsonl', 'preprocessing.json', 'summary.json']);
  const lines = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].epoch, 0);
  assert.ok(lines[0].loss > 0 && lines[0].valLoss > 0 && lines[0].step === 5, JSON.stringify(lines[0]));
  const summary = JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'completed');
  assert.deepEqual(summary.samples, { train: 180, valid: 60, test: 80 });
  assert.equal(summary.test.samples, 80);
  assert.ok(summary.test.accuracy >= 0 && summary.test.accuracy <= 1);
  assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8')).optimizer.type, 'adamw');
  assert.equal(decodeCheckpoint(new Uint8Array(fs.readFileSync(path.join(run, 'last.ckpt')))).counters.epoch, 1);
  assert.match(e.out.join(''), /epoch 1\/1 · loss [\d.]+ · accuracy [\d.]+% .* valLoss/);
  assert.match(e.out.join(''), /test accuracy [\d.]+%/);

  const e2 = env();
  assert.equal(await main(['eval', run], e2), 0);
  assert.match(e2.out.join(''), new RegExp(`test accuracy ${(summary.test.accuracy * 100).toFixed(2)}% · test loss ${summary.test.loss.toFixed(4)}`));

  // --resume continues the same run to a later epoch.
  const e3 = env();
  assert.equal(await main(['train', '--resume', run, '--epochs', '2'], e3), 0);
  assert.match(e3.out.join(''), /resuming .* at epoch 2, step 5/);
  assert.equal(fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
  assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8')).steps, 10);

  // A corrupted checkpoint: a clear error, and the run folder is left exactly as it was.
  const ckpt = path.join(run, 'last.ckpt');
  fs.writeFileSync(ckpt, fs.readFileSync(ckpt).subarray(0, 1000));
  const before = new Map(fs.readdirSync(run).map((f) => [f, fs.readFileSync(path.join(run, f))]));
  const errors: string[] = [];
  const origWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  try {
    assert.equal(await main(['train', '--resume', run, '--epochs', '3'], env()), 1);
  } finally {
    process.stderr.write = origWrite;
  }
  assert.match(errors.join(''), /last\.ckpt is not a valid tensor file: .*truncated/);
  assert.deepEqual(new Map(fs.readdirSync(run).map((f) => [f, fs.readFileSync(path.join(run, f))])), before);
});

test('a mistaken experiment file fails before anything is written', async () => {
  const dir = tmp();
  const file = path.join(dir, 'bad.json');
  const run = path.join(dir, 'run');
  const bad = { ...TINY, model: { layers: [{ type: 'flatten' }, { type: 'conv2d', outChannels: 2, kernelSize: 3 }] } };
  fs.writeFileSync(file, JSON.stringify(bad));
  const errors: string[] = [];
  const origWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['train', file, '--out', run], env());
  } finally {
    process.stderr.write = origWrite;
  }
  assert.equal(code, 1);
  assert.match(errors.join(''), /model\.layers\[1\] \(conv2d\): expects images/);
  assert.equal(fs.existsSync(run), false, 'no run folder');
  fs.writeFileSync(file, '{ "epochs": 2, }');
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  try {
    assert.equal(await main(['train', file, '--out', run], env()), 1);
    assert.equal(await main(['train', '--epochs', 'many'], env()), 2);
    assert.equal(await main(['eval', dir], env()), 1);
  } finally {
    process.stderr.write = origWrite;
  }
  assert.match(errors.join(''), /bad\.json is not valid JSON/);
  assert.match(errors.join(''), /--epochs must be a positive whole number, got 'many'/);
  assert.match(errors.join(''), /is not a run folder \(no config\.json\)/);
  assert.equal(fs.existsSync(run), false);
});

test('bin/gradkit.js runs the compiled CLI and reports bad input with exit code 1', () => {
  const dir = tmp();
  const file = path.join(dir, 'typo.json');
  fs.writeFileSync(file, JSON.stringify({ epochz: 1 }));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/gradkit.js'), 'train', file], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /gradkit: experiment: unknown key 'epochz' at epochz \(did you mean 'epochs'\?\)/);
  assert.equal(fs.existsSync(path.join(dir, 'runs')), false);
  const help = spawnSync(process.execPath, [path.join(ROOT, 'bin/gradkit.js'), '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /gradkit eval <run-folder>/);
});
