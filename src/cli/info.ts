/**
 * `gradkit info`: which backend gradkit picked and why, so a user (or a bug report) can see at a
 * glance whether the fast kernels, their FMA variant and the worker threads are in use.
 */
import '../index.js'; // registers the tensor methods and the backends (main.ts no longer loads the library)
import { backendName, getBackend, listBackends } from '../backend/registry.js';
import type { CommandEnv } from './commands.js';
import { packageVersion } from './version.js';

export { packageVersion };

export function infoCommand(env: Pick<CommandEnv, 'sink'>, version = packageVersion()): void {
  const say = (s: string) => env.sink.write(`${s}\n`);
  const runtime = typeof process === 'object' ? `Node ${process.version} (V8 ${process.versions.v8})` : 'unknown runtime';
  say(`gradkit ${version} on ${runtime}`);
  say(`backend in use: ${backendName()}: ${getBackend().describe?.() ?? backendName()}`);
  for (const b of [...listBackends()].sort((x, y) => y.priority - x.priority)) {
    say(`  ${b.name.padEnd(10)} priority ${String(b.priority).padStart(2)}  ${b.available ? 'available' : 'not available here'}`);
  }
}
