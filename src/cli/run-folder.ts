/**
 * Claiming a run folder for a command that writes into it (train, train --resume, finetune,
 * tune): create it (a fresh unique name by default), take its single-writer lock, and remove
 * temp files that dead writers left. Lock and temp files do not make a folder "not empty".
 */
import { GradkitError } from '../core/errors.js';
import type { Storage } from '../train/storage.js';
import { LOCK_NAME } from '../platform/run-lock-node.js';
import { isTempName } from '../platform/temp-files-node.js';
import { createUniqueRunDir, slugRunName, timestamp } from './run-name.js';

export interface ClaimedRun {
  dir: string;
  /** Releases the lock; call it in a finally. */
  release(): void;
}

export interface ClaimOptions {
  /** The command, for the lock and messages ('gradkit train'). */
  op: string;
  /** A folder the user named (--out, --resume): used as is. */
  dir?: string;
  /** True when the folder continues an earlier run (it may hold files). */
  resume?: boolean;
  /** For a default folder: runs/<slug(name)>-<time>[-2…]. */
  name?: string;
  now?: () => number;
  say(line: string): void;
  /** Message when a named, non-resumed folder already holds files. */
  notEmpty?: (dir: string) => string;
}

/** Names that gradkit's own bookkeeping leaves in a folder (lock, temp files, stale-lock leftovers). */
function isBookkeeping(name: string): boolean {
  return name === LOCK_NAME || name.startsWith(`${LOCK_NAME}.`) || isTempName(name);
}

async function hasFiles(storage: Storage, dir: string): Promise<boolean> {
  return (await storage.exists(dir)) && (await storage.list(dir)).some((n) => !isBookkeeping(n));
}

export async function claimRunFolder(storage: Storage, opts: ClaimOptions): Promise<ClaimedRun> {
  const { op, say } = opts;
  const notEmpty = opts.notEmpty ?? ((d: string) => `the run folder ${d} already exists and is not empty; choose another --out`);
  let dir: string;
  if (opts.dir !== undefined) {
    dir = opts.dir;
    if (!opts.resume && (await hasFiles(storage, dir))) throw new GradkitError(op, notEmpty(dir));
    await storage.mkdir(dir);
  } else {
    const slug = slugRunName(opts.name ?? 'run');
    if (opts.name !== undefined && slug !== opts.name) say(`the name ${JSON.stringify(opts.name.length > 100 ? `${opts.name.slice(0, 100)}…` : opts.name)} is not a safe folder name; the run folder uses '${slug}'`);
    const base = `${slug}-${timestamp((opts.now ?? Date.now)())}`;
    dir = await createUniqueRunDir(storage, 'runs', base);
  }
  const lock = storage.lockFolder?.(dir, op) ?? { release() {}, message: null };
  try {
    if (lock.message !== null) say(lock.message);
    // Checked again under the lock: another process may have filled the folder meanwhile.
    if (!opts.resume && (await hasFiles(storage, dir))) throw new GradkitError(op, notEmpty(dir));
    const removed = storage.removeStaleTemps?.(dir) ?? [];
    if (removed.length > 0) say(`${dir}: removed ${removed.length} temp file(s) left by an interrupted write: ${removed.join(', ')}`);
  } catch (e) {
    lock.release();
    throw e;
  }
  return { dir, release: () => lock.release() };
}
