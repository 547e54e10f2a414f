/**
 * The Node file-system adapter for the Trainer's Storage. It is the only place (with src/cli)
 * that imports node:fs, so the core stays browser-safe. Atomic writes: write a temp file in the
 * same directory, fsync it, rename it over the target (rename is atomic on POSIX and replaces
 * on Windows), so a reader sees either the old file or the new one, never half of one. A failed
 * write removes its temp file and leaves the previous file untouched.
 */
import * as nodeFs from 'node:fs';
import * as nodePath from 'node:path';
import type { Storage } from '../train/storage.js';

/** The node:fs functions we use; tests pass a wrapper that fails on purpose. */
export type FsLike = Pick<
  typeof nodeFs,
  'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'unlinkSync' | 'readFileSync' | 'appendFileSync' | 'existsSync' | 'mkdirSync' | 'readdirSync'
>;

let tempCounter = 0;

export function nodeStorage(fs: FsLike = nodeFs): Storage {
  return {
    writeAtomic(path, data) {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      const dir = nodePath.dirname(path);
      const tmp = nodePath.join(dir, `.${nodePath.basename(path)}.tmp-${process.pid}-${tempCounter++}`);
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
        throw e;
      }
    },
    read: (path) => new Uint8Array(fs.readFileSync(path)),
    append: (path, text) => fs.appendFileSync(path, text),
    exists: (path) => fs.existsSync(path),
    mkdir: (path) => void fs.mkdirSync(path, { recursive: true }),
    list: (path) => fs.readdirSync(path).map(String).sort(),
  };
}
