/** Help texts generated from the commands table (no library import). */
import { COMMANDS, type CommandSpec } from './commands-table.js';

/** `gradkit --help`: every command's usage line and summary. */
export function usageText(commands: readonly CommandSpec[] = COMMANDS): string {
  const lines = commands.map((c) => `  gradkit ${c.name}${c.usage ? ` ${c.usage}` : ''}\n      ${c.summary}`);
  return `usage: gradkit <command> [arguments] [options]

commands:
${lines.join('\n')}

  gradkit <command> --help    options and examples of one command
  gradkit --version           the installed version
`;
}

/** `gradkit <command> --help`: usage, arguments, options and examples. */
export function commandHelp(c: CommandSpec): string {
  const rows: [string, string][] = Object.entries(c.args ?? {});
  const flagRows: [string, string][] = Object.entries(c.flags).map(([name, f]) => [`--${name}${f.value ? ` ${f.value}` : ''}`, f.description]);
  flagRows.push(['-h, --help', 'show this help']);
  const width = Math.max(...[...rows, ...flagRows].map(([k]) => k.length)) + 2;
  const table = (r: [string, string][]): string => r.map(([k, v]) => `  ${k.padEnd(width)}${v}`).join('\n');
  return `gradkit ${c.name}: ${c.summary}

usage: gradkit ${c.name}${c.usage ? ` ${c.usage}` : ''}
${rows.length > 0 ? `\narguments:\n${table(rows)}\n` : ''}
options:
${table(flagRows)}

examples:
${c.examples.map((e) => `  ${e}`).join('\n')}
`;
}
