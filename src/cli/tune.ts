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
 * trials. Trials run one after another in this process: parallel worker threads are not done yet.
 */
import * as nodePath from 'node:path';
import { GradkitError } from '../core/errors.js';
import { applyAssignment, checkPaths, parseSpace, type SearchSpace } from '../tune/space.js';
import { DEFAULT_SEARCH, formatTable, runSearch, type SearchOptions, type SearchResult, type TrialRunner } from '../tune/search.js';
import { joinPath, type Storage } from '../train/storage.js';
import type { Trainer } from '../train/trainer.js';
import type { CommandEnv } from './commands.js';
import { DEFAULT_EXPERIMENT, resolveExperiment, type Experiment } from './experiment.js';
import { buildRun, makeTrainer } from './run-builder.js';

const OP = 'gradkit tune';
const METHODS = ['random', 'grid', 'coarseToFine', 'halving'] as const;
const KEYS = ['experiment', 'space', 'method', ...Object.keys(DEFAULT_SEARCH)];

export interface TuneOptions {
  /** Path of the space file. */
  space: string;
  /** Run folder (default runs/tune-<space file name>); an existing folder of the same search is resumed. */
  out?: string;
}

export interface TuneSetup {
  experiment: Experiment;
  space: SearchSpace;
  search: SearchOptions;
}

async function readJson(storage: Storage, path: string): Promise<unknown> {
  let text: string;
  try {
    text = new TextDecoder().decode(await storage.read(path));
  } catch (e) {
    throw new GradkitError(OP, `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GradkitError(OP, `${path} is not valid JSON: ${(e as Error).message}`);
  }
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
  for (const k of Object.keys(raw)) if (!KEYS.includes(k)) throw new GradkitError(OP, `unknown key '${k}' in the space file; expected ${KEYS.join(', ')}`);
  const exp = raw.experiment;
  let experiment: Experiment;
  if (exp === undefined) experiment = structuredClone(DEFAULT_EXPERIMENT);
  else if (typeof exp === 'string') experiment = resolveExperiment(await readJson(storage, nodePath.isAbsolute(exp) ? exp : nodePath.join(baseDir, exp)));
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

export async function tuneCommand(opts: TuneOptions, env: CommandEnv, runner?: (s: TuneSetup) => TrialRunner): Promise<SearchResult> {
  const { storage, sink } = env;
  const say = (s: string): void => void sink.write(`${s}\n`);
  const raw = await readJson(storage, opts.space);
  const setup = await resolveTune(raw, storage, nodePath.dirname(opts.space));
  const base = nodePath.basename(opts.space).replace(/\.json$/, '');
  const dir = opts.out ?? joinPath('runs', `tune-${base}`);
  // The folder's identity: a rerun with a different search would mix incomparable trials.
  const resolved = `${JSON.stringify({ experiment: setup.experiment, search: setup.search, space: Object.fromEntries(setup.space) }, null, 2)}\n`;
  const spacePath = joinPath(dir, 'space.json');
  if (await storage.exists(spacePath)) {
    const old = new TextDecoder().decode(await storage.read(spacePath));
    if (old !== resolved) throw new GradkitError(OP, `${dir} holds a different search (its space.json differs from ${opts.space}); choose another --out`);
    say(`resuming the search in ${dir}`);
  } else {
    await storage.mkdir(dir);
    await storage.writeAtomic(spacePath, resolved);
  }
  const s = setup.search;
  say(`gradkit tune · ${s.method} · ${[...setup.space.keys()].join(', ')} · ${s.epochs} epochs · ranked by ${s.metric} (${s.mode}) · trials run sequentially`);
  say(`run folder: ${dir}`);
  const result = await runSearch(setup.space, s, (runner ?? experimentRunner)(setup), { storage, dir, log: say, now: env.now });
  say('');
  say(formatTable(result.ranked, [...setup.space.keys()], s.metric));
  const best = result.ranked[0];
  if (best?.score !== null && best !== undefined) say(`\nbest: ${best.id} ${s.metric} ${best.score} with ${JSON.stringify(best.params)}`);
  say(`${result.ran} trial(s) run, ${result.skipped} read back from the folder`);
  return result;
}
