/**
 * Writes demo/dist/digits.bin: a few hundred shipped digits as bytes (785 per digit: 784 pixels
 * then, after all images, one label each), so the page fetches ~1 MB instead of bundling the
 * 29 MB digits package. Run by demo/build.mjs.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadDigits } from '../src/digits.js'; // the gradkit/digits entry supplies the mnist data
import { PIXELS } from './src/train.js';

const count = Number(process.argv[2] ?? 2400);
const out = process.argv[3] ?? new URL('./dist/digits.bin', import.meta.url).pathname;
const { xTrain, yTrain } = await loadDigits({ trainSize: count, testSize: 0, seed: 1 });
const x = xTrain.dataSync();
const y = yTrain.dataSync();
const bytes = new Uint8Array(count * (PIXELS + 1));
for (let i = 0; i < count * PIXELS; i++) bytes[i] = Math.round(x[i]! * 255);
for (let i = 0; i < count; i++) bytes[count * PIXELS + i] = y[i]!;
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
writeFileSync(`${out}.tmp`, bytes);
renameSync(`${out}.tmp`, out);
console.log(`wrote ${count} digits to ${out}`);
