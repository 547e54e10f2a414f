/**
 * `gradkit tune <space.json> [--out <dir>] [--resume <dir>]`: hyperparameter search over an
 * experiment. The space file:
 *
 * ```json
 * { "experiment": "digits.json",            // or an inline experiment object; omitted: the default CNN
 *   "method": "random",                     // random | grid | coarseToFine | halving
 *   "trials": 8, "epochs": 2, "seed": 0,
 *   "metric": "valAccuracy", "mode": "max",
 *   "space": { "optimizer.lr": { "logUniform": [1e-4, 1e-1] }, "data.batchSize": { "choice": [32, 64] } } }
 * ```
 * The run folder holds space.json (the resolved search), trials.jsonl (one line per finished
 * trial, append-only) and summary.json (atomic). Re-running with the same folder skips finished
 * trials. With `workers` > 1 the trials run in that many worker threads (node:worker_threads),
 * each with one wasm kernel thread, so W trials use W cores instead of one trial using them all;
 * trial results are the same as in-process ones (every trial seeds its own generator).
 */
import '../index.js'; // registers the tensor methods and the backends (main.ts no longer loads the library)
import { readJsonFile } from './json-file.js';
import * as nodePath from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { GradkitError } from '../core/errors.js';
import { applyAssignment, checkPaths, parseSpace, type SearchSpace } from '../tune/space.js';
import { DEFAULT_SEARCH, formatTable, runSearch, type SearchOptions, type SearchResult, type TrialRunner, type TrialSpec } from '../tune/search.js';
import { joinPath, type Storage } from '../train/storage.js';
import type { Trainer } from '../train/trainer.js';
import type { CommandEnv } from './commands.js';
import { DEFAULT_EXPERIMENT, resolveExperiment, type Experiment } from './experiment.js';
import { buildRun, makeTrainer } from './run-builder.js';
import { claimRunFolder } from './run-folder.js';

const OP = 'gradkit tune';
/** The search methods a space file may name. */
export const METHODS = ['random', 'grid', 'coarseToFine', 'halving'] as const;
/** The keys a space file may hold (anything else is an error). */
export const SPACE_FILE_KEYS = ['experiment', 'space', 'method', ...Object.keys(DEFAULT_SEARCH)];

export interface TuneOptions {
  /** Path of the space file. */
  space: string;
  /** Run folder (default runs/tune-<space file name>); an existing folder of the same search is resumed. */
  out?: string;
  /** Trials at once, each in its own worker thread (default 1: in this thread). */
  workers?: number;
}

export interface TuneSetup {
  experiment: Experiment;
  space: SearchSpace;
  search: SearchOptions;
}


