/**
 * Initialization (cs231n lecture 7, FAU "Initialization"): the activation-statistics study of a
 * deep tanh/ReLU stack, and training a deep plain ReLU network under four initializations.
 */
import * as g from '../../index.js';
import type { ArmResult } from './harness.js';
import { runArms } from './harness.js';
import { at, gaussian, mlp } from './common.js';
import { flatDigits, loaders } from './data.js';
import { allOf, compareArms, compareThreshold } from './verdict.js';
import type { ClaimResult, Family, RunContext } from './types.js';
import type { InitScheme } from '../../nn/init.js';

interface StatArm {
  name: string;
  act: 'tanh' | 'relu';
  init: InitScheme;
}

/**
 * The lecture's forward pass: x ~ N(0, 1) of shape [16, D] through 6 layers of D×D weights and
 * the activation; per layer the std of the activations and the fraction saturated (|h| > 0.99).
 */
function activationStats(arm: StatArm, width: number, layers: number, seeds: readonly number[]): ArmResult {
  const t0 = performance.now();
  const curves: Record<string, number[][]> = { std: [] };
  const final: Record<string, number[]> = { lastStd: [], ratio: [], saturated: [] };
  for (const seed of seeds) {
    g.manualSeed(seed);
    let x = g.randn([16, width]);
    const stds: number[] = [];
    let sat = 0;
    g.noGrad(() => {
      for (let l = 0; l < layers; l++) {
        const lin = new g.nn.Linear(width, width, { init: arm.init, bias: false, nonlinearity: arm.act });
        const y = lin.call(x);
        x = arm.act === 'tanh' ? y.tanh() : y.relu();
        const v = x.dataSync();
        let s = 0;
        let s2 = 0;
        sat = 0;
        for (let i = 0; i < v.length; i++) {
          s += v[i];
          s2 += v[i] * v[i];
          if (Math.abs(v[i]) > 0.99) sat++;
        }
        const m = s / v.length;
        stds.push(Math.sqrt(Math.max(0, s2 / v.length - m * m)));
        sat /= v.length;
      }
    });
    curves.std.push(stds);
    final.lastStd.push(stds[stds.length - 1]);
    final.ratio.push(stds[stds.length - 1] / stds[0]);
    if (arm.act === 'tanh') final.saturated.push(sat);
  }
  return { name: arm.name, seeds: [...seeds], curves, final, seconds: (performance.now() - t0) / 1000 };
}

