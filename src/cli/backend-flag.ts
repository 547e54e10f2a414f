/**
 * `--backend <name>` of the commands that compute: wasm, reference, webgpu, or auto. webgpu is
 * acquired first (an adapter must exist: a GPU, or a software one such as Mesa's llvmpipe when
 * asked for by name); auto takes a hardware GPU through WebGPU when there is one and otherwise
 * the library's default, never a software adapter. Without the flag: the library's default.
 */
import { GradkitError } from '../core/errors.js';
import { availableBackends, setBackend } from '../backend/registry.js';
import { UsageError } from './usage.js';

export async function useBackend(command: string, name: string | undefined): Promise<void> {
  if (name === undefined) return;
  if (name === 'webgpu' || name === 'auto') {
    // Loaded only when asked for: Dawn is an optional dependency and slow to load.
    const { initWebGPU } = await import('../backends/webgpu/index.js');
    const got = await initWebGPU();
    // auto: initWebGPU registers a hardware adapter above wasm, so the registry picks it.
    if (name === 'auto') return;
    if ('error' in got) throw new GradkitError('--backend webgpu', got.error);
    setBackend('webgpu');
    return;
  }
  const available = availableBackends();
  if (!available.includes(name)) throw new UsageError(`--backend must be one of ${[...available, 'webgpu', 'auto'].join(', ')}; got '${name}'`, command);
  setBackend(name);
}
