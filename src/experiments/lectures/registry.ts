/** The families, in the lectures' order, and running a selection of them. */
import type { Family, FamilyResult, RunContext } from './types.js';
import { initialization } from './initialization.js';
import { activations } from './activations.js';
import { preprocessing } from './preprocessing.js';
import { normalization } from './normalization.js';
import { regularization } from './regularization.js';
import { optimization } from './optimization.js';
import { transfer } from './transfer.js';
import { babysitting } from './babysitting.js';

export const FAMILIES: readonly Family[] = [initialization, activations, preprocessing, normalization, regularization, optimization, transfer, babysitting];

export function familyNames(): string[] {
  return FAMILIES.map((f) => f.name);
}

/** Runs the named families (all when `only` is empty), in registry order. */
export async function runFamilies(only: readonly string[], ctx: RunContext): Promise<FamilyResult[]> {
  const unknown = only.filter((n) => !FAMILIES.some((f) => f.name === n));
  if (unknown.length) throw new Error(`unknown experiment family '${unknown[0]}'; known: ${familyNames().join(', ')}`);
  const out: FamilyResult[] = [];
  for (const f of FAMILIES) {
    if (only.length && !only.includes(f.name)) continue;
    ctx.log(`${f.name}…`);
    const t0 = performance.now();
    const claims = await f.run(ctx);
    const seconds = (performance.now() - t0) / 1000;
    ctx.log(`${f.name}: ${claims.map((c) => `${c.id} ${c.judgement.verdict}`).join(', ')} (${seconds.toFixed(1)} s)`);
    out.push({ name: f.name, title: f.title, claims, seconds });
  }
  return out;
}
