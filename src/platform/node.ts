import type * as WorkerThreads from 'node:worker_threads';
import type * as Os from 'node:os';
import type { ThreadPlatform } from './types.js';

/**
 * Node host: worker_threads with an eval'd script. The Node modules are passed in (type-only
 * imports here) so that this file, like the rest of the core, has no runtime import of Node.
 * Workers get `execArgv: []` so they do not inherit loaders such as `--import tsx` (the script is
 * plain JS and imports nothing), and are unref'd so an idle pool never keeps the process alive.
 */
export function makeNodePlatform(wt: typeof WorkerThreads, os: typeof Os): ThreadPlatform {
  return {
    name: 'node',
    cores: () => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length),
    canBlock: () => true,
    startWorker(source, data) {
      const script = `${source}\nmain(require('node:worker_threads').workerData);\n`;
      const w = new wt.Worker(script, { eval: true, workerData: data, execArgv: [] });
      w.unref();
      // A worker that dies is reported; the pool notices it never checked in and runs single-threaded.
      w.on('error', (e) => {
        console.warn(`gradkit wasm worker failed: ${(e as Error).message}`);
      });
      return { terminate: () => void w.terminate() };
    },
  };
}
