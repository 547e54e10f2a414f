/**
 * gradkit adapter: runs every workload on one named backend. SGEMM is a plain matmul; the
 * training workloads use the nn models, optim.Adam and losses.crossEntropy of gradkit-models.ts
 * (or, as the opt-in 'rawops-<backend>' comparison, the raw-ops models of raw-models.ts).
 */
import * as g from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { readSync } from '../../src/tensor/host.js';
import { batchAt, cnnData, makeRng, mlpData, randnArray, resnetData, type Dataset } from '../data.js';
import { cnnModel, makeAdam, mlpModel, resnetModel, trainStep, type GradkitModel } from '../gradkit-models.js';
import { RawAdam, rawCnnModel, rawMlpModel, rawResnetModel, rawTrainStep, type RawModel } from '../raw-models.js';
import { CNN, MLP, RESNET, sgemmDims, type Workload } from '../spec.js';
import type { Stepper } from '../timing.js';
import type { LibRunner } from './runner.js';

/**
 * The thread count a backend reports. The Backend interface has only describe(), so this looks
 * for the usual property names first and then for "N threads" in the description.
 */
export function backendThreads(b: unknown, description: string): number {
  const o = b as Record<string, unknown>;
  for (const key of ['threads', 'numThreads', 'threadCount', 'poolSize']) {
    const v = o[key];
    if (typeof v === 'number' && v >= 1) return v;
    if (typeof v === 'function') {
      const r = (v as () => unknown).call(b);
      if (typeof r === 'number' && r >= 1) return r;
    }
  }
  const m = /(\d+)\s*(?:worker\s*)?threads?\b/i.exec(description) ?? /threads?\s*[:=]?\s*(\d+)/i.exec(description);
  return m ? Number(m[1]) : 1;
}

/** Pre-built input tensors for every batch of a pool, so the timed loop does no copying. */
export function batches(ds: Dataset, batch: number): { x: Tensor; y: Tensor }[] {
  const out: { x: Tensor; y: Tensor }[] = [];
  for (let i = 0; i < Math.floor(ds.count / batch); i++) {
    const b = batchAt(ds, batch, i);
    out.push({ x: g.tensor(b.x, { shape: [batch, ...ds.sampleShape] }), y: g.tensor(b.y, { shape: [batch] }) });
  }
  return out;
}

/**
 * A training stepper over pre-built batches; `step` is one optimizer step returning the loss
 * (a promise of it on a backend that reads asynchronously: the timing loop awaits it).
 */
export function trainer(step: (x: Tensor, y: Tensor) => number | Promise<number>, ds: Dataset, batch: number): Stepper {
  const data = batches(ds, batch);
  let i = 0;
  return {
    workPerStep: batch,
    step: () => {
      const b = data[i++ % data.length];
      return step(b.x, b.y);
    },
  };
}

function nnTrainer(model: GradkitModel, ds: Dataset, batch: number): Stepper {
  const opt = makeAdam(model);
  // Each step in a scope, as the Trainer runs it: its tensors are freed when it ends.
  return trainer((x, y) => g.scope(() => trainStep(model, opt, x, y)), ds, batch);
}

function rawTrainer(model: RawModel, ds: Dataset, batch: number): Stepper {
  const opt = new RawAdam([...model.params.values()]);
  return trainer((x, y) => rawTrainStep(model, opt, x, y), ds, batch);
}

/** The library names of the raw-ops comparison ('rawops-<backend>'), opt-in with --libs. */
export const RAW_PREFIX = 'rawops-';

/**
 * gradkit on `backend`. The default variant trains the nn/optim models users write; 'rawops'
 * trains the raw-ops comparison models of raw-models.ts (never in the default run).
 */
export async function gradkitRunner(backend: string, variant: 'nn' | 'rawops' = 'nn'): Promise<LibRunner> {
  g.setBackend(backend);
  const b = g.getBackend();
  const describe = b.describe?.() ?? backend;
  const raw = variant === 'rawops';
  return {
    library: raw ? `${RAW_PREFIX}${backend}` : `gradkit-${backend}`,
    threads: backendThreads(b, describe),
    describe: raw ? `${describe}; raw ops and a plain-loop Adam, for comparison` : describe,
    async stepper(w: Workload): Promise<Stepper> {
      g.manualSeed(0);
      switch (w) {
        case 'mlp-train': return raw ? rawTrainer(rawMlpModel(), mlpData(), MLP.batch) : nnTrainer(mlpModel(), mlpData(), MLP.batch);
        case 'cnn-train': return raw ? rawTrainer(rawCnnModel(), cnnData(), CNN.batch) : nnTrainer(cnnModel(), cnnData(), CNN.batch);
        case 'resnet-train': return raw ? rawTrainer(rawResnetModel(), resnetData(), RESNET.batch) : nnTrainer(resnetModel(), resnetData(), RESNET.batch);
        default: {
          const [m, k, n] = sgemmDims(w);
          const rng = makeRng(7);
          const a = g.tensor(randnArray(m * k, rng), { shape: [m, k] });
          const bm = g.tensor(randnArray(k * n, rng), { shape: [k, n] });
          let sink = 0;
          return {
            workPerStep: 2 * m * k * n,
            // Reading one value keeps the product observable (and syncs a backend that defers work).
            // The product is freed at once (a resident backend would otherwise hold one per step).
            step: () => {
              const c = a.matmul(bm);
              sink += readSync(c)[0];
              c.dispose();
              void sink;
            },
          };
        }
      }
    },
  };
}
