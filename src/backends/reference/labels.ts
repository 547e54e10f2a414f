import type { DataArray } from '../../core/dtype.js';

/** See Kernels.checkLabels: [labels other than ignoreIndex, first invalid position or −1]. */
export function checkLabels(labels: DataArray, classes: number, ignoreIndex: number | null): DataArray {
  let kept = 0;
  let bad = -1;
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i];
    if (k === ignoreIndex) continue;
    kept++;
    if (bad < 0 && !(Number.isInteger(k) && k >= 0 && k < classes)) bad = i;
  }
  return Int32Array.of(kept, bad);
}
