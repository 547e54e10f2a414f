/**
 * The demo's predictor worker: holds one model (the freshly trained CNN, or the zoo's pretrained
 * digits-cnn fetched from the demo server) and classifies drawings. It lives as long as the page,
 * unlike the training worker, so the model and the backend are set up once; the page's main thread
 * never runs a kernel.
 */
import * as g from '../../src/index.js';
import type { LoadedInfo, PredictorReply, PredictorRequest } from './predict-protocol.js';

interface Loaded {
  model: g.nn.AnyModule;
  transform(x: g.Tensor): g.Tensor;
}

const scope = globalThis as unknown as { postMessage(m: PredictorReply): void; addEventListener(t: 'message', f: (e: { data: PredictorRequest }) => void): void };
let current: Loaded | null = null;

async function fetchBytes(name: string): Promise<Uint8Array> {
  const res = await fetch(new URL(`./zoo/${name}`, import.meta.url));
  if (!res.ok) throw new Error(`zoo/${name}: HTTP ${res.status} (run npm run demo:build, which copies the zoo's files into demo/dist/zoo/)`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The zoo's digits-cnn: the shipped safetensors bytes, checked against the length and CRC-32 its record lists. */
async function loadZoo(): Promise<{ loaded: Loaded; info: LoadedInfo }> {
  const [bytes, record] = await Promise.all([fetchBytes('digits-cnn.safetensors'), fetchBytes('digits-cnn.json')]);
  const expected = JSON.parse(new TextDecoder().decode(record)) as { crc32: number; byteLength: number };
  const p = g.zoo.loadPretrainedBytes('digits-cnn', bytes, expected, 'pretrained zoo model');
  return { loaded: { model: p.model, transform: p.preprocessing.transform }, info: { label: 'zoo digits-cnn (pretrained)', testAccuracy: p.info.testAccuracy } };
}

function loadBytes(bytes: Uint8Array, label: string): { loaded: Loaded; info: LoadedInfo } {
  const m = g.io.loadModel(bytes, { path: label });
  const steps = m.preprocessing === null ? [] : Array.isArray(m.preprocessing) ? m.preprocessing : [m.preprocessing];
  return { loaded: { model: m.model, transform: (x) => steps.reduce((t, s) => s.transform(t), x) }, info: { label } };
}

const ready = g.ready();
let queue: Promise<void> = Promise.resolve();

scope.addEventListener('message', (e) => {
  const m = e.data;
  // One request at a time, in order: a prediction sent right after a load uses the new model.
  queue = queue.then(async () => {
    try {
      await ready;
      if (m.type === 'predict') {
        if (current === null) throw new Error('no model loaded yet: train one or load the zoo model');
        const c = current;
        const x = c.transform(g.tensor(m.pixels, { shape: [1, 1, 28, 28] }));
        const probs = g.noGrad(() => g.softmax(c.model.call(x) as g.Tensor, -1)).dataSync();
        scope.postMessage({ type: 'probs', id: m.id, probs: Float32Array.from(probs) });
        return;
      }
      const { loaded, info } = m.type === 'load-zoo' ? await loadZoo() : loadBytes(m.bytes, m.label);
      current = loaded;
      scope.postMessage({ type: 'loaded', info });
    } catch (err) {
      scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  });
});
