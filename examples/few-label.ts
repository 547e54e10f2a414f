/**
 * The few-label transfer experiment at full size: pretrain a CNN on digits 0–4, then learn
 * digits 5–9 from 3, 10 and 20 labelled examples per class by fine-tuning, from scratch, and
 * with linear probes on frozen features; 5 seeds. Prints a markdown table.
 * Run: node --import tsx examples/few-label.ts [--seeds n] [--pretrain-epochs n]
 */
import '../src/index.js'; // registers the backends
import '../src/digits.js'; // the digits data (optional package 'mnist')
import { fewLabelExperiment, fewLabelMarkdown } from '../src/experiments/few-label.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

const started = Date.now();
const result = await fewLabelExperiment({
  shotsPerClass: [3, 10, 20],
  seeds: arg('--seeds', 5),
  pretrainEpochs: arg('--pretrain-epochs', 3),
  onProgress: (m) => console.error(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${m}`),
});
console.log(`Pretrained on ${result.pretrainSize} digits 0–4 (held-out accuracy ${(100 * result.pretrainAccuracy).toFixed(1)}%); ` +
  `test: ${result.testSize} digits 5–9; ${result.seeds.length} seeds; accuracy in %, mean ± std.\n`);
console.log(fewLabelMarkdown(result));
