import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as g from '../../src/index.js';
import { TrainingRecorder, analyzeClassifier, writeAnalysis, inputPng, type RecordLine } from '../../src/diagnostics/index.js';
import { main } from '../../src/cli/main.js';
import { nodeStorage } from '../../src/platform/fs-node.js';
import { decodePng } from '../helpers-png.js';

const { nn, data, train, optim } = g;

function setup(samplesPerClass = 16) {
  g.manualSeed(0);
  const net = new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Linear(8, 3));
  const { x, y } = data.makeBlobs({ samplesPerClass, dim: 4, seed: 2 });
  const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 8 });
  return { net, loader, optimizer: new optim.SGD(net.parameters(), { lr: 0.05 }) };
}

const norm = (a: ArrayLike<number>): number => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

test('TrainingRecorder: one line every N steps with activation and gradient histograms and update ratios', async () => {
  const { net, loader, optimizer } = setup();
  const storage = train.memoryStorage();
  const rec = new TrainingRecorder({ storage, path: 'r/record.jsonl', everySteps: 2, bins: 10 });
  // A probe that sees the weights before and after step 2's update, to check the ratio.
  let w0: Float32Array | null = null;
  let w1: Float32Array | null = null;
  let grad: number[] | null = null;
  const probe: g.train.Callback = {
    name: 'probe', order: 17,
    afterBackward: (t) => {
      if (t.step !== 2) return;
      const p = [...t.model.namedParameters()][0][1];
      w0 = Float32Array.from(p.dataSync());
      grad = Array.from(p.grad!.dataSync());
    },
    afterStep: (t) => {
      if (t.step === 3) w1 = Float32Array.from([...t.model.namedParameters()][0][1].dataSync());
    },
  };
  await new train.Trainer({ model: net, optimizer, trainData: loader, callbacks: [rec, probe] }).fit({ epochs: 2 }); // 48/8 = 6 steps per epoch
  const lines = new TextDecoder().decode(storage.files.get('r/record.jsonl')).trim().split('\n').map((l) => JSON.parse(l) as RecordLine);
  assert.deepEqual(lines.map((l) => l.step), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(lines.map((l) => l.epoch), [0, 0, 0, 1, 1, 1]);
  const l2 = lines[1];
  assert.deepEqual(l2.activations.map((a) => a.name), ['1']);
  assert.equal(l2.activations[0].histogram.counts.length, 10);
  // 8 samples × 8 tanh units in the histogram, all inside tanh's [-1, 1].
  assert.equal(l2.activations[0].histogram.counts.reduce((s, c) => s + c, 0), 64);
  const names = [...net.namedParameters()].map(([n]) => n);
  assert.deepEqual(l2.gradients.map((x) => x.name), names);
  assert.equal(l2.gradients[0].histogram.counts.reduce((s, c) => s + c, 0), 32);
  const meanGrad = grad!.reduce((s, v) => s + v, 0) / grad!.length;
  assert.ok(Math.abs(l2.gradients[0].mean - meanGrad) <= Math.abs(meanGrad) * 1e-3 + 1e-9);
  const want = norm(w1!.map((v, i) => v - w0![i])) / norm(w0!);
  assert.ok(Math.abs(l2.updateRatio[names[0]] - want) / want < 1e-3, `ratio ${l2.updateRatio[names[0]]} vs ${want}`);
  assert.equal(rec.bytes, storage.files.get('r/record.jsonl')!.length);
});

test('TrainingRecorder: the file never passes maxBytes; a capped line says where recording stopped', async () => {
  const { net, loader, optimizer } = setup();
  const storage = train.memoryStorage();
  const rec = new TrainingRecorder({ storage, path: 'record.jsonl', everySteps: 1, maxBytes: 4000, bins: 10 });
  await new train.Trainer({ model: net, optimizer, trainData: loader, callbacks: [rec] }).fit({ epochs: 2 });
  const bytes = storage.files.get('record.jsonl')!;
  assert.ok(bytes.length <= 4000, `${bytes.length} bytes`);
  const lines = new TextDecoder().decode(bytes).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number });
  assert.ok(lines.length >= 2 && lines.length < 12, `${lines.length} lines`);
  const last = lines[lines.length - 1];
  assert.equal(last.kind, 'capped');
  assert.equal(lines.filter((l) => l.kind === 'capped').length, 1);
  assert.equal(last.step, lines[lines.length - 2].step + 1);
  assert.ok(rec.capped);
  assert.throws(() => new TrainingRecorder({ storage, path: 'x', maxBytes: 10 }), /maxBytes must be a whole number > 96/);
});

