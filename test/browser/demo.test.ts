/**
 * The demo page in real Chromium, on an ordinary server and on a cross-origin isolated one: the
 * page must train on the wasm backend (never the reference), single-threaded on a plain memory
 * when not isolated and with threads when isolated, the loss must fall, a digit drawn on the pad
 * must get a prediction, and the console must show no errors. Screenshots go to .tmp/browser/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../demo/serve.mjs';
import { chromiumMissing, launchChromium } from './chromium.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const shots = `${root}.tmp/browser`;

interface DemoState {
  state: string;
  isolated: boolean;
  backend?: string;
  threads?: number;
  losses: number[];
  result?: { testAccuracy: number; samplesPerSec: number };
  error?: string;
  prediction?: { digit: number; probs: number[] };
}

const skip = chromiumMissing();

before(() => {
  if (skip) return;
  const r = spawnSync(process.execPath, ['demo/build.mjs'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `demo/build.mjs failed: ${r.stderr}`);
  mkdirSync(shots, { recursive: true });
});

/** Loads the demo from a fresh server and browser, waits for training to end, returns what it saw. */
async function runDemo(isolated: boolean): Promise<{ demo: DemoState; console: { type: string; text: string }[]; cores: number }> {
  const server = await startServer({ isolated, port: 0 });
  const browser = await launchChromium();
  const messages: { type: string; text: string }[] = [];
  try {
    const page = await browser.context.newPage();
    page.on('console', (m) => messages.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => messages.push({ type: 'error', text: e.message }));
    await page.goto(server.url);
    await page.waitForFunction(() => {
      const d = (globalThis as { gradkitDemo?: { state: string } }).gradkitDemo;
      return d !== undefined && d.state !== 'running';
    }, undefined, { timeout: 180_000 });
    // Draw a "1": one vertical stroke down the middle of the pad.
    await page.locator('#pad').scrollIntoViewIfNeeded();
    const box = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 25);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 4, box.y + box.height - 25, { steps: 12 });
    await page.mouse.up();
    const demo = (await page.evaluate(() => (globalThis as unknown as { gradkitDemo: unknown }).gradkitDemo)) as DemoState;
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    await page.screenshot({ path: `${shots}/demo-${isolated ? 'isolated' : 'plain'}.png`, fullPage: true });
    return { demo, console: messages, cores };
  } finally {
    await browser.close();
    await server.close();
  }
}

function assertTrained(demo: DemoState): void {
  assert.equal(demo.state, 'done', `training ended in state ${demo.state}: ${demo.error ?? ''}`);
  assert.equal(demo.backend, 'wasm', 'the page must train on the wasm backend, not the reference');
  const first = demo.losses.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = demo.losses.slice(-10).reduce((a, b) => a + b) / 10;
  assert.ok(first > 1.5 && last < first / 3, `the loss fell from ${first.toFixed(3)} to ${last.toFixed(3)}`);
  assert.ok(demo.result!.testAccuracy > 0.7, `test accuracy ${demo.result!.testAccuracy}`);
  const pred = demo.prediction;
  assert.ok(pred, 'the drawn digit got a prediction');
  assert.equal(pred.probs.length, 10);
  assert.ok(Math.abs(pred.probs.reduce((x, y) => x + y) - 1) < 1e-4, 'class probabilities sum to 1');
  assert.equal(pred.digit, pred.probs.indexOf(Math.max(...pred.probs)));
  // A straight stroke is the easiest digit; the seeded MLP gives it p ≈ 0.99 with 1 or 2 threads.
  assert.equal(pred.digit, 1, `a drawn "1" was predicted as ${pred.digit}`);
  console.log(`drawn "1" predicted as ${pred.digit} (p = ${pred.probs[pred.digit]!.toFixed(2)})`);
}

test('demo on an ordinary (not isolated) page: wasm on one thread, loss falls, a drawn 1 is predicted, one warning naming the headers', { skip, timeout: 240_000 }, async () => {
  const { demo, console: msgs } = await runDemo(false);
  assert.equal(demo.isolated, false);
  assertTrained(demo);
  assert.equal(demo.threads, 1);
  assert.deepEqual(msgs.filter((m) => m.type === 'error'), [], 'no console errors');
  const warnings = msgs.filter((m) => m.text.startsWith('gradkit:'));
  assert.equal(warnings.length, 1, `one gradkit warning, got ${JSON.stringify(warnings)}`);
  assert.match(warnings[0]!.text, /not cross-origin isolated[\s\S]*Cross-Origin-Opener-Policy: same-origin[\s\S]*Cross-Origin-Embedder-Policy: require-corp/);
  console.log(`not isolated: ${demo.result!.samplesPerSec.toFixed(0)} samples/s on ${demo.threads} thread`);
});

test('demo on a cross-origin isolated page: wasm with threads in the worker, no warnings, loss falls', { skip, timeout: 240_000 }, async () => {
  const { demo, console: msgs, cores } = await runDemo(true);
  assert.equal(demo.isolated, true);
  assertTrained(demo);
  assert.equal(demo.threads, cores, 'one thread per core reported by the browser');
  if (cores > 1) assert.ok(demo.threads! > 1);
  assert.deepEqual(msgs.filter((m) => m.type === 'error'), [], 'no console errors');
  assert.deepEqual(msgs.filter((m) => m.text.startsWith('gradkit:')), [], 'no gradkit warnings (no "only 0 of 1 wasm workers started")');
  console.log(`isolated: ${demo.result!.samplesPerSec.toFixed(0)} samples/s on ${demo.threads} threads`);
});
