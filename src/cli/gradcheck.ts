/**
 * `gradkit gradcheck [experiment.json] [--samples <n>] [--batch <n>] [--seed <n>]`: builds the
 * experiment's model (no file: the default digits CNN) and compares backprop's gradient of the
 * loss with centered finite differences (in float64) for a few random parameter entries, on one
 * small batch of the experiment's training data. Prints the worst entry; failing is an exit code.
 */
import '../index.js'; // registers the tensor methods and the backends (main.ts no longer loads the library)
import { GradkitError } from '../core/errors.js';
import { modelGradCheck, type ModelGradCheckResult } from '../diagnostics/model-gradcheck.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Storage } from '../train/storage.js';
import type { CommandEnv } from './commands.js';
import { DEFAULT_EXPERIMENT, resolveExperiment, type Experiment } from './experiment.js';
import { buildRun } from './run-builder.js';

const OP = 'gradkit gradcheck';

export interface GradcheckOptions {
  experiment?: string;
  /** Parameter entries checked (default 20). */
  samples?: number;
  /** Training samples in the batch (default 4). */
  batch?: number;
  seed?: number;
}

async function readExperiment(storage: Storage, path: string): Promise<Experiment> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(await storage.read(path)));
  } catch (e) {
    throw new GradkitError(OP, `cannot read ${path} as JSON: ${(e as Error).message}`);
  }
  return resolveExperiment(raw);
}

export async function gradcheckCommand(opts: GradcheckOptions, env: CommandEnv): Promise<ModelGradCheckResult> {
  const e = opts.experiment === undefined ? structuredClone(DEFAULT_EXPERIMENT) : await readExperiment(env.storage, opts.experiment);
  const batch = opts.batch ?? 4;
  if (!(Number.isInteger(batch) && batch >= 1)) throw new GradkitError(OP, `--batch must be a positive whole number, got ${batch}`);
  // Only one batch is used: a few hundred digits are enough to fit the preprocessing and load fast.
  if (e.data.dataset === 'digits') {
    e.data.trainSize = Math.min(e.data.trainSize, Math.max(200, batch));
    e.data.testSize = Math.min(e.data.testSize, 100);
  }
  if (opts.seed !== undefined) e.seed = opts.seed;
  const run = await buildRun(e);
  const ds = run.data.train.dataset;
  if (ds.length < batch) throw new GradkitError(OP, `--batch ${batch} is larger than the training set (${ds.length} samples)`);
  const [x, y] = ds.getBatch!(Array.from({ length: batch }, (_, i) => i)) as Tensor[];
  run.model.train();
  const r = modelGradCheck(run.model, x, y, { samples: opts.samples ?? 20, seed: e.seed });
  env.sink.write(`gradkit gradcheck · ${e.name ?? 'experiment'} · ${run.model.numParameters()} parameters · batch ${batch} · float64, centered differences\n`);
  // The largest relative error, and where: the entry to look at when a layer's backward is wrong.
  const rel = (a: number, n: number): number => Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), 1e-12);
  const w = r.entries.reduce((m, en) => (rel(en.analytic, en.numeric) > rel(m.analytic, m.numeric) ? en : m));
  env.sink.write(`${r.summary}\nworst relative error ${r.maxRelError.toExponential(3)} at ${w.param}[${w.index}] (backprop ${w.analytic.toExponential(4)}, finite differences ${w.numeric.toExponential(4)})\n`);
  return r;
}
