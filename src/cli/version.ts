/** gradkit's version, read from its package.json (no library import, so `--version` is instant). */
import { readFileSync } from 'node:fs';

/**
 * The version in gradkit's package.json. Looked up from this file's location both as TypeScript
 * (src/cli/) and compiled (dist/src/cli/, two levels deeper from the package root).
 */
export function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'gradkit') return String(pkg.version);
    } catch {
      // not at this level; try the next
    }
  }
  return 'unknown';
}
