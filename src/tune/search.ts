/**
 * The search loop of `gradkit tune`, independent of what a trial is: it picks points, asks a
 * TrialRunner to train each for some epochs, and records every result as one JSON line of
 * trials.jsonl (append-only, so a kill loses at most the trial in flight) plus an atomically
 * rewritten summary.json. Re-running in the same folder reads trials.jsonl back and skips
 * every finished trial: the points are a pure function of the seed and the earlier results,
 * so the rerun asks for the same trials in the same order.
 */
import { GradkitError } from '../core/errors.js';
import { joinPath, type Storage } from '../train/storage.js';
import { halvingRungs, survivors } from './halving.js';
import { gridSearch, randomSearch, refineSpace } from './samplers.js';
import type { Assignment, SearchSpace } from './space.js';

/** The hyperparameter search strategy: random, grid, coarse-to-fine, or successive halving. */
export type SearchMethod = 'random' | 'grid' | 'coarseToFine' | 'halving';

/** Settings of a hyperparameter search: method, trial and epoch budget, seed, ranking metric and per-method knobs. */
export interface SearchOptions {
  method: SearchMethod;
  /** Trials (random, halving) or trials per round (coarseToFine); grid ignores it. */
  trials: number;
  /** Epochs of a full trial. */
  epochs: number;
  seed: number;
  /** The metric trials are ranked by (a key of the runner's metrics), and its direction. */
  metric: string;
  mode: 'max' | 'min';
  /** grid: values per numeric axis. */
  gridPoints: number;
  /** coarseToFine: rounds, and the fraction of the best trials the next round refines around. */
  rounds: number;
  topFraction: number;
  /** halving: keep the best 1/eta per rung; the first rung trains minEpochs. */
  eta: number;
  minEpochs: number;
}

/** The search options used where a space file leaves them out (trials 8, epochs 2, metric valAccuracy, …). */
export const DEFAULT_SEARCH: Omit<SearchOptions, 'method'> = {
  trials: 8, epochs: 2, seed: 0, metric: 'valAccuracy', mode: 'max', gridPoints: 3, rounds: 2, topFraction: 0.25, eta: 3, minEpochs: 1,
};

/** One trial to run: its name and the hyperparameter values it uses. */
export interface TrialSpec {
  /** Stable name, e.g. 'r0-t3' (round 0, trial 3). */
  id: string;
  params: Assignment;
}

/** What running a trial gave: its metrics and a handle to continue it later. */
export interface TrialOutcome {
  metrics: Record<string, number>;
  /** Whatever lets the runner continue this trial later (halving); dropped when the trial is cut. */
  handle?: unknown;
}

/** Trains trials on behalf of the search; the caller supplies how a trial is trained. */
export interface TrialRunner {
  /** Trains `trial` until it has `epochs` epochs in total, continuing from `handle` when given. */
  run(trial: TrialSpec, epochs: number, handle?: unknown): Promise<TrialOutcome>;
}

/** The record of one trial: its values, epochs, status, metrics, score, error and duration. */
export interface TrialRecord {
  id: string;
  round: number;
  params: Assignment;
  epochs: number;
  status: 'ok' | 'failed';
  metrics: Record<string, number>;
  /** metrics[metric], or null when missing, not finite, or failed. */
  score: number | null;
  error?: string;
  seconds: number;
}

/** The outcome of a search: every trial ranked best first, and how many were resumed versus run. */
export interface SearchResult {
  /** Each trial's latest record, best first. */
  ranked: TrialRecord[];
  /** Records read back from an earlier run rather than trained now. */
  skipped: number;
  ran: number;
}

/** Where and how a search runs: storage and folder for its records, logging, clock and parallelism. */
export interface SearchEnv {
  storage: Storage;
  dir: string;
  /** Progress lines. */
  log?: (line: string) => void;
  now?: () => number;
  /** Trials run at once (default 1); the runner must then be able to run several (worker threads). */
  parallel?: number;
}

/**
 * Calls fn on every item, at most `limit` at a time, in order of starting. After a failure no
 * new item starts; the ones in flight finish (their results are recorded) and the first error is thrown.
 */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== null) throw (failure as { error: unknown }).error;
}

