/**
 * `gradkit init-study`: runs diagnostics.initStudy, prints the per-layer table and writes one
 * histogram SVG per config and layer, plus results.json, into the output folder.
 */
import '../index.js'; // registers the tensor methods and the backends (main.ts no longer loads the library)
import { GradkitError } from '../core/errors.js';
import { formatInitStudy, initStudy, type InitStudyResult } from '../diagnostics/init-study.js';
import { histogramSvg } from '../diagnostics/svg.js';
import { joinPath } from '../train/storage.js';
import type { CommandEnv } from './commands.js';

export interface InitStudyCommandOptions {
  /** Output folder (default runs/init-study). */
  out?: string;
  width?: number;
  depth?: number;
  batch?: number;
  seed?: number;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export async function initStudyCommand(opts: InitStudyCommandOptions, env: CommandEnv): Promise<InitStudyResult> {
  const out = opts.out ?? 'runs/init-study';
  const r = initStudy({ width: opts.width, depth: opts.depth, batch: opts.batch, seed: opts.seed });
  env.sink.write(formatInitStudy(r));
  await env.storage.mkdir(out);
  const files: string[] = [];
  for (const c of r.configs) {
    for (const [i, s] of c.layers.entries()) {
      const name = `${slug(c.name)}-layer${i + 1}.svg`;
      await env.storage.writeAtomic(joinPath(out, name), histogramSvg(s.histogram, `${c.name}, layer ${i + 1}: mean ${s.mean.toFixed(2)}, std ${s.std.toPrecision(2)}`));
      files.push(name);
    }
  }
  await env.storage.writeAtomic(joinPath(out, 'results.json'), `${JSON.stringify(r)}\n`);
  env.sink.write(`wrote ${files.length} histograms and results.json to ${out}\n`);
  return r;
}

