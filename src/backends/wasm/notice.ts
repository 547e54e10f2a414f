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

/**
 * Said once per backend when its wasm memory first refuses a buffer (the 2 GiB cap or the
 * memoryLimit option): from then on new buffers stay in JS memory and kernels that find no room
 * run the slower reference code, which would otherwise go unnoticed. The usual cause is state
 * nobody freed (models, optimizers, tensors outside scopes), which the GC frees only in its time.
 */
export function warnMemoryFull(limitBytes: number): void {
  console.warn(
    `gradkit: the wasm backend's memory is full (${Math.round(limitBytes / 2 ** 20)} MiB): new buffers stay in JS memory and ` +
    'kernels without room run slower reference code. Free what you are done with: model.dispose(), optimizer.dispose(), t.dispose() or g.scope().',
  );
}
