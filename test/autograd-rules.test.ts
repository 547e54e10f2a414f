import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../src/index.js';
import { PRIMITIVES, record, registeredPrimitives, type Primitive, type Rule, type RuleTable } from '../src/autograd/engine.js';
import { familiesCoverEveryPrimitive, familiesNameOnlyPrimitives, type CoversAll, type FamilyPrimitive, type NoStrays } from '../src/ops/rules.js';
import type { ElementwisePrimitive } from '../src/ops/elementwise.js';
import type { FusedPrimitive } from '../src/ops/fused.js';
import { assertClose, assertThrowsMsg } from './helpers.js';

test('every primitive has exactly one installed rule once the ops are loaded', () => {
  assert.deepEqual([...registeredPrimitives()].sort(), [...PRIMITIVES].sort());
  assert.equal(new Set(PRIMITIVES).size, PRIMITIVES.length, 'a primitive is listed twice');
  // The compile-time checks in src/ops/rules.ts, carried as values.
  assert.equal(familiesCoverEveryPrimitive, true);
  assert.equal(familiesNameOnlyPrimitives, true);
});

test('a node holds exactly the tensors its rule saves, and backward drops them (unless retainGraph)', () => {
  const x = g.tensor([0.5, -1, 2], { requiresGrad: true });
  const y = g.exp(x); // exp's rule reads its output only
  assert.equal(y.node?.op, 'exp');
  assert.deepEqual(y.node?.saved, [y]);
  const s = y.sum(); // sum saves nothing: shapes are attributes
  assert.deepEqual(s.node?.saved, []);
  s.backward();
  assert.deepEqual(y.node?.saved, [], 'saved tensors outlived backward');
  assert.deepEqual(y.node?.inputs, []);
  assertClose(x.grad!, [Math.exp(0.5), Math.exp(-1), Math.exp(2)], { atol: 1e-6 });

  const x2 = g.tensor([1, 2], { requiresGrad: true });
  const z = x2.mul(x2);
  const loss = z.sum();
  loss.backward(undefined, { retainGraph: true });
  assert.equal(z.node?.saved.length, 2, 'retainGraph must keep the saved tensors');
  loss.backward(); // the second pass sees the same saved tensors and adds the same gradient
  assertClose(x2.grad!, [4, 8]);
  assertThrowsMsg(() => loss.backward(), /second time/);
});

test('record() with recording off or no input needing a gradient keeps nothing', () => {
  const x = g.tensor([1, 2]);
  const y = g.exp(x);
  assert.equal(record('exp', y, [x], [y], null), y);
  assert.equal(y.node, null);
});

// Type-level checks: each line below must NOT compile. `npx tsc --noEmit` covers test/, so if one
// of the checks it exercises is lost (a family table that may omit rules, a coverage check that
// passes with a family missing, record() taking any string), its @ts-expect-error becomes unused
// and tsc fails. The function is never called: only the compiler looks at it.
export function typeLevelChecks(t: g.Tensor): void {
  // A family table must hold a rule for every primitive of the family.
  // @ts-expect-error relu's rule is missing
  const missingRule: RuleTable<ElementwisePrimitive> = {} as Omit<RuleTable<ElementwisePrimitive>, 'relu'>;
  // Without the fused family's rules, batchNorm, softmaxCrossEntropy and biasAct have none.
  // @ts-expect-error the remaining families do not cover Primitive
  const uncovered: CoversAll<Exclude<FamilyPrimitive, FusedPrimitive>> = true;
  // @ts-expect-error a family entry that names no primitive
  const stray: NoStrays<FamilyPrimitive | 'frobnicate'> = true;
  // @ts-expect-error only named primitives can be recorded
  const unknown: Primitive = 'frobnicate';
  // @ts-expect-error a rule reads the tensors its primitive saves, no others: exp saves one
  const wrongSaved: Rule<'exp'> = (grad, [y, extra]) => [grad.mul(y).mul(extra)];
  // @ts-expect-error record() must be handed what the rule saves: exp's output
  record('exp', t, [t], [], null);
  // @ts-expect-error and the primitive's attributes: sum needs the input's shape and the axes
  record('sum', t, [t], [], null);
  void [missingRule, uncovered, stray, unknown, wrongSaved];
}
