/**
 * Where the Trainer writes checkpoints and logs. The core never imports Node: on Node use
 * `nodeStorage()` from src/platform/fs-node.ts; in a browser or a test, `memoryStorage()`.
 * Paths are '/'-separated strings.
 */
export interface Storage {
  /** Writes the whole file or nothing (temp file + rename): a crash mid-write keeps the old file. */
  writeAtomic(path: string, data: Uint8Array | string): void | Promise<void>;
  read(path: string): Uint8Array | Promise<Uint8Array>;
  /** Appends text, creating the file if needed. */
  append(path: string, text: string): void | Promise<void>;
  exists(path: string): boolean | Promise<boolean>;
  /** Creates a directory and its parents. */
  mkdir(path: string): void | Promise<void>;
  /** Names in a directory (for tests and inspection). */
  list(path: string): string[] | Promise<string[]>;
  /**
   * Creates a folder that must be new (parents as needed); false when it already exists, so two
   * runs picking a name at once cannot both get it. Hosts without it fall back to exists + mkdir.
   */
  mkdirNew?(path: string): boolean | Promise<boolean>;
  /** Takes the single-writer lock of a run folder (Node); throws FolderInUseError if another process holds it. */
  lockFolder?(dir: string, command: string): { release(): void; message: string | null };
  /** Removes temp files left in `dir` by dead writers (Node); returns their names. */
  removeStaleTemps?(dir: string): string[];
}

/** Joins path parts with '/' (the Storage's path separator on every platform). */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/').replace(/\/+/g, '/');
}

/** Files in a Map: for browsers (persist the map yourself) and tests. Writes are atomic by construction. */
export function memoryStorage(files: Map<string, Uint8Array> = new Map()): Storage & { files: Map<string, Uint8Array> } {
  const enc = new TextEncoder();
  const norm = (p: string): string => p.replace(/\/+/g, '/').replace(/\/$/, '');
  return {
    files,
    writeAtomic(path, data) {
      files.set(norm(path), typeof data === 'string' ? enc.encode(data) : data.slice());
    },
    read(path) {
      const f = files.get(norm(path));
      if (f === undefined) throw new Error(`no such file: ${path}`);
      return f.slice();
    },
    append(path, text) {
      const old = files.get(norm(path)) ?? new Uint8Array(0);
      const add = enc.encode(text);
      const out = new Uint8Array(old.length + add.length);
      out.set(old);
      out.set(add, old.length);
      files.set(norm(path), out);
    },
    exists(path) {
      const p = norm(path);
      return files.has(p) || [...files.keys()].some((k) => k.startsWith(`${p}/`));
    },
    mkdir() {},
    list(path) {
      const p = `${norm(path)}/`;
      const names = new Set<string>();
      for (const k of files.keys()) if (k.startsWith(p)) names.add(k.slice(p.length).split('/')[0]);
      return [...names].sort();
    },
  };
}
