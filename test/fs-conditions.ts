/**
 * Real failing file systems for tests: a tiny tmpfs (ENOSPC), a read-only mount (EROFS), a
 * process without write permission (EACCES). Each returns null, with the reason, when this
 * machine cannot make the condition (not root, no mount permission); the test then skips.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const mounts: string[] = [];

/** Mounts a tmpfs of `size` (e.g. '64k'); options such as 'ro' are appended. */
export function mountTmpfs(size: string): { dir: string } | { skip: string } {
  if (!isRoot) return { skip: 'needs root to mount a tmpfs' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradkit-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return { skip: `cannot mount a tmpfs here: ${(r.stderr || r.error?.message || '').trim()}` };
  mounts.push(dir);
  return { dir };
}

export function remountReadOnly(dir: string): string | null {
  const r = spawnSync('mount', ['-o', 'remount,ro', dir], { encoding: 'utf8' });
  return r.status === 0 ? null : `cannot remount read-only: ${(r.stderr || '').trim()}`;
}

/** Unmounts every tmpfs this process mounted (call in after()). */
export function unmountAll(): void {
  for (const d of mounts.splice(0)) {
    spawnSync('umount', ['-l', d]);
    fs.rmSync(d, { recursive: true, force: true });
  }
}

/** A pid that certainly belonged to a process that has exited. */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}
