/**
 * The wasm backend in real Chromium outside the demo: on a page's main thread (kernels compile in
 * the background; ready() waits for them) and in a worker that runs a kernel before awaiting
 * ready() (no 10 s stall). On a plain page both run single-threaded on a plain memory; on an
 * isolated page the worker gets threads.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { startServer } from '../../demo/serve.mjs';
import { chromiumMissing, launchChromium } from './chromium.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const site = `${root}.tmp/browser/site/`;
const skip = chromiumMissing();

before(async () => {
  if (skip) return;
  mkdirSync(site, { recursive: true });
  await esbuild.build({
    entryPoints: { main: `${root}test/browser/fixtures/mainthread.ts`, 'eager-worker': `${root}test/browser/fixtures/eager-worker.ts` },
    outdir: site, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', external: ['mnist'], logLevel: 'error',
  });
  writeFileSync(`${site}index.html`, '<!doctype html><link rel="icon" href="data:,"><script type="module" src="main.js"></script>');
});

interface Probe {
  main: { backend: string; threads: number; shared: boolean; jobs: number; maxDiff: number };
  worker: { firstMs: number; backend: string; threads: number; shared: boolean; parallelAfterReady: number; error?: string };
  error?: string;
}

async function probe(isolated: boolean): Promise<{ probe: Probe; console: string[]; cores: number }> {
  const server = await startServer({ isolated, port: 0, root: site });
  const browser = await launchChromium();
  const messages: string[] = [];
  try {
    const page = await browser.context.newPage();
    page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => messages.push(`error: ${e.message}`));
    await page.goto(server.url);
    const result = (await page.evaluate(() => (globalThis as unknown as { gradkitProbe: Promise<unknown> }).gradkitProbe)) as Probe;
    return { probe: result, console: messages, cores: await page.evaluate(() => navigator.hardwareConcurrency) };
  } finally {
    await browser.close();
    await server.close();
  }
}

test('plain page: wasm (not reference) on the main thread and in a worker, one thread, plain memory', { skip, timeout: 120_000 }, async () => {
  const { probe: p, console: msgs } = await probe(false);
  assert.equal(p.error, undefined);
  assert.deepEqual({ backend: p.main.backend, threads: p.main.threads, shared: p.main.shared }, { backend: 'wasm', threads: 1, shared: false });
  assert.ok(p.main.jobs > 0, 'the matmul ran in wasm');
  assert.ok(p.main.maxDiff < 1e-4, `main-thread matmul matches the reference (max diff ${p.main.maxDiff})`);
  assert.deepEqual({ backend: p.worker.backend, threads: p.worker.threads, shared: p.worker.shared }, { backend: 'wasm', threads: 1, shared: false });
  assert.equal(msgs.filter((m) => m.startsWith('error')).length, 0, msgs.join('\n'));
  // One warning per realm (page, worker): each names the headers.
  const warnings = msgs.filter((m) => m.includes('gradkit:'));
  assert.ok(warnings.length >= 1 && warnings.every((w) => /Cross-Origin-Embedder-Policy: require-corp/.test(w)), warnings.join('\n'));
});

test('isolated page: a worker\'s first kernel before ready() does not stall; after ready() jobs run on threads', { skip, timeout: 120_000 }, async () => {
  const { probe: p, console: msgs, cores } = await probe(true);
  assert.equal(p.error, undefined);
  assert.equal(p.worker.error, undefined);
  assert.equal(p.worker.backend, 'wasm');
  assert.equal(p.worker.shared, true);
  assert.equal(p.worker.threads, cores);
  assert.ok(p.worker.firstMs < 3000, `the first matmul took ${p.worker.firstMs.toFixed(0)} ms (it used to wait 10 s for the workers)`);
  if (cores > 1) assert.ok(p.worker.parallelAfterReady > 0, 'after ready() matmuls are split across threads');
  assert.equal(p.main.backend, 'wasm');
  assert.equal(p.main.threads, 1, "a page's main thread may not block, so it runs one thread");
  assert.deepEqual(msgs.filter((m) => /only \d+ of \d+ wasm workers|^error/.test(m)), []);
  console.log(`worker's first matmul before ready(): ${p.worker.firstMs.toFixed(0)} ms; main thread warning: ${msgs.filter((m) => m.includes('gradkit:')).length}`);
});
