/**
 * `node --import tsx --import ./test/webgpu/preload.ts --test test/ops/...` runs a suite on the
 * webgpu backend: acquires the device (debug error scopes on), registers it and selects it
 * before any test file loads. Exits with one line when no adapter is available.
 */
import { setBackend } from '../../src/backend/registry.js';
import { initWebGPU } from '../../src/backends/webgpu/index.js';

const got = await initWebGPU({ debug: true });
if ('error' in got) {
  console.error(`webgpu preload: ${got.error}`);
  process.exit(1);
}
setBackend('webgpu');
console.log(`webgpu preload: running on ${got.adapter.label}`);
