/**
 * `gradkit experiments [family…] [--only family] [--quick] [--out docs/lectures] [--seeds n]`:
 * runs the lectures' experiments and writes the report (README.md, one SVG per figure and
 * results.json with every number, report.html: the same as one HTML page) into the output folder. Files are written atomically.
 */
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as g from '../index.js';
import '../digits.js'; // the lectures run on the shipped digits (the optional mnist package)
import { familyNames, runFamilies } from '../experiments/lectures/registry.js';
import { renderFigures, renderReport } from '../experiments/lectures/report.js';
import { renderHtml } from '../experiments/lectures/report-html.js';
import { nodeStorage } from '../platform/fs-node.js';

export const EXPERIMENTS_USAGE = `usage: gradkit experiments [family…] [--only family] [--quick] [--out docs/lectures] [--seeds n]
  families: ${familyNames().join(', ')} (default: all)
  --quick   smaller data and fewer epochs (minutes instead of tens of minutes)
  --seeds   seeds per arm (default 3; at least 3 for a verdict other than inconclusive)
`;

/** Returns the exit code: 0 done, 2 bad arguments. */
export async function runExperiments(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true,
      options: { only: { type: 'string', multiple: true }, quick: { type: 'boolean' }, out: { type: 'string' }, seeds: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    process.stderr.write(`gradkit experiments: ${(e as Error).message}\n${EXPERIMENTS_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(EXPERIMENTS_USAGE);
    return 0;
  }
  const only = [...positionals, ...(values.only ?? [])];
  const bad = only.find((n) => !familyNames().includes(n));
  if (bad !== undefined) {
    process.stderr.write(`gradkit experiments: unknown family '${bad}'; known: ${familyNames().join(', ')}\n`);
    return 2;
  }
  const nSeeds = values.seeds === undefined ? 3 : Number(values.seeds);
  if (!Number.isInteger(nSeeds) || nSeeds < 1) {
    process.stderr.write(`gradkit experiments: --seeds must be a positive whole number, got '${values.seeds}'\n`);
    return 2;
  }
  const out = values.out ?? 'docs/lectures';
  const quick = values.quick ?? false;
  const seeds = Array.from({ length: nSeeds }, (_, i) => i);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const t0 = performance.now();
  const families = await runFamilies(only, { quick, seeds, log });
  const wallSeconds = (performance.now() - t0) / 1000;
  const command = ['gradkit experiments', ...only, quick ? '--quick' : '', values.seeds ? `--seeds ${nSeeds}` : '', `--out ${out}`].filter(Boolean).join(' ');
  const environment = `Node ${process.version}, ${g.backendName()} backend, ${availableParallelism()} cores`;
  const storage = nodeStorage();
  await storage.mkdir(out);
  for (const f of renderFigures(families)) await storage.writeAtomic(join(out, f.file), f.svg);
  await storage.writeAtomic(join(out, 'results.json'), `${JSON.stringify({ command, wallSeconds, quick, seeds, families }, null, 1)}\n`);
  const meta = { command, wallSeconds, quick, seeds, environment };
  await storage.writeAtomic(join(out, 'README.md'), renderReport(families, meta));
  await storage.writeAtomic(join(out, 'report.html'), renderHtml(families, meta));
  const verdicts = families.flatMap((f) => f.claims.map((c) => c.judgement.verdict));
  process.stdout.write(`${verdicts.length} claims: ${verdicts.filter((v) => v === 'held').length} held, ${verdicts.filter((v) => v === 'not held').length} not held, ${verdicts.filter((v) => v === 'inconclusive').length} inconclusive; report in ${join(out, 'README.md')} (${wallSeconds.toFixed(0)} s)\n`);
  return 0;
}
