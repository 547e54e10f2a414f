/**
 * The `gradkit` executable's body (bin/gradkit.js imports its compiled form from dist/). It owns
 * its process, so before a command loads any kernel it turns on WebAssembly relaxed SIMD (FMA
 * kernels) where Node keeps it behind a flag (Node 20). Help and --version skip that (and the
 * library), so they answer at once.
 */
import { main, runsCommand } from './main.js';

const argv = process.argv.slice(2);
if (runsCommand(argv)) {
  const { enableRelaxedSimd } = await import('../platform/relaxed-simd-node.js');
  enableRelaxedSimd();
}
process.exitCode = await main(argv);
