import { GradkitError } from '../core/errors.js';
import { FileSystemError } from '../core/fs-error.js';
import type { Storage } from '../train/storage.js';

const decoder = new TextDecoder();

/** Reads and parses a JSON file; errors name the command (`op`), the path and what went wrong. */
export async function readJsonFile(storage: Storage, path: string, op: string): Promise<unknown> {
  let text: string;
  try {
    text = decoder.decode(await storage.read(path));
  } catch (e) {
    // A FileSystemError already says "cannot read <path>: why; what to do".
    throw new GradkitError(op, e instanceof FileSystemError ? e.message : `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GradkitError(op, `${path} is not valid JSON: ${(e as Error).message}`);
  }
}
