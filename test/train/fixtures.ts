/** A small seeded classification problem shared by the Trainer tests. */
import { manualSeed, nn, optim, type Tensor } from '../../src/index.js';
import { DataLoader, TensorDataset, makeBlobs } from '../../src/data/index.js';
import { Trainer, type Callback, type TrainerOptions } from '../../src/train/index.js';

export interface Setup {
  model: nn.Sequential;
  optimizer: optim.Adam;
  train: DataLoader;
  valid: DataLoader;
}

/** 3 Gaussian blobs in 4-D, an MLP with dropout; 96 training samples in batches of 16 (6 per epoch). */
export function setup(seed = 0): Setup {
  manualSeed(seed);
  const blobs = makeBlobs({ samplesPerClass: 40, centers: 3, dim: 4, std: 1.5, seed: 1 });
  const n = blobs.x.shape[0];
  // makeBlobs orders samples by class; interleave with a fixed stride so both splits hold every class.
  const perm = Array.from({ length: n }, (_, i) => (i * 7) % n);
  const x = gather(blobs.x, perm);
  const y = gather(blobs.y, perm);
  const trainDs = new TensorDataset(gather(x, range(0, 96)), gather(y, range(0, 96)));
  const validDs = new TensorDataset(gather(x, range(96, n)), gather(y, range(96, n)));
  const model = new nn.Sequential(new nn.Linear(4, 16), new nn.ReLU(), new nn.Dropout({ p: 0.3 }), new nn.Linear(16, 3));
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.01 });
  const train = new DataLoader(trainDs, { batchSize: 16, shuffle: true, seed: 2 });
  const valid = new DataLoader(validDs, { batchSize: 32 });
  return { model, optimizer, train, valid };
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

function gather(t: Tensor, rows: number[]): Tensor {
  const ds = new TensorDataset(t);
  return ds.getBatch(rows)[0];
}

export function makeTrainer(s: Setup, callbacks: Callback[] = [], extra: Partial<TrainerOptions> = {}): Trainer {
  return new Trainer({ model: s.model, optimizer: s.optimizer, trainData: s.train, validData: s.valid, callbacks, ...extra });
}

/** Every parameter and buffer's bytes, for bit-for-bit comparisons (read with await: any backend). */
export async function weightBytes(model: nn.AnyModule): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const [k, t] of model.stateDict()) {
    const values = await t.data(); // a fresh copy: its bytes are exactly the tensor's
    out.set(k, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    t.dispose();
  }
  return out;
}
