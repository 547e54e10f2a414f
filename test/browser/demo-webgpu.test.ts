/**
 * The demo's training on WebGPU in headless Chromium. With `--enable-unsafe-webgpu` Chromium offers
 * a WebGPU adapter (SwiftShader, a software one, where there is no GPU); the page asks for webgpu
 * explicitly (`?backend=webgpu`: 'auto' never takes a software adapter) and trains a short run
 * (10 steps: SwiftShader is slow); it must learn, step for step as the same run on wasm does, and
 * the CNN it trained must load in the predictor. Where Chromium exposes no adapter the test says so
 * in one line and checks the page's fallback line instead. Without the flag Chromium exposes none
 * here, so the fallback line is checked there too, and 'auto' must not pick a software adapter.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { startServer } from '../../demo/serve.mjs';
import type { DemoState } from '../../demo/src/state.js';
import { chromiumMissing, launchChromium } from './chromium.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const skip = chromiumMissing();
/** 10 steps of 32 on 320 digits, 200 held out, measured once at the end. */
const SHORT = 'epochs=1&trainSize=320&testSize=200';
/** The smallest run, for the tests that only look at the backend the worker chose. */
const TINY = 'epochs=1&trainSize=64&testSize=50';
const FALLBACK_LINE = /^WebGPU was asked for but cannot be used here \((.+)\): training on wasm instead\.$/;

// Its own copy of the built demo: demo.test.ts builds demo/dist/ at the same time.
let site = '';
let server: { url: string; close(): Promise<void> } | undefined;
before(async () => {
  if (skip) return;
  site = mkdtempSync(join(tmpdir(), 'gradkit-demo-webgpu-'));
  const r = spawnSync(process.execPath, ['demo/build.mjs', '--out', site], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `demo/build.mjs --out failed: ${r.stderr}`);
  server = await startServer({ port: 0, root: `${site}/` });
});
after(async () => {
  await server?.close();
  if (site) rmSync(site, { recursive: true, force: true });
});

interface Run {
  demo: DemoState;
  note: string;
  backendText: string;
  errors: string[];
  seconds: number;
  /** The predictor's state once it took (or refused) the trained CNN. */
  model: DemoState['model'];
}

/** Opens the demo with this query, waits for the training to end and for the predictor to take its CNN. */
async function run(context: BrowserContext, query: string): Promise<Run> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => errors.push(e.message));
  const t0 = performance.now();
  await page.goto(`${server!.url}?${query}`);
  await page.waitForFunction(() => (globalThis as { gradkitDemo?: DemoState }).gradkitDemo?.state !== 'running', undefined, { timeout: 240_000 });
  const seconds = (performance.now() - t0) / 1000;
  await page.waitForFunction(() => {
    const d = (globalThis as { gradkitDemo?: DemoState }).gradkitDemo!;
    return d.state !== 'done' || (d.model !== null && d.model.state !== 'loading');
  }, undefined, { timeout: 60_000 });
  const demo = await page.evaluate(() => (globalThis as unknown as { gradkitDemo: DemoState }).gradkitDemo);
  const note = (await page.locator('#gpu-note').isVisible()) ? ((await page.locator('#gpu-note').textContent()) ?? '') : '';
  const backendText = (await page.locator('#backend').textContent()) ?? '';
  await page.close();
  return { demo, note, backendText, errors, seconds, model: demo.model };
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

