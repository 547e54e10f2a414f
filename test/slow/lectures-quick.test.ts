import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFamilies } from '../../src/experiments/lectures/registry.js';
import { anchor, renderFigures, renderReport } from '../../src/experiments/lectures/report.js';
import { renderHtml } from '../../src/experiments/lectures/report-html.js';
import '../../src/digits.js'; // the families train on the shipped digits (the optional mnist package)

// Every family in quick mode (a few minutes on 2 cores). Asserts the direction of each claim the
// committed full run (docs/lectures/README.md) reports as held, on the quick-mode numbers.
test('lectures, all families --quick: every claim has a computed verdict, and the full run\'s held claims point the same way', async () => {
  const families = await runFamilies([], { quick: true, seeds: [0, 1, 2], log: () => {} });
  assert.deepEqual(families.map((f) => f.name), ['initialization', 'activations', 'preprocessing', 'normalization', 'regularization', 'optimization', 'transfer', 'babysitting']);
  const claims = new Map(families.flatMap((f) => f.claims.map((c) => [c.id, c] as const)));
  for (const c of claims.values()) {
    assert.ok(['held', 'not held', 'inconclusive'].includes(c.judgement.verdict), c.id);
    assert.ok(c.arms.every((a) => a.seeds.length === 3), `${c.id}: three seeds per arm`);
  }
  const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
  const arm = (id: string, name: string) => claims.get(id)!.arms.find((a) => a.name.startsWith(name))!;
  // He beats Xavier on the deep ReLU net; He keeps the activation scale that Xavier loses.
  assert.ok(mean(arm('init-deep-relu', 'He').final.valAccuracy) > mean(arm('init-deep-relu', 'Xavier').final.valAccuracy));
  assert.ok(mean(arm('init-relu-xavier-he', 'ReLU, He').final.ratio) > mean(arm('init-relu-xavier-he', 'ReLU, Xavier').final.ratio));
  // A large learning rate kills more ReLUs.
  assert.ok(mean(arm('act-dead-relu', 'SGD lr 0.3').final.dead) > mean(arm('act-dead-relu', 'SGD lr 0.01').final.dead));
  // Standardised inputs train faster than raw ones.
  assert.ok(mean(arm('prep-standardise', 'standardised').final.meanLoss) < mean(arm('prep-standardise', 'raw').final.meanLoss));
  // BatchNorm's tolerated learning rate is higher, and it rescues a too-small init.
  assert.ok(mean(arm('norm-high-lr', 'BatchNorm').final.valAccuracy) > mean(arm('norm-high-lr', 'none').final.valAccuracy) + 0.05);
  assert.ok(mean(arm('norm-bad-init', 'BatchNorm').final.valAccuracy) > mean(arm('norm-bad-init', 'none').final.valAccuracy) + 0.05);
  // Momentum and Adam beat plain SGD on the same budget.
  assert.ok(mean(arm('opt-momentum', 'momentum').final.meanLoss) < mean(arm('opt-momentum', 'SGD').final.meanLoss));
  assert.ok(mean(arm('opt-adam', 'Adam').final.meanLoss) < mean(arm('opt-adam', 'SGD').final.meanLoss));
  // Early stopping's best epoch beats the last.
  // Augmentation shrinks the gap. (The full run's second part, higher validation accuracy, needs
  // its 30 epochs: after quick mode's 10 the augmented net had not caught up, −0.010 measured.)
  assert.ok(mean(arm('reg-augmentation', 'augmentation').final.gap) < mean(arm('reg-augmentation', 'none').final.gap));
  const none = arm('reg-early-stopping', 'none').final;
  assert.ok(mean(none.minValLoss) < mean(none.valLoss));
  assert.equal(claims.get('babysit-gradcheck')!.judgement.verdict, 'held');
  // The update/weight ratio is within a decade of 1e-3 at the good rate, more than a decade away at the bad ones.
  assert.ok(mean(arm('babysit-update-ratio', 'SGD lr 0.05').final.decadesFrom1e3) < 1);
  assert.ok(mean(arm('babysit-update-ratio', 'SGD lr 0.0001').final.decadesFrom1e3) > 1);
  assert.ok(mean(arm('babysit-update-ratio', 'SGD lr 2').final.decadesFrom1e3) > 1);
  // Test-time augmentation beats the single model it averages (a small margin in quick mode: +0.0007 measured).
  assert.ok(mean(arm('babysit-tta', 'single model + test-time').final.acc) > mean(arm('babysit-tta', 'single model').final.acc));
  // Gradient clipping trains the recurrent net that diverges without it.
  assert.ok(mean(arm('opt-clipping', 'clipped').final.valAccuracy) > mean(arm('opt-clipping', 'no clipping').final.valAccuracy) + 0.1);
  // The LR finder's suggestion is within 2 points of the grid's best rate.
  assert.ok(mean(arm('opt-lr-finder', 'LR finder').final.shortOfBest) < 0.02);
  // The report renders every claim, with a figure for each that has curves.
  const md = renderReport(families, { command: 'test', wallSeconds: 0, quick: true, seeds: [0, 1, 2], environment: 'test' });
  for (const id of claims.keys()) assert.ok(md.includes(claims.get(id)!.quote.split('\n')[0].slice(0, 30)), id);
  assert.ok(renderFigures(families).length >= 10);
  // The HTML view has a section for every claim.
  const html = renderHtml(families, { command: 'test', wallSeconds: 0, quick: true, seeds: [0, 1, 2], environment: 'test' });
  for (const c of claims.values()) assert.ok(html.includes(`<section class="claim" id="${anchor(c.claim)}">`), c.id);
});
