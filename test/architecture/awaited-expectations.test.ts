import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

/**
 * The async test helpers (expectClose, expectGrad, expectThrowsMsg) report a failure by
 * rejecting: a call that is not awaited (or returned) would pass whatever it found. This scans
 * every test file for such a call.
 */
const ASYNC_HELPERS = ['expectClose', 'expectGrad', 'expectModuleGrad', 'expectThrowsMsg'];

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : testFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

test('every call of an async test helper is awaited or returned', () => {
  const call = new RegExp(`(^|[^\\w.])(${ASYNC_HELPERS.join('|')})\\(`);
  const bad: string[] = [];
  for (const file of testFiles('test')) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      const m = call.exec(line);
      if (!m || /^\s*(export )?(async )?function\b/.test(line) || /^\s*(\*|\/\/)/.test(line)) return;
      const before = line.slice(0, m.index + m[1].length);
      if (!/\bawait\b|\breturn\b/.test(before)) bad.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(bad, [], `calls not awaited:\n${bad.join('\n')}`);
});

test('the scan finds an unawaited call (it is not vacuous)', () => {
  const call = new RegExp(`(^|[^\\w.])(${ASYNC_HELPERS.join('|')})\\(`);
  const line = '  expect' + 'Close(y, [1, 2]);'; // split so the scan above does not find it in this file
  const m = call.exec(line);
  assert.ok(m, 'the pattern matches a call');
  assert.equal(/\bawait\b|\breturn\b/.test(line.slice(0, m.index + m[1].length)), false);
});
