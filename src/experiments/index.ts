/** Reproducible experiments from the lectures, as library functions (examples/ runs them). */
export * from './few-label.js';
export * from './self-supervised.js';
