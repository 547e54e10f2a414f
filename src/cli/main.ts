/**
 * The `gradkit` command line (Node only). Arguments are parsed with node:util's parseArgs (built
 * in, so the CLI adds no dependency).
 *
 *   gradkit train [experiment.json] [--out <dir>] [--epochs <n>]
 *   gradkit train --resume <run-folder>
 *   gradkit eval <run-folder> [--checkpoint best|last]
 *   gradkit finetune <model-file-or-run-folder> <experiment.json> [--out <dir>]
 *   gradkit init-study [--out <dir>] [--width <n>] [--depth <n>] [--batch <n>] [--seed <n>]
 *   gradkit tune <space.json> [--out <dir>] [--resume <dir>] [--workers <n>]
 *   gradkit gradcheck [experiment.json] [--samples <n>] [--batch <n>] [--seed <n>]
 *   gradkit info
 *   gradkit export-onnx <model-file-or-run-folder> <out.onnx> [--input-shape <dims>] [--opset <n>] [--static-batch]
 */
import { parseArgs } from 'node:util';
import { GradkitError } from '../core/errors.js';
import '../index.js'; // registers the tensor methods and the backends
import { nodeStorage } from '../platform/fs-node.js';
import { isSystemError, syscallOperation, toFsError } from '../platform/fs-errors-node.js';
import { evalCommand, trainCommand, type CommandEnv } from './commands.js';
import { initStudyCommand } from './init-study.js';
import { intFlag } from './flags.js';
import { finetuneCommand } from './finetune.js';
import { tuneCommand } from './tune.js';
import { gradcheckCommand } from './gradcheck.js';
import { exportOnnxCommand, parseShapeFlag } from './export-onnx.js';
import { infoCommand } from './info.js';
import { watchProcessSignals } from './interrupt.js';

export const USAGE = `usage:
  gradkit train [experiment.json] [--out <dir>] [--epochs <n>]   train (no file: a small CNN on the shipped digits)
  gradkit train --resume <run-folder>                            continue a run from its last checkpoint
  gradkit eval <run-folder> [--checkpoint best|last]             evaluate a saved run on its test set
  gradkit finetune <model-file|run-folder> <experiment.json> [--out <dir>]   fine-tune a saved model (the experiment's "transfer" section)
  gradkit init-study [--out <dir>] [--width <n>] [--depth <n>]   activation statistics of deep nets under 5 inits (SVG histograms)
  gradkit tune <space.json> [--out <dir>] [--workers <n>]        hyperparameter search (n trials at once in worker threads); re-run in the same folder to resume
  gradkit gradcheck [experiment.json] [--samples <n>]            backprop vs finite differences on the experiment's model
  gradkit info                                                   the gradkit version, and which backend (SIMD flavour, threads) it uses
  gradkit plot <run-folder…> [--out <file.svg|file.png>]          curves of one run (into its folder) or several overlaid
  gradkit dashboard [runs-dir] [--host 127.0.0.1] [--port 6007]  live dashboard of a runs folder in the browser
  gradkit export-onnx <model-file|run-folder> <out.onnx> [--input-shape 1,1,28,28] [--opset 17] [--static-batch]   export to ONNX (for ONNX Runtime)
`;

class UsageError extends Error {}

function nodeEnv(): CommandEnv {
  return {
    storage: nodeStorage(),
    sink: process.stdout,
    // maxRSS is in kilobytes.
    peakMemory: () => process.resourceUsage().maxRSS * 1024,
    watchInterrupts: watchProcessSignals,
  };
}

