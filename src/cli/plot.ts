/**
 * `gradkit plot <run-folder…> [--out file.svg|file.png]`: draws the per-epoch curves of one or
 * several runs. One run and no --out regenerates <run>/curves.svg and curves.png; several runs
 * are overlaid into --out (required then: no run folder is the obvious home of a comparison).
 */
import { parseArgs } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GradkitError } from '../core/errors.js';
import { epochRowsFromJsonl, curvesSvg, type CurveRun } from '../diagnostics/curves.js';
import { curvesPng } from '../diagnostics/curves-png.js';
import { nodeStorage } from '../platform/fs-node.js';

export const PLOT_USAGE = 'usage: gradkit plot <run-folder…> [--out <file.svg|file.png>]   curves of one run (into its folder) or several overlaid\n';

/** Reads a run folder's epoch lines (metrics.jsonl); the name is the folder's own name. */
export function readCurveRun(dir: string): CurveRun {
  const file = path.join(dir, 'metrics.jsonl');
  if (!fs.existsSync(file)) throw new GradkitError('gradkit plot', `${dir} is not a run folder (no metrics.jsonl)`);
  const epochs = epochRowsFromJsonl(fs.readFileSync(file, 'utf8'));
  if (epochs.length === 0) throw new GradkitError('gradkit plot', `${file} has no epoch lines yet; plot after the first epoch ends`);
  return { name: path.basename(path.resolve(dir)), epochs };
}

/** Writes the picture(s); returns the paths written. */
export function plotRuns(dirs: string[], out?: string): string[] {
  if (dirs.length === 0) throw new GradkitError('gradkit plot', 'give at least one run folder');
  const runs = dirs.map(readCurveRun);
  const storage = nodeStorage();
  if (out === undefined) {
    if (dirs.length > 1) throw new GradkitError('gradkit plot', `${dirs.length} runs need --out <file.svg|file.png> for the overlaid picture`);
    const svg = path.join(dirs[0], 'curves.svg');
    const png = path.join(dirs[0], 'curves.png');
    storage.writeAtomic(svg, curvesSvg(runs));
    storage.writeAtomic(png, curvesPng(runs));
    return [svg, png];
  }
  const ext = path.extname(out).toLowerCase();
  if (ext !== '.svg' && ext !== '.png') throw new GradkitError('gradkit plot', `--out must end in .svg or .png, got ${out}`);
  storage.writeAtomic(out, ext === '.svg' ? curvesSvg(runs) : curvesPng(runs));
  return [out];
}

export async function runPlot(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    process.stderr.write(`gradkit plot: ${(e as Error).message}\n${PLOT_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(PLOT_USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    process.stderr.write(`gradkit plot: give at least one run folder\n${PLOT_USAGE}`);
    return 2;
  }
  try {
    for (const p of plotRuns(parsed.positionals, parsed.values.out)) process.stdout.write(`wrote ${p}\n`);
    return 0;
  } catch (e) {
    if (e instanceof GradkitError) {
      process.stderr.write(`gradkit: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
