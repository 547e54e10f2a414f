/** A runs folder for dashboard tests: two runs (one with record + analysis) and a tune study. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodePng } from '../../src/core/png.js';

export function epochLine(epoch: number, loss: number): string {
  return JSON.stringify({ kind: 'epoch', epoch, loss, accuracy: 1 - loss / 4, valLoss: loss * 1.2, valAccuracy: 0.9 - loss / 4, lr: 0.01 / (epoch + 1), step: (epoch + 1) * 4 });
}

export function makeRunsFolder(): { root: string; runs: string; outside: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-dash-'));
  const runs = path.join(root, 'runs');
  const outside = path.join(root, 'secret');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'metrics.jsonl'), '{"secret":true}\n');
  fs.writeFileSync(path.join(root, 'secret.txt'), 'TOP SECRET\n');
  const a = path.join(runs, 'alpha');
  fs.mkdirSync(path.join(a, 'misclassified'), { recursive: true });
  const steps = [0, 1, 2, 3, 4, 5, 6, 7].map((s) => JSON.stringify({ kind: 'step', epoch: Math.floor(s / 4), step: s + 1, loss: 2 - s * 0.2 }));
  fs.writeFileSync(path.join(a, 'metrics.jsonl'), [steps[0], steps[1], steps[2], steps[3], epochLine(0, 1.5), steps[4], steps[5], steps[6], steps[7], epochLine(1, 1.0), epochLine(2, 0.7)].join('\n') + '\n');
  fs.writeFileSync(path.join(a, 'config.json'), JSON.stringify({ name: 'alpha', tags: ['baseline'], data: { dataset: 'digits' }, optimizer: { lr: 0.01 } }));
  fs.writeFileSync(path.join(a, 'summary.json'), JSON.stringify({ name: 'alpha', status: 'completed', seconds: 12.5, best: { monitor: 'valLoss', value: 0.84, epoch: 2 }, test: { accuracy: 0.91, loss: 0.3, samples: 100 }, history: [] }));
  const hist = { edges: [-1, -0.5, 0, 0.5, 1], counts: [1, 5, 7, 2] };
  const rec = (step: number) => JSON.stringify({ kind: 'record', step, epoch: 0, activations: [{ name: '1', mean: 0, std: 1, histogram: hist }], gradients: [{ name: '0.weight', mean: 0, std: 0.1, histogram: hist }], updateRatio: { '0.weight': 1e-3 * (step + 1) } });
  fs.writeFileSync(path.join(a, 'record.jsonl'), [rec(0), rec(4)].join('\n') + '\n');
  fs.writeFileSync(path.join(a, 'misclassified', '000-true3-pred5.png'), encodePng(2, 2, Uint8Array.from([0, 80, 160, 255]), 1));
  fs.writeFileSync(path.join(a, 'analysis.json'), JSON.stringify({ weights: 'best.ckpt', samples: 10, accuracy: 0.8, confusion: [[4, 1], [1, 4]], perClassAccuracy: [0.8, 0.8], misclassified: [{ index: 3, label: 3, predicted: 5, confidence: 0.6, image: 'misclassified/000-true3-pred5.png' }] }));
  const b = path.join(runs, 'beta');
  fs.mkdirSync(b);
  fs.writeFileSync(path.join(b, 'metrics.jsonl'), [epochLine(0, 2.0), epochLine(1, 1.6)].join('\n') + '\n');
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify({ name: 'beta' }));
  const s = path.join(runs, 'study');
  fs.mkdirSync(s);
  const trials = [
    { id: 't0', round: 0, params: { lr: 0.1, width: 8 }, epochs: 1, status: 'ok', metrics: {}, score: 0.7, seconds: 1 },
    { id: 't1', round: 0, params: { lr: 0.01, width: 16 }, epochs: 1, status: 'ok', metrics: {}, score: 0.9, seconds: 2 },
    { id: 't2', round: 0, params: { lr: 0.001, width: 32 }, epochs: 1, status: 'ok', metrics: {}, score: 0.8, seconds: 3 },
  ];
  fs.writeFileSync(path.join(s, 'trials.jsonl'), trials.map((t) => JSON.stringify(t)).join('\n') + '\n');
  fs.writeFileSync(path.join(s, 'space.json'), JSON.stringify({ trials: 3 }));
  // Symlinks out of the runs folder: a whole run, and one file inside a real run.
  fs.symlinkSync(outside, path.join(runs, 'escape'));
  fs.symlinkSync(path.join(root, 'secret.txt'), path.join(b, 'summary.json'));
  return { root, runs, outside };
}
