/** Job kinds; must match the JOB_* constants in assembly/index.ts. */
export const JOB_GEMM = 1;
export const JOB_CONV_FWD = 2;
export const JOB_CONV_BWD_INPUT = 3;
export const JOB_CONV_BWD_FILTER = 4;
export const JOB_PROBE = 5;
export const JOB_RELU = 6;
export const JOB_MAXPOOL = 7;
export const JOB_RELU_BWD = 8;
export const JOB_BLOCKED = 9;
export const JOB_ADAM = 10;
export const JOB_ROW_BIAS = 11;
export const JOB_BIAS_ACT_BWD = 12;
export const JOB_PEAK = 13;
export const JOB_BN_STATS = 14;
export const JOB_BN_AFFINE = 15;
export const JOB_BN_BWD_SUMS = 16;
export const JOB_BN_BWD_DX = 17;
export const JOB_FULL_BINARY = 18;
export const JOB_RMS = 19;
export const JOB_MAXPOOL_BWD = 20;

/** Words in a job block; runJob zeroes the unused tail (chunk counters live there). */
export const JOB_WORDS = 32;

/**
 * Below this many flops a kernel stays on the calling thread: waking a worker and joining costs
 * a few microseconds, which a ~2 MFLOP kernel (~40 µs on one thread) cannot repay reliably.
 */
export const MIN_PARALLEL_FLOPS = 2e6;

export function threadsFor(flops: number, available: number, units = Infinity): number {
  if (available <= 1 || flops < MIN_PARALLEL_FLOPS) return 1;
  return Math.max(1, Math.min(available, units));
}
