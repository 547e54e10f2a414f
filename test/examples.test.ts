import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

// The examples the README points to must keep working: run them as a user would.
function run(file: string): string {
  return execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000 });
}

test('examples/xor.ts converges', () => {
  const out = run('examples/xor.ts');
  const loss = Number(/step 2000: loss ([\d.]+)/.exec(out)?.[1]);
  assert.ok(loss < 0.05, `final loss ${loss}\n${out}`);
});

test('examples/spirals.ts separates three spirals on the validation split', () => {
  const out = run('examples/spirals.ts');
  const acc = Number(/valAccuracy ([\d.]+)/.exec(out)?.[1]);
  assert.ok(acc >= 0.9, `validation accuracy ${acc}\n${out}`);
  assert.match(out, /Sequential\(/);
});
