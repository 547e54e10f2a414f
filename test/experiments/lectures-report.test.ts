import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anchor, renderFigures, renderReport } from '../../src/experiments/lectures/report.js';
import { renderHtml } from '../../src/experiments/lectures/report-html.js';
import { compareArms } from '../../src/experiments/lectures/verdict.js';
import type { FamilyResult } from '../../src/experiments/lectures/types.js';
import type { ArmResult } from '../../src/experiments/lectures/harness.js';

const arm = (name: string, acc: number[], loss: number[][]): ArmResult => ({
  name, seeds: [0, 1, 2], curves: { loss }, final: { valAccuracy: acc, loss: loss.map((c) => c[c.length - 1]) }, seconds: 1,
});

function fake(): FamilyResult[] {
  const he = arm('He', [0.9, 0.8, 1.0], [[2, 1, 0.5], [2, 1.1, 0.6], [2, 0.9, 0.4]]);
  const xavier = arm('Xavier', [0.1, 0.1, 0.1], [[2.3, 2.3, 2.3], [2.3, NaN, NaN], [2.3, 2.3, 2.3]]);
  return [{
    name: 'initialization', title: 'Initialization', seconds: 12,
    claims: [{
      id: 'init-fake', claim: 'He beats Xavier (fake)', quote: 'it’s better to actually use the square root of 2', source: 'shared/seeds/x.txt:31',
      setup: 'a fake setup', arms: [he, xavier],
      columns: [{ key: 'valAccuracy', label: 'val accuracy' }, { key: 'loss', label: 'train loss' }],
      judgement: compareArms(he.final.valAccuracy, xavier.final.valAccuracy, { better: 'higher', minEffect: 0.05 }),
      figure: { metric: 'loss', label: 'train loss' },
    }],
  }];
}

test('report: quote with its source, setup, one table row per arm with mean ± std, the computed verdict, the figure', () => {
  const md = renderReport(fake(), { command: 'gradkit experiments --quick', wallSeconds: 12.4, quick: true, seeds: [0, 1, 2], environment: 'test' });
  assert.match(md, /^# The lectures, reproduced/);
  assert.match(md, /`gradkit experiments --quick` in 12 s/);
  assert.match(md, /> it’s better to actually use the square root of 2\n>\n> — `shared\/seeds\/x.txt:31`/);
  assert.match(md, /\*\*Setup.\*\* a fake setup/);
  assert.match(md, /\| arm \| val accuracy \| train loss \|/);
  assert.match(md, /\| He \| 0.9 ± 0.1 \| 0.5 ± 0.1 \|/);
  // A seed whose loss went NaN is shown as diverged, not averaged into a number.
  assert.match(md, /\| Xavier \| 0.1 ± 0 \| diverged in 1\/3 \|/);
  assert.match(md, /\*\*Verdict: ✅ held\*\* — d = 0.800/);
  assert.match(md, /!\[He beats Xavier \(fake\)\]\(init-fake.svg\)/);
  assert.match(md, /1 held, 0 not held, 0 inconclusive/);
  assert.match(md, new RegExp(`\\(#${anchor('He beats Xavier (fake)')}\\)`));
});

test('report: figures are SVG line charts with one polyline per arm and a legend', () => {
  const figs = renderFigures(fake());
  assert.equal(figs.length, 1);
  assert.equal(figs[0].file, 'init-fake.svg');
  assert.match(figs[0].svg, /^<svg xmlns/);
  assert.equal(figs[0].svg.match(/<polyline/g)?.length, 2);
  assert.match(figs[0].svg, />He</);
  // Xavier's mean curve has NaN (one seed diverged): the legend says so.
  assert.match(figs[0].svg, />Xavier \(diverged\)</);
});

test('anchor: GitHub-style heading anchors', () => {
  assert.equal(anchor('A 20-layer plain ReLU net (std 0.01)'), 'a-20-layer-plain-relu-net-std-001');
});

test('report.html: the same claims, tables, verdicts and figures as the Markdown, on one self-contained page', () => {
  const meta = { command: 'gradkit experiments --quick', wallSeconds: 12.4, quick: true, seeds: [0, 1, 2], environment: 'test <env>' };
  const html = renderHtml(fake(), meta);
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<h2>Initialization<\/h2>/);
  assert.match(html, new RegExp(`<section class="claim" id="${anchor('He beats Xavier (fake)')}">`));
  assert.match(html, /<a href="#he-beats-xavier-fake">He beats Xavier \(fake\)<\/a>/);
  assert.match(html, /— <code>shared\/seeds\/x.txt:31<\/code>/);
  // The table cells are the Markdown's cells: the same numbers, the same 'diverged' marking.
  assert.match(html, /<tr><td>He<\/td><td>0.9 ± 0.1<\/td><td>0.5 ± 0.1<\/td><\/tr>/);
  assert.match(html, /<tr><td>Xavier<\/td><td>0.1 ± 0<\/td><td>diverged in 1\/3<\/td><\/tr>/);
  assert.match(html, /<p class="verdict held"><strong>Verdict: ✅ held<\/strong> — d = 0.800/);
  assert.match(html, /1 held, 0 not held, 0 inconclusive/);
  // The figure is inlined (the page is self-contained), with one polyline per arm.
  assert.equal(html.match(/<figure><svg xmlns/g)?.length, 1);
  assert.equal(html.match(/<polyline/g)?.length, 2);
  // Text is escaped, never injected as markup.
  assert.match(html, /test &lt;env&gt;/);
  assert.ok(!html.includes('<env>'));
});
