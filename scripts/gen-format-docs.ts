// Writes docs/experiment-format.md and docs/space-format.md (npm run docs:formats), atomically.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { nodeStorage } from '../src/platform/fs-node.js';
import { renderExperimentFormat, renderSpaceFormat } from './format-docs.js';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const storage = nodeStorage();
await storage.mkdir(docs);
for (const [name, text] of [['experiment-format.md', renderExperimentFormat()], ['space-format.md', renderSpaceFormat()]] as const) {
  await storage.writeAtomic(join(docs, name), text);
  console.log(`wrote docs/${name}`);
}
