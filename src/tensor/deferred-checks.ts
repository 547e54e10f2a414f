import { GradkitError } from '../core/errors.js';

/**
 * Validation whose verdict lives on the device (labels out of range, found by a kernel). A CPU
 * backend reads the verdict at once and throws where the bad input was given. A GPU backend
 * cannot read synchronously, so the check waits here and is settled by the next asynchronous
 * read (`await t.data()`, the Trainer's per-step read): the error then names the op and the bad
 * value as it would on a CPU, one read later. This is WebGPU's own error model (errors surface
 * at the next await), applied to gradkit's input checks.
 */
export interface DeferredCheck {
  op: string;
  /** Reads what the check needs (issued at once, so buffers may be freed right after) and returns the error message, or null. */
  verdict(): Promise<string | null>;
}

const pending: DeferredCheck[] = [];

/** Queues a check for the next settle (GPU backends). */
export function deferCheck(check: DeferredCheck): void {
  pending.push(check);
}

/** How many checks wait for a read (tests; memory reports). */
export function pendingChecks(): number {
  return pending.length;
}

/** Settles every queued check: throws the first failure (in the order the checks were made). */
export async function settleChecks(): Promise<void> {
  if (pending.length === 0) return;
  const checks = pending.splice(0);
  // Issue every read before awaiting any: one round-trip for all of them.
  const verdicts = await Promise.all(checks.map((c) => c.verdict()));
  for (let i = 0; i < checks.length; i++) {
    const message = verdicts[i];
    if (message !== null) throw new GradkitError(checks[i].op, message);
  }
}
