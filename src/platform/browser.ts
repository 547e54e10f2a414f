import type { ThreadPlatform } from './types.js';

/**
 * Browser host: Web Workers from a Blob URL. Threads need SharedArrayBuffer (a cross-origin
 * isolated page) and a caller allowed to block in Atomics.wait, i.e. not the window's main thread;
 * kernels are synchronous, so on the main thread we run single-threaded instead of spinning.
 */
interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  Worker?: new (url: string) => { postMessage(d: unknown): void; terminate(): void };
  Blob?: typeof Blob;
  URL?: typeof URL;
  document?: unknown;
}

const g = globalThis as unknown as BrowserGlobals;

export const browserPlatform: ThreadPlatform = {
  name: 'browser',
  cores: () => Math.max(1, g.navigator?.hardwareConcurrency ?? 1),
  canBlock: () => g.crossOriginIsolated === true && g.document === undefined,
  workersNeedEventLoop: true,
  startWorker(source, data) {
    if (!g.Worker || !g.Blob || !g.URL || g.crossOriginIsolated !== true) return null;
    const url = g.URL.createObjectURL(new g.Blob([`${source}\nonmessage = (e) => main(e.data);\n`], { type: 'text/javascript' }));
    const w = new g.Worker(url);
    w.postMessage(data);
    return { terminate: () => w.terminate() };
  },
};
