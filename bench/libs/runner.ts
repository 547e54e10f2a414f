/** What each library adapter provides to the harness: one Stepper per workload. */
import type { Stepper } from '../timing.js';
import type { Workload } from '../spec.js';

export interface LibRunner {
  /** Library name as reported: 'gradkit-wasm', 'tfjs-cpu', ... */
  library: string;
  threads: number;
  /** Free-form description (SIMD flavour, threads, version) for the report. */
  describe: string;
  /**
   * Set (to the adapter's label) when the library runs on a software GPU adapter (llvmpipe,
   * SwiftShader): every result then carries it, and it is left out of the ratios.
   */
  software?: string;
  /** Builds the workload's step (inputs, parameters, optimizer state) outside the timed region. */
  stepper(w: Workload): Promise<Stepper>;
  /** Releases the previous workload's resources before the next is built. */
  release?(): void;
}
