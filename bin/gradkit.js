#!/usr/bin/env node
// The `gradkit` command. gradkit ships TypeScript sources (no build step yet), so this entry
// registers tsx's ESM loader and then imports the CLI written in TypeScript.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