test("the demo's training on WebGPU in Chromium learns, step for step as on wasm; 'auto' leaves a software adapter alone", { skip, timeout: 420_000 }, async (t) => {
  const browser = await launchChromium(['--enable-unsafe-webgpu']);
  try {
    const gpu = await run(browser.context, `backend=webgpu&${SHORT}`);
    assert.equal(gpu.demo.state, 'done', `training ended in state ${gpu.demo.state}: ${gpu.demo.error ?? ''}`);
    assert.equal(gpu.demo.requested, 'webgpu');
    if (gpu.demo.backend !== 'webgpu') {
      // No adapter: the worker fell back to wasm and the page says why in one line.
      assert.equal(gpu.demo.backend, 'wasm');
      assert.match(gpu.note, FALLBACK_LINE);
      t.diagnostic(`Chromium exposes no WebGPU adapter here (${gpu.demo.noWebGPU}): the demo trained on wasm, nothing ran on WebGPU`);
      return;
    }
    const adapter = gpu.demo.adapter!;
    assert.equal(gpu.backendText, `webgpu on ${adapter.label}`, 'the page names the adapter');
    assert.equal(gpu.note, '', 'no fallback line when on webgpu');
    assert.equal(gpu.demo.noWebGPU, undefined);

    // It learns: 10 steps take the loss from ~2.7 to ~1.3 and the held-out accuracy to ~0.7 (0.715 measured on SwiftShader and on wasm).
    const losses = gpu.demo.losses;
    assert.equal(losses.length, 10);
    const first = mean(losses.slice(0, 3));
    const last = mean(losses.slice(-3));
    assert.ok(first > 2 && last < 0.65 * first, `the loss fell from ${first.toFixed(3)} to ${last.toFixed(3)}`);
    const accuracy = gpu.demo.result!.testAccuracy;
    assert.ok(accuracy >= 0.6, `held-out accuracy ${accuracy} after 10 steps on WebGPU`);

    // The same run on wasm (same seed, digits and order): the same losses up to float rounding.
    const wasm = await run(browser.context, `backend=wasm&${SHORT}`);
    assert.equal(wasm.demo.backend, 'wasm');
    assert.equal(wasm.demo.state, 'done');
    losses.forEach((l, i) => {
      const w = wasm.demo.losses[i]!;
      assert.ok(Math.abs(l - w) <= 1e-3 * (1 + Math.abs(w)), `step ${i}: loss ${l} on WebGPU, ${w} on wasm`);
    });
    assert.ok(Math.abs(accuracy - wasm.demo.result!.testAccuracy) <= 0.02, `held-out accuracy ${accuracy} on WebGPU, ${wasm.demo.result!.testAccuracy} on wasm`);

    // The CNN trained on the GPU was saved (through wasm) and the predictor loaded it.
    assert.equal(gpu.model?.state, 'ready', `predictor: ${gpu.model?.error ?? gpu.model?.state}`);
    assert.deepEqual(gpu.errors, [], 'no console errors');

    // 'auto' takes a hardware adapter only: on a software one it trains on wasm and says why, quietly.
    if (adapter.software) {
      const auto = await run(browser.context, `${TINY}`);
      assert.equal(auto.demo.requested, 'auto');
      assert.equal(auto.demo.backend, 'wasm');
      assert.match(auto.note, /^Not on WebGPU: only a software WebGPU adapter here \(.+\), slower than wasm/);
    }
    t.diagnostic(
      `WebGPU adapter ${adapter.label}: 10 steps in ${gpu.seconds.toFixed(1)} s (${gpu.demo.result!.samplesPerSec.toFixed(1)} samples/s; ` +
      `wasm ${wasm.seconds.toFixed(1)} s, ${wasm.demo.result!.samplesPerSec.toFixed(0)} samples/s), loss ${first.toFixed(2)} → ${last.toFixed(2)}, held-out accuracy ${accuracy}`,
    );
  } finally {
    await browser.close();
  }
});

test('asking for webgpu where Chromium exposes no adapter: the demo trains on wasm and shows one line why', { skip, timeout: 120_000 }, async (t) => {
  const browser = await launchChromium(); // the harness flags: --disable-gpu, WebGPU not enabled
  try {
    const r = await run(browser.context, `backend=webgpu&${TINY}`);
    assert.equal(r.demo.state, 'done', `training ended in state ${r.demo.state}: ${r.demo.error ?? ''}`);
    if (r.demo.backend === 'webgpu') {
      t.diagnostic(`this Chromium exposes a WebGPU adapter even without --enable-unsafe-webgpu (${r.demo.adapter?.label}): no fallback to check`);
      return;
    }
    assert.equal(r.demo.backend, 'wasm');
    assert.equal(r.backendText, 'wasm');
    const m = FALLBACK_LINE.exec(r.note);
    assert.ok(m, `the page's line: ${JSON.stringify(r.note)}`);
    assert.equal(m[1], r.demo.noWebGPU);
    assert.match(r.demo.noWebGPU!, /no WebGPU adapter|no navigator\.gpu/);
    assert.doesNotMatch(r.note, /\n/, 'one line');
    assert.deepEqual(r.errors, [], 'no console errors');
    t.diagnostic(`without WebGPU enabled: ${r.note}`);
  } finally {
    await browser.close();
  }
});
