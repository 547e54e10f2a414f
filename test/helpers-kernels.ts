import type { DataArray } from '../src/core/dtype.js';
import type { Backend } from '../src/backend/backend.js';
import type { Handle } from '../src/backend/handle.js';
import type { Kernels } from '../src/backend/kernels.js';

/**
 * A backend's kernel table seen over typed arrays, for kernel-level tests that compare a backend
 * with the reference kernels on the same host values. Each call uploads its array arguments
 * through the Backend interface, runs the kernel on the handles, reads the outputs back and
 * frees every handle it made; in-place kernels have their updated buffers copied back into the
 * caller's arrays. Only the interface is used, never a cast of a handle, so the same tests run
 * unchanged on backends whose buffers are not JS arrays (wasm-resident, strict), as long as they
 * can read synchronously. On the CPU backends upload adopts the array and readSync returns it,
 * so the kernel sees exactly the arrays the test built.
 */
export function hostKernels(backend: Backend): Kernels<DataArray> {
  const table = backend.kernels as unknown as Record<string, ((...args: unknown[]) => unknown) | undefined>;
  return new Proxy({} as Kernels<DataArray>, {
    get(_target, name: string) {
      const kernel = table[name];
      if (typeof kernel !== 'function') return kernel;
      return (...args: unknown[]) => {
        const uploaded: [DataArray, Handle][] = [];
        const toHandle = (a: DataArray): Handle => {
          const h = backend.upload(a);
          uploaded.push([a, h]);
          return h;
        };
        const converted = args.map((v) => {
          if (isArray(v)) return toHandle(v);
          if (Array.isArray(v) && v.length > 0 && v.every(isArray)) return v.map(toHandle); // concat's inputs
          return v;
        });
        const result = kernel.apply(backend.kernels, converted);
        // A copy: the handle is freed below, and its storage may be reused by the backend.
        const download = (h: Handle): DataArray => {
          const values = backend.readSync(h).slice();
          backend.free(h);
          return values;
        };
        let out: unknown = result;
        if (MULTI_OUTPUT.has(name)) {
          const fields: Record<string, DataArray> = {};
          for (const [key, h] of Object.entries(result as Record<string, Handle>)) fields[key] = download(h);
          out = fields;
        } else if (result !== undefined && typeof result !== 'boolean') {
          out = download(result as Handle);
        }
        for (const [a, h] of uploaded) {
          if (IN_PLACE.has(name)) a.set(backend.readSync(h));
          backend.free(h);
        }
        return out;
      };
    },
  });
}

const isArray = (v: unknown): v is DataArray => ArrayBuffer.isView(v) && !(v instanceof DataView);

/** Kernels that return an object of buffers instead of one buffer. */
const MULTI_OUTPUT = new Set<string>(['maxPool2d', 'batchNormForwardTrain', 'batchNormBackward', 'softmaxCrossEntropy', 'biasActBackward']);

/** Kernels that update their arguments in place (their results are read back into the caller's arrays). */
const IN_PLACE = new Set<string>(['copyInto', 'adamUpdate', 'sgdUpdate', 'rmspropUpdate', 'adagradUpdate']);
