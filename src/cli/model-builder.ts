/**
 * Builds the model of an experiment from its layer list, inferring each layer's input size
 * (conv inChannels, linear inFeatures) by a dry shape inference that needs no tensors. An
 * impossible shape (a kernel larger than its input, a linear layer on an image) is reported
 * with the layer's index and the shapes, before any weight is allocated.
 */
import { formatBytes, tensorTooLarge } from '../core/dtype.js';
import { GradkitError } from '../core/errors.js';
import * as nn from '../nn/index.js';
import type { LayerSpec, Pair } from './experiment.js';

const pairOf = (v: Pair | undefined, dflt: number): [number, number] => (v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]]);

function fail(i: number, layer: LayerSpec, msg: string): never {
  throw new GradkitError('experiment', `model.layers[${i}] (${layer.type}): ${msg}`);
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

function windowOut(i: number, layer: LayerSpec, inShape: number[], k: [number, number], s: [number, number], p: [number, number]): [number, number] {
  const [h, w] = [inShape[1], inShape[2]];
  const oh = Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1;
  const ow = Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1;
  if (h + 2 * p[0] < k[0] || w + 2 * p[1] < k[1] || oh < 1 || ow < 1) {
    fail(i, layer, `the ${k[0]}x${k[1]} window does not fit the input ${fmt(inShape)} (padded to ${h + 2 * p[0]}x${w + 2 * p[1]}); remove a pooling layer or use padding`);
  }
  return [oh, ow];
}

/** Output shape (without the batch axis) of each layer for the given input shape. */
export function inferShapes(layers: readonly LayerSpec[], input: readonly number[]): number[][] {
  const shapes: number[][] = [];
  let cur = [...input];
  layers.forEach((layer, i) => {
    const needImage = (): void => {
      if (cur.length !== 3) fail(i, layer, `expects images [channels, height, width] but its input is ${fmt(cur)}${cur.length === 1 ? ' (is there a flatten before it?)' : ''}`);
    };
    switch (layer.type) {
      case 'conv2d': {
        needImage();
        const k = pairOf(layer.kernelSize, 1);
        const s = pairOf(layer.stride, 1);
        if (layer.padding === 'same' && (s[0] !== 1 || s[1] !== 1)) fail(i, layer, `padding 'same' needs stride 1, got ${fmt(s)}`);
        const p: [number, number] = layer.padding === 'same' ? [Math.floor((k[0] - 1) / 2), Math.floor((k[1] - 1) / 2)] : layer.padding === 'valid' ? [0, 0] : pairOf(layer.padding, 0);
        const [oh, ow] = layer.padding === 'same' ? [cur[1], cur[2]] : windowOut(i, layer, cur, k, s, p);
        cur = [layer.outChannels, oh, ow];
        break;
      }
      case 'maxPool2d':
      case 'avgPool2d': {
        needImage();
        const k = pairOf(layer.kernelSize, 1);
        const p = pairOf(layer.padding, 0);
        if (p[0] * 2 > k[0] || p[1] * 2 > k[1]) fail(i, layer, `padding ${fmt(p)} must be at most half the kernel ${fmt(k)}`);
        cur = [cur[0], ...windowOut(i, layer, cur, k, pairOf(layer.stride ?? layer.kernelSize, 1), p)];
        break;
      }
      case 'batchNorm2d':
        needImage();
        break;
      case 'batchNorm1d':
        if (cur.length !== 1) fail(i, layer, `expects features [n] but its input is ${fmt(cur)}; use batchNorm2d for images`);
        break;
      case 'globalAvgPool2d':
        needImage();
        cur = [cur[0]];
        break;
      case 'flatten':
        cur = [cur.reduce((a, b) => a * b, 1)];
        break;
      case 'linear':
        if (cur.length !== 1) fail(i, layer, `expects features [n] but its input is ${fmt(cur)}; add { "type": "flatten" } before it`);
        cur = [layer.outFeatures];
        break;
      default:
        break; // elementwise layers keep the shape
    }
    shapes.push(cur);
  });
  return shapes;
}

/** The weight shape a layer will allocate (the largest of its parameters), or null for none. */
function weightShape(layer: LayerSpec, inShape: readonly number[]): number[] | null {
  if (layer.type === 'conv2d') return [layer.outChannels, inShape[0], ...pairOf(layer.kernelSize, 1)];
  if (layer.type === 'linear') return [layer.outFeatures, inShape[0]];
  return null;
}

/**
 * Checks every weight and every activation (for a batch of `batchSize`) against the size one
 * float32 tensor can have, so `outChannels: 1e9` is named here instead of failing as a bare
 * RangeError from a typed array once the layer is built.
 */
export function checkSizes(layers: readonly LayerSpec[], input: readonly number[], shapes: readonly number[][], batchSize = 1, memoryBytes?: number): void {
  const count = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
  let weights = 0;
  let activations = 0;
  layers.forEach((layer, i) => {
    const w = weightShape(layer, i === 0 ? input : shapes[i - 1]);
    const wBad = w === null ? null : tensorTooLarge('float32', count(w));
    if (wBad !== null) fail(i, layer, `its weight ${fmt(w!)} ${wBad}; use fewer channels or features`);
    const out = [batchSize, ...shapes[i]];
    const oBad = tensorTooLarge('float32', count(out));
    if (oBad !== null) fail(i, layer, `its output for a batch of ${batchSize} ${fmt(out)} ${oBad}; use fewer channels or a smaller batch`);
    weights += w === null ? 0 : count(w);
    activations += count(out);
  });
  if (memoryBytes !== undefined) {
    // Roughly what training holds at once: weights, gradients and two optimizer slots,
    // and every activation with its gradient, all float32.
    const need = 4 * (4 * weights + 2 * activations);
    if (need > memoryBytes) {
      throw new GradkitError('experiment', `training this model needs about ${formatBytes(need)} (weights, gradients, optimizer state and activations for a batch of ${batchSize}) but this machine has ${formatBytes(memoryBytes)} of memory; use smaller layers or batches`);
    }
  }
}

/**
 * Builds the Sequential model; `numClasses` checks that the last layer produces class scores,
 * `batchSize` (the largest batch the run uses) sizes the activations checked, and
 * `memoryBytes` (the machine's memory, where known) bounds what training will hold.
 */
export function buildModel(layers: readonly LayerSpec[], input: readonly number[], init: nn.LinearOptions['init'], numClasses: number, batchSize = 1, memoryBytes?: number): nn.Sequential {
  const shapes = inferShapes(layers, input);
  checkSizes(layers, input, shapes, batchSize, memoryBytes);
  const last = shapes[shapes.length - 1];
  if (last.length !== 1 || last[0] !== numClasses) {
    throw new GradkitError('experiment', `the model outputs ${fmt(last)} per sample but the dataset has ${numClasses} classes; end with { "type": "linear", "outFeatures": ${numClasses} }`);
  }
  const mods = layers.map((layer, i) => {
    const inShape = i === 0 ? [...input] : shapes[i - 1];
    switch (layer.type) {
      case 'conv2d':
        return new nn.Conv2d(inShape[0], layer.outChannels, layer.kernelSize, { stride: layer.stride, padding: layer.padding, bias: layer.bias, init });
      case 'linear':
        return new nn.Linear(inShape[0], layer.outFeatures, { bias: layer.bias, init });
      case 'batchNorm2d':
        return new nn.BatchNorm2d(inShape[0], { momentum: layer.momentum, eps: layer.eps });
      case 'batchNorm1d':
        return new nn.BatchNorm1d(inShape[0], { momentum: layer.momentum, eps: layer.eps });
      case 'relu':
        return new nn.ReLU();
      case 'leakyRelu':
        return new nn.LeakyReLU(layer.negativeSlope);
      case 'tanh':
        return new nn.Tanh();
      case 'sigmoid':
        return new nn.Sigmoid();
      case 'gelu':
        return new nn.GELU();
      case 'maxPool2d':
        return new nn.MaxPool2d(layer.kernelSize, { stride: layer.stride, padding: layer.padding });
      case 'avgPool2d':
        return new nn.AvgPool2d(layer.kernelSize, { stride: layer.stride, padding: layer.padding });
      case 'flatten':
        return new nn.Flatten();
      case 'globalAvgPool2d':
        return new nn.GlobalAvgPool2d();
      case 'dropout':
        return new nn.Dropout({ p: layer.p ?? 0.5 });
    }
  });
  return new nn.Sequential(...mods);
}
