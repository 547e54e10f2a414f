import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromiumMissing, launchChromium } from './chromium.js';

test('the Chromium harness loads a page from a loopback server and runs its script', { skip: chromiumMissing() }, async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>t</title><script>document.title = String(6 * 7)</script>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    assert.equal(await page.title(), '42');
  } finally {
    await browser.close();
    server.close();
  }
});
