/**
 * File-system failures as one line a user can act on: the path they know (never a temp file),
 * the operation, what went wrong in words, and what to do. Platform adapters (fs-node.ts) turn
 * the host's error codes into these; the CLI prints the message and nothing else.
 */
import { GradkitError } from './errors.js';

export type FsOperation = 'write' | 'read' | 'append to' | 'create the folder' | 'list' | 'remove' | 'lock';

/** A file-system failure as one line: the operation, the path the user knows, what went wrong and what to do. */
export class FileSystemError extends GradkitError {
  /** The path the user gave or will recognise (a run folder's file, an --out folder). */
  readonly path: string;
  /** The host's error code (ENOSPC, EACCES, …) when there is one. */
  readonly code: string | undefined;
  readonly operation: FsOperation;
  constructor(operation: FsOperation, path: string, reason: string, code?: string) {
    super('file system', `cannot ${operation} ${path}: ${reason}`);
    // The op prefix GradkitError adds ('file system: ') says nothing the sentence does not.
    this.message = `cannot ${operation} ${path}: ${reason}`;
    this.name = 'FileSystemError';
    this.path = path;
    this.code = code;
    this.operation = operation;
  }
}

/** Another live process writes to this run folder; gradkit refuses to be a second writer. */
export class FolderInUseError extends GradkitError {
  readonly folder: string;
  readonly pid: number;
  constructor(folder: string, pid: number, detail: string) {
    super('run folder', `${folder} is in use by ${detail}; wait for it to finish or stop it, then try again`);
    this.message = `${folder} is in use by ${detail}; wait for it to finish or stop it, then try again`;
    this.name = 'FolderInUseError';
    this.folder = folder;
    this.pid = pid;
  }
}
