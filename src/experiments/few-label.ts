/**
 * The few-label transfer experiment (issue 6): pretrain a small CNN on digits 0–4, then learn
 * digits 5–9 from only k labelled examples per class in three ways — fine-tune the pretrained
 * network (new head, all layers trained), train the same architecture from scratch, or fit a
 * linear probe on frozen pretrained features cut at several depths. Every arm sees the same
 * k-shot sample for a given seed, so the comparison is paired. Library code only (no Node
 * imports), so it also runs in a browser.
 */
import { GradkitError } from '../core/errors.js';
import { Random, manualSeed } from '../core/rng.js';
import { noGrad } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import * as nn from '../nn/index.js';
import { Adam } from '../optim/optimizers.js';
import { crossEntropy } from '../losses/classification.js';
import { loadDigits, DIGIT_SIZE } from '../data/datasets/digits.js';
import { gatherRows } from '../data/dataset.js';
import { digitsBetween } from './digit-split.js';
import { permutation } from '../data/util.js';
import { cutAt, replaceHead } from '../transfer/head.js';
import { extractFeatures } from '../transfer/features.js';
import { linearProbe } from '../transfer/probe.js';

/** Named cut points of the CNN built by fewLabelCnn, for probes. */
export const PROBE_LAYERS = { block1: '3', block2: '7', hidden: '11' } as const;
/** A depth of the few-label CNN at which frozen features feed a linear probe (a key of PROBE_LAYERS). */
export type ProbeDepth = keyof typeof PROBE_LAYERS;

/** Options of the few-label experiment: shots per class, seeds, pretraining and fine-tuning budgets, test size and probe depths. */
export interface FewLabelOptions {
  /** Labelled examples per class of digits 5–9 (default [3, 10, 20]). */
  shotsPerClass?: number[];
  /** Seeds: a count (0..n-1) or the seeds themselves (default 5). Each seed draws its own k-shot sample and inits. */
  seeds?: number | number[];
  /** Digits 0–4 used for pretraining, at most (default: all in the training split, about 4,000). */
  pretrainSize?: number;
  /** Pretraining epochs (default 3). */
  pretrainEpochs?: number;
  /** Passes over the k-shot set for fine-tuning and for scratch (default 40). */
  finetuneEpochs?: number;
  /** Test digits 5–9 to evaluate on, at most (default: all in the test split, about 1,000). */
  testSize?: number;
  /** Depths at which frozen pretrained features feed a linear probe (default all: block1, block2, hidden). */
  probeDepths?: ProbeDepth[];
  /** Epochs of the linear probe (default 200). */
  probeEpochs?: number;
  /** Channels of the two conv blocks and width of the hidden layer (default [16, 32, 64]). */
  width?: [number, number, number];
  /** Adam learning rate for pretraining (default 2e-3). */
  pretrainLr?: number;
  /** Adam learning rate for fine-tuning and scratch (default 1e-3). */
  lr?: number;
  /** Minibatch size for pretraining (default 64) and the k-shot arms (default 16). */
  batchSize?: number;
  finetuneBatchSize?: number;
  /** Seed of the train/test split and of pretraining (default 0). */
  dataSeed?: number;
  /** Called with a line of progress now and then. */
  onProgress?: (message: string) => void;
}

/** Mean and sample standard deviation of test accuracies over seeds, plus the raw values. */
export interface Summary {
  mean: number;
  std: number;
  values: number[];
}

/** One row of the few-label results: accuracies from scratch, fine-tuned and probed, at one number of shots per class. */
export interface FewLabelRow {
  shotsPerClass: number;
  scratch: Summary;
  finetune: Summary;
  /** One entry per probe depth asked for. */
  probe: Partial<Record<ProbeDepth, Summary>>;
}

/** The few-label experiment's results: one row per shot count, the pretraining accuracy, and the settings used. */
export interface FewLabelResult {
  rows: FewLabelRow[];
  /** Accuracy of the pretrained network on held-out digits 0–4. */
  pretrainAccuracy: number;
  seeds: number[];
  testSize: number;
  pretrainSize: number;
}