async function statsClaims(ctx: RunContext): Promise<ClaimResult[]> {
  // The slide's layers are 4096 wide, which takes ~30 s per run here (drawing 100M weights); we
  // use 1024 (512 quick) and scale the fixed stds by √(4096/D), so std·√D (the per-layer gain,
  // which decides collapse or saturation) matches the slide.
  const width = ctx.quick ? 512 : 1024;
  const scale = Math.sqrt(4096 / width);
  const layers = 6;
  const arms: StatArm[] = [
    { name: 'tanh, std 0.01', act: 'tanh', init: gaussian(0.01 * scale) },
    { name: 'tanh, std 0.05', act: 'tanh', init: gaussian(0.05 * scale) },
    { name: 'tanh, Xavier', act: 'tanh', init: 'xavier' },
    { name: 'ReLU, Xavier', act: 'relu', init: 'xavier' },
    { name: 'ReLU, He', act: 'relu', init: 'he' },
  ];
  const r = arms.map((a) => activationStats(a, width, layers, ctx.seeds));
  ctx.log(`  activation statistics: ${r.reduce((s, a) => s + a.seconds, 0).toFixed(1)} s`);
  const [small, big, xavTanh, xavRelu, he] = r;
  const setup = `Forward pass only, as on the slide: x ~ N(0, 1) of shape [16, ${width}] through ${layers} bias-free ${width}×${width} layers and the activation${scale !== 1 ? ` (fixed stds multiplied by √(4096/${width}) = ${scale.toFixed(2)} so that std·√D matches the slide's 4096-wide layers)` : ''}. \`lastStd\`: std of the last layer's activations; \`ratio\`: last layer's std over the first's; \`saturated\`: fraction of last-layer tanh outputs with |h| > 0.99.`;
  const columns = [{ key: 'lastStd', label: 'last-layer std' }, { key: 'ratio', label: 'last/first std' }, { key: 'saturated', label: 'saturated' }];
  const figure = { metric: 'std', label: 'activation std', logY: true, xLabel: 'layer' };
  return [
    {
      id: 'init-tanh-small', claim: 'Small random weights (std 0.01) make deep tanh activations collapse to zero',
      quote: 'All activations tend to zero for deeper network layers', source: at('cs231n', 443), setup,
      arms: [small, xavTanh], columns, figure,
      // "Tend to zero": the last layer keeps under 5% of the first layer's spread.
      judgement: compareThreshold(small.final.ratio, { below: 0.05 }),
    },
    {
      id: 'init-tanh-large', claim: 'Larger random weights (std 0.05) saturate deep tanh units',
      quote: 'All activations saturate', source: at('cs231n', 478), setup,
      arms: [big, xavTanh], columns, figure,
      // "Saturate": most (over half) of the last layer's outputs sit at ±1.
      judgement: compareThreshold(big.final.saturated, { above: 0.5 }),
    },
    {
      id: 'init-relu-xavier-he', claim: 'Xavier collapses deep ReLU activations; He keeps them scaled',
      quote: 'Activations collapse to zero again, no learning =(  …  ReLU correction: std = sqrt(2 / Din) “Just right”: Activations are nicely scaled for all layers!',
      source: `${at('cs231n', 619)}, ${at('cs231n', 638)}`, setup,
      arms: [xavTanh, xavRelu, he], columns, figure,
      // He keeps the spread (last/first above 0.5) and beats Xavier's by at least 0.2.
      judgement: allOf([compareThreshold(he.final.ratio, { above: 0.5 }), compareArms(he.final.ratio, xavRelu.final.ratio, { better: 'higher', minEffect: 0.2 })]),
    },
  ];
}

async function deepReluClaim(ctx: RunContext): Promise<ClaimResult> {
  const depth = 20;
  const width = 64;
  const n = ctx.quick ? 500 : 2000;
  const epochs = ctx.quick ? 3 : 8;
  const lr = 0.01;
  const d = await flatDigits(n, 500);
  const arm = (name: string, init: InitScheme | 'lsuv') => ({
    name, epochs,
    setup: (seed: number) => {
      const model = mlp(Array(depth - 1).fill(width), () => new g.nn.ReLU(), { init: init === 'lsuv' ? 'he' : init });
      // LSUV rescales an orthogonal init on one batch of training data.
      if (init === 'lsuv') g.nn.lsuv(model, d.xTrain.slice([0, 0], [128, 784]));
      return { model, optimizer: new g.optim.SGD(model.parameters(), { lr, momentum: 0.9 }), ...loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed) };
    },
  });
  const arms = await runArms([arm('std 0.01', gaussian(0.01)), arm('Xavier', 'xavier'), arm('He', 'he'), arm('LSUV', 'lsuv')], ctx.seeds, ctx.log);
  const [small, xavier, he] = arms;
  return {
    id: 'init-deep-relu', claim: `A ${depth}-layer plain ReLU net stalls with Xavier or small weights and trains with He`,
    quote: 'So in [12], they showed that for ReLUs, it’s better to actually use the square root of 2 over fan_in as standard deviation.  …  W = 0.01 * np.random.randn(Din, Dout) Works ~okay for small networks, but problems with deeper networks.',
    source: `${at('fauInit', 31)}, ${at('cs231n', 411)}`,
    setup: `MLP 784 → ${depth - 1}×${width} ReLU → 10, no normalization; ${n} training digits, 500 validation; SGD lr ${lr}, momentum 0.9, batch 32, ${epochs} epochs.`,
    arms, columns: [{ key: 'loss', label: 'train loss' }, { key: 'valAccuracy', label: 'val accuracy' }],
    figure: { metric: 'loss', label: 'train loss' },
    // He must beat both Xavier and std 0.01 on validation accuracy by at least 5 points.
    judgement: allOf([
      compareArms(he.final.valAccuracy, xavier.final.valAccuracy, { better: 'higher', minEffect: 0.05 }),
      compareArms(he.final.valAccuracy, small.final.valAccuracy, { better: 'higher', minEffect: 0.05 }),
    ]),
  };
}

export const initialization: Family = {
  name: 'initialization',
  title: 'Initialization',
  async run(ctx) {
    return [...(await statsClaims(ctx)), await deepReluClaim(ctx)];
  },
};
