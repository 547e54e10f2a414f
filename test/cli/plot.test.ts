import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main.js';
import { runPlot } from '../../src/cli/plot.js';
import { trainCommand } from '../../src/cli/commands.js';
import { nodeStorage } from '../../src/platform/fs-node.js';
import { decodePng } from '../helpers-png.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-plot-'));
}

function runFolder(root: string, name: string, losses: number[]): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  const lines = losses.flatMap((loss, epoch) => [
    JSON.stringify({ kind: 'step', epoch, step: epoch * 10 + 5, loss: loss + 0.1 }),
    JSON.stringify({ kind: 'epoch', epoch, loss, accuracy: 1 - loss / 3, valLoss: loss * 1.1, valAccuracy: 0.9 - loss / 3, lr: 0.01, step: (epoch + 1) * 10 }),
  ]);
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}

const pointsOf = (svg: string, run: string, key: string): number =>
  new RegExp(`data-run="${run}" data-key="${key}"[^>]*points="([^"]*)"`).exec(svg)![1].split(' ').length;

test('gradkit plot <run> regenerates curves.svg and curves.png in the run folder', async () => {
  const root = tmp();
  const dir = runFolder(root, 'r1', [2, 1.5, 1, 0.8, 0.7]);
  assert.equal(await main(['plot', dir]), 0);
  const svg = fs.readFileSync(path.join(dir, 'curves.svg'), 'utf8');
  // Step lines are not epochs: 5 points, not 10.
  assert.equal(pointsOf(svg, 'r1', 'loss'), 5);
  assert.equal(pointsOf(svg, 'r1', 'valAccuracy'), 5);
  assert.ok(decodePng(fs.readFileSync(path.join(dir, 'curves.png'))).width > 100);
});

test('gradkit plot overlays several runs into --out (svg or png)', async () => {
  const root = tmp();
  const a = runFolder(root, 'a', [2, 1, 0.5]);
  const b = runFolder(root, 'b', [2.5, 2, 1.5, 1.2]);
  const out = path.join(root, 'cmp.svg');
  assert.equal(await runPlot([a, b, '--out', out]), 0);
  const svg = fs.readFileSync(out, 'utf8');
  assert.equal(pointsOf(svg, 'a', 'loss'), 3);
  assert.equal(pointsOf(svg, 'b', 'loss'), 4);
  const png = path.join(root, 'cmp.png');
  assert.equal(await runPlot([a, b, '--out', png]), 0);
  assert.equal(decodePng(fs.readFileSync(png)).channels, 4);
});

test('gradkit plot: clear errors for bad input', async () => {
  const root = tmp();
  const a = runFolder(root, 'a', [1]);
  const b = runFolder(root, 'b', [1]);
  const errs: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errs.push(s), true)) as typeof process.stderr.write;
  try {
    assert.equal(await runPlot([a, b]), 1);
    assert.equal(await runPlot([path.join(root, 'nope')]), 1);
    assert.equal(await runPlot([a, '--out', path.join(root, 'x.jpg')]), 1);
    assert.equal(await runPlot([]), 2);
    fs.writeFileSync(path.join(b, 'metrics.jsonl'), '{"kind":"step","loss":1}\n');
    assert.equal(await runPlot([b]), 1);
  } finally {
    process.stderr.write = orig;
  }
  const text = errs.join('');
  assert.match(text, /2 runs need --out/);
  assert.match(text, /nope is not a run folder \(no metrics.jsonl\)/);
  assert.match(text, /--out must end in .svg or .png/);
  assert.match(text, /has no epoch lines yet/);
  assert.doesNotMatch(text, /\n\s+at /, 'no stack traces');
});

