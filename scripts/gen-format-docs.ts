// Writes docs/experiment-format.md and docs/space-format.md (npm run docs:formats), atomically.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { renderExperimentFormat, renderSpaceFormat } from './format-docs.js';

const docs = new URL('../docs/', import.meta.url);
mkdirSync(docs, { recursive: true });
for (const [name, text] of [['experiment-format.md', renderExperimentFormat()], ['space-format.md', renderSpaceFormat()]] as const) {
  const target = new URL(name, docs);
  const tmp = new URL(`.${name}.tmp`, docs);
  writeFileSync(tmp, text);
  renameSync(tmp, target);
  console.log(`wrote docs/${name}`);
}
