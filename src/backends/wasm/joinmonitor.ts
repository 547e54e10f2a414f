/**
 * Notices when workers are not really running in parallel — a machine shared with other busy
 * processes, where the OS deschedules a worker holding a chunk and the caller then sits idle at
 * the join. Chunks are taken dynamically, so on a machine with free cores the caller's wait at
 * the join is at most the tail of one chunk, well under its own working time. When the wait
 * exceeds the caller's own work `STRIKES` jobs in a row, the next `SOLO_JOBS` jobs run on the
 * caller alone (no worse than single-threaded), then threads are tried again.
 */
export class JoinMonitor {
  static readonly STRIKES = 3;
  static readonly SOLO_JOBS = 64;
  /** Waits shorter than this (ms) are never held against the workers (timer noise). */
  static readonly MIN_WAIT_MS = 0.2;
  private strikes = 0;
  private solo = 0;
  /** How many times threads were set aside (for tests and describe()). */
  backoffs = 0;

  constructor(private readonly enabled = true) {}

  /** Whether the next job should run on the caller only. Counts down the solo period. */
  runSolo(): boolean {
    if (this.solo > 0) {
      this.solo--;
      return true;
    }
    return false;
  }

  /** Records one parallel job: the caller's own working time and its wait at the join (ms). */
  record(workMs: number, waitMs: number): void {
    if (!this.enabled) return;
    if (waitMs > workMs && waitMs > JoinMonitor.MIN_WAIT_MS) this.strikes++;
    else this.strikes = 0;
    if (this.strikes >= JoinMonitor.STRIKES) {
      this.strikes = 0;
      this.solo = JoinMonitor.SOLO_JOBS;
      this.backoffs++;
    }
  }
}
