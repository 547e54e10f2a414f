/**
 * The Node file-system adapter for the Trainer's Storage. It is the only place (with src/cli)
 * that imports node:fs, so the core stays browser-safe. Atomic writes: write a temp file in the
 * same directory, fsync it, rename it over the target (rename is atomic on POSIX and replaces
 * on Windows), so a reader sees either the old file or the new one, never half of one. A failed
 * write removes its temp file and leaves the previous file untouched. Every failure becomes a
 * FileSystemError naming the user's path (never the temp file) and what to do.
 */
import * as nodeFs from 'node:fs';
import * as nodePath from 'node:path';
import type { Storage } from '../train/storage.js';
import { toFsError } from './fs-errors-node.js';
import { lockRunFolder } from './run-lock-node.js';
import { removeStaleTemps, tempPathFor } from './temp-files-node.js';

/** The node:fs functions we use; tests pass a wrapper that fails on purpose. */
export type FsLike = Pick<
  typeof nodeFs,
  'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'unlinkSync' | 'readFileSync' | 'appendFileSync' | 'existsSync' | 'mkdirSync' | 'readdirSync'
> & Partial<Pick<typeof nodeFs, 'rmdirSync'>>;

/** What a failed write of `path` left behind, for the message. */
function intactNote(path: string, existed: boolean): string {
  if (!existed) return 'nothing was written';
  return path.endsWith('.ckpt') ? 'the previous checkpoint is intact' : `the previous ${nodePath.basename(path)} is intact`;
}

/**
 * Node's recursive mkdir reports ENOENT when it cannot create a parent (on a read-only disk, say);
 * creating the first missing ancestor alone gives the real cause (EROFS, EACCES, …).
 */
function trueMkdirError(fs: FsLike, path: string, e: unknown): unknown {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return e;
  let missing = path;
  while (!fs.existsSync(nodePath.dirname(missing)) && nodePath.dirname(missing) !== missing) missing = nodePath.dirname(missing);
  try {
    fs.mkdirSync(missing);
    fs.rmdirSync?.(missing);
  } catch (inner) {
    return inner;
  }
  return e;
}

export function nodeStorage(fs: FsLike = nodeFs): Storage {
  return {
    writeAtomic(path, data) {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      const tmp = tempPathFor(path);
      let fd: number | null = null;
      try {
        fd = fs.openSync(tmp, 'w');
        let off = 0;
        while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fd = null;
        fs.renameSync(tmp, path);
      } catch (e) {
        if (fd !== null) {
          try {
            fs.closeSync(fd);
          } catch {
            /* already failing; the original error is the one to report */
          }
        }
        try {
          fs.unlinkSync(tmp);
        } catch {
          /* the temp file may not exist */
        }
        let existed = false;
        try {
          existed = fs.existsSync(path);
        } catch {
          /* cannot tell: say nothing about it */
        }
        throw toFsError(e, 'write', path, { intact: intactNote(path, existed) });
      }
    },
    read(path) {
      try {
        return new Uint8Array(fs.readFileSync(path));
      } catch (e) {
        throw toFsError(e, 'read', path);
      }
    },
    append(path, text) {
      try {
        fs.appendFileSync(path, text);
      } catch (e) {
        throw toFsError(e, 'append to', path, { intact: 'the lines before are intact' });
      }
    },
    exists: (path) => fs.existsSync(path),
    mkdir(path) {
      try {
        fs.mkdirSync(path, { recursive: true });
      } catch (e) {
        throw toFsError(trueMkdirError(fs, path, e), 'create the folder', path);
      }
    },
    mkdirNew(path) {
      try {
        fs.mkdirSync(nodePath.dirname(path), { recursive: true });
        fs.mkdirSync(path);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST' && fs.existsSync(path)) return false;
        throw toFsError(trueMkdirError(fs, path, e), 'create the folder', path);
      }
    },
    list(path) {
      try {
        return fs.readdirSync(path).map(String).sort();
      } catch (e) {
        throw toFsError(e, 'list', path);
      }
    },
    lockFolder: (dir, command) => lockRunFolder(dir, command),
    removeStaleTemps: (dir) => removeStaleTemps(dir),
  };
}
