// Runs in: any process. The convolution kernels each cell operation is made of (method.md section 2.2),
// shared by the model builder, the parameter counter and the memory estimate so the three cannot disagree.

import type { OpName } from '../searchspace/genome.ts';

/** A kernel as [k1, k2, k3] over the (rows, cols, slices) axes; "2D" kernels are k x k x 1. */
export type Kernel = readonly [number, number, number];

/**
 * The convolutions of an operation, in order. Pseudo-3D ops are in-plane first, then through-plane, with
 * nothing between them; identity has none.
 */
export const OP_KERNELS: Readonly<Record<OpName, readonly Kernel[]>> = {
  conv3d_1x1x1: [[1, 1, 1]],
  conv3d_3x3x3: [[3, 3, 3]],
  conv2d_3x3: [[3, 3, 1]],
  conv2d_5x5: [[5, 5, 1]],
  convP3d_3x3: [
    [3, 3, 1],
    [1, 1, 3],
  ],
  convP3d_5x5: [
    [5, 5, 1],
    [1, 1, 5],
  ],
  identity: [],
  conv3d_5x5x5: [[5, 5, 5]],
  conv2d_7x7: [[7, 7, 1]],
  convP3d_7x7: [
    [7, 7, 1],
    [1, 1, 7],
  ],
};

export function kernelVolume(kernel: Kernel): number {
  return kernel[0] * kernel[1] * kernel[2];
}
