/**
 * What each built-in command does once its flags are parsed: validation of the values and the
 * call into the command's implementation. This module loads the library; the commands table
 * imports it lazily, so `gradkit --help` does not.
 */
import '../index.js'; // registers the tensor methods and the backends
import { evalCommand, trainCommand, type CommandEnv } from './commands.js';
import { initStudyCommand } from './init-study.js';
import { intFlag } from './flags.js';
import { finetuneCommand } from './finetune.js';
import { tuneCommand } from './tune.js';
import { gradcheckCommand } from './gradcheck.js';
import { exportOnnxCommand, parseShapeFlag } from './export-onnx.js';
import { infoCommand } from './info.js';
import { UsageError } from './usage.js';
import { useBackend } from './backend-flag.js';
import type { ParsedCommand } from './commands-table.js';

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

export async function train({ values, positionals }: ParsedCommand, env: CommandEnv): Promise<number> {
  if (positionals.length > 1) throw new UsageError(`train takes at most one experiment file, got ${positionals.length}: ${positionals.join(' ')}`, 'train');
  const raw = str(values.epochs);
  const epochs = raw === undefined ? undefined : Number(raw);
  if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0)) throw new UsageError(`--epochs must be a positive whole number, got '${raw}'`, 'train');
  await useBackend('train', str(values.backend));
  await trainCommand({ experiment: positionals[0], out: str(values.out), resume: str(values.resume), epochs, tensorboard: values.tensorboard === true }, env);
  return 0;
}

export async function evalRun({ values, positionals }: ParsedCommand, env: CommandEnv): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`eval takes one run folder, got ${positionals.length}`, 'eval');
  const which = str(values.checkpoint) ?? 'best';
  if (which !== 'best' && which !== 'last') throw new UsageError(`--checkpoint must be 'best' or 'last', got '${which}'`, 'eval');
  await useBackend('eval', str(values.backend));
  await evalCommand({ run: positionals[0]!, checkpoint: which }, env);
  return 0;
}

export async function finetune({ values, positionals }: ParsedCommand, env: CommandEnv): Promise<number> {
  if (positionals.length !== 2) throw new UsageError(`finetune takes a model file or run folder and an experiment file, got ${positionals.length} arguments`, 'finetune');
  await useBackend('finetune', str(values.backend));
  await finetuneCommand({ source: positionals[0]!, experiment: positionals[1]!, out: str(values.out) }, env);
  return 0;
}

export async function initStudy({ values, positionals }: ParsedCommand, env: CommandEnv): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`init-study takes no positional arguments, got ${positionals.join(' ')}`, 'init-study');
  const rawSeed = str(values.seed);
  const seed = rawSeed === undefined ? undefined : Number(rawSeed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError(`--seed must be a whole number, got '${rawSeed}'`, 'init-study');
  await initStudyCommand({
    out: str(values.out), width: intFlag('init-study', 'width', str(values.width)), depth: intFlag('init-study', 'depth', str(values.depth)),
    batch: intFlag('init-study', 'batch', str(values.batch)), seed,
  }, env);
  return 0;
}

export async function tune({ values, positionals }: ParsedCommand, env: CommandEnv): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(`tune takes one space file, got ${positionals.length}`, 'tune');
  const out = str(values.out);
  const resume = str(values.resume);
  if (out !== undefined && resume !== undefined && out !== resume) throw new UsageError('give either --out or --resume (the same folder), not both', 'tune');
  await tuneCommand({ space: positionals[0]!, out: resume ?? out, workers: intFlag('tune', 'workers', str(values.workers)) }, env);
  return 0;
}

export async function gradcheck({ values, positionals }: ParsedCommand, env: CommandEnv): Promise<number> {
  if (positionals.length > 1) throw new UsageError(`gradcheck takes at most one experiment file, got ${positionals.length}`, 'gradcheck');
  const rawSeed = str(values.seed);
  const seed = rawSeed === undefined ? undefined : Number(rawSeed);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0)) throw new UsageError(`--seed must be a whole number >= 0, got '${rawSeed}'`, 'gradcheck');
  const r = await gradcheckCommand({
    experiment: positionals[0], samples: intFlag('gradcheck', 'samples', str(values.samples)), batch: intFlag('gradcheck', 'batch', str(values.batch)), seed,
  }, env);
  return r.ok ? 0 : 1;
}

export async function info({ values, positionals }: ParsedCommand, env: CommandEnv): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`info takes no arguments, got ${positionals.join(' ')}`, 'info');
  await useBackend('info', str(values.backend));
  infoCommand(env);
  return 0;
}

export async function exportOnnx({ values, positionals }: ParsedCommand, env: CommandEnv): Promise<number> {
  if (positionals.length !== 2) throw new UsageError(`export-onnx takes a model file or run folder and an output path, got ${positionals.length} arguments`, 'export-onnx');
  const shape = str(values['input-shape']);
  await exportOnnxCommand({
    source: positionals[0]!, out: positionals[1]!, inputShape: shape === undefined ? undefined : parseShapeFlag(shape),
    opsetVersion: intFlag('export-onnx', 'opset', str(values.opset)), staticBatch: values['static-batch'] === true,
  }, env);
  return 0;
}
