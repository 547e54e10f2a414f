/**
 * What the dashboard reads from a runs folder, with every path checked: a run is addressed by
 * its folder name only (one segment, no dots-only names, no separators), and the resolved real
 * path (symlinks followed) must stay inside the runs folder's real path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseJsonl } from '../diagnostics/curves.js';

/** Folder or file names the dashboard accepts in a URL: one plain segment. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

export function isSafeName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

/**
 * The real path of `parts` under `root`, or null when any part is unsafe, the target does not
 * exist, or it resolves (through a symlink) outside `root`.
 */
export function resolveInside(root: string, ...parts: string[]): string | null {
  if (!parts.every(isSafeName)) return null;
  let realRoot: string;
  let real: string;
  try {
    realRoot = fs.realpathSync(root);
    real = fs.realpathSync(path.join(realRoot, ...parts));
  } catch {
    return null;
  }
  const rel = path.relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return real;
}

function readJson(file: string | null): unknown {
  if (file === null) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

/** Parses JSON lines, skipping a half-written last line (shared with the curves reader). */
export { parseJsonl };

/**
 * Lines of a JSON-lines file matching `keep`, cached by size and mtime: the event stream lists
 * runs twice a second per open page, and a long run's metrics.jsonl need not be parsed each time.
 */
const countCache = new Map<string, { size: number; mtimeMs: number; count: number }>();
function countLines(file: string, keep: (row: Record<string, unknown>) => boolean): number {
  const st = fs.statSync(file);
  const c = countCache.get(file);
  if (c && c.size === st.size && c.mtimeMs === st.mtimeMs) return c.count;
  const count = parseJsonl(fs.readFileSync(file, 'utf8')).filter(keep).length;
  countCache.set(file, { size: st.size, mtimeMs: st.mtimeMs, count });
  return count;
}

export interface RunInfo {
  name: string;
  kind: 'run' | 'study';
  status: string;
  best: { monitor: string; value: number; epoch: number } | null;
  /** Test accuracy when the run finished. */
  testAccuracy: number | null;
  seconds: number | null;
  epochs: number;
  tags: string[];
  hasRecord: boolean;
  hasAnalysis: boolean;
  modified: number;
}

/** The runs (folders with metrics.jsonl) and tune studies (folders with trials.jsonl) in `root`. */
export function listRuns(root: string): RunInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync(root).filter(isSafeName).sort();
  } catch {
    return [];
  }
  const out: RunInfo[] = [];
  for (const name of names) {
    const dir = resolveInside(root, name);
    if (dir === null || !fs.statSync(dir).isDirectory()) continue;
    const metrics = resolveInside(root, name, 'metrics.jsonl');
    const trials = resolveInside(root, name, 'trials.jsonl');
    if (metrics === null && trials === null) continue;
    const summary = readJson(resolveInside(root, name, 'summary.json')) as Record<string, unknown> | null;
    const config = readJson(resolveInside(root, name, 'config.json')) as Record<string, unknown> | null;
    const modified = Math.max(...[metrics, trials].filter((f): f is string => f !== null).map((f) => fs.statSync(f).mtimeMs));
    if (trials !== null) {
      out.push({
        name, kind: 'study', status: summary ? 'completed' : 'running', best: null, testAccuracy: null, seconds: null, epochs: countLines(trials, () => true),
        tags: ['tune'], hasRecord: false, hasAnalysis: false, modified,
      });
      continue;
    }
    const epochs = countLines(metrics!, (r) => (r.kind ?? 'epoch') === 'epoch');
    const tags = Array.isArray(config?.tags) ? (config.tags as unknown[]).filter((t): t is string => typeof t === 'string') : [];
    const data = config?.data as { dataset?: unknown } | undefined;
    if (typeof data?.dataset === 'string') tags.push(data.dataset);
    if (typeof config?.name === 'string' && config.name !== name) tags.push(config.name);
    const test = summary?.test as { accuracy?: unknown } | null | undefined;
    out.push({
      name,
      kind: 'run',
      status: typeof summary?.status === 'string' ? summary.status : 'running',
      best: (summary?.best as RunInfo['best']) ?? null,
      testAccuracy: typeof test?.accuracy === 'number' ? test.accuracy : null,
      seconds: typeof summary?.seconds === 'number' ? summary.seconds : null,
      epochs,
      tags,
      hasRecord: resolveInside(root, name, 'record.jsonl') !== null,
      hasAnalysis: resolveInside(root, name, 'analysis.json') !== null,
      modified,
    });
  }
  return out;
}

/** The JSON files of a run the page may ask for, by API name. */
export const RUN_FILES: Record<string, string> = {
  metrics: 'metrics.jsonl',
  record: 'record.jsonl',
  trials: 'trials.jsonl',
  config: 'config.json',
  summary: 'summary.json',
  analysis: 'analysis.json',
  space: 'space.json',
};
