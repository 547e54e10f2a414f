/**
 * `node --import tsx --import ./test/webgpu/preload.ts --test test/ops/...` runs a suite on the
 * webgpu backend: acquires the device (debug error scopes on), registers it and selects it
 * before any test file loads. Without an adapter it says so in one line and exits 0 (skipped,
 * as test/webgpu's own files skip); GRADKIT_WEBGPU_REQUIRED=1 makes that a failure.
 */
import { setBackend } from '../../src/backend/registry.js';
import { initWebGPU } from '../../src/backends/webgpu/index.js';

const got = await initWebGPU({ debug: true });
if ('error' in got) {
  const required = process.env.GRADKIT_WEBGPU_REQUIRED === '1';
  console.error(`webgpu preload: ${got.error}; ${required ? 'failing (GRADKIT_WEBGPU_REQUIRED=1)' : 'this suite is skipped on webgpu'}`);
  process.exit(required ? 1 : 0);
}
setBackend('webgpu');
// Op tests registered per backend (test/ops/backends.ts) run on webgpu only in this process.
process.env.GRADKIT_TEST_BACKENDS = 'webgpu';
console.log(`webgpu preload: running on ${got.adapter.label}`);
