declare const handleBrand: unique symbol;

/**
 * An opaque reference to a buffer that a backend owns: wasm memory, a GPU buffer, or (on the
 * CPU backends) a typed array the caller may not look into. The brand makes every host access
 * outside the backends a type error: code outside `src/backends/` passes handles to kernels and
 * reads values only through the host module (`src/tensor/host.ts`), which asks the backend.
 */
export interface Handle {
  readonly [handleBrand]: 'gradkit.Handle';
}
