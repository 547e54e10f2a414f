/**
 * The webgpu backend in a real browser: headless Chromium (the harness in test/browser) with
 * WebGPU enabled loads a page that acquires a device through `navigator.gpu` — the same backend
 * code as in Node — runs kernels and a few steps of a tiny MLP, and compares with the reference
 * kernels. Where Chromium exposes no adapter the test says so in one line instead of passing
 * silently; without Chromium it is skipped.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { build } from 'esbuild';
import { chromiumMissing, launchChromium } from '../browser/chromium.js';
import type { BrowserResult } from './fixtures/browser-entry.js';

test('kernels and a tiny MLP on WebGPU in Chromium match the reference kernels', { skip: chromiumMissing(), timeout: 180_000 }, async (t) => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./fixtures/browser-entry.ts', import.meta.url))],
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
  });
  const js = bundle.outputFiles[0].text;
  assert.ok(!js.includes('dawn.node'), "the browser bundle does not pull in the Node 'webgpu' package");
  const server = createServer((req, res) => {
    if (req.url === '/entry.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>webgpu</title><script type="module" src="/entry.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // WebGPU is behind a flag on Linux; Chromium then offers its SwiftShader fallback adapter
  // where there is no GPU. (navigator.gpu needs a secure context: the loopback origin is one.)
  const browser = await launchChromium(['--enable-unsafe-webgpu']);
  try {
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (globalThis as { webgpuResult?: unknown }).webgpuResult !== undefined);
    const r = await page.evaluate(() => (globalThis as unknown as { webgpuResult: Promise<BrowserResult> }).webgpuResult);
    if (r.adapter === null) {
      assert.match(r.error ?? '', /no navigator\.gpu|no WebGPU adapter/, `the page failed for another reason: ${r.error}`);
      t.diagnostic(`Chromium exposes no WebGPU adapter here (${r.error}): nothing ran on WebGPU`);
      return;
    }
    t.diagnostic(`Chromium WebGPU adapter: ${r.adapter}`);
    assert.equal(r.error, undefined);
    assert.deepEqual(Object.keys(r.checks).sort(), ['conv2d', 'matmul', 'mlpLearns', 'mlpLosses', 'reduce', 'tanh']);
    for (const [name, e] of Object.entries(r.checks)) assert.ok(e <= 1e-4, `${name}: relative error ${e} on ${r.adapter}`);
  } finally {
    await browser.close();
    server.close();
  }
});
