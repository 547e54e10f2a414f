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

/** `--backend`, shared by the commands that compute (see backend-flag.ts). */
const BACKEND: FlagSpec = {
  type: 'string',
  value: '<name>',
  description: 'wasm, reference, webgpu (a GPU, or a software adapter when named), or auto (a hardware GPU if there is one); default wasm',
};

// Commands that parse their own argv (plot, dashboard, experiments) get the parsed flags back as
// arguments, after the table has already refused unknown ones with a suggestion.
function toArgv({ values, positionals }: ParsedCommand): string[] {
  const argv: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (v === true) argv.push(`--${k}`);
    else if (typeof v === 'string') argv.push(`--${k}`, v);
  }
  return [...argv, '--', ...positionals];
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'train',
    summary: 'train a model from an experiment file (no file: a small CNN on the digits)',
    usage: '[experiment.json] [--out <dir>] [--epochs <n>] [--backend <name>] | --resume <run-folder>',
    args: { 'experiment.json': 'the experiment (format: docs/experiment-format.md); omitted: the default digits CNN' },
    flags: {
      out: { type: 'string', value: '<dir>', description: 'run folder to write (default runs/<name>-<timestamp>)' },
      epochs: { type: 'string', value: '<n>', description: "override the experiment's epochs" },
      resume: { type: 'string', value: '<run-folder>', description: 'continue that run from its last checkpoint' },
      tensorboard: { type: 'boolean', description: 'also write TensorBoard event files to <run>/tensorboard/' },
      backend: BACKEND,
    },
    examples: [
      'gradkit train                                  # the default CNN on the digits (needs the mnist package)',
      'gradkit train experiment.json --out runs/a     # your experiment, into runs/a',
      'gradkit train --resume runs/a --epochs 20      # continue runs/a up to 20 epochs',
      'gradkit train experiment.json --backend webgpu # on the GPU (npm install webgpu in Node)',
    ],
    run: async (a, env) => (await runners()).train(a, env),
  },
  {
    name: 'eval',
    summary: 'evaluate a saved run on its test set',
    usage: '<run-folder> [--checkpoint best|last] [--backend <name>]',
    args: { '<run-folder>': 'a folder written by gradkit train' },
    flags: { checkpoint: { type: 'string', value: 'best|last', description: 'which checkpoint to evaluate (default best)' }, backend: BACKEND },
    examples: ['gradkit eval runs/a                   # the best checkpoint', 'gradkit eval runs/a --checkpoint last'],
    run: async (a, env) => (await runners()).evalRun(a, env),
  },
  {
    name: 'finetune',
    summary: 'fine-tune a saved model (the experiment\'s "transfer" section)',
    usage: '<model-file|run-folder> <experiment.json> [--out <dir>] [--backend <name>]',
    args: { '<model-file|run-folder>': 'a .safetensors model file or a run folder', '<experiment.json>': 'the new task, with a "transfer" section' },
    flags: { out: { type: 'string', value: '<dir>', description: 'run folder to write (default runs/<name>-<timestamp>)' }, backend: BACKEND },
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
    usage: '[--backend <name>]',
    flags: { backend: BACKEND },
    examples: ['gradkit info', 'gradkit info --backend auto   # also looks for a GPU through WebGPU'],
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
  {
    name: 'plot',
    summary: 'curves of one run (into its folder) or several overlaid, as SVG or PNG',
    usage: '<run-folder…> [--out <file.svg|file.png>]',
    args: { '<run-folder…>': 'one or more folders written by gradkit train' },
    flags: { out: { type: 'string', value: '<file>', description: 'write here (.svg or .png) instead of each run\'s curves.svg' } },
    examples: ['gradkit plot runs/a                        # redraw runs/a/curves.svg and curves.png', 'gradkit plot runs/a runs/b --out cmp.svg     # overlay two runs'],
    run: async (a) => (await import('./plot.js')).runPlot(toArgv(a)),
  },
  {
    name: 'dashboard',
    summary: 'live dashboard of a runs folder in the browser (curves, histograms, tune studies)',
    usage: '[runs-dir] [--host 127.0.0.1] [--port 6007]',
    args: { '[runs-dir]': 'the folder holding run folders (default runs)' },
    flags: {
      host: { type: 'string', value: '<host>', description: 'address to listen on (default 127.0.0.1; anything else prints a warning)' },
      port: { type: 'string', value: '<n>', description: 'port (default 6007; 0 picks a free one)' },
    },
    examples: ['gradkit dashboard runs --port 6007          # then open http://127.0.0.1:6007/'],
    run: async (a) => (await import('./dashboard.js')).runDashboard(toArgv(a)),
  },
  {
    name: 'experiments',
    summary: "reproduce the lectures' claims and write a report with a verdict per claim",
    usage: '[family…] [--quick] [--seeds <n>] [--out <dir>]',
    args: { '[family…]': 'initialization, activations, preprocessing, normalization, regularization, optimization, transfer, babysitting (default all)' },
    flags: {
      quick: { type: 'boolean', description: 'smaller runs (minutes, for tests)' },
      seeds: { type: 'string', value: '<n>', description: 'seeds per arm (default 3)' },
      out: { type: 'string', value: '<dir>', description: 'report folder (default docs/lectures)' },
    },
    examples: ['gradkit experiments normalization --quick --out /tmp/report   # one family, quickly'],
    run: async (a) => (await import('./experiments.js')).runExperiments(toArgv(a)),
  },
];

/** The command named `name`, or undefined. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
