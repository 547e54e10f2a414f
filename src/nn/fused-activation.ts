import { GradkitError } from '../core/errors.js';

/**
 * An activation a Linear or Conv2d can apply itself, fused with its bias-add into one kernel
 * (ops.biasAct): 'none' (a plain affine layer) or 'relu'.
 */
export type LayerActivation = 'none' | 'relu';

const ACTIVATIONS: readonly LayerActivation[] = ['none', 'relu'];

/** The option's value (default 'none'), or a one-line error naming the layer. */
export function checkActivation(op: string, activation: unknown): LayerActivation {
  if (activation === undefined) return 'none';
  if (!ACTIVATIONS.includes(activation as LayerActivation)) {
    throw new GradkitError(op, `activation must be one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(activation)}`);
  }
  return activation as LayerActivation;
}
