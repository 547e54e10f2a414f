/**
 * The table of `gradkit` commands: one entry per command with its summary, usage, flags,
 * examples and a `run` that imports the implementation lazily. main.ts parses flags from it,
 * help.ts prints help from it and "did you mean" suggests from it, so adding a command is
 * adding one entry here. Nothing here imports the library (`gradkit --help` stays fast): a new
 * command's `run` imports its own module when called, e.g.
 *   run: async (a, env) => (await import('./plot.js')).plotCommand(a, env),
 * and test/cli/help.test.ts then checks its help, flags and example like the others'.
 */
import type { CommandEnv } from './commands.js';

/** One flag of a command (always given as `--name`; string flags take a value). */
export interface FlagSpec {
  type: 'string' | 'boolean';
  /** Placeholder for the value in help, e.g. '<dir>' (string flags). */
  value?: string;
  /** One line: what it does and its default. */
  description: string;
}

/** A command's parsed arguments (node:util parseArgs output). */
export interface ParsedCommand {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** One command of the table. */
export interface CommandSpec {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The arguments after the command name, e.g. '[experiment.json] [--out <dir>]'. */
  usage: string;
  /** Positional arguments explained (help only). */
  args?: Record<string, string>;
  flags: Record<string, FlagSpec>;
  /** Full command lines, each with a short comment after '#'. */
  examples: string[];
  /** Runs the command; returns the exit code. Imports its implementation when called. */
  run(args: ParsedCommand, env: CommandEnv): Promise<number>;
}

const runners = (): Promise<typeof import('./runners.js')> => import('./runners.js');

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'train',
    summary: 'train a model from an experiment file (no file: a small CNN on the digits)',
    usage: '[experiment.json] [--out <dir>] [--epochs <n>] | --resume <run-folder>',
    args: { 'experiment.json': 'the experiment (format: docs/experiment-format.md); omitted: the default digits CNN' },
    flags: {
      out: { type: 'string', value: '<dir>', description: 'run folder to write (default runs/<name>-<timestamp>)' },
      epochs: { type: 'string', value: '<n>', description: "override the experiment's epochs" },
      resume: { type: 'string', value: '<run-folder>', description: 'continue that run from its last checkpoint' },
    },
    examples: [
      'gradkit train                                  # the default CNN on the digits (needs the mnist package)',
      'gradkit train experiment.json --out runs/a     # your experiment, into runs/a',
      'gradkit train --resume runs/a --epochs 20      # continue runs/a up to 20 epochs',
    ],
    run: async (a, env) => (await runners()).train(a, env),
  },
  {
    name: 'eval',
    summary: 'evaluate a saved run on its test set',
    usage: '<run-folder> [--checkpoint best|last]',
    args: { '<run-folder>': 'a folder written by gradkit train' },
    flags: { checkpoint: { type: 'string', value: 'best|last', description: 'which checkpoint to evaluate (default best)' } },
    examples: ['gradkit eval runs/a                   # the best checkpoint', 'gradkit eval runs/a --checkpoint last'],
    run: async (a, env) => (await runners()).evalRun(a, env),
  },
  {
    name: 'finetune',
    summary: 'fine-tune a saved model (the experiment\'s "transfer" section)',
    usage: '<model-file|run-folder> <experiment.json> [--out <dir>]',
    args: { '<model-file|run-folder>': 'a .safetensors model file or a run folder', '<experiment.json>': 'the new task, with a "transfer" section' },
    flags: { out: { type: 'string', value: '<dir>', description: 'run folder to write (default runs/<name>-<timestamp>)' } },
    examples: ['gradkit finetune runs/a new-task.json --out runs/ft'],
    run: async (a, env) => (await runners()).finetune(a, env),
  },
  {
    name: 'init-study',
    summary: 'activation statistics of deep nets under 5 inits (SVG histograms)',
    usage: '[--out <dir>] [--width <n>] [--depth <n>] [--batch <n>] [--seed <n>]',
    flags: {
      out: { type: 'string', value: '<dir>', description: 'folder for the report and SVGs' },
      width: { type: 'string', value: '<n>', description: 'units per layer' },
      depth: { type: 'string', value: '<n>', description: 'number of layers' },
      batch: { type: 'string', value: '<n>', description: 'samples per forward pass' },
      seed: { type: 'string', value: '<n>', description: 'random seed' },
    },
    examples: ['gradkit init-study --out study --depth 10'],
    run: async (a, env) => (await runners()).initStudy(a, env),
  },
  {
    name: 'tune',
    summary: 'hyperparameter search (n trials at once in worker threads); re-run in the same folder to resume',
    usage: '<space.json> [--out <dir>] [--resume <dir>] [--workers <n>]',
    args: { '<space.json>': 'the search space (format: docs/space-format.md)' },
    flags: {
      out: { type: 'string', value: '<dir>', description: 'study folder to write' },
      resume: { type: 'string', value: '<dir>', description: 'continue the study in this folder' },
      workers: { type: 'string', value: '<n>', description: 'trials run at once in worker threads (default 1)' },
    },
    examples: ['gradkit tune space.json --out studies/lr --workers 2', 'gradkit tune space.json --resume studies/lr'],
    run: async (a, env) => (await runners()).tune(a, env),
  },
  {
    name: 'gradcheck',
    summary: "backprop vs finite differences on the experiment's model",
    usage: '[experiment.json] [--samples <n>] [--batch <n>] [--seed <n>]',
    flags: {
      samples: { type: 'string', value: '<n>', description: 'parameter entries checked' },
      batch: { type: 'string', value: '<n>', description: 'inputs per check' },
      seed: { type: 'string', value: '<n>', description: 'random seed (>= 0)' },
    },
    examples: ['gradkit gradcheck experiment.json --samples 50'],
    run: async (a, env) => (await runners()).gradcheck(a, env),
  },
  {
    name: 'info',
    summary: 'the gradkit version, and which backend (SIMD flavour, threads) it uses',
    usage: '',
    flags: {},
    examples: ['gradkit info'],
    run: async (a, env) => (await runners()).info(a, env),
  },
  {
    name: 'export-onnx',
    summary: 'export a saved model to ONNX (for ONNX Runtime)',
    usage: '<model-file|run-folder> <out.onnx> [--input-shape <dims>] [--opset <n>] [--static-batch]',
    flags: {
      'input-shape': { type: 'string', value: '<dims>', description: 'input shape, e.g. 1,1,28,28 (default: from the model)' },
      opset: { type: 'string', value: '<n>', description: 'ONNX opset version (default 17)' },
      'static-batch': { type: 'boolean', description: 'fix the batch dimension instead of a symbolic one' },
    },
    examples: ['gradkit export-onnx runs/a model.onnx --input-shape 1,1,28,28 --opset 17'],
    run: async (a, env) => (await runners()).exportOnnx(a, env),
  },
];

/** The command named `name`, or undefined. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