const key = (id: string, epochs: number): string => `${id}@${epochs}`;

const trialIndex = (id: string): number => Number(/t(\d+)$/.exec(id)?.[1] ?? 0);

/** Orders records best first: a longer budget first (halving), then the score; failures last. */
export function rankRecords(records: TrialRecord[], mode: 'max' | 'min'): TrialRecord[] {
  return [...records].sort((a, b) => {
    if ((a.score === null) !== (b.score === null)) return a.score === null ? 1 : -1;
    if (a.epochs !== b.epochs) return b.epochs - a.epochs;
    const d = a.score === null || b.score === null ? 0 : mode === 'max' ? b.score - a.score : a.score - b.score;
    // Ties in trial order, so parallel runs (which finish in any order) print the same table.
    return d !== 0 ? d : a.round - b.round || trialIndex(a.id) - trialIndex(b.id);
  });
}

async function readTrials(storage: Storage, path: string): Promise<Map<string, TrialRecord>> {
  const done = new Map<string, TrialRecord>();
  if (!(await storage.exists(path))) return done;
  const lines = new TextDecoder().decode(await storage.read(path)).split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const r = JSON.parse(line) as TrialRecord;
      done.set(key(r.id, r.epochs), r);
    } catch {
      // A kill in the middle of an append leaves a cut last line: that trial simply runs again.
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim() !== '')) throw new GradkitError('gradkit tune', `${path} line ${i + 1} is not valid JSON; the file is damaged`);
    }
  });
  return done;
}

