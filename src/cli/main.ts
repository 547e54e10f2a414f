/**
 * The `gradkit` command line (Node only). Commands, their flags and examples come from the table
 * in commands-table.ts; arguments are parsed with node:util's parseArgs (built in, so the CLI adds
 * no dependency). Help, --version and mistyped names are answered without loading the library.
 */
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { GradkitError } from '../core/errors.js';
import { nodeStorage } from '../platform/fs-node.js';
import { isSystemError, syscallOperation, toFsError } from '../platform/fs-errors-node.js';
import { watchProcessSignals } from './interrupt.js';
import type { CommandEnv } from './commands.js';
import { COMMANDS, findCommand, type CommandSpec } from './commands-table.js';
import { commandHelp, usageText } from './help.js';
import { didYouMean, UsageError } from './usage.js';
import { packageVersion } from './version.js';

/** The top-level usage text (kept as a constant for callers that print it). */
export const USAGE = usageText();

function nodeEnv(): CommandEnv {
  return {
    storage: nodeStorage(),
    sink: process.stdout,
    // maxRSS is in kilobytes.
    peakMemory: () => process.resourceUsage().maxRSS * 1024,
    watchInterrupts: watchProcessSignals,
    hostname: hostname(),
  };
}

const isHelp = (a: string): boolean => a === '--help' || a === '-h';

// parseArgs names no alternative for an unknown flag: one line with a suggestion instead. Its other
// messages (a missing or dash-leading value) are kept, joined into one line.
function parseCommand(c: CommandSpec, args: string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options = Object.fromEntries(Object.entries(c.flags).map(([name, f]) => [name, { type: f.type }]));
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') break;
    if (!a.startsWith('-') || a === '-') continue;
    const name = a.replace(/^--?/, '').split('=')[0] ?? '';
    const flag = c.flags[name];
    if (flag === undefined) {
      const hint = didYouMean(name, Object.keys(c.flags)).replace(/'([^']+)'/, "'--$1'");
      throw new UsageError(`${c.name}: unknown option '${a.split('=')[0]}'${hint}`, c.name);
    }
    // A string flag's value is the next argument: '--seed -1' is parseArgs's to judge (it asks for
    // '--seed=-1'), not an unknown option '-1'.
    if (flag.type === 'string' && !a.includes('=')) i++;
  }
  try {
    return parseArgs({ args, allowPositionals: true, options });
  } catch (e) {
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(`${c.name}: ${e.message.split('\n').join(' ')}`, c.name);
    }
    throw e;
  }
}

/**
 * Whether `argv` runs a command (which loads the library), as opposed to help, --version or a
 * usage error. The bin turns on relaxed SIMD only then, before any kernel is compiled.
 */
export function runsCommand(argv: readonly string[]): boolean {
  const [name, ...rest] = argv;
  return name !== undefined && findCommand(name) !== undefined && !rest.some(isHelp);
}

/** Runs the command line; returns the exit code (0 ok, 1 bad input or failed run, 2 usage). */
export async function main(argv: string[], env: CommandEnv = nodeEnv()): Promise<number> {
  const sink = (s: string): void => void env.sink.write(s);
  const err = (s: string): void => void process.stderr.write(s);
  let command: CommandSpec | undefined;
  try {
    const [name, ...rest] = argv;
    if (name === undefined || isHelp(name) || name === 'help') {
      const topic = name === 'help' && rest[0] !== undefined ? findCommand(rest[0]) : undefined;
      sink(topic ? commandHelp(topic) : usageText());
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-v') {
      sink(`${packageVersion()}\n`);
      return 0;
    }
    command = findCommand(name);
    if (command === undefined) {
      throw new UsageError(`unknown command '${name}'${didYouMean(name, COMMANDS.map((c) => c.name))}; run gradkit --help for the list`);
    }
    const dashIndex = rest.indexOf('--');
    if (rest.slice(0, dashIndex < 0 ? undefined : dashIndex).some(isHelp)) {
      sink(commandHelp(command));
      return 0;
    }
    const parsed = parseCommand(command, rest);
    return await command.run(parsed, env);
  } catch (e) {
    if (e instanceof UsageError) {
      const c = e.command === undefined ? undefined : findCommand(e.command);
      err(`gradkit: ${e.message}\n${c ? `usage: gradkit ${c.name} ${c.usage}\nrun gradkit ${c.name} --help for options and examples\n` : ''}`);
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
