import { GradkitError } from '../../core/errors.js';
import type { Preprocessor, PreprocessorJSON } from './base.js';
import { MeanSubtraction, Standardize } from './center.js';
import { PCA, Whitening } from './pca.js';

export { Preprocessor, type PreprocessorJSON } from './base.js';
export { MeanSubtraction, Standardize, type MeanSubtractionOptions, type StandardizeOptions, type Pooling } from './center.js';
export { PCA, Whitening, type PCAOptions, type WhiteningOptions } from './pca.js';
export { symmetricEigen, type SymmetricEigen } from './eigen.js';

/** Rebuilds any preprocessor from its toJSON() output (e.g. when loading a saved model). */
export function preprocessorFromJSON(json: PreprocessorJSON): Preprocessor {
  switch (json?.type) {
    case 'MeanSubtraction':
      return MeanSubtraction.fromJSON(json);
    case 'Standardize':
      return Standardize.fromJSON(json);
    case 'PCA':
      return PCA.fromJSON(json);
    case 'Whitening':
      return Whitening.fromJSON(json);
    default:
      throw new GradkitError('preprocessorFromJSON', `unknown preprocessor type ${JSON.stringify(json?.type)}; expected MeanSubtraction, Standardize, PCA or Whitening`);
  }
}
