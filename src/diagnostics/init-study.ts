/**
 * The lecture's initialization experiment: a deep stack of wide fully connected layers (no
 * biases) on unit-normal inputs, with the activation statistics of every layer under several
 * weight scales. Too small a scale collapses the activations towards 0 layer after layer, too
 * large a one saturates tanh, and Xavier (tanh) / He (ReLU) keep them alive.
 */
import { GradkitError } from '../core/errors.js';
import { Random } from '../core/rng.js';
import { noGrad } from '../autograd/engine.js';
import { calculateGain } from '../nn/init.js';
import { Tensor } from '../tensor/tensor.js';
import { tensorStats, type TensorStats } from './stats.js';

/** One configuration of the initialization study: an activation and a weight std rule depending on fan-in. */
export interface InitStudyConfig {
  /** Label, e.g. 'tanh std 0.01'. */
  name: string;
  activation: 'tanh' | 'relu';
  /** Weight std as a function of fan-in. */
  std: (fanIn: number) => number;
}

/** The five configurations of the lecture. */
export const INIT_STUDY_CONFIGS: readonly InitStudyConfig[] = [
  { name: 'tanh std 0.01', activation: 'tanh', std: () => 0.01 },
  { name: 'tanh std 0.05', activation: 'tanh', std: () => 0.05 },
  // Xavier for a square layer: 2/(fanIn + fanOut) = 1/fanIn, gain 1 for tanh as in the lecture.
  { name: 'tanh Xavier', activation: 'tanh', std: (fanIn) => 1 / Math.sqrt(fanIn) },
  { name: 'relu Xavier', activation: 'relu', std: (fanIn) => 1 / Math.sqrt(fanIn) },
  { name: 'relu He', activation: 'relu', std: (fanIn) => calculateGain('relu') / Math.sqrt(fanIn) },
];

/** Options of the initialization study: network width and depth, batch, seed, bins and the configurations compared. */
export interface InitStudyOptions {
  /** Units per layer (default 4096). */
  width?: number;
  /** Layers (default 6). */
  depth?: number;
  /** Samples of unit-normal input (default 16). */
  batch?: number;
  seed?: number;
  /** Histogram bins (default 30). */
  bins?: number;
  configs?: readonly InitStudyConfig[];
}

/** The initialization study's findings: per configuration, the activation statistics of every layer. */
export interface InitStudyResult {
  width: number;
  depth: number;
  batch: number;
  /** One entry per config; layers[i] are the statistics of layer i's output (after the nonlinearity). */
  configs: { name: string; activation: 'tanh' | 'relu'; std: number; layers: TensorStats[] }[];
}

function positiveInt(op: string, what: string, v: number): number {
  if (!(Number.isInteger(v) && v > 0)) throw new GradkitError(op, `${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * Runs the experiment. Layer by layer, ONE unit-normal matrix is drawn and every config uses it
 * scaled by its own std: drawing width² normals is the cost here (the matmuls of a 16-sample
 * batch are cheap), and a shared draw is statistically the same as separate ones for each config.
 */
export function initStudy(opts: InitStudyOptions = {}): InitStudyResult {
  const op = 'initStudy';
  const width = positiveInt(op, 'width', opts.width ?? 4096);
  const depth = positiveInt(op, 'depth', opts.depth ?? 6);
  const batch = positiveInt(op, 'batch', opts.batch ?? 16);
  const configs = opts.configs ?? INIT_STUDY_CONFIGS;
  const rng = new Random(opts.seed ?? 0);
  const x = new Float32Array(batch * width);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const input = Tensor.fromArray(x, [batch, width]);
  const hs = configs.map(() => input);
  const out: InitStudyResult['configs'] = configs.map((c) => ({ name: c.name, activation: c.activation, std: c.std(width), layers: [] }));
  const unit = new Float32Array(width * width);
  noGrad(() => {
    for (let l = 0; l < depth; l++) {
      for (let i = 0; i < unit.length; i++) unit[i] = rng.normal();
      // A copy: the backend may adopt the array it is given, and `unit` is refilled next layer.
      const w = Tensor.fromArray(unit.slice(), [width, width]);
      configs.forEach((c, k) => {
        const pre = hs[k].matmul(w).mul(c.std(width));
        const h = c.activation === 'tanh' ? pre.tanh() : pre.relu();
        hs[k] = h;
        out[k].layers.push(tensorStats(h.dataSync(), batch, { kind: c.activation, bins: opts.bins }));
      });
    }
  });
  return { width, depth, batch, configs: out };
}

/** The per-layer mean/std table (plus saturated or dead fractions) as text. */
export function formatInitStudy(r: InitStudyResult): string {
  const lines = [`init study: ${r.depth} layers of ${r.width} units, batch ${r.batch} of unit-normal inputs, no biases`];
  for (const c of r.configs) {
    const row = (label: string, cells: string[]): string => `  ${label.padEnd(10)}${cells.map((v) => v.padStart(8)).join('')}`;
    lines.push(`${c.name} (weight std ${Number(c.std.toPrecision(3))})`);
    lines.push(row('layer', c.layers.map((_, i) => String(i + 1))));
    lines.push(row('mean', c.layers.map((s) => s.mean.toFixed(3))));
    lines.push(row('std', c.layers.map((s) => s.std.toPrecision(2))));
    if (c.activation === 'tanh') lines.push(row('sat>0.99', c.layers.map((s) => `${((s.saturated ?? 0) * 100).toFixed(1)}%`)));
    else lines.push(row('dead', c.layers.map((s) => `${((s.dead ?? 0) * 100).toFixed(1)}%`)));
  }
  return `${lines.join('\n')}\n`;
}
