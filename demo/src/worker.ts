/**
 * The demo's Web Worker: fetches the digits, then trains (see train.ts) and reports each step, on
 * the backend the page asks for (wasm, or webgpu where the browser has an adapter).
 */
import { exposeTraining } from '../../src/browser/index.js';
import { initWebGPU } from '../../src/webgpu.js';
import { decodeDigits, trainDigits, type DemoOptions, type DemoProgress, type DemoResult } from './train.js';

exposeTraining<DemoOptions, DemoProgress, DemoResult>(async (options, report) => {
  const res = await fetch(new URL('./digits.bin', import.meta.url));
  if (!res.ok) throw new Error(`digits.bin: HTTP ${res.status} (run npm run demo:build)`);
  const data = decodeDigits(new Uint8Array(await res.arrayBuffer()));
  return trainDigits(data, options, report);
}, { webgpu: initWebGPU });
