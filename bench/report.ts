/**
 * Results, ratios, the printed table and the JSON report. Pure functions except
 * writeJsonAtomic, so the format is unit-tested without running a benchmark.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { WORKLOADS, type Unit, type Workload } from './spec.js';

/** One measured (or failed) cell: `value` is null when the library cannot run the workload, `note` says why. */
export interface BenchResult {
  workload: Workload;
  library: string;
  threads: number;
  value: number | null;
  unit: Unit;
  note?: string;
  /**
   * The adapter's label when measured on a software GPU adapter (webgpu on llvmpipe, SwiftShader):
   * not a GPU speed, so the table marks the cell and the ratios leave it out.
   */
  software?: string;
}

/** The label a software-adapter figure carries wherever it is printed. */
export function softwareLabel(adapter: string): string {
  return `software adapter ${adapter}: not a GPU speed`;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  arch: string;
  node: string;
  v8: string;
  [key: string]: unknown;
}

export interface BenchReport {
  machine: MachineInfo;
  results: BenchResult[];
  [key: string]: unknown;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface RatioRow {
  workload: Workload;
  /** The gradkit library with the highest value on this workload. */
  gradkit: string;
  gradkitValue: number;
  /** gradkit ÷ peer, or null when the peer has no value (then `why` says why). */
  ratios: { peer: string; ratio: number | null; why?: string }[];
}

/**
 * For each workload with a gradkit result, the best gradkit backend's value divided by each
 * peer's (all units are "higher is better", so > 1 means gradkit is faster). Figures from a
 * software GPU adapter are left out on both sides: their speed means nothing.
 */
export function computeRatios(results: readonly BenchResult[]): RatioRow[] {
  const rows: RatioRow[] = [];
  for (const w of WORKLOADS) {
    const here = results.filter((r) => r.workload === w && r.software === undefined);
    const best = here
      .filter((r) => r.library.startsWith('gradkit-') && r.value !== null && r.value > 0)
      .sort((a, b) => b.value! - a.value!)[0];
    if (!best) continue;
    const ratios = here
      .filter((r) => !r.library.startsWith('gradkit-'))
      .map((r) => (r.value !== null && r.value > 0
        ? { peer: r.library, ratio: best.value! / r.value }
        : { peer: r.library, ratio: null, why: r.note ?? 'no value' }));
    rows.push({ workload: w, gradkit: best.library, gradkitValue: best.value!, ratios });
  }
  return rows;
}

/** Compact human formatting: 3 significant digits, thousands separated. */
export function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function grid(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i], i > 0)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The results as a workload × library table. Failed cells show `n/a [k]` and the reasons are
 * listed under the table, so nothing a peer could not run disappears from view. Figures from a
 * software GPU adapter show `[sw]`, explained under the table.
 */
export function formatTable(results: readonly BenchResult[]): string {
  const libs = [...new Set(results.map((r) => r.library))];
  const notes: string[] = [];
  const software = new Map<string, string>();
  for (const r of results) if (r.software !== undefined && !software.has(r.library)) software.set(r.library, r.software);
  const rows: string[][] = [];
  for (const w of WORKLOADS) {
    const here = results.filter((r) => r.workload === w);
    if (here.length === 0) continue;
    const cells = libs.map((lib) => {
      const r = here.find((x) => x.library === lib);
      if (!r) return '-';
      if (r.value === null) {
        notes.push(`[${notes.length + 1}] ${lib} ${w}: ${r.note ?? 'no value'}`);
        return `n/a [${notes.length}]`;
      }
      const sw = r.software !== undefined ? ' [sw]' : '';
      if (r.note) notes.push(`[${notes.length + 1}] ${lib} ${w}: ${r.note}`);
      return r.note ? `${fmtValue(r.value)}${sw} [${notes.length}]` : `${fmtValue(r.value)}${sw}`;
    });
    rows.push([`${w} (${here[0].unit})`, ...cells]);
  }
  const threads = libs.map((lib) => String(results.find((r) => r.library === lib)?.threads ?? '?'));
  rows.push(['threads', ...threads]);
  const legend = [...software].map(([lib, adapter]) => `[sw] ${lib}: ${softwareLabel(adapter)}; left out of the ratios`);
  return [grid(['workload', ...libs], rows), ...legend, ...notes].join('\n');
}

/** A ratio to 3 significant digits (0.0042, 0.13, 1.05, 62.7, 760): small ones must not print as 0.00. */
export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 0.1) return x.toFixed(2);
  return x.toPrecision(2);
}

/**
 * One line of gradkit ÷ `peer` per workload (the PyTorch summary), failed cells with their
 * reason; null when the peer has no row at all (not run, or skipped).
 */
