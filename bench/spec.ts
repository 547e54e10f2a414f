/**
 * The workloads and library names of issue 3's benchmark, in one place so the orchestrator,
 * the per-library runners and the tests agree on spelling. Model sizes live here too: every
 * library builds the same networks from these numbers.
 */

export const WORKLOADS = [
  'sgemm-256', 'sgemm-512', 'sgemm-1024', 'sgemm-128x784x256', 'mlp-train', 'cnn-train', 'resnet-train',
] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Filter groups accepted by `--only` besides exact workload names. */
export const WORKLOAD_GROUPS: Record<string, readonly Workload[]> = {
  sgemm: ['sgemm-256', 'sgemm-512', 'sgemm-1024', 'sgemm-128x784x256'],
  mlp: ['mlp-train'],
  cnn: ['cnn-train'],
  resnet: ['resnet-train'],
  train: ['mlp-train', 'cnn-train', 'resnet-train'],
};

/** Peer libraries; 'pytorch' runs in a python process and is skipped where torch is not importable. */
export const PEERS = ['tfjs-cpu', 'tfjs-wasm', 'jax-js', 'pytorch'] as const;
export type Peer = (typeof PEERS)[number];

/**
 * gradkit's webgpu backend as a library (libs/webgpu.ts). It runs where a WebGPU adapter exists
 * (the orchestrator probes in a child first); on a software adapter its figures are labelled
 * and left out of the ratios. `--libs webgpu` is accepted for it.
 */
export const WEBGPU_LIB = 'gradkit-webgpu';

export type Unit = 'GFLOP/s' | 'samples/s';

export function unitOf(w: Workload): Unit {
  return w.startsWith('sgemm') ? 'GFLOP/s' : 'samples/s';
}

/** [m, k, n] of an SGEMM workload: C[m,n] = A[m,k]·B[k,n]. */
export function sgemmDims(w: Workload): [number, number, number] {
  switch (w) {
    case 'sgemm-256': return [256, 256, 256];
    case 'sgemm-512': return [512, 512, 512];
    case 'sgemm-1024': return [1024, 1024, 1024];
    case 'sgemm-128x784x256': return [128, 784, 256];
    default: throw new Error(`${w} is not an SGEMM workload`);
  }
}

/** MLP 784-256-256-10, ReLU, batch 128, one epoch = 8,192 samples. */
export const MLP = { sizes: [784, 256, 256, 10], batch: 128, epochSamples: 8192 } as const;

/**
 * CNN on 1×28×28: conv(1→16,3×3,valid)-ReLU-maxpool2 → 16×13×13, conv(16→32,3×3,valid)-ReLU-
 * maxpool2 → 32×5×5 = 800 features, linear(800→10). Batch 64.
 */
export const CNN = { inC: 1, hw: 28, c1: 16, c2: 32, k: 3, classes: 10, batch: 64 } as const;

/**
 * ResNet-style stack on 3×32×32: stem conv(3→16,3×3,pad 1)-BN-ReLU, then `blocks` basic blocks
 * [conv(16→16,3×3,pad 1)-BN-ReLU-conv(16→16,3×3,pad 1)-BN, + identity, ReLU], global average
 * pool, linear(16→10). Convs have no bias (BN follows); BN uses batch statistics (training
 * mode, biased variance, eps 1e-5, γ=1, β=0 at init) and keeps no running averages. Batch 32.
 */
export const RESNET = { inC: 3, hw: 32, width: 16, blocks: 2, classes: 10, batch: 32, eps: 1e-5 } as const;

/** Adam as PyTorch defaults it, shared by every library's training loop. */
export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/** Features after the CNN's second pool: checked at start-up so a typo in CNN cannot go unnoticed. */
export function cnnFeatures(): number {
  const afterPool1 = Math.floor((CNN.hw - CNN.k + 1) / 2);
  const afterPool2 = Math.floor((afterPool1 - CNN.k + 1) / 2);
  return CNN.c2 * afterPool2 * afterPool2;
}
