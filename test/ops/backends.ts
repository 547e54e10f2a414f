import { test } from 'node:test';
import { listBackends } from '../../src/index.js';
import { onBackend } from '../helpers.js';

/**
 * The backends the op tests run on: every one available here (tfjs's ALL_ENVS idea), or the
 * comma-separated GRADKIT_TEST_BACKENDS where set (the webgpu preload sets it to `webgpu`, so
 * `npm run test:webgpu` does not run the CPU backends' cases a second time).
 */
export function backendsUnderTest(): string[] {
  const available = listBackends().filter((b) => b.available).map((b) => b.name);
  const only = process.env.GRADKIT_TEST_BACKENDS?.split(',').map((s) => s.trim()).filter(Boolean);
  const chosen = only ? available.filter((b) => only.includes(b)) : available;
  if (chosen.length === 0) throw new Error(`no backend is available to run op tests on (available: ${available.join(', ')}; GRADKIT_TEST_BACKENDS=${process.env.GRADKIT_TEST_BACKENDS ?? ''})`);
  return chosen;
}

/**
 * Registers `fn` as one test per backend under test, so a new backend is covered by every op
 * test the moment it registers, with no test edits. `fn` may be async (reads on a GPU backend
 * are): the backend stays selected until it settles (tests in a file run one at a time).
 */
export function testAllBackends(name: string, fn: () => void | Promise<void>): void {
  testAllBackendsExcept(name, {}, fn);
}

/**
 * testAllBackends, but registered as a skipped test (with `why`) on the backends named in
 * `skip` (a `false` reason runs it: `{ webgpu: NEEDS_FLOAT64.skip }`): the test still runs
 * unchanged on every other backend under test.
 */
export function testAllBackendsExcept(name: string, skip: Record<string, string | false>, fn: () => void | Promise<void>): void {
  for (const b of backendsUnderTest()) {
    const why = skip[b];
    if (typeof why === 'string') {
      test(`${name} [${b}]`, { skip: why }, () => {});
      continue;
    }
    test(`${name} [${b}]`, () => onBackend(b, fn));
  }
}