test('gradkit train leaves curves.svg with one point per epoch in the run folder', async () => {
  const root = tmp();
  const exp = path.join(root, 'e.json');
  fs.writeFileSync(exp, JSON.stringify({
    name: 'tiny', seed: 1, epochs: 2,
    data: { dataset: 'blobs', samplesPerClass: 20, batchSize: 20, validationFraction: 0.25 },
    model: { layers: [{ type: 'linear', outFeatures: 8 }, { type: 'relu' }, { type: 'linear', outFeatures: 3 }] },
  }));
  const out = path.join(root, 'run');
  const sink = { write: (s: string) => void s };
  assert.equal(await main(['train', exp, '--out', out], { storage: nodeStorage(), sink }), 0);
  const svg = fs.readFileSync(path.join(out, 'curves.svg'), 'utf8');
  assert.equal(pointsOf(svg, 'tiny', 'loss'), 2);
  assert.equal(pointsOf(svg, 'tiny', 'valLoss'), 2);
  assert.ok(fs.existsSync(path.join(out, 'curves.png')));
});

test('"tensorboard": true writes an event file under <run>/tensorboard; logEverySteps adds per-step loss lines', async () => {
  const root = tmp();
  const exp = path.join(root, 'e.json');
  fs.writeFileSync(exp, JSON.stringify({
    name: 'tb', seed: 1, epochs: 2, tensorboard: true, logEverySteps: 1,
    data: { dataset: 'blobs', samplesPerClass: 20, batchSize: 20, validationFraction: 0.25 },
    model: { layers: [{ type: 'linear', outFeatures: 3 }] },
  }));
  const out = path.join(root, 'run');
  assert.equal(await main(['train', exp, '--out', out], { storage: nodeStorage(), sink: { write: (s: string) => void s } }), 0);
  const files = fs.readdirSync(path.join(out, 'tensorboard'));
  assert.equal(files.length, 1);
  assert.match(files[0], /^events\.out\.tfevents\.\d+\.gradkit$/);
  const bytes = fs.readFileSync(path.join(out, 'tensorboard', files[0]));
  // Tags are plain UTF-8 inside the protos: both epochs' valLoss and a weight histogram are there.
  const text = bytes.toString('latin1');
  assert.equal(text.split('epoch/valLoss').length - 1, 2);
  assert.ok(text.includes('weights/'), 'weight histograms');
  assert.ok(text.includes('brain.Event:2'));
  // logEverySteps: 1 → every one of the 6 steps (45 training samples / 20 per batch × 2 epochs) in both logs.
  assert.equal(text.split('step/loss').length - 1, 6);
  const steps = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.kind === 'step');
  assert.deepEqual(steps.map((l) => l.step), [1, 2, 3, 4, 5, 6]);
});

test('trainCommand({ tensorboard: true }) (what a --tensorboard flag passes) turns TensorBoard on for an experiment without it', async () => {
  const root = tmp();
  const exp = path.join(root, 'e.json');
  fs.writeFileSync(exp, JSON.stringify({
    name: 'flag', seed: 1, epochs: 1,
    data: { dataset: 'blobs', samplesPerClass: 10, batchSize: 10, validationFraction: 0.25 },
    model: { layers: [{ type: 'linear', outFeatures: 3 }] },
  }));
  const out = path.join(root, 'run');
  await trainCommand({ experiment: exp, out, tensorboard: true }, { storage: nodeStorage(), sink: { write: (s: string) => void s } });
  assert.equal(fs.readdirSync(path.join(out, 'tensorboard')).length, 1);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).tensorboard, true, 'config.json records it, so --resume keeps it');
});

test('--tensorboard turns event files on from the command line, named after the host the CLI reports', async () => {
  const root = tmp();
  const exp = path.join(root, 'e.json');
  fs.writeFileSync(exp, JSON.stringify({
    name: 'tbflag', seed: 1, epochs: 1,
    data: { dataset: 'blobs', samplesPerClass: 20, batchSize: 20, validationFraction: 0.25 },
    model: { layers: [{ type: 'linear', outFeatures: 3 }] },
  }));
  const out = path.join(root, 'run');
  const env = { storage: nodeStorage(), sink: { write: (s: string) => void s }, hostname: 'box.one' };
  assert.equal(await main(['train', exp, '--out', out, '--tensorboard'], env), 0);
  const files = fs.readdirSync(path.join(out, 'tensorboard'));
  assert.equal(files.length, 1);
  assert.match(files[0]!, /^events\.out\.tfevents\.\d+\.box\.one$/);
});
