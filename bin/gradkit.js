#!/usr/bin/env node
// The `gradkit` command: runs the compiled CLI from dist/ (built by `npm run build`, and at
// `npm pack`), so no TypeScript loader is needed at run time.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(`gradkit: ${entry.pathname} is missing; run \`npm run build\` in the gradkit folder first\n`);
  process.exit(1);
}
await import(entry.href);
