import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const OPTIM = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/optim');

/** Relative imports of every file in src/optim (type-only ones too: a cycle of types is still a tangle), kept inside the folder. */
function graph(): Map<string, string[]> {
  const files = readdirSync(OPTIM).filter((f) => f.endsWith('.ts'));
  const edges = new Map<string, string[]>();
  for (const f of files) {
    const src = readFileSync(join(OPTIM, f), 'utf8');
    const targets = [...src.matchAll(/(?:import|export)\s[^;]*?from\s+'\.\/([\w-]+)\.js'/g)].map((m) => `${m[1]}.ts`);
    edges.set(f, targets.filter((t) => files.includes(t)));
  }
  return edges;
}

/** The first import cycle found by depth-first search, as a path of file names, or null. */
function findCycle(edges: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'open') return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, 'open');
    stack.push(f);
    for (const t of edges.get(f) ?? []) {
      const c = visit(t);
      if (c) return c;
    }
    stack.pop();
    state.set(f, 'done');
    return null;
  };
  for (const f of edges.keys()) {
    const c = visit(f);
    if (c) return c;
  }
  return null;
}

test('src/optim has no import cycle (transform ↔ fusion in particular)', () => {
  const edges = graph();
  assert.ok((edges.get('fusion.ts') ?? []).includes('transform.ts'), 'the walker sees fusion.ts importing transform.ts');
  assert.ok(!(edges.get('transform.ts') ?? []).includes('fusion.ts'), 'transform.ts must not import fusion.ts');
  const cycle = findCycle(edges);
  assert.equal(cycle, null, `import cycle: ${cycle?.join(' → ')}`);
});

test('the cycle finder reports a cycle when there is one', () => {
  assert.deepEqual(findCycle(new Map([['a.ts', ['b.ts']], ['b.ts', ['a.ts']]])), ['a.ts', 'b.ts', 'a.ts']);
});