export function formatPeerRatios(rows: readonly RatioRow[], peer: string, label: string): string | null {
  const parts = rows.flatMap((r) => {
    const x = r.ratios.find((q) => q.peer === peer);
    if (!x) return [];
    return [`${r.workload} ${x.ratio !== null ? `${fmtRatio(x.ratio)}×` : `n/a (${x.why ?? 'no value'})`}`];
  });
  return parts.length > 0 ? `${label}: ${parts.join(', ')}` : null;
}

export function formatRatios(rows: readonly RatioRow[]): string {
  if (rows.length === 0) return '(no gradkit results to compare)';
  const peers = [...new Set(rows.flatMap((r) => r.ratios.map((x) => x.peer)))];
  const body = rows.map((r) => [
    r.workload,
    r.gradkit,
    ...peers.map((p) => {
      const x = r.ratios.find((q) => q.peer === p);
      if (!x) return '-';
      if (x.ratio !== null) return `${fmtRatio(x.ratio)}×`;
      return /^(too slow|not measured)/.test(x.why ?? '') ? 'n/a (slow)' : 'cannot run';
    }),
  ]);
  return grid(['workload', 'gradkit (best)', ...peers.map((p) => `vs ${p}`)], body);
}

/** The JSON document of `--json`: machine first, then one entry per cell, nulls kept. */
export function buildReport(machine: MachineInfo, results: readonly BenchResult[], extra: Record<string, unknown> = {}): BenchReport {
  return {
    machine,
    results: results.map((r) => {
      const o: BenchResult = { workload: r.workload, library: r.library, threads: r.threads, value: r.value === null ? null : round(r.value), unit: r.unit };
      if (r.note !== undefined) o.note = r.note;
      if (r.software !== undefined) o.software = r.software;
      return o;
    }),
    ...extra,
  };
}

function round(v: number): number {
  return Number(v.toPrecision(6));
}

/** Writes through a temp file in the same directory and renames it, so readers never see half a file. */
export function writeJsonAtomic(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
    renameSync(tmp, file);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* the temp file may never have been created */ }
    throw e;
  }
}

export interface MemoryVerdict {
  /** RSS after the first epoch (MB): warm-up allocations included, the ceiling for later epochs. */
  baselineMB: number;
  /** Median RSS over epochs 2..n (MB): the level later epochs should stay at. */
  levelMB: number;
  /** Smallest and largest RSS over epochs 2..n (MB). */
  minMB: number;
  maxMB: number;
  /** Largest relative distance of an epoch ≥ 2 from the level (signed). */
  maxChange: number;
  /** Largest later RSS relative to epoch 1 (positive = growth past it). */
  growthOverFirst: number;
  flat: boolean;
}

/**
 * "Resident memory stays flat after the first epoch (within 10%)": the RSS at the end of every
 * epoch from the second on stays within `tolerance` of their median (no drift; a leak grows
 * epoch after epoch), and none exceeds epoch 1's RSS by more than `tolerance` (no growth). RSS
 * read between epochs moves with the garbage collector's timing, and epoch 1 also holds the
 * warm-up's garbage, so later epochs often sit below it: that is not a change to flag.
 */
export function memoryVerdict(rssPerEpochMB: readonly number[], tolerance = 0.1): MemoryVerdict {
  if (rssPerEpochMB.length < 2) throw new Error('memoryVerdict needs at least two epochs');
  const base = rssPerEpochMB[0];
  const later = rssPerEpochMB.slice(1);
  const level = median(later);
  let maxChange = 0;
  for (const r of later) {
    const c = (r - level) / level;
    if (Math.abs(c) > Math.abs(maxChange)) maxChange = c;
  }
  const maxMB = Math.max(...later);
  const growthOverFirst = (maxMB - base) / base;
  return {
    baselineMB: base, levelMB: level, minMB: Math.min(...later), maxMB, maxChange, growthOverFirst,
    flat: Math.abs(maxChange) <= tolerance && growthOverFirst <= tolerance,
  };
}

/**
 * How closely two libraries' loss sequences agree over their first `n` common steps. Same data,
 * same initial weights, same Adam: the trajectories should match up to float32 rounding, which
 * checks every library's gradients against the others (a wrong gradient diverges within steps).
 * `relDiffs` has the difference per step: a model bug shows at step 1 or 2, while Adam's
 * first steps (±lr for any gradient, however small) can blow rounding up a few steps in.
 */
export function lossAgreement(a: readonly number[], b: readonly number[], n = 5): { steps: number; maxRelDiff: number; relDiffs: number[] } | null {
  const steps = Math.min(n, a.length, b.length);
  if (steps === 0) return null;
  const relDiffs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), 1e-12);
    relDiffs.push(Number.isNaN(d) ? Infinity : d);
  }
  return { steps, maxRelDiff: Math.max(...relDiffs), relDiffs };
}