function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function posInt(name: string, v: unknown, min = 1): number {
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= min)) throw new GradkitError(OP, `${name} must be a whole number >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** Validates a parsed space file; `baseDir` resolves a relative experiment path. */
export async function resolveTune(raw: unknown, storage: Storage, baseDir: string): Promise<TuneSetup> {
  if (!isObject(raw)) throw new GradkitError(OP, `the space file must hold a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  for (const k of Object.keys(raw)) if (!SPACE_FILE_KEYS.includes(k)) throw new GradkitError(OP, `unknown key '${k}' in the space file; expected ${SPACE_FILE_KEYS.join(', ')}`);
  const exp = raw.experiment;
  let experiment: Experiment;
  if (exp === undefined) experiment = structuredClone(DEFAULT_EXPERIMENT);
  else if (typeof exp === 'string') experiment = resolveExperiment(await readJsonFile(storage, nodePath.isAbsolute(exp) ? exp : nodePath.join(baseDir, exp), OP));
  else experiment = resolveExperiment(exp);
  const method = raw.method ?? 'random';
  if (!METHODS.includes(method as (typeof METHODS)[number])) throw new GradkitError(OP, `method must be one of ${METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  const d = DEFAULT_SEARCH;
  const search: SearchOptions = {
    method: method as SearchOptions['method'],
    trials: posInt('trials', raw.trials ?? d.trials),
    epochs: posInt('epochs', raw.epochs ?? d.epochs),
    seed: posInt('seed', raw.seed ?? d.seed, 0),
    metric: (raw.metric ?? d.metric) as string,
    mode: (raw.mode ?? (typeof raw.metric === 'string' && /loss/i.test(raw.metric) ? 'min' : d.mode)) as 'max' | 'min',
    gridPoints: posInt('gridPoints', raw.gridPoints ?? d.gridPoints),
    rounds: posInt('rounds', raw.rounds ?? d.rounds),
    topFraction: (raw.topFraction ?? d.topFraction) as number,
    eta: (raw.eta ?? d.eta) as number,
    minEpochs: posInt('minEpochs', raw.minEpochs ?? d.minEpochs),
  };
  if (typeof search.metric !== 'string' || search.metric === '') throw new GradkitError(OP, `metric must be a metric name such as 'valAccuracy' or 'valLoss', got ${JSON.stringify(raw.metric)}`);
  if (search.mode !== 'max' && search.mode !== 'min') throw new GradkitError(OP, `mode must be 'max' or 'min', got ${JSON.stringify(raw.mode)}`);
  if (!(typeof search.topFraction === 'number' && search.topFraction > 0 && search.topFraction <= 1)) throw new GradkitError(OP, `topFraction must be in (0, 1], got ${JSON.stringify(raw.topFraction)}`);
  if (!(typeof search.eta === 'number' && search.eta >= 2)) throw new GradkitError(OP, `eta must be a number >= 2, got ${JSON.stringify(raw.eta)}`);
  if (search.metric.startsWith('val') && experiment.data.validationFraction === 0) {
    throw new GradkitError(OP, `metric '${search.metric}' needs a validation split, but the experiment has data.validationFraction 0`);
  }
  if (raw.space === undefined) throw new GradkitError(OP, "the space file has no 'space' (path → distribution)");
  const space = parseSpace(raw.space);
  checkPaths(space, experiment);
  experiment.epochs = search.epochs;
  return { experiment, space, search };
}

/** The best epoch of a history by the metric (the epoch restoreBestWeights would keep). */
function bestEpoch(history: Record<string, number>[], metric: string, mode: 'max' | 'min'): Record<string, number> {
  let best = history[history.length - 1] ?? {};
  for (const h of history) {
    const v = h[metric];
    const b = best[metric];
    if (Number.isFinite(v) && (!Number.isFinite(b) || (mode === 'max' ? v > b : v < b))) best = h;
  }
  return { ...best };
}

/** Trains experiment + assignment in this process; a handle is the live Trainer (halving continues it). */
export function experimentRunner(setup: TuneSetup): TrialRunner {
  return {
    async run(trial, epochs, handle) {
      let trainer = handle as Trainer | undefined;
      if (trainer === undefined) {
        // The trial's experiment is validated like a file, so a bad value (batchSize 0) fails this trial only.
        const e = resolveExperiment(applyAssignment(setup.experiment, trial.params));
        e.epochs = setup.search.epochs; // schedules span the full budget, also when halving stops early
        trainer = makeTrainer(await buildRun(e), []);
      }
      await trainer.fit({ epochs });
      const metrics = bestEpoch(trainer.history, setup.search.metric, setup.search.mode);
      return { metrics, handle: trainer };
    },
  };
}

interface WorkerRequest { id: number; trial: TrialSpec; epochs: number; resume: boolean }
type WorkerReply = { id: number; metrics: Record<string, number> } | { id: number; error: string; gradkit: boolean };

/**
 * Runs trials in `n` worker threads. A trial continued by successive halving goes back to the
 * worker that holds its Trainer (the handle names the worker); the others take the least busy one.
 */
export function workerRunner(setup: TuneSetup, n: number): TrialRunner & { close(): Promise<void> } {
  if (!(Number.isInteger(n) && n >= 1)) throw new GradkitError(OP, `--workers must be a positive whole number, got ${n}`);
  // Workers import this module, which serves trials. Compiled (dist/, the installed package) it
  // is plain JS; run from the TypeScript sources (repo tests, tsx), a small bootstrap registers
  // tsx's loader in the worker first (found from here, not from the cwd).
  const self = JSON.stringify(import.meta.url);
  const boot = import.meta.url.endsWith('.ts')
    ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${self}); })`
    : `import(${self})`;
  const pool = Array.from({ length: n }, () => {
    const w = new Worker(boot, { eval: true, workerData: { gradkitTuneWorker: setup } });
    const pending = new Map<number, { resolve: (m: Record<string, number>) => void; reject: (e: Error) => void }>();
    w.on('message', (r: WorkerReply) => {
      const p = pending.get(r.id)!;
      pending.delete(r.id);
      if ('error' in r) p.reject(r.gradkit ? new GradkitError(OP, r.error) : new Error(r.error));
      else p.resolve(r.metrics);
    });
    w.on('error', (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    });
    return { w, pending };
  });
  let nextId = 0;
  return {
    async run(trial, epochs, handle) {
      const h = handle as { worker: number } | undefined;
      const k = h?.worker ?? pool.reduce((best, p, i) => (p.pending.size < pool[best].pending.size ? i : best), 0);
      const { w, pending } = pool[k];
      const id = nextId++;
      const metrics = await new Promise<Record<string, number>>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ id, trial, epochs, resume: h !== undefined } satisfies WorkerRequest);
      });
      return { metrics, handle: { worker: k } };
    },
    async close() {
      await Promise.all(pool.map((p) => p.w.terminate()));
    },
  };
}

