/**
 * Hyperparameter search: search spaces over dotted experiment paths, random/grid sampling,
 * coarse-to-fine refinement, successive halving, and a resumable search loop.
 */
export { parseSpace, checkPaths, applyAssignment, getPath, type SearchSpace, type Distribution, type Assignment } from './space.js';
export { randomSearch, gridSearch, gridAxis, refineSpace } from './samplers.js';
export { halvingRungs, survivors, type Rung } from './halving.js';
export {
  runSearch, rankRecords, formatTable, describeSpace, DEFAULT_SEARCH,
  type SearchMethod, type SearchOptions, type TrialSpec, type TrialOutcome, type TrialRunner, type TrialRecord, type SearchResult, type SearchEnv,
} from './search.js';
