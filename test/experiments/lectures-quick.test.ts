import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiments } from '../../src/cli/experiments.js';

// One family end to end through the command, in quick mode (~10 s on 2 cores): the report, its
// figures and the raw numbers are written, and the verdict the full run reports as held is held.
test('gradkit experiments preprocessing --quick: writes the report and standardising beats raw pixels', async () => {
  const out = mkdtempSync(join(tmpdir(), 'gradkit-lectures-'));
  try {
    assert.equal(await runExperiments(['preprocessing', '--quick', '--out', out]), 0);
    const files = readdirSync(out).sort();
    assert.deepEqual(files, ['README.md', 'prep-centring.svg', 'prep-standardise.svg', 'report.html', 'results.json']);
    const md = readFileSync(join(out, 'README.md'), 'utf8');
    assert.match(md, /## Data preprocessing/);
    assert.match(md, /shared\/seeds\/003_049d61ced688ef2c.txt:363/);
    // The HTML view is written from the same run, figures inlined.
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /<h2>Data preprocessing<\/h2>/);
    assert.equal(html.match(/<figure><svg/g)?.length, 2);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { families: { claims: { id: string; judgement: { verdict: string }; arms: { name: string; final: Record<string, number[]> }[] }[] }[] };
    const claims = results.families[0].claims;
    const std = claims.find((c) => c.id === 'prep-standardise')!;
    assert.equal(std.judgement.verdict, 'held');
    for (const a of std.arms) assert.equal(a.final.meanLoss.length, 3, `${a.name}: one value per seed`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('gradkit experiments: an unknown family or a bad --seeds is a usage error (exit 2)', async () => {
  assert.equal(await runExperiments(['nonsense']), 2);
  assert.equal(await runExperiments(['--seeds', 'x']), 2);
});
