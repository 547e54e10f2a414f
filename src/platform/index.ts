import { singleThreaded, type ThreadPlatform } from './types.js';
import { browserPlatform } from './browser.js';
import { makeNodePlatform } from './node.js';

export type { ThreadPlatform, PlatformWorker } from './types.js';

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

/**
 * Picks the host adapter without any static import of Node, so browser bundles never see one.
 * On Node we take worker_threads/os through `process.getBuiltinModule` (Node ≥ 20.16): synchronous,
 * so the backend can start its pool at once, and invisible to bundlers. Older Node 20 releases
 * fall back to a dynamic import; until it resolves (a few ms after startup) kernels run
 * single-threaded, and `platformReady` lets callers wait for it. Top-level await was rejected:
 * it makes the package unloadable through require() and from CommonJS-transpiled callers.
 */
const proc = (globalThis as { process?: NodeProcess }).process;

let current: ThreadPlatform = browserPlatform;
let ready: Promise<ThreadPlatform> = Promise.resolve(browserPlatform);

if (proc?.versions?.node) {
  if (typeof proc.getBuiltinModule === 'function') {
    current = makeNodePlatform(
      proc.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads'),
      proc.getBuiltinModule('node:os') as typeof import('node:os'),
    );
    ready = Promise.resolve(current);
  } else {
    current = singleThreaded;
    const wtId = 'node:worker_threads';
    const osId = 'node:os';
    ready = Promise.all([import(/* @vite-ignore */ wtId), import(/* @vite-ignore */ osId)]).then(([wt, os]) => {
      current = makeNodePlatform(wt as typeof import('node:worker_threads'), os as typeof import('node:os'));
      return current;
    });
  }
}

/** The host adapter as known now (single-threaded until an async fallback has loaded). */
export function getPlatform(): ThreadPlatform {
  return current;
}

/** Resolves with the final host adapter. */
export const platformReady: Promise<ThreadPlatform> = ready;
