/**
 * Transfer learning (FAU "Initialization & Transfer Learning", cs231n, Tsinghua): a small CNN
 * pretrained on digits 0–4 (supervised, or self-supervised by predicting rotations) learns digits
 * 5–9 from k labels per class — fine-tuned (BatchNorm statistics updating or frozen), as linear
 * probes on frozen features at two depths, or trained from scratch. A third pretraining is SimCLR
 * (two augmented views per unlabelled digit, NT-Xent), fine-tuned and linearly probed. Every arm
 * is trained by the public Trainer; the library's transfer helpers (replaceHead, cutAt, freeze)
 * do the surgery.
 */
import * as g from '../../index.js';
import { loadDigits } from '../../data/datasets/digits.js';
import type { AnyModule } from '../../nn/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import { fewLabelCnn, PROBE_LAYERS } from '../few-label.js';
import { digitsBetween, type DigitSplit as Split } from '../digit-split.js';
import { simclrThroughTrainer } from './simclr-trainer.js';
import type { ArmResult } from './harness.js';
import { at } from './common.js';
import { allOf, compareArms } from './verdict.js';
import type { ClaimResult, Family, RunContext } from './types.js';

const WIDTH: [number, number, number] = [8, 16, 32];
/** SimCLR pretraining: short (seconds), larger batches than the rotation task (more negatives per anchor). */
const SIMCLR = { epochs: 3, lr: 2e-3, batchSize: 128, temperature: 0.5, seed: 1 };

const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;


async function fit(model: AnyModule, x: Tensor, y: Tensor, epochs: number, lr: number, batchSize: number, seed: number): Promise<void> {
  const params = g.transfer.trainableParameters(model);
  // A last batch of one sample would give BatchNorm a zero variance: drop it (k-shot sets are multiples of 5).
  const trainData = new g.data.DataLoader(new g.data.TensorDataset(x, y), { batchSize, shuffle: true, seed, dropLast: x.shape[0] % batchSize === 1 });
  const trainer = new g.train.Trainer({ model, optimizer: new g.optim.Adam(params, { lr }), trainData, defaultCallbacks: false });
  await trainer.fit({ epochs });
}

function accuracy(model: AnyModule, s: Split): number {
  return g.train.evaluate(model, new g.data.DataLoader(new g.data.TensorDataset(s.x, s.y), { batchSize: 500 })).accuracy;
}

/** Each 0–4 digit four times, rotated by 0°, 90°, 180°, 270°, labelled by its rotation (the pretext task). */
function rotationTask(x: Tensor): { x: Tensor; y: Tensor } {
  const n = x.shape[0];
  const parts = [0, 90, 180, 270].map((deg) => (deg === 0 ? x : g.data.rotateImages(x, deg)));
  const y = new Int32Array(4 * n);
  for (let r = 0; r < 4; r++) y.fill(r, r * n, (r + 1) * n);
  return { x: g.concat(parts, 0), y: g.Tensor.fromArray(y, [4 * n]) };
}

type Arm = 'scratch' | 'finetune' | 'finetuneFrozenBn' | 'probeBlock2' | 'probeHidden' | 'rotation' | 'simclr' | 'simclrProbe';

const ARM_NAMES: Record<Arm, string> = {
  finetune: 'fine-tune (supervised pretraining, all layers, BatchNorm statistics updating)',
  finetuneFrozenBn: 'fine-tune, BatchNorm layers frozen (statistics and affine)',
  probeBlock2: 'linear probe on frozen conv block 2',
  probeHidden: 'linear probe on frozen hidden layer',
  rotation: 'fine-tune (self-supervised rotation pretraining)',
  simclr: 'fine-tune (self-supervised SimCLR pretraining)',
  simclrProbe: 'linear probe on the frozen SimCLR hidden layer',
  scratch: 'scratch (same CNN)',
};

