/**
 * Browser vs Node speed of the same training (the demo's digits CNN, options and digits): runs it in
 * Node, then in headless Chromium on an isolated page (threads) and a plain page (one thread),
 * and prints samples/s and the browser/Node ratios. Node runs with the same thread count the page
 * got. Each side is the best of ROUNDS runs (`--rounds N`, default 3; the page's "Train again"
 * button, a fresh worker each time), since a shared machine's speed moves between runs. Needs `npm run demo:build` first
 * and Chromium (test/browser/chromium.ts).
 *
 *   node --import tsx demo/speed.ts [--rounds N]
 */
import { readFileSync } from 'node:fs';
import * as g from '../src/index.js';
import { launchChromium } from '../test/browser/chromium.js';
import { startServer } from './serve.mjs';
import { DEFAULT_OPTIONS, decodeDigits, trainDigits } from './src/train.js';

const roundsAt = process.argv.indexOf('--rounds');
const ROUNDS = roundsAt >= 0 ? Number(process.argv[roundsAt + 1]) : 3;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error(`speed.ts: --rounds must be a positive whole number, got ${process.argv[roundsAt + 1]}`);
  process.exit(2);
}
const data = decodeDigits(new Uint8Array(readFileSync(new URL('./dist/digits.bin', import.meta.url))));

async function browserRun(isolated: boolean): Promise<{ samplesPerSec: number; threads: number }> {
  const server = await startServer({ isolated, port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}?backend=wasm`); // wasm against wasm in Node, whatever GPU the browser has
    let best = { samplesPerSec: 0, threads: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      if (r > 0) await page.click('#start');
      await page.waitForFunction(() => (globalThis as { gradkitDemo?: { state: string } }).gradkitDemo?.state === 'done', undefined, { timeout: 300_000 });
      const got = await page.evaluate(() => {
        const d = (globalThis as unknown as { gradkitDemo: { threads: number; result: { samplesPerSec: number } } }).gradkitDemo;
        return { samplesPerSec: d.result.samplesPerSec, threads: d.threads };
      });
      if (got.samplesPerSec > best.samplesPerSec) best = got;
    }
    return best;
  } finally {
    await browser.close();
    await server.close();
  }
}

async function nodeRun(threads: number): Promise<number> {
  g.setNumThreads(threads);
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) best = Math.max(best, (await trainDigits(data, DEFAULT_OPTIONS)).samplesPerSec);
  return best;
}

await g.ready();
for (const isolated of [true, false]) {
  const b = await browserRun(isolated);
  const n = await nodeRun(b.threads);
  console.log(
    `${isolated ? 'isolated page' : 'plain page   '} ${b.threads} thread(s): browser ${b.samplesPerSec.toFixed(0)} samples/s, ` +
    `node ${n.toFixed(0)} samples/s, browser/node = ${(b.samplesPerSec / n).toFixed(2)}`,
  );
}
