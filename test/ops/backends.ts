import { test } from 'node:test';
import { listBackends, withBackend } from '../../src/index.js';

/**
 * Registers `fn` as one test per backend that can run here (tfjs's ALL_ENVS idea), so a new
 * backend is covered by every op test the moment it registers, with no test edits.
 */
export function testAllBackends(name: string, fn: () => void): void {
  const available = listBackends().filter((b) => b.available);
  if (available.length === 0) throw new Error('no backend is available to run op tests on');
  for (const b of available) test(`${name} [${b.name}]`, () => withBackend(b.name, fn));
}
