// The WebAssembly SIMD backend registers itself here.
export {};
