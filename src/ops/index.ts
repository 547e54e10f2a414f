export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './indexing.js';
export * from './matmul.js';
export * from './softmax.js';
export * from './conv.js';
export type { TensorLike } from './util.js';
export * from './fused.js';
