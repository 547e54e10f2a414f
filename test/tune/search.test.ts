import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GradkitError } from '../../src/core/errors.js';
import { memoryStorage } from '../../src/train/storage.js';
import { DEFAULT_SEARCH, formatTable, parseSpace, runSearch, type SearchOptions, type TrialRecord, type TrialRunner } from '../../src/tune/index.js';

/** A synthetic objective, best at lr = 1e-2: no training, so the search logic is tested alone. */
const score = (lr: number): number => 1 - (Math.log10(lr) + 2) ** 2 / 16;

function fakeRunner(calls: { id: string; epochs: number; handle: unknown }[], killAfter = Infinity): TrialRunner {
  return {
    async run(t, epochs, handle) {
      if (calls.length >= killAfter) throw new Error('killed');
      calls.push({ id: t.id, epochs, handle });
      // More epochs help a little, the same for every configuration: the ranking stays that of lr.
      return { metrics: { valAccuracy: score(t.params.lr as number) * (1 - 0.1 / epochs), valLoss: 1 }, handle: `${t.id}@${epochs}` };
    },
  };
}

const opts = (o: Partial<SearchOptions>): SearchOptions => ({ ...DEFAULT_SEARCH, method: 'random', ...o });
const space = parseSpace({ lr: { logUniform: [1e-6, 1] } });

test('successive halving trains all trials briefly, continues only the best 1/eta, and passes the handle on', async () => {
  const calls: { id: string; epochs: number; handle: unknown }[] = [];
  const storage = memoryStorage();
  const r = await runSearch(space, opts({ method: 'halving', trials: 9, epochs: 9, eta: 3 }), fakeRunner(calls), { storage, dir: 'h' });
  const at = (e: number): string[] => calls.filter((c) => c.epochs === e).map((c) => c.id);
  assert.equal(at(1).length, 9);
  assert.equal(at(3).length, 3);
  assert.equal(at(9).length, 1);
  assert.equal(new Set(at(1)).size, 9);
  // The 3 continued trials are exactly the 3 best of the first rung.
  const byScore = [...r.ranked].sort((a, b) => score(b.params.lr as number) - score(a.params.lr as number)).map((x) => x.id);
  assert.deepEqual([...at(3)].sort(), byScore.slice(0, 3).sort());
  assert.deepEqual(at(9), byScore.slice(0, 1));
  for (const c of calls.filter((x) => x.epochs === 3)) assert.equal(c.handle, `${c.id}@1`, 'a continued trial gets its handle back');
  assert.equal(r.ranked[0].id, byScore[0]);
  assert.equal(r.ranked[0].epochs, 9);
  assert.equal(r.ranked.length, 9, 'one final record per trial');
  assert.deepEqual(r.ranked.map((x) => x.epochs), [9, 3, 3, 1, 1, 1, 1, 1, 1]);
  const lines = new TextDecoder().decode(storage.files.get('h/trials.jsonl')!).trim().split('\n');
  assert.equal(lines.length, 13, 'one line per (trial, rung)');
});

test('coarse-to-fine: the second round samples inside a narrowed range around the first round\'s best', async () => {
  const calls: { id: string; epochs: number; handle: unknown }[] = [];
  const r = await runSearch(space, opts({ method: 'coarseToFine', trials: 12, rounds: 2, topFraction: 0.25, seed: 3 }), fakeRunner(calls), { storage: memoryStorage(), dir: 'c' });
  const round = (k: number): TrialRecord[] => r.ranked.filter((x) => x.round === k);
  assert.equal(round(0).length, 12);
  assert.equal(round(1).length, 12);
  const lg = (x: TrialRecord): number => Math.log10(x.params.lr as number);
  const top = [...round(0)].sort((a, b) => b.score! - a.score!).slice(0, 3).map(lg);
  const lo = Math.min(...top);
  const hi = Math.max(...top);
  const pad = Math.max(0.25 * (hi - lo), 1e-9);
  for (const x of round(1)) assert.ok(lg(x) >= lo - pad - 1e-9 && lg(x) <= hi + pad + 1e-9, `round 1 lr ${x.params.lr} outside [${lo}, ${hi}] ± ${pad}`);
  const spread = (xs: number[]): number => Math.max(...xs) - Math.min(...xs);
  assert.ok(spread(round(1).map(lg)) < spread(round(0).map(lg)) / 2);
  const meanScore = (xs: TrialRecord[]): number => xs.reduce((s, x) => s + x.score!, 0) / xs.length;
  assert.ok(meanScore(round(1)) > meanScore(round(0)), 'the refined round is better on average');
});

test('a killed search resumes: finished trials are read back, not re-run, and the table has every trial', async () => {
  const storage = memoryStorage();
  const o = opts({ trials: 7, seed: 5 });
  const first: { id: string; epochs: number; handle: unknown }[] = [];
  await assert.rejects(runSearch(space, o, fakeRunner(first, 3), { storage, dir: 'k' }), /killed/);
  assert.equal(first.length, 3);
  // A kill in the middle of an append leaves a cut line; it must not break the rerun.
  storage.append('k/trials.jsonl', '{"id":"r0-t3","epo');
  const second: { id: string; epochs: number; handle: unknown }[] = [];
  const r = await runSearch(space, o, fakeRunner(second), { storage, dir: 'k' });
  assert.deepEqual(second.map((c) => c.id), ['r0-t3', 'r0-t4', 'r0-t5', 'r0-t6']);
  assert.equal(r.skipped, 3);
  assert.equal(r.ran, 4);
  assert.equal(r.ranked.length, 7);
  // Same points as one uninterrupted search.
  const clean = await runSearch(space, o, fakeRunner([]), { storage: memoryStorage(), dir: 'k' });
  assert.deepEqual(r.ranked.map((x) => [x.id, x.params, x.score]), clean.ranked.map((x) => [x.id, x.params, x.score]));
  const summary = JSON.parse(new TextDecoder().decode(storage.files.get('k/summary.json')!));
  assert.equal(summary.trials, 7);
  assert.equal(summary.best.id, r.ranked[0].id);
  const table = formatTable(r.ranked, ['lr'], 'valAccuracy').split('\n');
  assert.equal(table.length, 2 + 7);
  const scores = r.ranked.map((x) => x.score!);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best first');
  assert.match(table[2], new RegExp(`^1\\s+${r.ranked[0].id}`));
});

test('a trial that fails with a GradkitError is recorded as failed and ranked last; min mode ranks by smallest', async () => {
  const runner: TrialRunner = {
    async run(t) {
      const lr = t.params.lr as number;
      if (lr > 0.1) throw new GradkitError('train', `loss is NaN at lr ${lr}`);
      return { metrics: { valLoss: Math.abs(Math.log10(lr) + 2) } };
    },
  };
  const r = await runSearch(parseSpace({ lr: { choice: [1e-3, 0.5, 1e-2, 1e-4] } }), opts({ method: 'grid', metric: 'valLoss', mode: 'min' }), runner, { storage: memoryStorage(), dir: 'f' });
  assert.deepEqual(r.ranked.map((x) => x.params.lr), [1e-2, 1e-3, 1e-4, 0.5]);
  assert.equal(r.ranked[3].status, 'failed');
  assert.match(r.ranked[3].error!, /NaN at lr 0\.5/);
  assert.equal(r.ranked[3].score, null);
});
