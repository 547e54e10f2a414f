import type { ThreadPlatform } from '../../platform/index.js';

/** The two response headers that make a page cross-origin isolated (SharedArrayBuffer, threads). */
export const ISOLATION_HEADERS = ['Cross-Origin-Opener-Policy: same-origin', 'Cross-Origin-Embedder-Policy: require-corp'] as const;

let warned = false;

/**
 * In a browser, says once why the wasm backend runs on one thread and how to get threads, so the
 * slow path is never silent. Node users who force it (GRADKIT_WASM_SHARED_MEMORY=0) chose it,
 * so nothing is printed there.
 */
export function warnSingleThreaded(shared: boolean, platform: ThreadPlatform): void {
  if (warned || platform.name !== 'browser') return;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  let why: string | null = null;
  if (!shared || !isolated) {
    why = 'this page is not cross-origin isolated (no SharedArrayBuffer). For threads, serve it with the headers\n' +
      ISOLATION_HEADERS.map((h) => `  ${h}`).join('\n') + '\nand train in a Web Worker.';
  } else if (!platform.canBlock()) {
    why = "kernels cannot wait for workers on a page's main thread; train in a Web Worker (see trainInWorker in gradkit's browser helpers) for threads.";
  }
  if (why === null) return;
  warned = true;
  console.warn(`gradkit: the wasm backend runs single-threaded: ${why}`);
}