/** The CNN used by every arm: two conv–BN–ReLU–pool blocks, a hidden layer, a 5-way head. */
export function fewLabelCnn(width: [number, number, number], rng: Random): nn.Sequential {
  const [c1, c2, h] = width;
  const flat = c2 * (DIGIT_SIZE / 4) * (DIGIT_SIZE / 4);
  return new nn.Sequential(
    new nn.Conv2d(1, c1, 3, { padding: 1, bias: false, rng }), new nn.BatchNorm2d(c1), new nn.ReLU(), new nn.MaxPool2d(2), // 0–3
    new nn.Conv2d(c1, c2, 3, { padding: 1, bias: false, rng }), new nn.BatchNorm2d(c2), new nn.ReLU(), new nn.MaxPool2d(2), // 4–7
    new nn.Flatten(), new nn.Linear(flat, h, { bias: false, rng }), new nn.BatchNorm1d(h), new nn.ReLU(), // 8–11
    new nn.Linear(h, 5, { init: 'xavier', rng }), // 12: head
  );
}

function mustBePositiveInt(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new GradkitError('fewLabel', `${what} must be a positive integer, got ${v}`);
  return v;
}

function summarize(values: number[]): Summary {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const varSum = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: values.length > 1 ? Math.sqrt(varSum / (values.length - 1)) : 0, values };
}


/** Minibatch Adam on (x, y); the model is left in eval mode. */
function fit(model: nn.Module, x: Tensor, y: Tensor, epochs: number, batchSize: number, lr: number, rng: Random): void {
  const optimizer = new Adam(model.parameters(), { lr });
  const n = x.shape[0];
  model.train();
  for (let e = 0; e < epochs; e++) {
    const order = permutation(n, rng);
    for (let s = 0; s < n; s += batchSize) {
      // A last batch of one would give BatchNorm a zero variance; fold it into the previous one.
      const end = n - (s + batchSize) < 2 ? n : s + batchSize;
      const idx = order.subarray(s, end);
      const loss = crossEntropy(model.call(gatherRows(x, idx)) as Tensor, gatherRows(y, idx));
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      if (end === n) break;
    }
  }
  model.eval();
}

function accuracy(model: nn.Module, x: Tensor, y: Tensor): number {
  model.eval();
  const pred = noGrad(() => {
    const parts: Tensor[] = [];
    for (let s = 0; s < x.shape[0]; s += 256) parts.push(ops.argmax(model.call(ops.slice(x, [s], [Math.min(x.shape[0], s + 256)])) as Tensor, 1));
    return parts.length === 1 ? parts[0] : ops.concat(parts, 0);
  }).dataSync();
  const t = y.dataSync();
  let hits = 0;
  for (let i = 0; i < t.length; i++) if (pred[i] === t[i]) hits++;
  return hits / t.length;
}

/**
 * Runs the whole experiment and returns one row per shots-per-class setting.
 *
 * ```ts
 * const { rows } = await fewLabelExperiment({ shotsPerClass: [3, 10, 20], seeds: 5 });
 * console.log(fewLabelMarkdown(result));
 * ```
 */
