import { test } from 'node:test';
import { backendName, setBackend } from '../../src/index.js';
import { backendsUnderTest } from './backends.js';

/**
 * Ops whose validation still reads tensor values synchronously in src/ops (readSync), so they
 * throw 'readSync: webgpu tensors … cannot be read synchronously' on webgpu instead of
 * checking on the device (checkOnDevice) as indexSelect, gather and the label checks do.
 * Outside src/backends/webgpu, so reported rather than fixed; a test (or the part of one) that
 * needs them is skipped on webgpu only, naming the gap.
 */
export const WEBGPU_GAP = {
  oneHot: 'oneHot validates its labels with readSync (src/ops/indexing.ts), which throws on webgpu',
  castToInt: "cast(float, 'int32') checks finiteness with anyTrue → item → readSync (src/ops/elementwise.ts), which throws on webgpu",
  intPow: 'pow of int tensors checks negative exponents with anyTrue → item → readSync (src/ops/elementwise.ts), which throws on webgpu',
} as const;

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
    test(`${name} [${b}]`, async () => {
      const prev = backendName();
      setBackend(b);
      try {
        await fn();
      } finally {
        setBackend(prev);
      }
    });
  }
}
