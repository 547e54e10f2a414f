/**
 * Babysitting the learning process (cs231n lecture 7): the gradient check — backprop against
 * centred finite differences in float64 — on a small model around every layer type.
 */
import * as g from '../../index.js';
import type { AnyModule } from '../../nn/module.js';
import type { ArmResult } from './harness.js';
import { at } from './common.js';
import { allOf, compareThreshold } from './verdict.js';
import type { ClaimResult, Family, RunContext } from './types.js';
import { calibrationClaim, ensembleClaims, updateRatioClaim } from './babysitting-training.js';

// Each layer type inside a small model that ends in 3 logits; inputs are [4, 6] or images [4, 2, 5, 5].
const LAYERS: [string, () => AnyModule, 'flat' | 'image' | 'seq'][] = [
  ['Linear + ReLU', () => new g.nn.Sequential(new g.nn.Linear(6, 5), new g.nn.ReLU(), new g.nn.Linear(5, 3)), 'flat'],
  ['Tanh / Sigmoid', () => new g.nn.Sequential(new g.nn.Linear(6, 5), new g.nn.Tanh(), new g.nn.Linear(5, 5), new g.nn.Sigmoid(), new g.nn.Linear(5, 3)), 'flat'],
  ['ELU / SELU / GELU / Swish', () => new g.nn.Sequential(new g.nn.Linear(6, 5), new g.nn.ELU(), new g.nn.Linear(5, 5), new g.nn.SELU(), new g.nn.Linear(5, 5), new g.nn.GELU(), new g.nn.Linear(5, 5), new g.nn.Swish(), new g.nn.Linear(5, 3)), 'flat'],
  ['Maxout', () => new g.nn.Sequential(new g.nn.Maxout(6, 5, { k: 3 }), new g.nn.Linear(5, 3)), 'flat'],
  ['BatchNorm1d', () => new g.nn.Sequential(new g.nn.Linear(6, 5), new g.nn.BatchNorm1d(5), new g.nn.ReLU(), new g.nn.Linear(5, 3)), 'flat'],
  ['LayerNorm', () => new g.nn.Sequential(new g.nn.Linear(6, 5), new g.nn.LayerNorm(5), new g.nn.Linear(5, 3)), 'flat'],
  ['Dropout', () => new g.nn.Sequential(new g.nn.Linear(6, 5), new g.nn.ReLU(), new g.nn.Dropout({ p: 0.3 }), new g.nn.Linear(5, 3)), 'flat'],
  ['Conv2d + MaxPool2d', () => new g.nn.Sequential(new g.nn.Conv2d(2, 3, 3, { padding: 1 }), new g.nn.ReLU(), new g.nn.MaxPool2d(2), new g.nn.Flatten(), new g.nn.Linear(12, 3)), 'image'],
  ['BatchNorm2d / GroupNorm', () => new g.nn.Sequential(new g.nn.Conv2d(2, 4, 3), new g.nn.BatchNorm2d(4), new g.nn.GroupNorm(2, 4), new g.nn.ReLU(), new g.nn.Flatten(), new g.nn.Linear(36, 3)), 'image'],
];

function gradcheckClaim(ctx: RunContext): ClaimResult {
  const arms: ArmResult[] = LAYERS.map(([name, build, input]) => {
    const t0 = performance.now();
    const final: Record<string, number[]> = { maxRelError: [], passed: [] };
    for (const seed of ctx.seeds) {
      g.manualSeed(seed);
      const model = build();
      const x = input === 'image' ? g.randn([4, 2, 5, 5]) : g.randn([4, 6]);
      const y = g.randint(0, 3, [4]);
      const r = g.diagnostics.modelGradCheck(model, x, y, { samples: ctx.quick ? 10 : 30, seed });
      final.maxRelError.push(r.maxRelError);
      final.passed.push(r.ok ? 1 : 0);
    }
    return { name, seeds: [...ctx.seeds], curves: {}, final, seconds: (performance.now() - t0) / 1000 };
  });
  ctx.log(`  gradient checks: ${arms.reduce((s, a) => s + a.seconds, 0).toFixed(1)} s`);
  return {
    id: 'babysit-gradcheck', claim: 'The gradient check passes on every layer type',
    quote: '1. One time setup — activation functions, preprocessing, weight initialization, regularization, gradient checking', source: `${at('cs231n', 7)}–9`,
    setup: `A small model (4 samples, 3 classes) around each layer type, converted to float64; ${ctx.quick ? 10 : 30} random parameter entries per model and seed, backprop vs centred finite differences (the library's \`diagnostics.modelGradCheck\`, tolerance 1e-6 + 1e-4·|numeric|). \`max rel. error\`: the worst entry's relative error; \`passed\`: 1 when every entry is within tolerance.`,
    arms, columns: [{ key: 'maxRelError', label: 'max rel. error' }, { key: 'passed', label: 'passed' }],
    // Every layer type passes the check on every seed (pass rate above 0.99).
    judgement: allOf(arms.map((a) => compareThreshold(a.final.passed, { above: 0.99 }))),
  };
}

export const babysitting: Family = {
  name: 'babysitting',
  title: 'Babysitting and evaluation',
  async run(ctx) {
    return [gradcheckClaim(ctx), await updateRatioClaim(ctx), ...(await ensembleClaims(ctx)), await calibrationClaim(ctx)];
  },
};
