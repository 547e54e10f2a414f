/**
 * The one place the data pipeline touches the outside world: reading a text file. The core never
 * imports Node modules; by default Node's fs is loaded lazily at call time (only under Node), a
 * browser fetches the path as a URL, and `setFileReader` replaces both (tests, other runtimes).
 */
import { GradkitError } from '../core/errors.js';

/** Reads a text file by path: the data pipeline's one access to files; `setFileReader` installs a custom one. */
export type FileReader = (path: string) => Promise<string>;

let reader: FileReader | null = null;

/** Installs a custom reader (null restores the default). */
export function setFileReader(fn: FileReader | null): void {
  reader = fn;
}

/** Reads a text file through the installed FileReader (Node: fs; browsers: set one with setFileReader). */
export async function readTextFile(path: string): Promise<string> {
  if (typeof path !== 'string' || path.length === 0) throw new GradkitError('readTextFile', `expected a non-empty path, got ${String(path)}`);
  if (reader) return reader(path);
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (proc?.versions?.node) {
    // A computed specifier keeps browser bundlers from trying to include Node's fs.
    const spec = ['node', 'fs/promises'].join(':');
    const fs = (await import(spec)) as { readFile(p: string, enc: 'utf8'): Promise<string> };
    return fs.readFile(path, 'utf8');
  }
  if (typeof fetch === 'function') {
    const res = await fetch(path);
    if (!res.ok) throw new GradkitError('readTextFile', `could not fetch ${path}: HTTP ${res.status}`);
    return res.text();
  }
  throw new GradkitError('readTextFile', 'no way to read files on this platform; install one with setFileReader(path => …)');
}