/** Runs the search (or finishes an interrupted one in the same folder). */
export async function runSearch(space: SearchSpace, opts: SearchOptions, runner: TrialRunner, env: SearchEnv): Promise<SearchResult> {
  const { storage, dir } = env;
  const log = env.log ?? (() => {});
  const now = env.now ?? Date.now;
  const parallel = env.parallel ?? 1;
  if (!(Number.isInteger(parallel) && parallel >= 1)) throw new GradkitError('gradkit tune', `parallel must be a positive whole number, got ${parallel}`);
  const trialsPath = joinPath(dir, 'trials.jsonl');
  await storage.mkdir(dir);
  const done = await readTrials(storage, trialsPath);
  // A complete earlier line may end without '\n' only if we wrote it so; we always end lines, but
  // a cut line must not glue itself to the next record.
  if (await storage.exists(trialsPath)) {
    const bytes = await storage.read(trialsPath);
    if (bytes.length > 0 && bytes[bytes.length - 1] !== 10) await storage.append(trialsPath, '\n');
  }
  const latest = new Map<string, TrialRecord>();
  let skipped = 0;
  let ran = 0;

  const writeSummary = async (): Promise<void> => {
    const ranked = rankRecords([...latest.values()], opts.mode);
    await storage.writeAtomic(joinPath(dir, 'summary.json'), `${JSON.stringify({ search: opts, trials: latest.size, best: ranked[0] ?? null, ranked }, null, 2)}\n`);
  };

  const runOne = async (t: TrialSpec, round: number, epochs: number, handle?: unknown): Promise<{ rec: TrialRecord; handle?: unknown }> => {
    const prev = done.get(key(t.id, epochs));
    if (prev) {
      skipped++;
      latest.set(t.id, prev);
      log(`${t.id} (${epochs} epochs): already finished, ${opts.metric} ${prev.score ?? 'n/a'}`);
      return { rec: prev };
    }
    const started = now();
    let rec: TrialRecord;
    let next: unknown;
    try {
      const out = await runner.run(t, epochs, handle);
      const s = out.metrics[opts.metric];
      rec = { id: t.id, round, params: t.params, epochs, status: 'ok', metrics: out.metrics, score: typeof s === 'number' && Number.isFinite(s) ? s : null, seconds: (now() - started) / 1000 };
      next = out.handle;
    } catch (e) {
      // A bad configuration (diverged, invalid value) is a result of the search, not a crash of it;
      // anything else (a kill, a bug) stops the search, and the rerun picks up here.
      if (!(e instanceof GradkitError)) throw e;
      rec = { id: t.id, round, params: t.params, epochs, status: 'failed', metrics: {}, score: null, error: e.message, seconds: (now() - started) / 1000 };
    }
    ran++;
    await storage.append(trialsPath, `${JSON.stringify(rec)}\n`);
    latest.set(t.id, rec);
    await writeSummary();
    log(`${t.id} (${epochs} epochs): ${rec.status === 'ok' ? `${opts.metric} ${rec.score ?? 'n/a'}` : `failed: ${rec.error}`} · ${rec.seconds.toFixed(2)}s`);
    return { rec, handle: next };
  };

  const specs = (points: Assignment[], round: number): TrialSpec[] => points.map((params, i) => ({ id: `r${round}-t${i}`, params }));

  if (opts.method === 'random' || opts.method === 'grid') {
    const points = opts.method === 'random' ? randomSearch(space, opts.trials, opts.seed) : gridSearch(space, opts.gridPoints);
    await forEachLimited(specs(points, 0), parallel, async (t) => void (await runOne(t, 0, opts.epochs)));
  } else if (opts.method === 'coarseToFine') {
    let current = space;
    for (let round = 0; round < opts.rounds; round++) {
      if (round > 0) {
        const ok = rankRecords([...latest.values()].filter((r) => r.score !== null), opts.mode);
        if (ok.length === 0) throw new GradkitError('gradkit tune', `round ${round} cannot refine: every trial of the earlier rounds failed`);
        const top = ok.slice(0, Math.max(1, Math.round(opts.topFraction * ok.length)));
        current = refineSpace(space, top.map((r) => r.params));
        log(`round ${round}: refined around the best ${top.length}: ${describeSpace(current)}`);
      }
      await forEachLimited(specs(randomSearch(current, opts.trials, opts.seed + round), round), parallel, async (t) => void (await runOne(t, round, opts.epochs)));
    }
  } else {
    const rungs = halvingRungs(opts.trials, Math.min(opts.minEpochs, opts.epochs), opts.epochs, opts.eta);
    let alive = specs(randomSearch(space, opts.trials, opts.seed), 0).map((t) => ({ t, handle: undefined as unknown, rec: null as TrialRecord | null }));
    for (let i = 0; i < rungs.length; i++) {
      await forEachLimited(alive, parallel, async (a) => {
        const r = await runOne(a.t, 0, rungs[i].epochs, a.handle);
        a.rec = r.rec;
        a.handle = r.handle;
      });
      if (i + 1 < rungs.length) {
        const keep = survivors(alive.length, opts.eta);
        const order = rankRecords(alive.map((a) => a.rec!), opts.mode).map((r) => r.id);
        alive = alive.filter((a) => order.indexOf(a.t.id) < keep && a.rec!.score !== null);
        if (alive.length === 0) break;
        log(`rung ${i + 1}: ${alive.length} trial(s) continue to ${rungs[i + 1].epochs} epochs`);
      }
    }
  }
  await writeSummary();
  return { ranked: rankRecords([...latest.values()], opts.mode), skipped, ran };
}

/** A one-line description of a search space: each parameter with its choices or range. */
export function describeSpace(space: SearchSpace): string {
  return [...space].map(([p, d]) => `${p} ${d.kind === 'choice' ? `∈ ${JSON.stringify(d.values)}` : `${d.kind}[${fmt(d.low)}, ${fmt(d.high)}]`}`).join(', ');
}

export function fmt(v: unknown): string {
  if (typeof v !== 'number') return JSON.stringify(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e-2 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(3);
}

/** The results table: one row per trial, best first. */
export function formatTable(ranked: TrialRecord[], paths: string[], metric: string): string {
  const head = ['rank', 'trial', ...paths, 'epochs', metric, 'status'];
  const rows = ranked.map((r, i) => [String(i + 1), r.id, ...paths.map((p) => fmt(r.params[p])), String(r.epochs), r.score === null ? '-' : fmt(r.score), r.status === 'ok' ? 'ok' : `failed: ${(r.error ?? '').slice(0, 40)}`]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string => cells.map((s, c) => s.padEnd(widths[c])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