/** Runs the command line; returns the exit code (0 ok, 1 bad input or failed run, 2 usage). */
export async function main(argv: string[], env: CommandEnv = nodeEnv()): Promise<number> {
  const err = (s: string): void => void process.stderr.write(s);
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      env.sink.write(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === 'plot') return await (await import('./plot.js')).runPlot(rest);
    if (command === 'dashboard') return await (await import('./dashboard.js')).runDashboard(rest);
    if (command === 'train') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { out: { type: 'string' }, resume: { type: 'string' }, epochs: { type: 'string' } },
      });
      if (positionals.length > 1) throw new UsageError(`train takes at most one experiment file, got ${positionals.length}: ${positionals.join(' ')}`);
      const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
      if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0)) throw new UsageError(`--epochs must be a positive whole number, got '${values.epochs}'`);
      await trainCommand({ experiment: positionals[0], out: values.out, resume: values.resume, epochs }, env);
      return 0;
    }
    if (command === 'eval') {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { checkpoint: { type: 'string' } } });
      if (positionals.length !== 1) throw new UsageError(`eval takes one run folder, got ${positionals.length}`);
      const which = values.checkpoint ?? 'best';
      if (which !== 'best' && which !== 'last') throw new UsageError(`--checkpoint must be 'best' or 'last', got '${which}'`);
      await evalCommand({ run: positionals[0], checkpoint: which }, env);
      return 0;
    }
    if (command === 'finetune') {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' } } });
      if (positionals.length !== 2) throw new UsageError(`finetune takes a model file or run folder and an experiment file, got ${positionals.length} arguments`);
      await finetuneCommand({ source: positionals[0], experiment: positionals[1], out: values.out }, env);
      return 0;
    }
    if (command === 'init-study') {
      const opt = { type: 'string' } as const;
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: opt, width: opt, depth: opt, batch: opt, seed: opt } });
      if (positionals.length > 0) throw new UsageError(`init-study takes no positional arguments, got ${positionals.join(' ')}`);
      const seed = values.seed === undefined ? undefined : Number(values.seed);
      if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError(`--seed must be a whole number, got '${values.seed}'`);
      await initStudyCommand({ out: values.out, width: intFlag('init-study', 'width', values.width), depth: intFlag('init-study', 'depth', values.depth), batch: intFlag('init-study', 'batch', values.batch), seed }, env);
      return 0;
    }
    if (command === 'tune') {
      const opt = { type: 'string' } as const;
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: opt, resume: opt, workers: opt } });
      if (positionals.length !== 1) throw new UsageError(`tune takes one space file, got ${positionals.length}`);
      if (values.out !== undefined && values.resume !== undefined && values.out !== values.resume) throw new UsageError('give either --out or --resume (the same folder), not both');
      await tuneCommand({ space: positionals[0], out: values.resume ?? values.out, workers: intFlag('tune', 'workers', values.workers) }, env);
      return 0;
    }
    if (command === 'gradcheck') {
      const opt = { type: 'string' } as const;
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { samples: opt, batch: opt, seed: opt } });
      if (positionals.length > 1) throw new UsageError(`gradcheck takes at most one experiment file, got ${positionals.length}`);
      const seed = values.seed === undefined ? undefined : Number(values.seed);
      if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0)) throw new UsageError(`--seed must be a whole number >= 0, got '${values.seed}'`);
      const r = await gradcheckCommand({ experiment: positionals[0], samples: intFlag('gradcheck', 'samples', values.samples), batch: intFlag('gradcheck', 'batch', values.batch), seed }, env);
      return r.ok ? 0 : 1;
    }
    if (command === 'experiments') return await (await import('./experiments.js')).runExperiments(rest);
    if (command === 'info') {
      if (rest.length > 0) throw new UsageError(`info takes no arguments, got ${rest.join(' ')}`);
      infoCommand(env);
      return 0;
    }
    if (command === 'export-onnx') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { 'input-shape': { type: 'string' }, opset: { type: 'string' }, 'static-batch': { type: 'boolean' } },
      });
      if (positionals.length !== 2) throw new UsageError(`export-onnx takes a model file or run folder and an output path, got ${positionals.length} arguments`);
      const shape = values['input-shape'];
      await exportOnnxCommand({
        source: positionals[0], out: positionals[1], inputShape: shape === undefined ? undefined : parseShapeFlag(shape),
        opsetVersion: intFlag('export-onnx', 'opset', values.opset), staticBatch: values['static-batch'] ?? false,
      }, env);
      return 0;
    }
    throw new UsageError(`unknown command '${command}'`);
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      err(`gradkit: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof GradkitError) {
      err(`gradkit: ${e.message}\n`);
      return (e as { exitCode?: number }).exitCode ?? 1;
    }
    // A file-system error from a path no Storage wrapped (worker setup, a library): still one line.
    if (isSystemError(e)) {
      err(`gradkit: ${(toFsError(e, syscallOperation(e.syscall), e.path ?? 'a file') as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}
