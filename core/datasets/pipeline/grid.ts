// Runs in: any process. The network's view of a volume: a scalar field whose axes are in the order the
// network sees them (d1, d2, d3 with d3 fastest, as a [d1, d2, d3] tensor), so a patch becomes a tensor
// without another transpose, and the genome's in-plane kernels (k x k x 1) act across d1 x d2.
import type { VoxelArray } from '../../io/volume.ts';

export type Shape3 = [number, number, number];

/** Which volume axis (0 = i, 1 = j, 2 = k) becomes each network axis d1, d2, d3. */
export type AxisOrder = [number, number, number];

export interface Grid<T extends Float32Array | Uint8Array = Float32Array> {
  data: T;
  shape: Shape3;
}

export function gridSize(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

/** values permuted into network order: out[d] = values[axisOrder[d]]. */
export function permute<T>(values: readonly [T, T, T], axisOrder: AxisOrder): [T, T, T] {
  return [values[axisOrder[0]] as T, values[axisOrder[1]] as T, values[axisOrder[2]] as T];
}

function volumeStrides(shape: Shape3): Shape3 {
  return [1, shape[0], shape[0] * shape[1]];
}

/**
 * Copies volume data (i fastest) into network order. volumeShape is (i, j, k); the grid's shape is
 * volumeShape permuted by axisOrder.
 */
export function toGrid<T extends Float32Array | Uint8Array>(
  data: VoxelArray,
  volumeShape: Shape3,
  axisOrder: AxisOrder,
  out: T,
): Grid<T> {
  const shape = permute(volumeShape, axisOrder);
  const [s0, s1, s2] = permute(volumeStrides(volumeShape), axisOrder);
  let o = 0;
  for (let a = 0; a < shape[0]; a++) {
    for (let b = 0; b < shape[1]; b++) {
      let v = a * s0 + b * s1;
      for (let c = 0; c < shape[2]; c++, v += s2) out[o++] = data[v] as number;
    }
  }
  return { data: out, shape };
}

/** The inverse of toGrid: network order back to volume order (i fastest). */
export function fromGrid<T extends Float32Array | Uint8Array>(
  grid: Grid<Float32Array | Uint8Array>,
  axisOrder: AxisOrder,
  out: T,
): { data: T; shape: Shape3 } {
  const volumeShape: Shape3 = [0, 0, 0];
  for (let d = 0; d < 3; d++) volumeShape[axisOrder[d] as number] = grid.shape[d] as number;
  const [s0, s1, s2] = permute(volumeStrides(volumeShape), axisOrder);
  const [n0, n1, n2] = grid.shape;
  let o = 0;
  for (let a = 0; a < n0; a++) {
    for (let b = 0; b < n1; b++) {
      let v = a * s0 + b * s1;
      for (let c = 0; c < n2; c++, v += s2) out[v] = grid.data[o++] as number;
    }
  }
  return { data: out, shape: volumeShape };
}