async function transferClaims(ctx: RunContext): Promise<ClaimResult[]> {
  const shots = ctx.quick ? [3, 10] : [3, 10, 20];
  const pretrainSize = ctx.quick ? 1500 : 3000;
  const testSize = ctx.quick ? 500 : 1000;
  const epochs = 30;
  const lr = 1e-3;
  const t0 = performance.now();
  const digits = await loadDigits({ trainSize: 8000, testSize: 2000, seed: 0 });
  const pre = digitsBetween(digits.xTrain, digits.yTrain, 0, pretrainSize);
  const preTest = digitsBetween(digits.xTest, digits.yTest, 0, Infinity);
  const pool = digitsBetween(digits.xTrain, digits.yTrain, 5, Infinity);
  const test = digitsBetween(digits.xTest, digits.yTest, 5, testSize);

  g.manualSeed(0);
  const supervised = fewLabelCnn(WIDTH, new g.Random(0));
  await fit(supervised, pre.x, pre.y, 2, 2e-3, 64, 1);
  const pretrainAcc = accuracy(supervised, preTest);
  const supervisedState = supervised.stateDict();
  // The same images, labels unused: half as many (each becomes four), one epoch.
  const rotSource = pre.x.shape[0] > 1500 ? g.data.gatherRows(pre.x, Array.from({ length: 1500 }, (_, i) => i)) : pre.x;
  const rot = rotationTask(rotSource);
  g.manualSeed(0);
  const rotNet = fewLabelCnn(WIDTH, new g.Random(0));
  await fit(rotNet, rot.x, rot.y, 1, 2e-3, 64, 1);
  const rotState = rotNet.stateDict();
  // SimCLR sees the same unlabelled images as rotation, each as two views per epoch.
  g.manualSeed(0);
  const simNet = fewLabelCnn(WIDTH, new g.Random(0));
  const simclrLosses = await simclrThroughTrainer(g.transfer.cutAt(simNet, PROBE_LAYERS.hidden), WIDTH[2], rotSource, SIMCLR);
  const simState = simNet.stateDict();
  const simclrFirst = mean(simclrLosses.slice(0, 5));
  const simclrLast = mean(simclrLosses.slice(-5));
  ctx.log(`  pretraining: ${((performance.now() - t0) / 1000).toFixed(1)} s (0–4 accuracy ${(100 * pretrainAcc).toFixed(1)}%; SimCLR NT-Xent ${simclrFirst.toFixed(3)} → ${simclrLast.toFixed(3)})`);

  const arms = Object.keys(ARM_NAMES) as Arm[];
  const results = new Map<Arm, ArmResult>(arms.map((a) => [a, { name: ARM_NAMES[a], seeds: [...ctx.seeds], curves: {}, final: {}, seconds: 0 }]));
  for (const k of shots) {
    for (const seed of ctx.seeds) {
      // The same k-shot sample for every arm of a seed: the comparison is paired.
      const rng = new g.Random(1000 * k + seed);
      const picked: number[] = [];
      for (const members of pool.byClass) {
        // A partial Fisher–Yates shuffle: k distinct members, uniformly.
        const m = [...members];
        for (let i = 0; i < k; i++) {
          const j = rng.int(i, m.length);
          [m[i], m[j]] = [m[j], m[i]];
          picked.push(m[i]);
        }
      }
      const xs = g.data.gatherRows(pool.x, picked);
      const ys = g.data.gatherRows(pool.y, picked);
      for (const arm of arms) {
        const ta = performance.now();
        g.manualSeed(seed);
        const net = fewLabelCnn(WIDTH, new g.Random(seed + 7));
        let model: AnyModule = net;
        if (arm !== 'scratch') {
          net.loadStateDict(arm === 'rotation' ? rotState : arm.startsWith('simclr') ? simState : supervisedState);
          g.transfer.replaceHead(net, new g.nn.Linear(WIDTH[2], 5, { init: 'xavier', rng: new g.Random(seed + 13) }));
        }
        if (arm === 'finetuneFrozenBn') g.transfer.freeze(net, (_name: string, m: AnyModule) => m instanceof g.nn.BatchNorm1d || m instanceof g.nn.BatchNorm2d);
        if (arm === 'probeBlock2' || arm === 'probeHidden' || arm === 'simclrProbe') {
          g.transfer.freeze(net);
          const body = g.transfer.cutAt(net, PROBE_LAYERS[arm === 'probeBlock2' ? 'block2' : 'hidden']);
          const features = arm === 'probeBlock2' ? WIDTH[1] * 7 * 7 : WIDTH[2];
          model = new g.nn.Sequential(body, new g.nn.Flatten(), new g.nn.Linear(features, 5, { init: 'xavier', rng: new g.Random(seed + 13) }));
        }
        // A linear probe is a convex problem on fixed features: a larger rate suits it.
        await fit(model, xs, ys, epochs, arm === 'simclrProbe' || arm.startsWith('probe') ? 1e-2 : lr, 16, seed + 11);
        const r = results.get(arm)!;
        (r.final[`acc${k}`] ??= []).push(accuracy(model, test));
        r.seconds += (performance.now() - ta) / 1000;
      }
    }
  }
  ctx.log(`  few-label arms: ${[...results.values()].reduce((s, r) => s + r.seconds, 0).toFixed(1)} s`);
  const r = (a: Arm): ArmResult => results.get(a)!;
  const columns = shots.map((k) => ({ key: `acc${k}`, label: `test acc, ${k}/class` }));
  const setup = `CNN (two conv–BN–ReLU–pool blocks of ${WIDTH[0]} and ${WIDTH[1]} channels, a ${WIDTH[2]}-unit hidden layer with BatchNorm) pretrained with the Trainer on ${pre.x.shape[0]} digits 0–4 for 2 epochs (Adam 2e-3; held-out 0–4 accuracy ${(100 * pretrainAcc).toFixed(1)}%), or self-supervised on ${rot.x.shape[0] / 4} of them rotated by 0/90/180/270° (predict the rotation, 1 epoch). Then digits 5–9 from k labels per class (the same k-shot sample for every arm of a seed): new 5-way head (\`transfer.replaceHead\`), Adam ${lr} (probes 1e-2), batch 16, ${epochs} epochs, all through the Trainer; probes are a Linear on \`transfer.cutAt\` features of the frozen network (\`transfer.freeze\`). Accuracy on ${test.x.shape[0]} test digits 5–9.`;
  return [
    {
      id: 'transfer-few-label', claim: 'With little labelled data, fine-tuning a pretrained network beats training from scratch',
      quote: 'Now, transfer learning is typically used in all situations where you have little data.', source: at('fauInit', 39),
      setup, arms: arms.map(r), columns,
      // Fine-tuning beats scratch by at least 2 points at every k.
      judgement: allOf(shots.map((k) => compareArms(r('finetune').final[`acc${k}`], r('scratch').final[`acc${k}`], { better: 'higher', minEffect: 0.02 }))),
    },
    {
      id: 'transfer-rotation', claim: 'Self-supervised (rotation) pretraining on unlabelled digits beats training from scratch',
      quote: '- Leverage unlabeled data\n - Pretraining', source: `${at('tsinghua', 110)}–111`,
      setup, arms: [r('rotation'), r('scratch'), r('finetune')], columns,
      // Rotation pretraining beats scratch by at least 2 points at the smallest and the middle k.
      judgement: allOf(shots.slice(0, 2).map((k) => compareArms(r('rotation').final[`acc${k}`], r('scratch').final[`acc${k}`], { better: 'higher', minEffect: 0.02 }))),
    },
    {
      id: 'transfer-simclr', claim: 'Self-supervised contrastive (SimCLR) pretraining on unlabelled digits beats training from scratch',
      quote: '<i>Fine-tuned:</i>\nSimCLR (ours)\t89.4\t98.6\t89.0\t78.2\t68.1\t92.1\t87.0\t86.6\t77.8\t92.1\t94.1\t97.6\nSupervised\t88.7\t98.3\t88.7\t77.8\t67.0\t91.4\t88.0\t86.5\t78.8\t93.2\t94.2\t98.0\nRandom init\t88.3\t96.0\t81.9\t77.0\t53.7\t91.3\t84.8\t69.4\t64.1\t82.7\t72.5\t92.5', source: `${at('tsinghua', 352)}–355`,
      setup: `${setup} SimCLR pretraining: the same ${rotSource.shape[0]} unlabelled digits 0–4, ${SIMCLR.epochs} epochs through the Trainer (its \`forward\` makes two views per image with \`experiments.simclrViews\` and the library's digit augmentation — rotation ±15°, shift ≤3 px, zoom 0.8–1.15, an 8-px cutout, pixel noise 0.1 — and runs body → projection head (32→32→16) on both at once; its \`loss\` is \`losses.ntXent\`, τ ${SIMCLR.temperature}), Adam ${SIMCLR.lr}, batch ${SIMCLR.batchSize} images; NT-Xent ${simclrFirst.toFixed(3)} over the first five steps → ${simclrLast.toFixed(3)} over the last five. The projection head is discarded; the body is fine-tuned with a new head, or frozen under a linear probe on its hidden layer.`,
      arms: [r('simclr'), r('simclrProbe'), r('scratch'), r('rotation'), r('finetune')], columns,
      // Written before the run: SimCLR pretraining then fine-tuning beats scratch by at least 2 points at the smallest and the middle k.
      judgement: allOf(shots.slice(0, 2).map((k) => compareArms(r('simclr').final[`acc${k}`], r('scratch').final[`acc${k}`], { better: 'higher', minEffect: 0.02 }))),
    },
    {
      id: 'transfer-frozen-bn', claim: 'With few labels, fine-tuning with the BatchNorm layers frozen beats updating their statistics',
      quote: 'Freeze these', source: at('cs231n', 910),
      setup: `${setup} The frozen-BatchNorm arm holds every BatchNorm layer in eval mode (running statistics from pretraining) and its scale/shift fixed (\`transfer.freeze\` on the BatchNorm layers); the rest fine-tunes as in the plain arm.`,
      arms: [r('finetuneFrozenBn'), r('finetune')], columns,
      // Frozen statistics beat updating ones by at least 1 point at the smallest k (3 per class: batches of 15).
      judgement: compareArms(r('finetuneFrozenBn').final[`acc${shots[0]}`], r('finetune').final[`acc${shots[0]}`], { better: 'higher', minEffect: 0.01 }),
    },
  ];
}

export const transfer: Family = {
  name: 'transfer',
  title: 'Transfer learning',
  run: transferClaims,
};
