// Builds the dashboard page (src/dashboard/page) into build/dashboard/: app.ts bundled with
// uPlot by esbuild (one ES module, no network at run time), its CSS (ours + uPlot's), and
// index.html copied. Runs from "prepare" and "pretest"; skips when the output is newer than
// every source.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/dashboard/page');
const out = join(root, 'build/dashboard');
const sources = [...readdirSync(src).map((f) => join(src, f)), fileURLToPath(import.meta.url)];
const outputs = ['index.html', 'app.js', 'app.css'].map((f) => join(out, f));
if (!process.argv.includes('--force') && outputs.every(existsSync)) {
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  if (sources.every((s) => statSync(s).mtimeMs < built)) process.exit(0);
}
mkdirSync(out, { recursive: true });
// app.ts imports uPlot's CSS, so esbuild writes it to app.css next to app.js; the page's own
// rules are appended after it (later rules win where both style the same thing).
await build({
  entryPoints: [join(src, 'app.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
});
const uplotCss = readFileSync(join(out, 'app.css'), 'utf8');
writeFileSync(join(out, 'app.css'), `${uplotCss}\n${readFileSync(join(src, 'app.css'), 'utf8')}`);
copyFileSync(join(src, 'index.html'), join(out, 'index.html'));
console.log(`dashboard page built in ${out}`);