export async function fewLabelExperiment(opts: FewLabelOptions = {}): Promise<FewLabelResult> {
  const shots = opts.shotsPerClass ?? [3, 10, 20];
  if (!Array.isArray(shots) || shots.length === 0) throw new GradkitError('fewLabel', `shotsPerClass must be a non-empty array of positive integers, got ${JSON.stringify(shots)}`);
  shots.forEach((k) => mustBePositiveInt('shotsPerClass entry', k));
  const seedsOpt = opts.seeds ?? 5;
  const seeds = typeof seedsOpt === 'number' ? Array.from({ length: mustBePositiveInt('seeds', seedsOpt) }, (_, i) => i) : [...seedsOpt];
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) throw new GradkitError('fewLabel', `seeds must be a positive count or a non-empty array of integers, got ${JSON.stringify(seedsOpt)}`);
  const depths = opts.probeDepths ?? (Object.keys(PROBE_LAYERS) as ProbeDepth[]);
  for (const d of depths) if (!(d in PROBE_LAYERS)) throw new GradkitError('fewLabel', `unknown probe depth '${d}'; expected one of ${Object.keys(PROBE_LAYERS).join(', ')}`);
  const width = opts.width ?? [16, 32, 64];
  width.forEach((w) => mustBePositiveInt('width entry', w));
  const pretrainEpochs = mustBePositiveInt('pretrainEpochs', opts.pretrainEpochs ?? 3);
  const finetuneEpochs = mustBePositiveInt('finetuneEpochs', opts.finetuneEpochs ?? 40);
  const probeEpochs = mustBePositiveInt('probeEpochs', opts.probeEpochs ?? 200);
  const batchSize = mustBePositiveInt('batchSize', opts.batchSize ?? 64);
  const fbs = mustBePositiveInt('finetuneBatchSize', opts.finetuneBatchSize ?? 16);
  const lr = opts.lr ?? 1e-3;
  const log = opts.onProgress ?? (() => {});
  const dataSeed = opts.dataSeed ?? 0;

  const digits = await loadDigits({ trainSize: 8000, testSize: 2000, seed: dataSeed });
  const pre = digitsBetween(digits.xTrain, digits.yTrain, 0, opts.pretrainSize ?? Infinity);
  const preTest = digitsBetween(digits.xTest, digits.yTest, 0, Infinity);
  const pool = digitsBetween(digits.xTrain, digits.yTrain, 5, Infinity); // k-shot samples come from here
  const test = digitsBetween(digits.xTest, digits.yTest, 5, opts.testSize ?? Infinity);
  const tooFew = Math.min(...pool.byClass.map((c) => c.length));
  if (Math.max(...shots) > tooFew) throw new GradkitError('fewLabel', `shotsPerClass ${Math.max(...shots)} exceeds the ${tooFew} training images of the rarest digit 5–9`);

  manualSeed(dataSeed);
  const pretrained = fewLabelCnn(width, new Random(dataSeed));
  fit(pretrained, pre.x, pre.y, pretrainEpochs, batchSize, opts.pretrainLr ?? 2e-3, new Random(dataSeed + 1));
  const pretrainAccuracy = accuracy(pretrained, preTest.x, preTest.y);
  log(`pretrained on ${pre.x.shape[0]} digits 0–4: held-out accuracy ${(100 * pretrainAccuracy).toFixed(1)}%`);
  const pretrainedState = pretrained.stateDict();

  // Frozen features of the test set, once per depth (the pretrained network does not change).
  const testFeatures = new Map<ProbeDepth, Tensor>();
  for (const d of depths) testFeatures.set(d, extractFeatures(cutAt(pretrained, PROBE_LAYERS[d]), test.x, { flatten: true }));

  const rows: FewLabelRow[] = [];
  for (const k of shots) {
    const scratch: number[] = [];
    const finetune: number[] = [];
    const probe = new Map<ProbeDepth, number[]>(depths.map((d) => [d, []]));
    for (const seed of seeds) {
      const rng = new Random(1000 * k + seed);
      const picked: number[] = [];
      for (const members of pool.byClass) {
        const p = permutation(members.length, rng);
        for (let i = 0; i < k; i++) picked.push(members[p[i]]);
      }
      const xs = gatherRows(pool.x, picked);
      const ys = gatherRows(pool.y, picked);

      const fromScratch = fewLabelCnn(width, new Random(seed + 7));
      fit(fromScratch, xs, ys, finetuneEpochs, fbs, lr, new Random(seed + 11));
      scratch.push(accuracy(fromScratch, test.x, test.y));

      const tuned = fewLabelCnn(width, new Random(seed + 7));
      tuned.loadStateDict(pretrainedState);
      replaceHead(tuned, new nn.Linear(width[2], 5, { init: 'xavier', rng: new Random(seed + 13) }));
      fit(tuned, xs, ys, finetuneEpochs, fbs, lr, new Random(seed + 11));
      finetune.push(accuracy(tuned, test.x, test.y));

      for (const d of depths) {
        const f = extractFeatures(cutAt(pretrained, PROBE_LAYERS[d]), xs, { flatten: true });
        const lp = linearProbe(f, ys, { epochs: probeEpochs, lr: 0.01, numClasses: 5, seed });
        probe.get(d)!.push(lp.accuracy(testFeatures.get(d)!, test.y));
      }
    }
    const row: FewLabelRow = { shotsPerClass: k, scratch: summarize(scratch), finetune: summarize(finetune), probe: {} };
    for (const d of depths) row.probe[d] = summarize(probe.get(d)!);
    log(`${k}/class: scratch ${(100 * row.scratch.mean).toFixed(1)}%, fine-tune ${(100 * row.finetune.mean).toFixed(1)}%`);
    rows.push(row);
  }
  return { rows, pretrainAccuracy, seeds, testSize: test.x.shape[0], pretrainSize: pre.x.shape[0] };
}

const pct = (s: Summary): string => `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)}`;

/** The results as a markdown table: test accuracy in %, mean ± standard deviation over seeds. */
export function fewLabelMarkdown(result: FewLabelResult): string {
  const depths = Object.keys(result.rows[0]?.probe ?? {}) as ProbeDepth[];
  const head = ['examples / class', 'scratch', 'fine-tune', ...depths.map((d) => `probe @ ${d}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  for (const r of result.rows) lines.push(`| ${[String(r.shotsPerClass), pct(r.scratch), pct(r.finetune), ...depths.map((d) => pct(r.probe[d]!))].join(' | ')} |`);
  return lines.join('\n');
}
