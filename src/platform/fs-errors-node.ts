/**
 * Node's file-system error codes → FileSystemError: one line naming the user's path, the
 * operation, the cause in words and what to do. Node's own messages name the syscall and often
 * only a temp file (`EISDIR … rename '…/.out.tmp-…'`), which tells a user nothing.
 */
import * as nodeFs from 'node:fs';
import * as nodePath from 'node:path';
import { FileSystemError, type FsOperation } from '../core/fs-error.js';

export interface FsErrorContext {
  /** What survived the failure, for the message ('the previous checkpoint is intact'). */
  intact?: string;
}

/** The nearest ancestor of `path` (itself included) that exists and is not a folder, or null. */
function fileInTheWay(path: string): string | null {
  let p = nodePath.dirname(path);
  for (;;) {
    try {
      if (!nodeFs.statSync(p).isDirectory()) return p;
      return null;
    } catch {
      const up = nodePath.dirname(p);
      if (up === p) return null;
      p = up;
    }
  }
}

/** True for errors Node's fs raises (they carry a string `code` like 'ENOSPC'). */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((e as NodeJS.ErrnoException).code!);
}

/**
 * The FileSystemError for a failed operation on `path`; errors that are not file-system errors
 * (or are already FileSystemErrors) come back unchanged.
 */
export function toFsError(e: unknown, operation: FsOperation, path: string, ctx: FsErrorContext = {}): unknown {
  if (e instanceof FileSystemError || !isSystemError(e)) return e;
  const keep = ctx.intact ? `; ${ctx.intact}` : '';
  const dir = nodePath.dirname(path);
  let why: string;
  switch (e.code) {
    case 'ENOSPC':
      why = `no space left on device${keep}; free some space and try again`;
      break;
    case 'EDQUOT':
      why = `disk quota exceeded${keep}; free some space and try again`;
      break;
    case 'EACCES':
    case 'EPERM':
      why = `permission denied${keep}; check the permissions of ${operation === 'read' ? path : dir} or choose another folder`;
      break;
    case 'EROFS':
      why = `the file system is read-only${keep}; choose a folder on a writable disk`;
      break;
    case 'ENAMETOOLONG':
      why = 'the path or a name in it is too long for the file system; choose a shorter name';
      break;
    case 'ENOTDIR': {
      const file = fileInTheWay(path);
      why = `${file ?? 'a part of the path'} is a file, not a folder; move it away or choose another path`;
      break;
    }
    case 'EISDIR':
      why = `it is a folder, not a file${keep}; move the folder away or choose another path`;
      break;
    case 'ENOENT':
      why = operation === 'read' || operation === 'list'
        ? 'no such file or folder'
        : `the folder ${dir} does not exist${keep}; create it or choose another folder`;
      break;
    case 'EEXIST':
      why = operation === 'create the folder' ? 'it is a file, not a folder; move the file away or choose another path' : 'it already exists; choose another path';
      break;
    case 'EMFILE':
    case 'ENFILE':
      why = 'too many open files; close other programs or raise the open-file limit (ulimit -n)';
      break;
    case 'EIO':
      why = `an input/output error from the disk${keep}; check the disk`;
      break;
    default:
      why = `${e.code}${keep}`;
      return new FileSystemError(operation, path, why, e.code);
  }
  // The code after the cause in words: what a user pastes into a search engine.
  const semi = why.indexOf(';');
  const withCode = semi < 0 ? `${why} (${e.code})` : `${why.slice(0, semi)} (${e.code})${why.slice(semi)}`;
  return new FileSystemError(operation, path, withCode, e.code);
}

/** The operation a Node syscall name stands for, for messages about errors raised outside Storage. */
export function syscallOperation(syscall: string | undefined): FsOperation {
  if (syscall === undefined) return 'write';
  if (/^(open|read|stat|lstat|access)$/.test(syscall)) return 'read';
  if (syscall === 'mkdir') return 'create the folder';
  if (syscall === 'scandir') return 'list';
  if (/^(unlink|rmdir|rm)$/.test(syscall)) return 'remove';
  return 'write';
}
