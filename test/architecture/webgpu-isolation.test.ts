import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// The main `gradkit` entry must not reach the webgpu backend, not even for a type: its declaration
// files would then name WebGPU's types (GPUDevice …) and a project without @webgpu/types would
// fail to type-check it (test/slow/pack.test.ts caught exactly that). Only the `gradkit/webgpu`
// entry imports it, and the CLI loads it dynamically when `--backend webgpu` asks.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ALLOWED = new Set(['src/webgpu.ts', 'src/cli/backend-flag.ts']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

test('outside its own folder and entry, only the CLI (dynamically) imports the webgpu backend', () => {
  const offenders: string[] = [];
  for (const file of sources(join(ROOT, 'src'))) {
    const rel = relative(ROOT, file).split('\\').join('/');
    if (rel.startsWith('src/backends/webgpu/')) continue;
    const text = readFileSync(file, 'utf8');
    const imports = [...text.matchAll(/(?:from|import\()\s*'([^']*backends\/webgpu[^']*)'/g)].map((m) => m[0]);
    if (imports.length === 0) continue;
    if (!ALLOWED.has(rel)) offenders.push(`${rel}: ${imports.join(', ')}`);
    else if (rel === 'src/cli/backend-flag.ts') assert.ok(imports.every((i) => i.startsWith('import(')), `${rel} must import the webgpu backend dynamically: ${imports.join(', ')}`);
  }
  assert.deepEqual(offenders, []);
});
