/**
 * One writer per run folder. `.gradkit.lock` is created with O_EXCL (only one process can create
 * it) and holds the owner's pid, host, start time and a random token. A second `train --resume`,
 * `finetune` or `tune` on the same folder is refused while the owner lives; a lock left by a dead
 * process (kill -9) is taken over with a message. The lock is removed on release and at exit.
 */
import * as nodeFs from 'node:fs';
import * as nodeOs from 'node:os';
import * as nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import { FolderInUseError } from '../core/fs-error.js';
import { toFsError } from './fs-errors-node.js';
import { processAlive } from './temp-files-node.js';

export const LOCK_NAME = '.gradkit.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  command: string;
  token: string;
}

export interface RunLock {
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): void;
  /** A line saying a stale lock was taken over, or null. */
  message: string | null;
}

function readLock(path: string): LockInfo | null {
  try {
    const v = JSON.parse(nodeFs.readFileSync(path, 'utf8')) as LockInfo;
    return Number.isInteger(v?.pid) && typeof v.token === 'string' ? v : null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock of run folder `dir` for `command` (e.g. 'gradkit train'). Throws
 * FolderInUseError when a live process holds it, FileSystemError when the folder cannot be written.
 */
export function lockRunFolder(dir: string, command: string): RunLock {
  const path = nodePath.join(dir, LOCK_NAME);
  const host = nodeOs.hostname();
  const mine: LockInfo = { pid: process.pid, host, started: new Date().toISOString(), command, token: randomBytes(8).toString('hex') };
  let message: string | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = nodeFs.openSync(path, 'wx');
      try {
        nodeFs.writeSync(fd, `${JSON.stringify(mine)}\n`);
      } finally {
        nodeFs.closeSync(fd);
      }
      return ownLock(path, mine.token, message);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw toFsError(e, 'lock', path);
    }
    const held = readLock(path);
    if (held === null) {
      // Being written right now by its creator, or garbage: garbage older than a few seconds is stale.
      let age = 0;
      try {
        age = Date.now() - nodeFs.statSync(path).mtimeMs;
      } catch {
        continue; // removed meanwhile: try again
      }
      if (age < 5000) throw new FolderInUseError(dir, 0, 'another gradkit process (its lock file is being written)');
      if (takeOver(path, null)) message = `${dir}: removed an unreadable lock file ${LOCK_NAME}`;
      continue;
    }
    if (held.host !== host) {
      throw new FolderInUseError(dir, held.pid, `process ${held.pid} on host ${held.host} (${held.command}, started ${held.started}); if that process is gone, delete ${path}`);
    }
    if (processAlive(held.pid)) throw new FolderInUseError(dir, held.pid, `process ${held.pid} (${held.command}, started ${held.started})`);
    if (takeOver(path, held.token)) message = `${dir}: taking over the lock of process ${held.pid} (${held.command}, started ${held.started}), which is no longer running`;
  }
  throw new FolderInUseError(dir, 0, 'other gradkit processes that keep taking its lock');
}

/**
 * Removes a stale lock without removing a fresh one that a competitor created meanwhile: the
 * stale file is first renamed aside (atomic; only one competitor's rename finds it), then checked.
 */
function takeOver(path: string, staleToken: string | null): boolean {
  const aside = `${path}.stale-${process.pid}`;
  try {
    nodeFs.renameSync(path, aside);
  } catch {
    return false;
  }
  const got = readLock(aside);
  if ((got?.token ?? null) !== staleToken) {
    // We moved someone's fresh lock: put it back (link fails if yet another lock appeared).
    try {
      nodeFs.linkSync(aside, path);
    } catch {
      /* a newer lock exists; the owner of the moved one will be refused its release, harmlessly */
    }
    nodeFs.rmSync(aside, { force: true });
    return false;
  }
  nodeFs.rmSync(aside, { force: true });
  return true;
}

function ownLock(path: string, token: string, message: string | null): RunLock {
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    if (readLock(path)?.token === token) nodeFs.rmSync(path, { force: true });
  };
  process.on('exit', release);
  return { release, message };
}