test('analyzeClassifier: confusion matrix and per-class accuracy match a hand count', () => {
  // A "model" that outputs its input: scores are given directly.
  const model = new nn.Identity();
  const scores = g.tensor([[3, 0, 0], [0, 3, 0], [3, 0, 0], [0, 0, 3], [0, 3, 0]]);
  const labels = g.tensor([0, 1, 1, 2, 2], { dtype: 'int32' });
  const a = analyzeClassifier(model, [[scores, labels]], { numClasses: 3, misclassified: 1 });
  assert.deepEqual(a.confusion, [[1, 0, 0], [1, 1, 0], [0, 1, 1]]);
  assert.deepEqual(a.perClassAccuracy, [1, 0.5, 0.5]);
  assert.equal(a.accuracy, 3 / 5);
  assert.equal(a.misclassified.length, 1);
  assert.deepEqual([a.misclassified[0].index, a.misclassified[0].label, a.misclassified[0].predicted], [2, 1, 0]);
  assert.ok(Math.abs(a.misclassified[0].confidence - Math.exp(3) / (Math.exp(3) + 2)) < 1e-6);
});

test('inputPng: greyscale images for [1,H,W], none for feature vectors', () => {
  const png = inputPng(Float32Array.from([0, 1, 2, 3, 4, 5]), [1, 2, 3])!;
  const d = decodePng(png);
  assert.deepEqual([d.width, d.height, d.channels], [3, 2, 1]);
  assert.deepEqual([...d.pixels], [0, 51, 102, 153, 204, 255]);
  assert.equal(inputPng(Float32Array.from([1, 2]), [2]), null);
});

test('gradkit train with record and analysis writes record.jsonl, analysis.json and misclassified PNGs (also as TensorBoard images)', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-rec-'));
  const exp = path.join(root, 'e.json');
  fs.writeFileSync(exp, JSON.stringify({
    name: 'rec', seed: 1, epochs: 1, record: { everySteps: 2 }, analysis: { misclassified: 4 }, tensorboard: true,
    data: { dataset: 'digits', trainSize: 120, testSize: 60, batchSize: 30, validationFraction: 0.25, evalBatchSize: 60 },
    model: { layers: [{ type: 'flatten' }, { type: 'linear', outFeatures: 16 }, { type: 'relu' }, { type: 'linear', outFeatures: 10 }] },
  }));
  const out = path.join(root, 'run');
  assert.equal(await main(['train', exp, '--out', out], { storage: nodeStorage(), sink: { write: (s: string) => void s } }), 0);
  const rec = fs.readFileSync(path.join(out, 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rec.map((r) => r.step), [0, 2]); // 90 train / 30 = 3 steps
  const a = JSON.parse(fs.readFileSync(path.join(out, 'analysis.json'), 'utf8'));
  assert.equal(a.samples, 60);
  assert.equal(a.confusion.length, 10);
  assert.equal(a.confusion.flat().reduce((s: number, v: number) => s + v, 0), 60);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.ok(Math.abs(a.accuracy - summary.test.accuracy) < 1e-12, 'the analysis uses the same weights as the test score');
  assert.equal(a.misclassified.length, Math.min(4, Math.round(60 * (1 - a.accuracy))));
  const tbDir = path.join(out, 'tensorboard');
  const events = fs.readFileSync(path.join(tbDir, fs.readdirSync(tbDir)[0]));
  for (const m of a.misclassified) {
    const bytes = fs.readFileSync(path.join(out, m.image));
    // The same PNG bytes went into the TensorBoard file as an image summary.
    assert.ok(events.indexOf(bytes) > 0, `${m.image} in the event file`);
    const d = decodePng(bytes);
    assert.deepEqual([d.width, d.height, d.channels], [28, 28, 1]);
    assert.match(m.image, new RegExp(`true${m.label}-pred${m.predicted}\\.png$`));
  }
});
