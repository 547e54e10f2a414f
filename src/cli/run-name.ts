/**
 * Run-folder names. The experiment's `name` becomes part of a path (runs/<name>-<time>), so it
 * is slugged: only letters, digits, '.', '_' and '-' survive, no '..', no separators, at most
 * 80 bytes; it cannot leave runs/ or exceed a file system's name limit (255 bytes). Default
 * folders are made with an exclusive mkdir, so two runs started in the same second get
 * different folders (-2, -3, …) instead of sharing one.
 */
import { GradkitError } from '../core/errors.js';
import { joinPath, type Storage } from '../train/storage.js';

export const MAX_NAME_BYTES = 80;

/** A safe folder-name part for `name` ('run' when nothing usable is left). */
export function slugRunName(name: string): string {
  let s = name
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '-') // separators, spaces, control and shell characters
    .replace(/\.{2,}/g, '-') // no '..' anywhere
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, ''); // no hidden names, no trailing dots (Windows drops them)
  const enc = new TextEncoder();
  if (enc.encode(s).length > MAX_NAME_BYTES) {
    // Cut on a code point boundary.
    let out = '';
    for (const ch of s) {
      if (enc.encode(out + ch).length > MAX_NAME_BYTES) break;
      out += ch;
    }
    s = out.replace(/[-.]+$/, '');
  }
  return s === '' ? 'run' : s;
}

export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
}

/**
 * Creates and returns a new run folder runs/<base>, runs/<base>-2, … (the first that did not
 * exist); `base` must already be slugged.
 */
export async function createUniqueRunDir(storage: Storage, parent: string, base: string): Promise<string> {
  for (let i = 1; i <= 1000; i++) {
    const dir = joinPath(parent, i === 1 ? base : `${base}-${i}`);
    if (storage.mkdirNew) {
      if (await storage.mkdirNew(dir)) return dir;
    } else if (!(await storage.exists(dir))) {
      await storage.mkdir(dir);
      return dir;
    }
  }
  throw new GradkitError('run folder', `${joinPath(parent, base)} and 999 numbered variants exist already; choose a folder with --out`);
}