/** The worker side: one wasm thread, trials run with the in-process runner, Trainers kept for halving. */
async function serveWorker(setup: TuneSetup): Promise<void> {
  const { setNumThreads } = await import('../index.js');
  try {
    setNumThreads(1);
  } catch {
    /* no wasm backend here: the JS backend is single-threaded anyway */
  }
  const inner = experimentRunner(setup);
  const live = new Map<string, unknown>();
  parentPort!.on('message', async (m: WorkerRequest) => {
    try {
      const out = await inner.run(m.trial, m.epochs, m.resume ? live.get(m.trial.id) : undefined);
      // Only successive halving continues trials; other methods would just pile up Trainers.
      if (setup.search.method === 'halving') live.set(m.trial.id, out.handle);
      parentPort!.postMessage({ id: m.id, metrics: out.metrics } satisfies WorkerReply);
    } catch (e) {
      parentPort!.postMessage({ id: m.id, error: (e as Error).message, gradkit: e instanceof GradkitError } satisfies WorkerReply);
    }
  });
}

if (!isMainThread && (workerData as { gradkitTuneWorker?: TuneSetup } | null)?.gradkitTuneWorker) {
  void serveWorker((workerData as { gradkitTuneWorker: TuneSetup }).gradkitTuneWorker);
}

export async function tuneCommand(opts: TuneOptions, env: CommandEnv, runner?: (s: TuneSetup) => TrialRunner): Promise<SearchResult> {
  const { storage, sink } = env;
  const say = (s: string): void => void sink.write(`${s}\n`);
  const raw = await readJsonFile(storage, opts.space, OP);
  const setup = await resolveTune(raw, storage, nodePath.dirname(opts.space));
  const base = nodePath.basename(opts.space).replace(/\.json$/, '');
  const dir = opts.out ?? joinPath('runs', `tune-${base}`);
  const workers = opts.workers ?? 1;
  // One search per folder at a time (two would run the same trials and interleave trials.jsonl):
  // the lock comes before anything is written into the folder. An existing folder is resumed.
  const claimed = await claimRunFolder(storage, { op: OP, dir, resume: true, say });
  let result: SearchResult;
  try {
    // The folder's identity: a rerun with a different search would mix incomparable trials.
    const resolved = `${JSON.stringify({ experiment: setup.experiment, search: setup.search, space: Object.fromEntries(setup.space) }, null, 2)}\n`;
    const spacePath = joinPath(dir, 'space.json');
    if (await storage.exists(spacePath)) {
      const old = new TextDecoder().decode(await storage.read(spacePath));
      if (old !== resolved) throw new GradkitError(OP, `${dir} holds a different search (its space.json differs from ${opts.space}); choose another --out`);
      say(`resuming the search in ${dir}`);
    } else {
      await storage.writeAtomic(spacePath, resolved);
    }
    const s = setup.search;
    say(`gradkit tune · ${s.method} · ${[...setup.space.keys()].join(', ')} · ${s.epochs} epochs · ranked by ${s.metric} (${s.mode}) · ${workers > 1 ? `${workers} worker threads` : 'trials run in this thread'}`);
    say(`run folder: ${dir}`);
    const pool = runner === undefined && workers > 1 ? workerRunner(setup, workers) : null;
    try {
      result = await runSearch(setup.space, s, pool ?? (runner ?? experimentRunner)(setup), { storage, dir, log: say, now: env.now, parallel: workers });
    } finally {
      await pool?.close();
    }
  } finally {
    claimed.release();
  }
  const s = setup.search;
  say('');
  say(formatTable(result.ranked, [...setup.space.keys()], s.metric));
  const best = result.ranked[0];
  if (best?.score !== null && best !== undefined) say(`\nbest: ${best.id} ${s.metric} ${best.score} with ${JSON.stringify(best.params)}`);
  say(`${result.ran} trial(s) run, ${result.skipped} read back from the folder`);
  return result;
}
