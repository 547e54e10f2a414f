/**
 * Resident memory over a multi-epoch gradkit MLP training run (issue 3's memory target: RSS
 * flat after the first epoch, within 10%). It runs in its own process so the RSS is the
 * training loop's alone. Usage: memory.ts --backend NAME --epochs E --samples S
 */
import * as g from '../src/index.js';
import { mlpData } from './data.js';
import { makeAdam, mlpModel, trainStep } from './gradkit-models.js';
import { mb, peakRssMB, send } from './protocol.js';
import { MLP } from './spec.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function main(): void {
  const backend = arg('--backend', g.backendName());
  const epochs = Number(arg('--epochs', '20'));
  const samples = Number(arg('--samples', String(MLP.epochSamples)));
  g.setBackend(backend);
  g.manualSeed(0);
  const ds = mlpData();
  const model = mlpModel();
  const opt = makeAdam(model);
  const steps = Math.floor(samples / MLP.batch);
  const perEpoch = Math.floor(ds.count / MLP.batch);
  let k = 0;
  for (let e = 1; e <= epochs; e++) {
    const t0 = performance.now();
    let lossSum = 0;
    for (let s = 0; s < steps; s++, k++) {
      // Inputs are made fresh each step, as a data loader would, so their garbage counts too.
      const start = (k % perEpoch) * MLP.batch;
      const x = g.tensor(ds.x.subarray(start * MLP.sizes[0], (start + MLP.batch) * MLP.sizes[0]), { shape: [MLP.batch, MLP.sizes[0]] });
      const y = g.tensor(ds.y.subarray(start, start + MLP.batch), { shape: [MLP.batch] });
      lossSum += trainStep(model, opt, x, y);
    }
    const m = process.memoryUsage();
    send({
      type: 'epoch', epoch: e, samples: steps * MLP.batch, seconds: (performance.now() - t0) / 1000, loss: lossSum / steps,
      rssMB: mb(m.rss), heapMB: mb(m.heapUsed), externalMB: mb(m.external),
    });
  }
  send({ type: 'done', peakRssMB: peakRssMB() });
}

try {
  main();
  process.exit(0);
} catch (e) {
  send({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}
