/**
 * Temp files of atomic writes: `.<name>.tmp-<pid>-<n>` in the target's folder. A writer killed
 * mid-write (kill -9, power loss) leaves its temp file behind, up to a checkpoint's size; the
 * pid in the name tells a later run whether the writer is gone, so its leftovers can be removed
 * on start and on resume without touching a live writer's file.
 */
import * as nodeFs from 'node:fs';
import * as nodePath from 'node:path';

const TEMP = /^\.(.+)\.tmp-(\d+)-(\d+)$/;
let counter = 0;

/** The temp path an atomic write of `path` uses (same folder, so the rename stays atomic). */
export function tempPathFor(path: string): string {
  return nodePath.join(nodePath.dirname(path), `.${nodePath.basename(path)}.tmp-${process.pid}-${counter++}`);
}

/** Whether process `pid` is alive on this machine (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files in `dir` whose writer process is dead; returns their names. A missing
 * folder has none. Files that vanish meanwhile (another cleaner) are skipped.
 */
export function removeStaleTemps(dir: string, fs: Pick<typeof nodeFs, 'readdirSync' | 'unlinkSync'> = nodeFs): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).map(String);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.sort()) {
    const m = TEMP.exec(name);
    if (m === null || processAlive(Number(m[2]))) continue;
    try {
      fs.unlinkSync(nodePath.join(dir, name));
      removed.push(name);
    } catch {
      /* gone already, or not ours to remove: leave it */
    }
  }
  return removed;
}

/** True for the names of atomic-write temp files. */
export function isTempName(name: string): boolean {
  return TEMP.test(name);
}
