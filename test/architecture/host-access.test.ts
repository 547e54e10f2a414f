import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// Issue 13: host access to tensor values outside the backends goes through one module. The
// branded Handle type already makes `t.handle[i]` a compile error; this test closes the doors
// the type system leaves open: the CPU backends' array<->handle casts, hand-written casts of a
// handle to a typed array, and calling a backend's buffer methods directly.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

// The backends own their buffers; the tensor class and the host module are the one host door
// (format.ts prints values for toString, which the host module cannot serve without a cycle).
const ALLOWED = [/^src\/backends\//, /^src\/tensor\/(host|tensor|format)\.ts$/];
const FORBIDDEN: [RegExp, string][] = [
  [/from '[^']*backends\/cpu\/buffers(\.js)?'/, "imports the CPU backends' array<->handle casts"],
  [/as unknown as (Handle|DataArray|Float32Array|Float64Array|Int32Array|Uint8Array)\b/, 'casts through unknown to a buffer type'],
  [/\.(readSync|upload|write)\(\s*[\w.]*handle\b/, "calls a backend's buffer method directly (use src/tensor/host.ts)"],
  [/(getBackend\(\)|\.backend)\.(read|readSync|write|upload)\(/, "calls a backend's buffer method directly (use src/tensor/host.ts)"],
];

function violations(): string[] {
  const found: string[] = [];
  for (const file of sources(join(ROOT, 'src'))) {
    const rel = relative(ROOT, file).split('\\').join('/');
    if (ALLOWED.some((r) => r.test(rel))) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      for (const [pattern, why] of FORBIDDEN) if (pattern.test(line)) found.push(`${rel}:${i + 1} ${why}: ${line.trim()}`);
    });
  }
  return found;
}

test('outside src/backends and the host module, no code reaches tensor buffers on the host', () => {
  assert.deepEqual(violations(), []);
});

test('the scan sees a violation (each pattern matches the kind of line it forbids)', () => {
  const samples = [
    "import { asArray } from '../backends/cpu/buffers.js';",
    'const a = t.handle as unknown as Float32Array;',
    'const v = backend.readSync(t.handle);',
    'getBackend().upload(data);',
  ];
  for (const line of samples) assert.ok(FORBIDDEN.some(([p]) => p.test(line)), `not caught: ${line}`);
});
