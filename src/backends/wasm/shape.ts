import { allocArray, dtypeOfArray, type DataArray } from '../../core/dtype.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../core/shape.js';

/**
 * Data movement (transpose, broadcastTo) as a gather with an odometer over the outer axes and a
 * tight loop over the innermost one — the reference does one callback per element. Copies are
 * exact, so results equal the reference's for every dtype.
 */
function gather(x: DataArray, outShape: Shape, strides: readonly number[]): DataArray {
  const out = allocArray(dtypeOfArray(x), sizeOf(outShape));
  if (out.length === 0) return out;
  const rank = outShape.length;
  if (rank === 0) {
    out[0] = x[0];
    return out;
  }
  const inner = outShape[rank - 1];
  const innerStride = strides[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o += inner) {
    if (innerStride === 1) out.set(x.subarray(src, src + inner), o);
    else for (let j = 0, s = src; j < inner; j++, s += innerStride) out[o + j] = x[s];
    // Advance the odometer over axes rank-2 .. 0.
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      src += strides[d];
      if (idx[d] < outShape[d]) break;
      src -= strides[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

export function transpose(x: DataArray, shape: Shape, perm: readonly number[]): DataArray {
  const inStrides = stridesOf(shape);
  return gather(x, perm.map((p) => shape[p]), perm.map((p) => inStrides[p]));
}

export function broadcastTo(x: DataArray, shape: Shape, outShape: Shape): DataArray {
  return gather(x, outShape, broadcastStrides(shape, outShape));
}
