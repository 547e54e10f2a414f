#!/usr/bin/env node
// The `gradkit` command. gradkit ships TypeScript sources (no build step yet), so this entry
// registers tsx's ESM loader and then imports the CLI written in TypeScript. It owns its process,
// so it turns on WebAssembly relaxed SIMD (FMA kernels) where Node keeps it behind a flag (Node 20)
// before any kernel is compiled.
import { register } from 'tsx/esm/api';

register();
const { enableRelaxedSimd } = await import('../src/platform/relaxed-simd-node.ts');
enableRelaxedSimd();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
