import type { DataArray } from '../../core/dtype.js';
import type { Backend } from '../../backend/backend.js';
import type { Kernels } from '../../backend/kernels.js';
import { registerBackend } from '../../backend/registry.js';
import { cpuBuffers, cpuCopyKernels, handleKernels } from '../cpu/buffers.js';
import { binary, unary, where } from './elementwise.js';
import { argReduce, reduce } from './reduce.js';
import { matmul } from './matmul.js';
import { broadcastTo, concat, gather, indexAdd, indexSelect, pad, scatterAdd, slice, sliceGrad, transpose } from './shape.js';
import { logSoftmax, softmax } from './softmax.js';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput } from './conv.js';
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from './pool.js';
import {
  batchNormBackward, batchNormForwardEval, batchNormForwardTrain, reluBackward, softmaxCrossEntropy, softmaxCrossEntropyBackward,
  biasAct, biasActBackward,
} from './fused.js';
import { checkLabels } from './labels.js';
import { adagradUpdate, adamUpdate, rmspropUpdate, sgdUpdate } from './optim.js';
import { nonFiniteCount } from './finite.js';

/** Every kernel in its plain, obviously-right form: the oracle the fast backends are tested against. */
export const referenceKernels: Kernels<DataArray> = {
  ...cpuCopyKernels,
  unary, binary, where, reduce, argReduce, matmul, transpose, broadcastTo, slice, sliceGrad, pad, concat,
  indexSelect, indexAdd, gather, scatterAdd, softmax, logSoftmax, conv2d, conv2dBackwardInput,
  conv2dBackwardFilter, maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward,
  reluBackward, batchNormForwardTrain, batchNormForwardEval, batchNormBackward, softmaxCrossEntropy,
  softmaxCrossEntropyBackward, biasAct, biasActBackward, checkLabels,
  adamUpdate, sgdUpdate, rmspropUpdate, adagradUpdate, nonFiniteCount,
};

export function createReferenceBackend(): Backend {
  return {
    name: 'reference',
    kernels: handleKernels(referenceKernels),
    ...cpuBuffers,
    describe: () => 'reference (plain TypeScript)',
  };
}

registerBackend('reference', createReferenceBackend, 0);
