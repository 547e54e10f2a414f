/**
 * Loss functions, composed from differentiable ops so their gradients come from autograd.
 * Each takes (input, target, options) and reduces with 'mean' (default), 'sum' or 'none'.
 */
export { type Reduction } from './reduction.js';
export {
  crossEntropy, nll, binaryCrossEntropy, binaryCrossEntropyWithLogits,
  type ClassLossOptions, type CrossEntropyOptions, type BinaryLossOptions, type BCEWithLogitsOptions,
} from './classification.js';
export { mse, l1, huber, smoothL1, type RegressionLossOptions } from './regression.js';
export { klDiv, type KlDivOptions } from './divergence.js';
export { ntXent, normalizeRows, type NtXentOptions } from './contrastive.js';
export {
  tripletMarginLoss, tripletLoss, tripletLossAsync, mineTriplets, pairwiseDistances,
  type TripletMarginOptions, type TripletLossOptions, type TripletMining, type MinedTriplets,
} from './triplet.js';
export { l1Penalty, l2Penalty, type PenaltyOptions } from './penalties.js';
