import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromiumMissing, launchChromium } from './chromium.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { epochLine, makeRunsFolder } from '../dashboard/fixture.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Screenshots of the run go here (the README shows docs/dashboard.png, copied from this). */
const SHOTS = path.join(ROOT, 'build/screenshots');

type ChartData = Record<string, (number | null)[][]>;

test('the dashboard in Chromium: runs listed, curves drawn, live lines, overlay, histograms, confusion matrix, tune table', { skip: chromiumMissing() }, async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-dashboard.mjs')]);
  const fx = makeRunsFolder();
  const d = await startDashboard({ runsDir: fx.runs, port: 0, pollMs: 100 });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1400, height: 1300 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(d.url);
    // The run list.
    await page.waitForSelector('#runs tbody tr[data-run="alpha"]');
    const names = await page.$$eval('#runs tbody tr', (rows) => rows.map((r) => r.getAttribute('data-run')));
    assert.deepEqual(names, ['alpha', 'beta', 'study']);
    const alphaRow = await page.textContent('#runs tbody tr[data-run="alpha"]');
    assert.match(alphaRow!, /completed.*valLoss 0\.84 \(epoch 3\).*91\.00%.*12\.5 s.*3.*baseline, digits/);
    // The newest run is selected at first; make it alpha alone, deterministically.
    const chartData = (): Promise<ChartData> => page.evaluate(() => {
      const s = (window as unknown as { gradkitDashboard: { charts: Map<string, { data: (number | null)[][] }> } }).gradkitDashboard;
      return Object.fromEntries([...s.charts].map(([k, c]) => [k, c.data.map((a) => [...a])]));
    });
    const setChecked = async (run: string, on: boolean): Promise<void> => {
      const box = page.locator(`#runs tr[data-run="${run}"] input[type=checkbox]`);
      if ((await box.isChecked()) !== on) await box.click();
    };
    await setChecked('alpha', true);
    await setChecked('beta', false);
    await page.waitForFunction(() => document.querySelectorAll('#chart-loss canvas').length > 0);
    let data = await chartData();
    // loss per epoch: x = epochs 1..3, series loss and valLoss of alpha, one point per epoch.
    assert.deepEqual(data['chart-loss'][0], [1, 2, 3]);
    assert.deepEqual(data['chart-loss'][1], [1.5, 1.0, 0.7]);
    assert.equal(data['chart-loss'].length, 3);
    assert.equal(data['chart-steps'][0].length, 8, 'eight step lines');
    assert.equal(data['chart-lr'][1].length, 3);

    // Two runs overlay: beta's two epochs join alpha's three on the same axes.
    await setChecked('beta', true);
    await page.waitForFunction(() => {
      const s = (window as unknown as { gradkitDashboard: { charts: Map<string, { data: unknown[] }> } }).gradkitDashboard;
      return s.charts.get('chart-loss')!.data.length === 5;
    });
    data = await chartData();
    assert.deepEqual(data['chart-loss'][3], [2.0, 1.6, null], 'beta loss aligned on epochs 1..3');

    // A line appended to beta's metrics.jsonl appears without a reload.
    fs.appendFileSync(path.join(fx.runs, 'beta', 'metrics.jsonl'), `${epochLine(2, 1.25)}\n`);
    await page.waitForFunction(() => {
      const s = (window as unknown as { gradkitDashboard: { charts: Map<string, { data: (number | null)[][] }> } }).gradkitDashboard;
      return s.charts.get('chart-loss')!.data[3][2] === 1.25;
    }, undefined, { timeout: 10_000 });

    // alpha's detail: update-ratio chart, histograms, confusion matrix, misclassified image.
    await page.click('#runs tr[data-run="alpha"] td.name');
    await page.waitForSelector('#hists canvas');
    assert.equal(await page.locator('#hists .hist').count(), 2, 'one activation and one gradient histogram');
    data = await chartData();
    assert.deepEqual(data['chart-ratio'][0], [0, 4]);
    assert.equal(await page.textContent('#confusion tr:nth-child(2) td:nth-child(2)'), '4');
    await page.waitForFunction(() => {
      const img = document.querySelector('#analysis img') as HTMLImageElement | null;
      return img !== null && img.complete && img.naturalWidth === 2;
    });
    assert.match((await page.textContent('#config'))!, /"baseline"/);
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });

    // The tune study: a table sorted by score (best first), re-sorted by a click, and parallel coordinates.
    await page.click('#runs tr[data-run="study"] td.name');
    await page.waitForSelector('#trials tr td');
    const ids = (): Promise<string[]> => page.$$eval('#trials tr', (rows) => rows.slice(1).map((r) => r.children[0].textContent ?? ''));
    assert.deepEqual(await ids(), ['t1', 't2', 't0']);
    assert.match((await page.textContent('#config'))!, /"trials": 3/, 'a study shows its search space');
    assert.match((await page.textContent('#runs tr[data-run="study"]'))!, /3 trials/);
    await page.click('#trials th[data-col="lr"]');
    assert.deepEqual(await ids(), ['t2', 't1', 't0']);
    await page.waitForSelector('#chart-parallel canvas');
    data = await chartData();
    assert.equal(data['chart-parallel'].length, 4, 'x plus one line per trial');
    // lr spans 0.001..0.1 (two decades): a log axis with power-of-ten ticks, so 0.01 sits midway;
    // width (8..32) stays linear.
    const pAxes = await page.evaluate(() => (window as unknown as { gradkitDashboard: { parallelAxes: { name: string; kind: string; ticks: { label: string }[] }[] } }).gradkitDashboard.parallelAxes);
    const lrAxis = pAxes.find((a) => a.name === 'lr')!;
    assert.equal(lrAxis.kind, 'log');
    assert.deepEqual(lrAxis.ticks.map((t) => t.label), ['1e-3', '1e-2', '1e-1']);
    assert.equal(pAxes.find((a) => a.name === 'width')!.kind, 'linear');
    const lrAt = pAxes.findIndex((a) => a.name === 'lr');
    // Lines are in trial order t0, t1, t2 with lr 0.1, 0.01, 0.001.
    assert.deepEqual(data['chart-parallel'].slice(1).map((l) => Number(l[lrAt]!.toFixed(9))), [1, 0.5, 0]);
    assert.match((await page.textContent('#study'))!, /parallel coordinates.*log scale: lr\b/);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-tune.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await d.close();
  }
});
