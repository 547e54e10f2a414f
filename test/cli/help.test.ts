import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { COMMANDS } from '../../src/cli/commands-table.js';
import { closest, editDistance } from '../../src/cli/usage.js';
import type { CommandEnv } from '../../src/cli/commands.js';

const ROOT = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { version: string };

// Captures stdout (the env's sink) and stderr of one in-process main() call.
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const env = { storage: undefined as never, sink: { write: (s: string) => void (out += s) } } satisfies CommandEnv;
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv, env), out, err };
  } finally {
    process.stderr.write = orig;
  }
}

test('gradkit --help lists every command of the table with its usage and summary', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const c of COMMANDS) {
    assert.ok(r.out.includes(`gradkit ${c.name}`), `--help is missing ${c.name}`);
    assert.ok(r.out.includes(c.summary), `--help is missing the summary of ${c.name}`);
  }
  assert.match(r.out, /gradkit <command> --help/);
  assert.equal((await run([])).code, 2, 'no command is a usage error');
});

test('gradkit <command> --help shows usage, every flag and an example, for every command', async () => {
  for (const c of COMMANDS) {
    assert.ok(c.examples.length > 0, `${c.name} has no example`);
    for (const argv of [[c.name, '--help'], [c.name, 'x', '-h'], ['help', c.name]]) {
      const r = await run(argv);
      assert.equal(r.code, 0, argv.join(' '));
      assert.match(r.out, new RegExp(`^usage: gradkit ${c.name}`, 'm'));
      for (const f of Object.keys(c.flags)) assert.ok(r.out.includes(`--${f}`), `${c.name} --help lacks --${f}`);
      assert.match(r.out, /examples:\n {2}gradkit /);
    }
  }
});

test('--version prints the package version', async () => {
  const r = await run(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.out, `${pkg.version}\n`);
});

test('a mistyped command or flag gets one line with a suggestion, and exit code 2', async () => {
  const cmd = await run(['trian']);
  assert.equal(cmd.code, 2);
  assert.equal(cmd.err, "gradkit: unknown command 'trian' (did you mean 'train'?); run gradkit --help for the list\n");
  const far = await run(['frobnicate']);
  assert.doesNotMatch(far.err, /did you mean/);
  const flag = await run(['train', '--epoch', '2']);
  assert.equal(flag.code, 2);
  assert.equal(flag.err.split('\n')[0], "gradkit: train: unknown option '--epoch' (did you mean '--epochs'?)");
  const flag2 = await run(['export-onnx', 'a', 'b', '--static-bach']);
  assert.match(flag2.err, /unknown option '--static-bach' \(did you mean '--static-batch'\?\)/);
  const dash = await run(['init-study', '--seed', '-1']);
  assert.equal(dash.code, 2);
  assert.match(dash.err.split('\n')[0]!, /^gradkit: init-study: Option '--seed' argument is ambiguous\..*'--seed=-XYZ'/);
  const negative = await run(['init-study', '--seed=-1', '--depth', 'x']);
  assert.equal(negative.code, 1, 'a bad flag value is bad input (1), and --seed=-1 parsed');
  assert.match(negative.err, /--depth must be a positive whole number, got 'x'/);
  const missing = await run(['train', '--out']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /^gradkit: train: Option '--out <value>' argument missing/);
});

test('closest: typos (swaps included) match, unrelated words do not', () => {
  assert.equal(editDistance('trian', 'train'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(closest('tnue', ['train', 'tune']), 'tune');
  assert.equal(closest('exp', ['export-onnx', 'eval']), 'export-onnx');
  assert.equal(closest('zzz', ['train', 'eval']), undefined);
});

// The modules a file loads when it is imported: static imports and re-exports, followed through
// relative paths (type-only imports are erased, and dynamic import() runs only when called).
function staticGraph(start: URL): Set<string> {
  const seen = new Set<string>();
  const visit = (u: URL): void => {
    if (seen.has(u.href)) return;
    seen.add(u.href);
    const text = readFileSync(u, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?'(\.[^']+)'/gm)) {
      visit(new URL(m[1]!.replace(/\.js$/, '.ts'), u));
    }
  };
  visit(start);
  return seen;
}

test('help, --version and suggestions load no library module (the commands run lazily)', () => {
  const graph = [...staticGraph(new URL('src/cli/bin.ts', ROOT))].map((u) => u.slice(ROOT.href.length));
  assert.ok(graph.includes('src/cli/commands-table.ts') && graph.includes('src/cli/main.ts'), graph.join(' '));
  for (const heavy of ['src/index.ts', 'src/cli/runners.ts', 'src/cli/commands.ts', 'src/tensor/tensor.ts']) {
    assert.ok(!graph.includes(heavy), `the bin imports ${heavy} eagerly: ${graph.join(' ')}`);
  }
  assert.ok(graph.length <= 20, `the bin loads ${graph.length} modules before running a command: ${graph.join(' ')}`);
  // And the check itself sees through to the library when a module does import it eagerly.
  assert.ok([...staticGraph(new URL('src/cli/runners.ts', ROOT))].some((u) => u.endsWith('src/index.ts')));
});

test('bin/gradkit.js (compiled dist/) prints --version and a suggestion', { skip: !existsSync(new URL('dist/src/cli/bin.js', ROOT)) && 'run npm run build first' }, () => {
  const bin = fileURLToPath(new URL('bin/gradkit.js', ROOT));
  const v = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout, `${pkg.version}\n`);
  const typo = spawnSync(process.execPath, [bin, 'tnue'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /did you mean 'tune'/);
});
